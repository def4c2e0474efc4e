package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	io_prometheus_client "github.com/prometheus/client_model/go"
	"github.com/slack-go/slack/socketmode"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/slackapi"
)

// The acknowledgement does not wait for the Web API: the slash command is
// answered while the fake Slack is still holding conversations.open.
func TestAckReturnsWhileTheWebAPIHangs(t *testing.T) {
	h := newHarness(t)
	gate, entered := make(chan struct{}), make(chan string, 16)
	h.api.mu.Lock()
	h.api.gate, h.api.entered = gate, entered
	h.api.mu.Unlock()

	code, body := h.command("U1", "") // would block forever if the handler waited
	if code != http.StatusOK || !strings.Contains(body, "direct messages") {
		t.Fatalf("ack = %d %s", code, body)
	}
	if m := <-entered; m != "conversations.open" {
		t.Fatalf("first call = %s", m)
	}
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d calls completed before the gate opened", n)
	}
	close(gate)
	go func() {
		for range entered {
		}
	}()
	h.wait()
	if n := len(h.api.all("chat.postMessage")); n != 1 {
		t.Fatalf("%d questions posted once Slack recovered", n)
	}
}

func TestFailingWebAPITellsTheUser(t *testing.T) {
	h := newHarness(t)
	h.api.failing["conversations.open"] = "internal_error"
	h.command("U1", "")
	h.wait()
	notes := h.sink.texts()
	if len(notes) != 1 || notes[0] != h.flows.Views().Failure(errors.New("any failure of ours")).Summary {
		t.Fatalf("notes = %q", notes)
	}
	if v := metric(t, h, "conversations.open", "failed"); v != 1 {
		t.Fatalf("failed calls counted = %v", v)
	}
}

func TestRateLimitedCallsWaitRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.api.limited["chat.postMessage"] = 2
	h.api.retryWait = "2"
	h.command("U1", "")
	h.wait()
	if n := len(h.api.all("chat.postMessage")); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	h.mu.Lock()
	sleeps := append([]time.Duration(nil), h.sleeps...)
	h.mu.Unlock()
	if len(sleeps) != 2 || sleeps[0] != 2*time.Second || sleeps[1] != 2*time.Second {
		t.Fatalf("slept %v, want Retry-After twice", sleeps)
	}
	if metric(t, h, "chat.postMessage", "retried") != 2 || metric(t, h, "chat.postMessage", "ok") != 1 {
		t.Fatal("retries not counted")
	}

	// A 429 that does not clear gives up after a bounded number of tries.
	h.api.limited["chat.postMessage"] = 100
	h.command("U2", "")
	h.wait()
	if metric(t, h, "chat.postMessage", "failed") != 1 {
		t.Fatal("endless 429 not counted as failed")
	}
	if h.api.limited["chat.postMessage"] != 100-(slackapi.MaxRetries+1) {
		t.Fatalf("tried %d times", 100-h.api.limited["chat.postMessage"])
	}

	// A long Retry-After is not waited out while a person waits: the call
	// gives up at once, and they are told to try again in that time.
	h.api.limited["chat.postMessage"] = 1
	h.api.retryWait = "20"
	before := len(h.sink.texts())
	h.mu.Lock()
	slept := len(h.sleeps)
	h.mu.Unlock()
	h.command("U3", "")
	h.wait()
	h.mu.Lock()
	if len(h.sleeps) != slept {
		t.Errorf("waited out a 20 s Retry-After: %v", h.sleeps[slept:])
	}
	h.mu.Unlock()
	if notes := h.sink.texts()[before:]; len(notes) != 1 || !strings.Contains(notes[0], "try again in 20 seconds") {
		t.Fatalf("notes = %q", notes)
	}
}

