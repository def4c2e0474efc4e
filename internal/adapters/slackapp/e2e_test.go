package slackapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/testkit"
)

func hasActions(blocks []map[string]any) bool {
	for _, b := range blocks {
		if b["type"] == "actions" {
			return true
		}
	}
	return false
}

func header(blocks []map[string]any) string {
	for _, b := range blocks {
		if b["type"] == "header" {
			return b["text"].(map[string]any)["text"].(string)
		}
	}
	return ""
}

func dmKey(user string) conversation.Key {
	return conversation.Key{UserKey: userKey("T1", user), Conversation: conversation.ConversationID("D" + user)}
}

// answerCurrent clicks the first option of the question in message i (for
// a multi-select, ticks the first box and presses Continue).
func (h *harness) answerCurrent(user string, i int) {
	h.t.Helper()
	msg, ts := h.posted(i)
	blocks := msg.blocks(h.t)
	if element(h.t, blocks, actCheck) != nil {
		opts := element(h.t, blocks, actCheck)["options"].([]any)
		first := opts[0].(map[string]any)["value"].(string)
		if code := h.click(user, msg, ts, btn(h.t, blocks, actContinue), []string{first}); code != 200 {
			h.t.Fatalf("continue: %d", code)
		}
		return
	}
	if code := h.click(user, msg, ts, btn(h.t, blocks, actAnswer), nil); code != 200 {
		h.t.Fatalf("answer: %d", code)
	}
}

func TestSlashCommandOpensTheAuditInTheDM(t *testing.T) {
	h := newHarness(t)
	code, body := h.command("U1", "")
	if code != http.StatusOK || !strings.Contains(body, `"response_type":"ephemeral"`) || !strings.Contains(body, "direct messages") {
		t.Fatalf("ack = %d %s", code, body)
	}
	h.wait()
	opens := h.api.all("conversations.open")
	if len(opens) != 1 || opens[0].Form.Get("users") != "U1" {
		t.Fatalf("conversations.open = %+v", opens)
	}
	msg, _ := h.posted(0)
	if msg.Form.Get("channel") != "DU1" || !strings.HasPrefix(msg.Form.Get("text"), "Question 1 of") {
		t.Fatalf("first message = %v", msg.Form)
	}
	if btn(t, msg.blocks(t), actAnswer) == nil || element(t, msg.blocks(t), actBack) != nil {
		t.Fatal("question 1 should have answer buttons and no Back")
	}
}

func TestEveryQuestionThroughBlockActionsToTheCard(t *testing.T) {
	h := newHarness(t, withReminders(func(*harness) chat.Reminders { return &fakeReminders{} }))
	h.command("U1", "")
	h.wait()
	asked := 0
	for i := 0; ; i++ {
		msg, _ := h.posted(i)
		if header(msg.blocks(t)) != "" {
			break
		}
		if i > 40 {
			t.Fatal("no card after 40 messages")
		}
		h.answerCurrent("U1", i)
		h.wait()
		asked++
	}
	card, _ := h.posted(-1)
	if got := header(card.blocks(t)); !strings.HasPrefix(got, "Recommendation: ") {
		t.Fatalf("card header = %q", got)
	}
	for _, id := range []string{actRemind, actShare, actRestart} {
		if element(t, card.blocks(t), id) == nil {
			t.Errorf("card lacks %s", id)
		}
	}
	ups := h.api.all("chat.update")
	if len(ups) != asked {
		t.Fatalf("%d questions answered, %d messages updated", asked, len(ups))
	}
	for _, u := range ups {
		if hasActions(u.blocks(t)) {
			t.Fatalf("answered message still has buttons: %s", u.Form.Get("blocks"))
		}
		if !strings.Contains(u.Form.Get("blocks"), ":white_check_mark:") {
			t.Fatalf("answered message does not show the answer: %s", u.Form.Get("blocks"))
		}
	}
	r, err := h.engine.Status(t.Context(), dmKey("U1"))
	if err != nil || r.Result == nil {
		t.Fatalf("session after the card: %+v, %v", r, err)
	}
	if n := len(h.sink.texts()); n != 0 {
		t.Fatalf("unexpected notes: %q", h.sink.texts())
	}
}

