package slackapp

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// mentionEvent is an app_mention as the Events API delivers it.
func mentionEvent(id, user, text, thread string) []byte {
	ev := fmt.Sprintf(`{"type":"app_mention","user":%q,"text":%q,"ts":"1700000100.000100","channel":"C1","event_ts":"1700000100.000100"`, user, text)
	if thread != "" {
		ev += fmt.Sprintf(`,"thread_ts":%q`, thread)
	}
	return []byte(`{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"` + id +
		`","event_time":1,"event":` + ev + `}}`)
}

// TestMentionStartsTheAuditInTheDM: "@itfit" in a channel starts the audit
// in the person's DM and leaves a note only they see, in the thread it was
// asked in; a redelivery has no second effect; restart, status and help
// work as words after the mention; bots and unknown words start nothing.
func TestMentionStartsTheAuditInTheDM(t *testing.T) {
	h := newHarness(t)
	for i := range 2 { // the second is Slack's retry of the same event
		if code, _ := h.post("/slack/events", "application/json", mentionEvent("EvM1", "U1", "<@UBOT>", "1700000000.000001"), nil); code != 200 {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	h.wait()
	posts := h.api.all("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("channel") != "DU1" || !strings.HasPrefix(posts[0].Form.Get("text"), "Question 1 of") {
		t.Fatalf("posts after a mention: %+v", posts)
	}
	notes := h.api.all("chat.postEphemeral")
	if len(notes) != 1 {
		t.Fatalf("%d ephemeral notes, want 1", len(notes))
	}
	if n := notes[0].Form; n.Get("channel") != "C1" || n.Get("user") != "U1" || n.Get("thread_ts") != "1700000000.000001" ||
		!strings.Contains(n.Get("text"), "direct messages") {
		t.Fatalf("note = %v", n)
	}

	// Answer one question, then "@itfit: status" reports it beside the
	// mention, where only they see it.
	h.answerCurrent("U1", 0)
	h.wait()
	h.post("/slack/events", "application/json", mentionEvent("EvM2", "U1", "<@UBOT|itfit>:  Status", ""), nil)
	h.wait()
	notes = h.api.all("chat.postEphemeral")
	if last := notes[len(notes)-1].Form; last.Get("channel") != "C1" || !strings.Contains(last.Get("text"), "question 2 of") {
		t.Fatalf("status went to %v", last)
	}

	// "@itfit restart" starts again from question 1.
	h.post("/slack/events", "application/json", mentionEvent("EvM3", "U1", "hey <@UBOT> restart", ""), nil)
	h.wait()
	if last, _ := h.posted(-1); !strings.HasPrefix(last.Form.Get("text"), "Question 1 of") {
		t.Fatalf("restart posted %v", last.Form)
	}

	before := len(h.api.all("chat.postMessage"))
	// Another bot's mention and help start nothing; an unknown word starts
	// the person's own audit with a one-line hint.
	h.post("/slack/events", "application/json", []byte(`{"team_id":"T1","type":"event_callback","event_id":"EvM4","event":{"type":"app_mention","user":"U2","bot_id":"B9","text":"<@UBOT>","channel":"C1","ts":"1.1"}}`), nil)
	h.post("/slack/events", "application/json", mentionEvent("EvM6", "U2", "<@UBOT>, help", ""), nil)
	h.wait()
	if after := len(h.api.all("chat.postMessage")); after != before {
		t.Fatalf("%d messages posted for a bot's mention and help", after-before)
	}
	h.post("/slack/events", "application/json", mentionEvent("EvM5", "U2", "<@UBOT> <!channel> frobnicate", ""), nil)
	h.wait()
	if last, _ := h.posted(-1); len(h.api.all("chat.postMessage")) != before+1 || last.Form.Get("channel") != "DU2" ||
		!strings.HasPrefix(last.Form.Get("text"), "Question 1 of") {
		t.Fatalf("an unknown word did not start U2's audit: %v", last.Form)
	}
	notes = h.api.all("chat.postEphemeral")
	var unknown, help bool
	for _, n := range notes {
		text := n.Form.Get("text")
		if n.Form.Get("user") != "U2" {
			continue
		}
		if strings.Contains(text, "I don't know “&lt;!channel&gt; frobnicate”") && !strings.Contains(text, "<!channel>") {
			unknown = true
		} else if strings.Contains(n.Form.Get("blocks"), "`/itfit restart`") {
			help = true
		}
	}
	if !unknown || !help {
		t.Fatalf("notes to U2: %+v", notes)
	}
}

// TestGlobalShortcutStartsTheAuditInTheDM: "Start an IT audit" from
// Slack's shortcuts menu (a signed "shortcut" interaction) starts the audit
// in the DM; a shortcut this app does not define starts nothing.
func TestGlobalShortcutStartsTheAuditInTheDM(t *testing.T) {
	h := newHarness(t)
	shortcut := func(callbackID string) int {
		payload := `{"type":"shortcut","token":"x","action_ts":"1700000200.000200","team":{"id":"T1","domain":"acme"},` +
			`"user":{"id":"U1","username":"ann","team_id":"T1"},"is_enterprise_install":false,"enterprise":null,` +
			`"callback_id":"` + callbackID + `","trigger_id":"1.2.3"}`
		code, _ := h.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {payload}}.Encode()), nil)
		return code
	}
	if code := shortcut("someone_elses"); code != 200 {
		t.Fatalf("unknown shortcut: %d", code)
	}
	h.wait()
	if n := len(h.api.all("chat.postMessage")); n != 0 {
		t.Fatalf("an unknown shortcut posted %d messages", n)
	}
	if code := shortcut(shortcutStart); code != 200 {
		t.Fatalf("shortcut: %d", code)
	}
	h.wait()
	posts := h.api.all("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("channel") != "DU1" || !strings.HasPrefix(posts[0].Form.Get("text"), "Question 1 of") {
		t.Fatalf("posts after the shortcut: %+v", posts)
	}
}
