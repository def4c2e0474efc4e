package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/slackapi"
)

// clock is the injected time of the revisit service and the worker.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rig is the harness with a real revisit.Service on the same Redis, its
// schedule, and the adapter's notifier registered on it.
type rig struct {
	*harness
	svc    *revisit.Service
	sched  *schedule.Store
	rdb    redis.UniversalClient
	prefix keys.Prefix
	clock  *clock

	mu   sync.Mutex
	errs []error // what each delivery returned
}

const revisitAfter = 30 * time.Second

func newRig(t *testing.T, managers string) *rig {
	t.Helper()
	r := &rig{clock: &clock{t: testNow}}
	r.harness = newHarness(t, r.revisits(t, managers))
	r.register()
	return r
}

// revisits is the harness option that builds the rig's revisit service.
func (r *rig) revisits(t *testing.T, managers string) withReminders {
	t.Helper()
	platforms := revisit.Platforms{conversation.Slack: Rules()}
	dir, err := revisit.ParseDirectory(managers, platforms)
	if err != nil {
		t.Fatal(err)
	}
	return withReminders(func(h *harness) chat.Reminders {
		r.rdb, r.prefix = h.rdb, h.prefix
		r.sched = schedule.NewStore(h.rdb, schedule.StoreConfig{Prefix: h.prefix})
		r.svc = revisit.New(h.rdb, r.sched, h.engine, revisit.Config{
			Prefix: h.prefix, After: revisitAfter, Managers: dir, Platforms: platforms, Now: r.clock.Now,
		})
		h.erasers.Register("revisits", r.svc)
		return r.svc
	})
}

// register delivers the rig's nudges through the adapter's outbox.
func (r *rig) register() {
	out := r.app.Outbox()
	r.svc.Register(conversation.Slack, r.flows.Notifier(conversation.Slack, out))
	r.svc.RegisterVerifier(conversation.Slack, out)
}