func TestConcurrentIdenticalClicksAdvanceOnce(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	msg, ts := h.posted(0)
	body := h.clickBody("U1", msg, ts, btn(t, msg.blocks(t), actAnswer), nil)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = h.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(body), nil)
		}()
	}
	wg.Wait()
	h.wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("click %d: %d", i, c)
		}
	}
	if n := len(h.api.all("chat.postMessage")); n != 2 {
		t.Fatalf("%d messages posted, want the first question and one next question", n)
	}
	if n := len(h.api.all("chat.update")); n != 1 {
		t.Fatalf("%d updates, want 1", n)
	}
	r, _ := h.engine.Status(t.Context(), dmKey("U1"))
	if r.Position != 2 {
		t.Fatalf("position after 20 clicks = %d, want 2", r.Position)
	}
	// The other 19 presses of the button that just advanced the audit
	// are left alone: the next question is already on its way.
	if notes := h.sink.texts(); len(notes) != 0 {
		t.Fatalf("stale notes = %q, want none", notes)
	}
}

func TestStartOverDoubleClickRestartsOnce(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	h.answerCurrent("U1", 0)
	h.wait()
	msg, ts := h.posted(1)
	restart := btn(t, msg.blocks(t), actRestart)
	h.click("U1", msg, ts, restart, nil)
	h.click("U1", msg, ts, restart, nil)
	h.wait()
	if n := len(h.api.all("chat.postMessage")); n != 3 {
		t.Fatalf("%d messages, want 3 (q1, q2, q1 again)", n)
	}
	r, _ := h.engine.Status(t.Context(), dmKey("U1"))
	if r.Position != 1 {
		t.Fatalf("position = %d", r.Position)
	}
}

func TestBackReturnsToThePreviousQuestion(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	h.answerCurrent("U1", 0)
	h.wait()
	msg, ts := h.posted(1)
	h.click("U1", msg, ts, btn(t, msg.blocks(t), actBack), nil)
	h.wait()
	again, _ := h.posted(2)
	first, _ := h.posted(0)
	if again.Form.Get("text") != first.Form.Get("text") {
		t.Fatalf("after Back: %q, want %q", again.Form.Get("text"), first.Form.Get("text"))
	}
	ups := h.api.all("chat.update")
	if len(ups) != 2 || !strings.Contains(ups[1].Form.Get("blocks"), "went back") || hasActions(ups[1].blocks(t)) {
		t.Fatalf("updates = %+v", ups)
	}
}

func TestMultiSelectWithNothingTickedAsksAgain(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	// "Two or three people" leads to the multi-select skills question soon;
	// walk single questions until one is multi.
	for i := 0; i < 10; i++ {
		msg, ts := h.posted(i)
		blocks := msg.blocks(t)
		if element(t, blocks, actCheck) != nil {
			h.click("U1", msg, ts, btn(t, blocks, actContinue), nil)
			h.wait()
			if notes := h.sink.texts(); len(notes) != 1 || notes[0] != "Please choose at least one option." {
				t.Fatalf("notes = %q", notes)
			}
			if n := len(h.api.all("chat.postMessage")); n != i+1 {
				t.Fatal("an empty Continue posted something")
			}
			return
		}
		h.answerCurrent("U1", i)
		h.wait()
	}
	t.Fatal("no multi-select question reached")
}

func TestCommandsHelpStatusRestartUnknown(t *testing.T) {
	h := newHarness(t)
	_, body := h.command("U1", "help")
	if !strings.Contains(body, "/itfit restart") {
		t.Fatalf("help = %s", body)
	}
	code, body := h.command("U1", "status")
	h.wait()
	if code != 200 || body != "" {
		t.Fatalf("status ack = %d %q", code, body)
	}
	if notes := h.sink.texts(); len(notes) != 1 || !strings.Contains(notes[0], "no audit in progress") {
		t.Fatalf("status = %q", notes)
	}
	// An unknown word starts (or resumes) the audit, with a one-line hint.
	_, body = h.command("U1", "<!channel> frobnicate")
	h.wait()
	if text := testkit.JSONStrings(t, []byte(body)); !strings.Contains(text, "/itfit help") || strings.Contains(text, "<!channel>") ||
		!strings.Contains(text, "&lt;!channel&gt; frobnicate") || strings.Contains(text, "/itfit status") {
		t.Fatalf("unknown = %s", body)
	}
	if first, _ := h.posted(0); !strings.HasPrefix(first.Form.Get("text"), "Question 1 of") {
		t.Fatalf("an unknown word did not start the audit: %v", first.Form)
	}
	h.answerCurrent("U1", 0)
	h.wait()
	h.command("U1", "STATUS")
	h.wait()
	if notes := h.sink.texts(); !strings.Contains(notes[len(notes)-1], "question 2 of") {
		t.Fatalf("status = %q", notes)
	}
	_, body = h.command("U1", "restart")
	h.wait()
	if !strings.Contains(body, "again") {
		t.Fatalf("restart ack = %s", body)
	}
	r, _ := h.engine.Status(t.Context(), dmKey("U1"))
	if r.Position != 1 {
		t.Fatalf("after restart position = %d", r.Position)
	}
}

