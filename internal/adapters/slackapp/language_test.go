package slackapp

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

// TestSlackSpeaksTheUsersLanguage: someone whose Slack is in French types
// /itfit. The acknowledgement is at once, in English and French (only the
// Web API says their locale); the question in their DM is French; Slack's
// users.info is asked once for them, however many commands and presses
// follow; their next /itfit help is acknowledged in French; the language
// buttons switch them to English and back.
func TestSlackSpeaksTheUsersLanguage(t *testing.T) {
	h := newHarness(t, withLanguages{locale: "fr-CA"})
	code, ack := h.command("U1", "")
	if code != 200 || !strings.Contains(ack, "direct messages") || !strings.Contains(ack, "messages directs") {
		t.Fatalf("first ack: %d %s", code, ack)
	}
	h.wait()
	q, ts := h.posted(0)
	if !strings.HasPrefix(q.Form.Get("text"), "Question 1 sur 11") {
		t.Fatalf("first question: %q", q.Form.Get("text"))
	}
	h.click("U1", q, ts, element(t, q.blocks(t), actAnswer), nil)
	h.wait()
	if q2, _ := h.posted(1); !strings.HasPrefix(q2.Form.Get("text"), "Question 2 sur") {
		t.Fatalf("second question: %q", q2.Form.Get("text"))
	}
	_, ack = h.command("U1", "aide")
	if !strings.Contains(ack, "Aide d'itfit") || strings.Contains(ack, "itfit help") {
		t.Fatalf("/itfit aide, acknowledged: %s", ack)
	}
	if n := len(h.api.all("users.info")); n != 1 {
		t.Fatalf("users.info asked %d times, want once", n)
	}

	// The chooser, then English.
	_, ack = h.command("U1", "langue")
	h.wait()
	chooser, _ := json.Marshal(h.sink.replies[len(h.sink.replies)-1])
	if !strings.Contains(string(chooser), "*Langue*") || !strings.Contains(string(chooser), actLanguage+"en") {
		t.Fatalf("/itfit langue: ack %s, reply %v", ack, chooser)
	}
	before := len(h.api.all("chat.postMessage"))
	last, lastTS := h.posted(-1)
	h.click("U1", last, lastTS, map[string]any{"action_id": actLanguage + string(locale.English), "value": "language", "type": "button"}, nil)
	h.wait()
	ps := h.api.all("chat.postMessage")
	if len(ps) != before+1 || !strings.HasPrefix(ps[len(ps)-1].Form.Get("text"), "Question 2 of") {
		t.Fatalf("after English was pressed, the question again: %d posts, %q", len(ps)-before, ps[len(ps)-1].Form.Get("text"))
	}
	h.command("U1", "status")
	h.wait()
	if got := h.sink.texts(); !strings.Contains(got[len(got)-1], "Your audit is on question 2") {
		t.Fatalf("status after switching to English: %q", got[len(got)-1])
	}
	k := h.prefix.Language("slack", "T1", "U1")
	if got := h.rdb.HGetAll(t.Context(), k).Val(); got["chosen"] != "en" || got["seen"] != "fr-CA" {
		t.Fatalf("kept %v", got)
	}
	if n := len(h.api.all("users.info")); n != 1 {
		t.Fatalf("users.info asked %d times, want once", n)
	}
}

// TestSlackUnknownLocaleIsEnglish: a locale itfit does not speak is
// English, and kept, so users.info is not asked again.
func TestSlackUnknownLocaleIsEnglish(t *testing.T) {
	h := newHarness(t, withLanguages{locale: "ja-JP"})
	h.command("U1", "")
	h.wait()
	h.command("U1", "")
	h.wait()
	if q, _ := h.posted(0); !strings.HasPrefix(q.Form.Get("text"), "Question 1 of 11") {
		t.Fatalf("question: %q", q.Form.Get("text"))
	}
	if n := len(h.api.all("users.info")); n != 1 {
		t.Fatalf("users.info asked %d times, want once", n)
	}
}

// TestSlackDatesInFrench: a French message's dates fall back to French
// words where a Slack client cannot render <!date>, and the reader's own
// client renders them in its language.
func TestSlackDatesInFrench(t *testing.T) {
	v := chattest.ViewsIn(locale.French)
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}}}
	b, err := json.Marshal(Render(v.Reminders([]revisit.Reminder{{Kind: revisit.ForUser, Due: time.Date(2027, 11, 1, 10, 0, 0, 0, time.UTC)}}, who, nil)).Blocks)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "^{date_long}|1er novembre 2027\\u003e") {
		t.Fatalf("the date: %s", b)
	}
}

// TestSlackEncodedBlocksKeepLanguagesApart: the blocks of a question are
// encoded once and reused for everyone at that question; one person's
// French never reaches another's English.
func TestSlackEncodedBlocksKeepLanguagesApart(t *testing.T) {
	h := newHarness(t, withLanguages{locale: "fr-CA"})
	answer := func(user, option string) {
		ps := h.api.all("chat.postMessage")
		for i := len(ps) - 1; i >= 0; i-- {
			if ps[i].Form.Get("channel") == "D"+user {
				h.click(user, ps[i], fmt.Sprintf("1700000000.%06d", i+1), element(t, ps[i].blocks(t), actAnswer+option), nil)
				h.wait()
				return
			}
		}
		t.Fatalf("no question for %s", user)
	}
	h.command("U1", "")
	h.wait()
	answer("U1", "two_three")
	answer("U1", "nearly_all") // the third question, without a note: encoded once, kept
	h.command("U2", "language en")
	h.wait()
	h.command("U2", "")
	h.wait()
	answer("U2", "two_three")
	answer("U2", "nearly_all")
	for _, p := range h.api.all("chat.postMessage") {
		text, blocks := p.Form.Get("text"), p.Form.Get("blocks")
		switch p.Form.Get("channel") {
		case "DU1":
			if !strings.Contains(blocks, "Recommencer") || strings.Contains(blocks, "Start over") {
				t.Errorf("U1 (French) got %q: %s", text, blocks)
			}
		case "DU2":
			if !strings.Contains(blocks, "Start over") || strings.Contains(blocks, "Recommencer") {
				t.Errorf("U2 (English) got %q: %s", text, blocks)
			}
		}
	}
}