// deliver runs a schedule.Worker over the service until nothing more is
// due at the injected time: its Sleep (called when a claim comes back
// short) ends the pass, and Run waits for the deliveries it started.
func (r *rig) deliver() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(r.t.Context())
	defer cancel()
	d := schedule.DelivererFunc(func(ctx context.Context, j schedule.Job) error {
		err := r.svc.Deliver(ctx, j)
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
		return err
	})
	w := schedule.NewWorker(r.sched, d, schedule.WorkerConfig{
		// d hides the service's Delivered, as cmd/bot's wrappers would.
		Confirmer: r.svc,
		Now:       r.clock.Now,
		Sleep:     func(context.Context, time.Duration) { cancel() },
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err := w.Run(ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) deliveries() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// sent is a chat.postMessage with the ts the fake gave it.
type sent struct {
	call apiCall
	ts   string
}

// postsTo returns the messages posted to one channel, oldest first.
func (h *harness) postsTo(channel string) []sent {
	var out []sent
	for i := range h.api.all("chat.postMessage") {
		c, ts := h.posted(i)
		if c.Form.Get("channel") == channel {
			out = append(out, sent{c, ts})
		}
	}
	return out
}

// lastReply is the latest response_url reply, text and blocks.
func (h *harness) lastReply() map[string]any {
	h.t.Helper()
	h.sink.mu.Lock()
	defer h.sink.mu.Unlock()
	if len(h.sink.replies) == 0 {
		h.t.Fatal("no reply")
	}
	return h.sink.replies[len(h.sink.replies)-1]
}

func (h *harness) lastNote() string {
	s, _ := h.lastReply()["text"].(string)
	return s
}

// remindFromCard finishes U's audit and clicks "Remind me in 12 months".
func (r *rig) remindFromCard(user string) (apiCall, string) {
	r.t.Helper()
	card, ts := finish(r.t, r.harness, user)
	r.click(user, card, ts, btn(r.t, card.blocks(r.t), actRemind), nil)
	r.wait()
	if n := r.lastNote(); !strings.Contains(n, "remind you on <!date^") {
		r.t.Fatalf("remind note = %q", n)
	}
	return card, ts
}

func isNudge(s sent) bool { return strings.Contains(s.call.Form.Get("blocks"), actRetake) }
func isManagerNudge(s sent) bool {
	return strings.Contains(s.call.Form.Get("blocks"), actInvite)
}

// unescaped undoes encoding/json's HTML escaping, so tests can look for
// Slack's <@U…> and <!date^…> as written.
var unescaper = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

func blocksOf(c apiCall) string { return unescaper.Replace(c.Form.Get("blocks")) }

func TestRemindProducesOneUserNudgeAndOneManagerNudge(t *testing.T) {
	r := newRig(t, "slack:T1=UMGR")
	r.remindFromCard("U1")
	rs, err := r.svc.List(t.Context(), dmKey("U1").UserKey)
	if err != nil || len(rs) != 2 {
		t.Fatalf("scheduled = %+v, %v", rs, err)
	}

	r.deliver() // not due yet
	if n := len(r.deliveries()); n != 0 {
		t.Fatalf("%d deliveries before the revisit was due", n)
	}
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	r.deliver() // a second pass finds nothing
	if errs := r.deliveries(); len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("deliveries = %v", errs)
	}

	var user, mgr []sent
	for _, s := range r.postsTo("DU1") {
		if isNudge(s) {
			user = append(user, s)
		}
	}
	for _, s := range r.postsTo("DUMGR") {
		if isManagerNudge(s) {
			mgr = append(mgr, s)
		}
	}
	if len(user) != 1 || len(mgr) != 1 {
		t.Fatalf("user nudges %d, manager nudges %d; want 1 and 1", len(user), len(mgr))
	}
	ub := blocksOf(user[0].call)
	for _, want := range []string{"Time to revisit", "<!date^", actSnooze, actStop, "concluded *"} {
		if !strings.Contains(ub, want) {
			t.Errorf("user nudge lacks %q: %s", want, ub)
		}
	}
	mb := blocksOf(mgr[0].call)
	if !strings.Contains(mb, "<@U1>") || !strings.Contains(mb, "<!date^") {
		t.Errorf("manager nudge = %s", mb)
	}
	if v := btn(t, mgr[0].call.blocks(t), actInvite)["value"]; v != "T1/U1#en" { // and the language the nudge is in
		t.Errorf("invite value = %v, want the client's workspace and user ID", v)
	}
	opened := false
	for _, o := range r.api.all("conversations.open") {
		opened = opened || o.Form.Get("users") == "UMGR"
	}
	if !opened {
		t.Error("the manager's DM was not opened")
	}
}

// TestSharePastTheDailyAllowanceIsRefused: the eleventh share in a day is
// explained to the user and reaches nobody.
func TestSharePastTheDailyAllowanceIsRefused(t *testing.T) {
	r := newRig(t, "")
	card, ts := finish(t, r.harness, "U1")
	share := map[string]any{"action_id": actShare, "type": "users_select", "selected_user": "U9"}
	for range 10 {
		r.click("U1", card, ts, share, nil)
		r.wait()
	}
	if n := len(r.postsTo("DU9")); n != 10 {
		t.Fatalf("%d shares reached the manager, want 10", n)
	}
	r.click("U1", card, ts, share, nil)
	r.wait()
	if n := len(r.postsTo("DU9")); n != 10 {
		t.Fatalf("the eleventh share reached the manager (%d messages)", n)
	}
	if n := r.lastNote(); !strings.Contains(n, "as many times as a day allows") {
		t.Fatalf("note = %q", n)
	}
}

func TestShareSendsTheCardNowAndTheLaterNudgeToThatManager(t *testing.T) {
	r := newRig(t, "") // no configured manager: the shared one is used
	card, ts := finish(t, r.harness, "U1")
	r.click("U1", card, ts, map[string]any{"action_id": actShare, "type": "users_select", "selected_user": "U9"}, nil)
	r.wait()
	shared := r.postsTo("DU9")
	if len(shared) != 1 {
		t.Fatalf("%d messages to the manager on sharing, want the card", len(shared))
	}
	sb := shared[0].call.blocks(t)
	if got := header(sb); !strings.HasPrefix(got, "Recommendation: ") {
		t.Fatalf("shared card header = %q", got)
	}
	if !strings.Contains(blocksOf(shared[0].call), "Shared with you by <@U1>") || hasActions(sb) {
		t.Fatalf("shared card = %s", blocksOf(shared[0].call))
	}
	if n := r.lastNote(); !strings.Contains(n, "Sent: <@U9> has a copy") {
		t.Fatalf("share note = %q", n)
	}

	r.click("U1", card, ts, btn(t, card.blocks(t), actRemind), nil)
	r.wait()
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	var mgr []sent
	for _, s := range r.postsTo("DU9") {
		if isManagerNudge(s) {
			mgr = append(mgr, s)
		}
	}
	if len(mgr) != 1 {
		t.Fatalf("%d manager nudges to the shared manager", len(mgr))
	}
}

func TestSnoozeStopAndForgetThroughTheSignedEndpoints(t *testing.T) {
	r := newRig(t, "slack:T1=UMGR")
	card, cardTS := r.remindFromCard("U1")

	// /itfit reminders lists both nudges, with Snooze and Stop.
	if code, body := r.command("U1", "reminders"); code != 200 || body != "" {
		t.Fatalf("reminders ack = %d %q", code, body)
	}
	r.wait()
	list := r.lastReply()
	raw, _ := json.Marshal(list["blocks"])
	for _, want := range []string{"Your reminders", "A reminder to you", "<@UMGR>", actSnooze, actStop} {
		if !strings.Contains(unescaper.Replace(string(raw)), want) {
			t.Fatalf("list lacks %q: %s", want, raw)
		}
	}
	listMsg := apiCall{Form: url.Values{"channel": {"C1"}, "blocks": {string(raw)}}, Ephemeral: true}
	var blocks []map[string]any
	_ = json.Unmarshal(raw, &blocks)

	// Snooze: both nudges move a month on; nothing goes out when the old
	// time comes.
	r.click("U1", listMsg, "1700000000.999999", btn(t, blocks, actSnooze), nil)
	r.wait()
	if n := r.lastNote(); !strings.Contains(n, "Snoozed") {
		t.Fatalf("snooze note = %q", n)
	}
	rs, _ := r.svc.List(t.Context(), dmKey("U1").UserKey)
	want := advisor.AddMonths(r.clock.Now(), 1)
	if len(rs) != 2 || !rs[0].Due.Equal(want) || !rs[1].Due.Equal(want) {
		t.Fatalf("after snooze: %+v, want both due %s", rs, want)
	}
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	if n := len(r.deliveries()); n != 0 {
		t.Fatalf("%d deliveries of a snoozed nudge", n)
	}

	// Stop: none left.
	r.click("U1", listMsg, "1700000000.999999", btn(t, blocks, actStop), nil)
	r.wait()
	if n := r.lastNote(); !strings.Contains(n, "Stopped") {
		t.Fatalf("stop note = %q", n)
	}
	if rs, _ := r.svc.List(t.Context(), dmKey("U1").UserKey); len(rs) != 0 {
		t.Fatalf("after stop: %+v", rs)
	}

	// Remind again, then forget: /itfit forget asks first.
	r.click("U1", card, cardTS, btn(t, card.blocks(t), actRemind), nil)
	r.wait()
	code, body := r.command("U1", "forget")
	if code != 200 || !strings.Contains(body, actForget) || !strings.Contains(body, "Yes, erase everything") {
		t.Fatalf("forget ack = %d %s", code, body)
	}
	var ack struct {
		Blocks []map[string]any `json:"blocks"`
	}
	_ = json.Unmarshal([]byte(body), &ack)
	if rs, _ := r.svc.List(t.Context(), dmKey("U1").UserKey); len(rs) != 2 {
		t.Fatal("/itfit forget erased before the button was pressed")
	}
	r.click("U1", apiCall{Form: url.Values{"channel": {"C1"}, "blocks": {body}}, Ephemeral: true}, "1700000000.999998", btn(t, ack.Blocks, actForget), nil)
	r.wait()
	note := r.lastNote()
	for _, want := range []string{"erased", "1 audit session", "1 past result", "2 scheduled reminders"} {
		if !strings.Contains(note, want) {
			t.Fatalf("forget note lacks %q: %q", want, note)
		}
	}
	tag := "{slack:T1:U1}"
	for _, k := range redistest.Keys(t, r.rdb, r.prefix) {
		if strings.Contains(k, tag) {
			t.Errorf("after forget Redis still holds %s", k)
		}
	}
	for _, kind := range []revisit.Kind{revisit.ForUser, revisit.ForManager} {
		id := string(kind) + "/slack/T1/U1"
		if _, err := r.sched.Get(t.Context(), id); !errors.Is(err, schedule.ErrNotFound) {
			t.Errorf("job %s after forget: %v", id, err)
		}
	}
	r.clock.Add(365 * 24 * time.Hour)
	r.deliver()
	if n := len(r.deliveries()); n != 0 {
		t.Fatalf("%d deliveries after forget", n)
	}
}

func TestNudgeButtonsSnoozeAfterDelivery(t *testing.T) {
	r := newRig(t, "")
	r.remindFromCard("U1")
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	ps := r.postsTo("DU1")
	nudge := ps[len(ps)-1]
	if !isNudge(nudge) {
		t.Fatalf("last DM is not the nudge: %s", nudge.call.Form.Get("text"))
	}
	// Snooze on a delivered nudge schedules the next one.
	r.click("U1", nudge.call, nudge.ts, btn(t, nudge.call.blocks(t), actSnooze), nil)
	r.wait()
	rs, _ := r.svc.List(t.Context(), dmKey("U1").UserKey)
	if len(rs) != 1 || !rs[0].Due.Equal(advisor.AddMonths(r.clock.Now(), 1)) {
		t.Fatalf("after snoozing a delivered nudge: %+v", rs)
	}
	r.click("U1", nudge.call, nudge.ts, btn(t, nudge.call.blocks(t), actStop), nil)
	r.wait()
	if rs, _ := r.svc.List(t.Context(), dmKey("U1").UserKey); len(rs) != 0 {
		t.Fatalf("after stop: %+v", rs)
	}
}

func TestNudgeRateLimitedIsRetriedAfterRetryAfterAndSentOnce(t *testing.T) {
	r := newRig(t, "")
	r.remindFromCard("U1")
	before := len(r.postsTo("DU1"))
	r.api.mu.Lock()
	r.api.limited["chat.postMessage"] = 1
	r.api.retryWait = "30"
	r.api.mu.Unlock()

	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	errs := r.deliveries()
	var ra *schedule.RetryAfterError
	if len(errs) != 1 || !errors.As(errs[0], &ra) || ra.After != 30*time.Second {
		t.Fatalf("deliveries = %v, want one RetryAfterError of 30s", errs)
	}
	r.mu.Lock()
	sleeps := len(r.sleeps)
	r.mu.Unlock()
	if sleeps != 0 {
		t.Fatalf("the nudge slept %d times inside the delivery", sleeps)
	}
	if n := len(r.postsTo("DU1")); n != before {
		t.Fatal("sent while rate limited")
	}

	r.clock.Add(20 * time.Second) // inside Retry-After
	r.deliver()
	if n := len(r.deliveries()); n != 1 || len(r.postsTo("DU1")) != before {
		t.Fatalf("retried before Retry-After elapsed: %d deliveries", n)
	}
	r.clock.Add(15 * time.Second) // 35s: past 30s plus at most 1s of jitter
	r.deliver()
	r.deliver()
	if errs := r.deliveries(); len(errs) != 2 || errs[1] != nil {
		t.Fatalf("deliveries = %v", errs)
	}
	if n := len(r.postsTo("DU1")) - before; n != 1 {
		t.Fatalf("%d nudges sent after the 429, want 1", n)
	}
}

func TestNudgeToAGoneAccountIsDropped(t *testing.T) {
	r := newRig(t, "")
	r.remindFromCard("U1")
	r.api.mu.Lock()
	r.api.failing["chat.postMessage"] = "account_inactive"
	r.api.mu.Unlock()
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	errs := r.deliveries()
	if len(errs) != 1 || !errors.Is(errs[0], schedule.ErrGone) {
		t.Fatalf("deliveries = %v, want ErrGone", errs)
	}
	if _, err := r.sched.Get(t.Context(), "user/slack/T1/U1"); !errors.Is(err, schedule.ErrNotFound) {
		t.Fatalf("gone nudge still scheduled: %v", err)
	}
	r.clock.Add(time.Hour)
	r.deliver()
	if n := len(r.deliveries()); n != 1 {
		t.Fatalf("%d deliveries, want the one that was dropped", n)
	}
}

// Each Web API failure becomes what the scheduler acts on: gone, a
// Retry-After, ambiguous (written, outcome unknown: verified before any
// resend), not sent (retried as such even when it was a timeout), or a
// plain refusal. before marks a call made before the post (opening the DM).
func TestNudgeErrorMapping(t *testing.T) {
	unknown := func(err error) error { return fmt.Errorf("%w: %w", slackapi.ErrOutcomeUnknown, err) }
	notSent := func(err error) error { return fmt.Errorf("%w: %w", slackapi.ErrNotSent, err) }
	for _, tc := range []struct {
		err        error
		before     bool
		gone       bool
		retryAfter time.Duration
		ambiguous  bool
		notSent    bool
	}{
		{err: slack.SlackErrorResponse{Err: "account_inactive"}, gone: true},
		{err: slack.SlackErrorResponse{Err: "channel_not_found"}, gone: true},
		{err: slack.SlackErrorResponse{Err: "not_in_channel"}, gone: true},
		{err: slack.SlackErrorResponse{Err: "is_archived"}, gone: true},
		{err: slack.SlackErrorResponse{Err: "token_revoked"}, gone: true},
		{err: slack.SlackErrorResponse{Err: "missing_scope"}},
		{err: slack.SlackErrorResponse{Err: "internal_error"}},
		{err: slack.StatusCodeError{Code: 400}},
		{err: &slack.RateLimitedError{RetryAfter: 7 * time.Second}, retryAfter: 7 * time.Second},
		{err: &slack.RateLimitedError{}, retryAfter: time.Second},
		{err: unknown(slack.StatusCodeError{Code: 500}), ambiguous: true},
		{err: unknown(context.DeadlineExceeded), ambiguous: true},
		{err: unknown(errors.New("read: connection reset by peer")), ambiguous: true},
		{err: notSent(context.DeadlineExceeded), notSent: true},
		{err: notSent(errors.New("dial tcp: connection refused")), notSent: true},
		{err: context.DeadlineExceeded, before: true, notSent: true},
		{err: slack.StatusCodeError{Code: 500}, before: true, notSent: true},
		{err: context.DeadlineExceeded}, // slack-go's path cannot tell: the worker counts a timeout as ambiguous
	} {
		err := nudgeErr("post", errors.Join(errors.New("slack chat.postMessage"), tc.err), tc.before)
		if got := errors.Is(err, schedule.ErrGone); got != tc.gone {
			t.Errorf("%v: gone = %v", tc.err, got)
		}
		var ra *schedule.RetryAfterError
		if got := errors.As(err, &ra); got != (tc.retryAfter > 0) || (got && ra.After != tc.retryAfter) {
			t.Errorf("%v: retry after = %v", tc.err, err)
		}
		if got := errors.Is(err, schedule.ErrAmbiguous); got != tc.ambiguous {
			t.Errorf("%v (before %v): ambiguous = %v", tc.err, tc.before, got)
		}
		if got := errors.Is(err, schedule.ErrNotSent); got != tc.notSent {
			t.Errorf("%v (before %v): not sent = %v", tc.err, tc.before, got)
		}
	}
}

func TestManagerInviteOnlyFromTheManager(t *testing.T) {
	for _, tc := range []struct {
		name, managers, nudgeChannel string
	}{
		{"a manager user", "slack:T1=UMGR", "DUMGR"},
		{"an account team channel", "slack:T1=CACCT", "CACCT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.managers)
			r.remindFromCard("U1")
			r.clock.Add(revisitAfter + time.Second)
			r.deliver()
			ms := r.postsTo(tc.nudgeChannel)
			if len(ms) != 1 || !isManagerNudge(ms[0]) {
				t.Fatalf("manager nudges in %s: %d", tc.nudgeChannel, len(ms))
			}
			nudge := ms[0]
			invite := btn(t, nudge.call.blocks(t), actInvite)
			invitations := func() int {
				n := 0
				for _, s := range r.postsTo("DU1") {
					if isNudge(s) && strings.Contains(s.call.Form.Get("blocks"), "invited you") {
						n++
					}
				}
				return n
			}

			// Someone else (for a channel: from outside it), and a forged value.
			elsewhere := nudge.call
			if strings.HasPrefix(tc.nudgeChannel, "C") {
				elsewhere = apiCall{Form: url.Values{"channel": {"DU2"}, "blocks": {nudge.call.Form.Get("blocks")}}}
			}
			r.click("U2", elsewhere, nudge.ts, invite, nil)
			r.wait()
			if n := r.lastNote(); !strings.Contains(n, "Only the account manager of <@U1>") {
				t.Fatalf("refusal = %q", n)
			}
			r.click("U2", nudge.call, nudge.ts, map[string]any{"action_id": actInvite, "value": "<!channel>", "type": "button"}, nil)
			r.wait()
			if invitations() != 0 {
				t.Fatal("a non-manager's click sent an invitation")
			}

			clicker := "UMGR"
			if strings.HasPrefix(tc.nudgeChannel, "C") {
				clicker = "U7" // a member of the account team channel
			}
			r.click(clicker, nudge.call, nudge.ts, invite, nil)
			r.click(clicker, nudge.call, nudge.ts, invite, nil)
			r.wait()
			if n := invitations(); n != 1 {
				t.Fatalf("%d invitations, want 1", n)
			}
			// The nudge now says so, with no button left for anyone to press.
			var settled bool
			for _, u := range r.api.all("chat.update") {
				if u.Form.Get("channel") == tc.nudgeChannel && u.Form.Get("ts") == nudge.ts &&
					strings.Contains(blocksOf(u), "Invitation sent: <@U1>") && !hasActions(u.blocks(t)) {
					settled = true
				}
			}
			if !settled {
				t.Fatalf("the manager's nudge was not settled: %+v", r.api.all("chat.update"))
			}
		})
	}
}