func TestCraftedPayloadCannotReachAnotherUsersAudit(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	msg, ts := h.posted(0)
	// U2 replays U1's button, in U1's DM: the key is built from U2.
	h.click("U2", msg, ts, btn(t, msg.blocks(t), actAnswer), nil)
	h.click("U2", msg, ts, map[string]any{"action_id": actBack, "value": "1:it_staff", "type": "button"}, nil)
	h.wait()
	r, _ := h.engine.Status(t.Context(), dmKey("U1"))
	if r.Position != 1 || r.Rev != 1 {
		t.Fatalf("U1's audit moved: %+v", r)
	}
	if n := len(h.api.all("chat.postMessage")) + len(h.api.all("chat.update")); n != 1 {
		t.Fatalf("%d messages sent or changed for a forged click", n)
	}
	// Forged values: no state change, a polite note.
	for _, v := range []string{"", "x", "1:it_staff:NONE", "99999999999999999999:a:b", "1:it_staff:none:extra", strings.Repeat("a", 3000)} {
		h.click("U1", msg, ts, map[string]any{"action_id": actAnswer + "none", "value": v, "type": "button"}, nil)
	}
	h.click("U1", msg, ts, map[string]any{"action_id": actAnswer + "zzz", "value": "1:it_staff:zzz", "type": "button"}, nil)
	h.wait()
	if r2, _ := h.engine.Status(t.Context(), dmKey("U1")); r2.Rev != r.Rev {
		t.Fatal("a forged value changed the audit")
	}
}

func TestRetriedEventsHaveOneEffect(t *testing.T) {
	h := newHarness(t)
	ev := []byte(`{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev1","event_time":1,` +
		`"event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home","event_ts":"1.2"}}`)
	for i := range 3 {
		hdr := http.Header{}
		if i > 0 {
			hdr.Set("X-Slack-Retry-Num", fmt.Sprint(i))
			hdr.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		if code, _ := h.post("/slack/events", "application/json", ev, hdr); code != 200 {
			t.Fatalf("delivery %d: %d", i, code)
		}
	}
	h.wait()
	pubs := h.api.all("views.publish")
	if len(pubs) != 1 {
		t.Fatalf("%d views published for one event", len(pubs))
	}
	if pubs[0].JSON["user_id"] != "U1" || !strings.Contains(fmt.Sprint(pubs[0].JSON["view"]), "Start the audit") {
		t.Fatalf("home = %v", pubs[0].JSON)
	}
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t)
	code, body := h.post("/slack/events", "application/json", []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`), nil)
	var got map[string]string
	if code != 200 || json.Unmarshal([]byte(body), &got) != nil || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification = %d %s", code, body)
	}
}

func TestAppHomeShowsProgressAndLastResult(t *testing.T) {
	h := newHarness(t)
	h.command("U1", "")
	h.wait()
	for i := 0; ; i++ {
		msg, _ := h.posted(i)
		if header(msg.blocks(t)) != "" {
			break
		}
		h.answerCurrent("U1", i)
		h.wait()
	}
	ev := `{"team_id":"T1","type":"event_callback","event_id":"Ev2","event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home"}}`
	h.post("/slack/events", "application/json", []byte(ev), nil)
	h.wait()
	view := fmt.Sprint(h.api.all("views.publish")[0].JSON["view"])
	if !strings.Contains(view, "Your last result") || !strings.Contains(view, "Completed <!date^") {
		t.Fatalf("home = %s", view)
	}
	// The home button, with the audit finished, shows the card again in
	// the DM (a card that never arrived is not lost), with Start over.
	home := apiCall{Form: map[string][]string{"channel": {""}}}
	if code := h.click("U1", home, "", map[string]any{"action_id": actHomeStart, "value": "home", "type": "button"}, nil); code != 200 {
		t.Fatal(code)
	}
	h.wait()
	last, _ := h.posted(-1)
	if !strings.HasPrefix(header(last.blocks(t)), "Recommendation: ") || last.Form.Get("channel") != "DU1" || element(t, last.blocks(t), actRestart) == nil {
		t.Fatalf("home start posted %v", last.Form)
	}
}