func metric(t *testing.T, h *harness, call, outcome string) float64 {
	t.Helper()
	mfs, err := h.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "itfit_platform_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labels(m)["call"] == call && labels(m)["outcome"] == outcome && labels(m)["platform"] == "slack" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labels(m *io_prometheus_client.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// Socket Mode: each envelope is acknowledged at once, and a redelivery
// has no second effect.
func TestSocketModeRedeliveriesHaveOneEffect(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var acks []any
	ack := func(p any) error { mu.Lock(); acks = append(acks, p); mu.Unlock(); return nil }

	cmd, _ := json.Marshal(map[string]string{"team_id": "T1", "user_id": "U1", "channel_id": "C1", "command": "/itfit", "text": "", "response_url": h.sink.srv.URL + "/c"})
	env := socketmode.Request{Type: socketmode.RequestTypeSlashCommands, EnvelopeID: "env-1", Payload: cmd}
	h.app.envelope(t.Context(), env, ack)
	env.RetryAttempt = 1
	h.app.envelope(t.Context(), env, ack)
	h.wait()
	if n := len(h.api.all("chat.postMessage")); n != 1 {
		t.Fatalf("%d questions posted for one redelivered command", n)
	}

	// The same event in two envelopes (a Socket Mode retry).
	ev := []byte(`{"team_id":"T1","type":"event_callback","event_id":"Ev9","event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home"}}`)
	h.app.envelope(t.Context(), socketmode.Request{Type: socketmode.RequestTypeEventsAPI, EnvelopeID: "env-2", Payload: ev}, ack)
	h.app.envelope(t.Context(), socketmode.Request{Type: socketmode.RequestTypeEventsAPI, EnvelopeID: "env-3", Payload: ev, RetryAttempt: 1}, ack)

	// A click through Socket Mode, the same translation as over HTTP.
	msg, ts := h.posted(0)
	var form = h.clickBody("U1", msg, ts, btn(t, msg.blocks(t), actAnswer), nil)
	payload := form[len("payload="):]
	p, err := url.QueryUnescape(payload)
	if err != nil {
		t.Fatal(err)
	}
	h.app.envelope(t.Context(), socketmode.Request{Type: socketmode.RequestTypeInteractive, EnvelopeID: "env-4", Payload: json.RawMessage(p)}, ack)
	h.wait()
	if n := len(h.api.all("views.publish")); n != 1 {
		t.Fatalf("%d home views for one event", n)
	}
	if n := len(h.api.all("chat.postMessage")); n != 2 {
		t.Fatalf("%d messages after a socket click", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acks) != 5 {
		t.Fatalf("%d acks for 5 envelopes", len(acks))
	}
	if e, ok := acks[0].(*slackapi.CommandReply); !ok || !strings.Contains(e.Text, "direct messages") {
		t.Fatalf("slash command ack = %#v", acks[0])
	}
}

// fakeReminders records what the card's buttons ask for.
type fakeReminders struct {
	mu      sync.Mutex
	reminds []string
	shares  []conversation.UserID
}

func (f *fakeReminders) Delivers(conversation.Platform) bool { return true }

func (f *fakeReminders) Remind(_ context.Context, k conversation.Key, tz string) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reminds = append(f.reminds, string(k.User)+"@"+string(k.Conversation)+" "+tz)
	return done.AddDate(1, 0, 0), nil
}

func (f *fakeReminders) Share(_ context.Context, k conversation.Key, m conversation.UserID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shares = append(f.shares, m)
	return nil
}

func (f *fakeReminders) List(context.Context, conversation.UserKey) ([]revisit.Reminder, error) {
	return nil, nil
}

func (f *fakeReminders) Snooze(context.Context, conversation.UserKey) (time.Time, error) {
	return done.AddDate(0, 1, 0), nil
}

func (f *fakeReminders) Stop(context.Context, conversation.UserKey) (bool, error) { return false, nil }

func (f *fakeReminders) ManagerOf(context.Context, conversation.UserKey) (revisit.Manager, bool, error) {
	return revisit.Manager{}, false, nil
}

func (f *fakeReminders) Invite(context.Context, conversation.Key) error { return nil }

var _ chat.Reminders = (*fakeReminders)(nil)

func finish(t *testing.T, h *harness, user string) (apiCall, string) {
	h.command(user, "")
	h.wait()
	for i := 0; ; i++ {
		msg, ts := h.posted(i)
		if header(msg.blocks(t)) != "" {
			return msg, ts
		}
		h.answerCurrent(user, i)
		h.wait()
	}
}

// Without reminders the card offers none: only Start over.
func TestCardWithoutRemindersOffersNone(t *testing.T) {
	h := newHarness(t)
	card, _ := finish(t, h, "U1")
	if element(t, card.blocks(t), actRemind) != nil || element(t, card.blocks(t), actShare) != nil || element(t, card.blocks(t), actRestart) == nil {
		t.Fatalf("card actions without reminders: %s", card.Form.Get("blocks"))
	}
	// A Remind press from an older card, or a forged one, is told honestly.
	h.click("U1", card, "1700000000.000999", map[string]any{"action_id": actRemind, "type": "button", "value": "remind"}, nil)
	h.wait()
	if notes := h.sink.texts(); len(notes) != 1 || !strings.Contains(notes[0], "not switched on") {
		t.Fatalf("notes = %q", notes)
	}
}

func TestCardButtonsCallReminders(t *testing.T) {
	rem := &fakeReminders{}
	h := newHarness(t, withReminders(func(*harness) chat.Reminders { return rem }))
	card, ts := finish(t, h, "U1")
	h.click("U1", card, ts, btn(t, card.blocks(t), actRemind), nil)
	h.click("U1", card, ts, map[string]any{"action_id": actShare, "type": "users_select", "selected_user": "U9"}, nil)
	h.click("U1", card, ts, map[string]any{"action_id": actShare, "type": "users_select", "selected_user": "U1"}, nil)
	h.wait()
	if len(rem.reminds) != 1 || rem.reminds[0] != "U1@DU1 Europe/Paris" {
		t.Fatalf("reminds = %q", rem.reminds)
	}
	if len(rem.shares) != 1 || rem.shares[0] != "U9" {
		t.Fatalf("shares = %q", rem.shares)
	}
	notes := strings.Join(h.sink.texts(), "\n")
	for _, want := range []string{"remind you on <!date^", "Sent: <@U9> has a copy", "That's you"} {
		if !strings.Contains(notes, want) {
			t.Fatalf("notes lack %q: %s", want, notes)
		}
	}
	// The card's Start over begins again and leaves the card in place.
	before := len(h.api.all("chat.update"))
	h.click("U1", card, ts, btn(t, card.blocks(t), actRestart), nil)
	h.wait()
	if last, _ := h.posted(-1); !strings.HasPrefix(last.Form.Get("text"), "Question 1 of") || len(h.api.all("chat.update")) != before {
		t.Fatal("start over from the card")
	}
}