// answerLast answers the question in message i with its last option (for a
// multi-select, the last box), to give a retake different answers.
func (h *harness) answerLast(user string, i int) {
	h.t.Helper()
	msg, ts := h.posted(i)
	blocks := msg.blocks(h.t)
	if el := element(h.t, blocks, actCheck); el != nil {
		opts := el["options"].([]any)
		last := opts[len(opts)-1].(map[string]any)["value"].(string)
		h.click(user, msg, ts, btn(h.t, blocks, actContinue), []string{last})
		return
	}
	var answers []map[string]any
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if id, _ := m["action_id"].(string); strings.HasPrefix(id, actAnswer) {
				answers = append(answers, m)
			}
		}
	}
	a := answers[len(answers)-1]
	h.click(user, msg, ts, map[string]any{"action_id": a["action_id"], "value": a["value"], "type": "button"}, nil)
}

func TestRetakeFromTheNudgeShowsSinceLastTime(t *testing.T) {
	r := newRig(t, "")
	first, _ := r.remindFromCard("U1")
	r.clock.Add(revisitAfter + time.Second)
	r.deliver()
	ps := r.postsTo("DU1")
	nudge := ps[len(ps)-1]
	r.click("U1", nudge.call, nudge.ts, btn(t, nudge.call.blocks(t), actRetake), nil)
	r.click("U1", nudge.call, nudge.ts, btn(t, nudge.call.blocks(t), actRetake), nil) // a double click restarts once
	r.wait()
	start := len(r.api.all("chat.postMessage")) - 1
	if q, _ := r.posted(start); !strings.HasPrefix(q.Form.Get("text"), "Question 1 of") {
		t.Fatalf("retake posted %q", q.Form.Get("text"))
	}
	if q, _ := r.posted(start - 1); strings.HasPrefix(q.Form.Get("text"), "Question 1 of") {
		t.Fatal("the retake started twice")
	}
	for i := start; ; i++ {
		msg, _ := r.posted(i)
		if header(msg.blocks(t)) != "" {
			break
		}
		if i > start+40 {
			t.Fatal("no card after 40 messages")
		}
		r.answerLast("U1", i)
		r.wait()
	}
	card, _ := r.posted(-1)
	b := card.Form.Get("blocks")
	if !strings.Contains(b, "*Since last time*") || !strings.Contains(b, "Answers that changed") {
		t.Fatalf("retake card = %s", b)
	}
	if header(first.blocks(t)) != header(card.blocks(t)) && !strings.Contains(b, "The verdict moved") {
		t.Fatal("the verdict changed but the card does not say so")
	}
	var bs slack.Blocks
	if err := json.Unmarshal([]byte(b), &bs); err != nil {
		t.Fatal(err)
	}
	golden(t, "card_retake", Message{Text: card.Form.Get("text"), Blocks: bs.BlockSet})
}
