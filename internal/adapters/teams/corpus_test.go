package teams_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/botframework/bftest"
	"github.com/itfit/itfit/internal/testkit"
)

// corpusExpect is what one corpus activity must do, kept next to it as
// NAME.expect.json.
type corpusExpect struct {
	// Setup "started": before the activity, its sender (or SetupFrom)
	// types "hi" in its conversation, and {{CARD_ID}} is the card that came
	// back.
	Setup     string         `json:"setup"`
	SetupFrom map[string]any `json:"setup_from"`
	// Status is the HTTP status (default 200); Body a substring of the
	// HTTP response (an invoke's response).
	Status int    `json:"status"`
	Body   string `json:"body"`
	// Sends counts the connector calls by kind: "send" (SendToConversation,
	// POST .../activities), "reply" (ReplyToActivity, POST
	// .../activities/ID) and "update" (PUT); every other kind is zero.
	Sends map[string]int `json:"sends"`
	// Contains must each appear in something sent.
	Contains []string `json:"contains"`
	// Store "nothing": Redis holds exactly what it held before, key by key
	// and value by value; "changed": every one of Keys is a substring of
	// some key added or changed, and none of AbsentKeys of any key added.
	Store      string   `json:"store"`
	Keys       []string `json:"keys"`
	AbsentKeys []string `json:"absent_keys"`
}

// TestCorpusReplay sends every activity of testdata/corpus, written from
// Microsoft's published payload documentation and the Bot Framework SDKs'
// shapes (messages in personal chats, channel threads and group chats, with
// and without conversationType or aadObjectId, files, edits, deletes,
// reactions, typing, meeting events, conversationUpdate and
// installationUpdate of every kind, card submits, invokes, another
// tenant's), through POST /api/messages with a real token from the local
// Bot Framework, on real Redis with an allow-list of the corpus tenant, and
// checks what the bot sent at the fake Bot Connector and what Redis holds.
func TestCorpusReplay(t *testing.T) {
	testkit.Corpus(t, "testdata/corpus", 20, func(t *testing.T, name string, raw []byte, want *corpusExpect) {
		if want.Status == 0 {
			want.Status = http.StatusOK
		}
		f := newFixtureWith(t, fixtureOptions{tenants: []string{tenant}})
		fill := func(s string) string {
			return strings.NewReplacer(
				"{{SERVICE_URL}}", f.bf.ServiceURL(), "{{BOT_ID}}", "28:"+bftest.AppID, "{{TENANT}}", tenant,
				"{{TIMESTAMP}}", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
			).Replace(s)
		}
		body := fill(string(raw))
		if want.Setup == "started" {
			var a map[string]any
			if err := json.Unmarshal([]byte(body), &a); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"value", "replyToId", "name", "attachments"} {
				delete(a, k)
			}
			a["type"], a["id"], a["text"] = "message", "corpus-setup-1", "hi"
			if want.SetupFrom != nil {
				a["from"] = want.SetupFrom
			}
			f.post(a)
			card, ok := lastCard(f.take())
			if !ok {
				t.Fatal("setup: no card")
			}
			body = strings.ReplaceAll(body, "{{CARD_ID}}", card.ResponseID)
		}
		if strings.Contains(body, "{{") {
			t.Fatalf("a placeholder is left: %s", body)
		}
		before := fullSnapshot(t, f)
		code, _, resp := f.postInvoke(decode(t, body))
		if code != want.Status {
			t.Errorf("status %d, want %d (%s)", code, want.Status, resp)
		}
		if want.Body != "" && !strings.Contains(resp, want.Body) {
			t.Errorf("response %q lacks %q", resp, want.Body)
		}
		out := f.take()
		got := map[string]int{}
		var all strings.Builder
		for _, s := range out {
			switch {
			case s.Method == http.MethodPut:
				got["update"]++
			case s.ActivityID != "":
				got["reply"]++
			default:
				got["send"]++
			}
			all.WriteString(s.String())
			all.Write(s.Body)
		}
		for _, kind := range []string{"send", "reply", "update"} {
			if got[kind] != want.Sends[kind] {
				t.Errorf("%d %s, want %d: %v", got[kind], kind, want.Sends[kind], out)
			}
		}
		for _, c := range want.Contains {
			if !strings.Contains(all.String(), c) {
				t.Errorf("nothing sent contains %q: %v", c, out)
			}
		}
		after := fullSnapshot(t, f)
		switch want.Store {
		case "nothing":
			assertSame(t, before, after)
		case "changed":
			var added []string // or changed
			for k, v := range after {
				if b, ok := before[k]; !ok || b != v {
					added = append(added, k)
				}
			}
			for _, w := range want.Keys {
				if !slices.ContainsFunc(added, func(k string) bool { return strings.Contains(k, w) }) {
					t.Errorf("no key added contains %q: %v", w, added)
				}
			}
			for _, w := range want.AbsentKeys {
				for _, k := range added {
					if strings.Contains(k, w) {
						t.Errorf("key %s contains %q", k, w)
					}
				}
			}
			for k := range before {
				if _, ok := after[k]; !ok {
					t.Errorf("%s deleted", k)
				}
			}
		default:
			t.Fatalf("store %q: want nothing or changed", want.Store)
		}
		failOnPanic(t, f)
	})
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
