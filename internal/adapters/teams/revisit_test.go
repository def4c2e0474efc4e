package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// These tests run the revisit service and the durable scheduler for real,
// against real Redis, on an injected clock, and capture every nudge at the
// fake Bot Connector: the send path is the one production uses.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type revisitOptions struct {
	start    time.Time
	after    time.Duration // ITFIT_REVISIT_AFTER
	managers string        // ITFIT_ACCOUNT_MANAGERS
}

var maria = person{"29:1maria", "aad-maria", "Maria Manager"}

func newRevisitFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, fixtureOptions{revisits: &revisitOptions{
		start:    time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		after:    30 * time.Second,
		managers: "teams:" + tenant + "=" + maria.id,
	}})
}

func (f *fixture) startRevisits(o revisitOptions) {
	platforms := revisit.Platforms{conversation.Teams: teams.Rules()}
	dir, err := revisit.ParseDirectory(o.managers, platforms)
	if err != nil {
		f.t.Fatal(err)
	}
	f.managers = dir
	f.sched = schedule.NewStore(f.rb.Client, schedule.StoreConfig{Prefix: f.prefix})
	f.svc = revisit.New(f.rb.Client, f.sched, f.engine, revisit.Config{
		Prefix: f.prefix, After: o.after, Managers: dir, Platforms: platforms, Now: f.clk.Now, Logger: f.log,
	})
}

// runDue runs a scheduler worker on the injected clock until nothing more
// is due now, and returns what each delivery answered.
func (f *fixture) runDue() []error {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var results []error
	d := schedule.DelivererFunc(func(ctx context.Context, j schedule.Job) error {
		err := f.svc.Deliver(ctx, j)
		mu.Lock()
		results = append(results, err)
		mu.Unlock()
		return err
	})
	w := schedule.NewWorker(f.sched, d, schedule.WorkerConfig{
		Now: f.clk.Now,
		// The worker sleeps only when it found less due than it could take:
		// everything due now has been handed out, so stop. Run waits for the
		// deliveries before it returns.
		Sleep:  func(context.Context, time.Duration) { cancel() },
		Logger: f.log,
	})
	if err := w.Run(ctx); err != nil {
		f.t.Fatal(err)
	}
	return results
}

// complete takes the audit in the personal chat, pressing choose on every
// question card, and returns the recommendation card.
func (f *fixture) complete(p person, choose func(*testing.T, *adaptivecard.Card) map[string]any) sent {
	f.t.Helper()
	f.post(f.activity(p, personal, "hi"))
	out := f.take()
	for i := 0; ; i++ {
		last, ok := lastCard(out)
		if !ok || i > 30 {
			f.t.Fatalf("audit did not complete: %+v", out)
		}
		if strings.Contains(cardText(last.Card), "Recommendation: ") {
			return last
		}
		f.post(f.submit(p, personal, last.ResponseID, choose(f.t, last.Card)))
		out = f.take()
	}
}

// lastChoice presses the last option of a question card.
func lastChoice(t *testing.T, c *adaptivecard.Card) map[string]any {
	t.Helper()
	var v map[string]any
	for _, e := range c.Body {
		if e.Type == "ActionSet" && len(e.Actions) == 1 && submitOf(e.Actions[0]) != nil && submitOf(e.Actions[0]).Action == "answer" {
			v = toMap(t, e.Actions[0].Data)
			if e.Actions[0].Title == "Continue" {
				for _, in := range c.Body {
					if in.Type == "Input.ChoiceSet" {
						v["options"] = in.Choices[len(in.Choices)-1].Value
					}
				}
			}
		}
	}
	if v == nil {
		t.Fatalf("no answer button on card: %s", cardText(c))
	}
	return v
}

// button returns the data of the card action titled title.
func button(t *testing.T, c *adaptivecard.Card, title string) map[string]any {
	t.Helper()
	for _, a := range c.Actions {
		if a.Title != title {
			continue
		}
		if a.Card != nil && a.Data == nil {
			// A confirmation (or a picker) unfolds first: its own button
			// sends the press.
			for _, in := range a.Card.Actions {
				if in.Data != nil {
					return toMap(t, in.Data)
				}
			}
		}
		return toMap(t, a.Data)
	}
	t.Fatalf("no %q button on card: %s", title, cardText(c))
	return nil
}

// inPersonal makes an activity come from the given 1:1 chat.
func inPersonal(a map[string]any, conv string) map[string]any {
	a["conversation"] = map[string]any{"conversationType": "personal", "tenantId": tenant, "id": conv}
	a["channelData"] = map[string]any{"tenant": map[string]any{"id": tenant}}
	return a
}

// nudges sorts what the bot sent into user nudges, manager nudges and the
// 1:1 chats it created.
type nudges struct {
	user, manager, created []sent
	other                  []sent
}

func classify(out []sent) nudges {
	var n nudges
	for _, s := range out {
		switch {
		case s.Method == http.MethodPost && s.Path == "v3/conversations":
			n.created = append(n.created, s)
		case s.Card != nil && strings.Contains(cardText(s.Card), "Invite them to retake"):
			n.manager = append(n.manager, s)
		case s.Card != nil && strings.Contains(cardText(s.Card), "Retake the audit"):
			n.user = append(n.user, s)
		default:
			n.other = append(n.other, s)
		}
	}
	return n
}

// remindAndDeliver completes Ana's audit, presses Remind me and runs the
// scheduler once the nudges are due.
func (f *fixture) remindAndDeliver() (nudges, sent) {
	f.t.Helper()
	card := f.complete(ana, firstChoice)
	f.post(f.submit(ana, personal, card.ResponseID, button(f.t, card.Card, "Remind me in 12 months")))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "2 March 2026") {
		f.t.Fatalf("remind reply: %+v", out)
	}
	if errs := f.runDue(); len(errs) != 0 || len(f.bf.Requests()) != 0 {
		f.t.Fatalf("delivered before due: %v %+v", errs, f.bf.Requests())
	}
	f.clk.Add(31 * time.Second)
	for _, err := range f.runDue() {
		if err != nil {
			f.t.Fatalf("delivery: %v", err)
		}
	}
	return classify(f.take()), card
}

func TestRemindMeSendsOneUserNudgeAndOneManagerNudge(t *testing.T) {
	f := newRevisitFixture(t)
	n, _ := f.remindAndDeliver()
	if len(n.user) != 1 || len(n.manager) != 1 || len(n.created) != 1 || len(n.other) != 0 {
		t.Fatalf("user=%d manager=%d created=%d other=%+v", len(n.user), len(n.manager), len(n.created), n.other)
	}
	u := n.user[0]
	if u.Path != "v3/conversations/"+personal+"/activities" {
		t.Errorf("user nudge went to %s, want Ana's personal chat", u.Path)
	}
	for _, want := range []string{"Time to revisit your IT decision", "On 2 March 2026 it concluded", "Snooze 1 month", "Stop reminders", `"user":"aad-ana"`} {
		if !strings.Contains(cardText(u.Card), want) {
			t.Errorf("user nudge lacks %q: %s", want, cardText(u.Card))
		}
	}
	// Maria never spoke to the bot: a 1:1 chat is created in Ana's tenant
	// through Ana's serviceUrl, then the card is sent there.
	var params struct {
		Bot      struct{ ID string }
		Members  []struct{ ID string }
		TenantID string
	}
	if err := json.Unmarshal(n.created[0].Body, &params); err != nil {
		t.Fatal(err)
	}
	if params.Bot.ID != botID || len(params.Members) != 1 || params.Members[0].ID != maria.id || params.TenantID != tenant {
		t.Errorf("create conversation: %s", n.created[0].Body)
	}
	m := n.manager[0]
	if m.ConversationID != n.created[0].ResponseID {
		t.Errorf("manager nudge went to %s, not the created chat %s", m.ConversationID, n.created[0].ResponseID)
	}
	for _, want := range []string{"A client's yearly IT revisit is due", `"value":"Ana Ruiz"`, `"user":"29:1maria"`, `"client":"aad-ana"`} {
		if !strings.Contains(cardText(m.Card), want) {
			t.Errorf("manager nudge lacks %q: %s", want, cardText(m.Card))
		}
	}
	// Delivered once: later runs find nothing.
	f.clk.Add(24 * time.Hour)
	if errs := f.runDue(); len(errs) != 0 || len(f.bf.Requests()) != 0 {
		t.Errorf("delivered again: %v %+v", errs, f.bf.Requests())
	}
	if list, _ := f.svc.List(context.Background(), key(ana, personal).UserKey); len(list) != 0 {
		t.Errorf("still scheduled: %+v", list)
	}
}

func TestManagerInviteReachesTheClient(t *testing.T) {
	f := newRevisitFixture(t)
	n, _ := f.remindAndDeliver()
	m := n.manager[0]
	invite := button(t, m.Card, "Invite them to retake")

	// Someone else in the tenant with a forged copy of the button: refused.
	forgedValue := button(t, m.Card, "Invite them to retake")
	forgedValue["user"] = bob.aad
	forged := inPersonal(f.submit(bob, personal, m.ResponseID, forgedValue), "a:1bob")
	f.post(forged)
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "Only the account manager of this client") {
		t.Fatalf("forged invite: %+v", out)
	}
	// Ana pressing Maria's card is told it is not hers.
	f.post(f.submit(ana, personal, m.ResponseID, invite))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "someone else's") {
		t.Fatalf("Ana on Maria's card: %+v", out)
	}

	f.post(inPersonal(f.submit(maria, m.ConversationID, m.ResponseID, invite), m.ConversationID))
	out := f.take()
	var invited, settled int
	for _, s := range out {
		switch {
		case s.Method == http.MethodPost && s.ConversationID == personal && s.Card != nil &&
			strings.Contains(cardText(s.Card), "Your account manager invited you to retake") && strings.Contains(cardText(s.Card), "Retake the audit"):
			invited++
		case s.Method == http.MethodPut && s.ActivityID == m.ResponseID && strings.Contains(cardText(s.Card), "Invitation sent: Ana Ruiz") && !hasActions(s.Card):
			settled++
		}
	}
	if invited != 1 || settled != 1 || len(out) != 2 {
		t.Fatalf("invite: %+v", out)
	}
}

func TestSnoozeStopAndForgetFromTheNudge(t *testing.T) {
	f := newRevisitFixture(t)
	ctx := context.Background()
	n, result := f.remindAndDeliver()
	nudge := n.user[0]
	ak := key(ana, personal).UserKey

	// Snooze on the nudge: a month from now, the card settles in place.
	f.post(f.submit(ana, personal, nudge.ResponseID, button(t, nudge.Card, "Snooze 1 month")))
	out := f.take()
	if len(out) != 1 || out[0].Method != http.MethodPut || out[0].ActivityID != nudge.ResponseID ||
		!strings.Contains(cardText(out[0].Card), "Snoozed: I'll remind you again on 2 April 2026") || hasActions(out[0].Card) {
		t.Fatalf("snooze: %+v", out)
	}
	list, err := f.svc.List(ctx, ak)
	if err != nil || len(list) != 1 || list[0].Kind != revisit.ForUser || !list[0].Due.Equal(f.clk.Now().AddDate(0, 1, 0)) {
		t.Fatalf("after snooze: %+v %v", list, err)
	}
	// "reminders" lists it, with Snooze and Stop.
	f.post(f.activity(ana, personal, "reminders"))
	out = f.take()
	if len(out) != 1 || out[0].Card == nil || !strings.Contains(cardText(out[0].Card), "2 April 2026") {
		t.Fatalf("reminders: %+v", out)
	}
	listCard := out[0]

	// Nothing before the snoozed date; one nudge after it.
	f.clk.Add(30 * 24 * time.Hour)
	if errs := f.runDue(); len(errs) != 0 {
		t.Fatalf("delivered before the snoozed date: %v", errs)
	}
	f.clk.Add(2 * 24 * time.Hour)
	f.runDue()
	n = classify(f.take())
	if len(n.user) != 1 || len(n.manager) != 0 {
		t.Fatalf("after snooze: user=%d manager=%d other=%+v", len(n.user), len(n.manager), n.other)
	}

	// Stop from the list card: nothing left, and the card says so.
	f.post(f.submit(ana, personal, n.user[0].ResponseID, button(t, n.user[0].Card, "Snooze 1 month")))
	f.take()
	f.post(f.submit(ana, personal, listCard.ResponseID, button(t, listCard.Card, "Stop reminders")))
	out = f.take()
	if len(out) != 1 || out[0].ActivityID != listCard.ResponseID || !strings.Contains(cardText(out[0].Card), "Stopped") {
		t.Fatalf("stop: %+v", out)
	}
	if list, _ := f.svc.List(ctx, ak); len(list) != 0 {
		t.Fatalf("after stop: %+v", list)
	}
	f.post(f.activity(ana, personal, "reminders"))
	if out = f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "no reminders scheduled") {
		t.Fatalf("reminders after stop: %+v", out)
	}
	f.clk.Add(90 * 24 * time.Hour)
	if errs := f.runDue(); len(errs) != 0 {
		t.Fatalf("delivered after stop: %v", errs)
	}

	// Remind me again, then forget: everything goes, and she is told what.
	f.post(f.submit(ana, personal, result.ResponseID, button(t, result.Card, "Remind me in 12 months")))
	f.take()
	if list, _ := f.svc.List(ctx, ak); len(list) != 2 {
		t.Fatalf("before forget: %+v", list)
	}
	// "forget" asks first: nothing goes until its button is pressed.
	f.post(f.activity(ana, personal, "forget"))
	out = f.take()
	if len(out) != 1 || out[0].Card == nil || !strings.Contains(cardText(out[0].Card), "Erase everything itfit holds about you?") {
		t.Fatalf("forget: %+v", out)
	}
	if list, _ := f.svc.List(ctx, ak); len(list) != 2 {
		t.Fatalf("forget erased before the button was pressed: %+v", list)
	}
	f.post(f.submit(ana, personal, out[0].ResponseID, button(t, out[0].Card, "Yes, erase everything")))
	out = f.take()
	// Other records: her conversation reference, the records of the three
	// nudges delivered earlier (user, manager, then the snoozed one), and
	// her button records.
	if len(out) != 1 || out[0].Method != http.MethodPut ||
		!strings.Contains(cardText(out[0].Card), "1 audit session, 1 past result, 2 scheduled reminders and") || hasActions(out[0].Card) {
		t.Fatalf("erase: %+v", out)
	}
	tag := strings.TrimSuffix(f.prefix.UserPattern("teams", tenant, ana.aad), "*")
	var leftovers []string
	for _, k := range allKeys(t, f) {
		if strings.HasPrefix(k, tag) {
			t.Errorf("left under Ana's tag: %s", k)
		}
		if strings.Contains(k, ana.aad) {
			leftovers = append(leftovers, k)
		}
	}
	// Not even the scheduler's records of delivered nudges, which are
	// named after the job and so after her, may stay.
	for _, k := range leftovers {
		t.Errorf("left after forget: %s", k)
	}
	if list, _ := f.svc.List(ctx, ak); len(list) != 0 {
		t.Errorf("jobs after forget: %+v", list)
	}
	if _, err := f.handler.LoadReference(ctx, ak); !errors.Is(err, conversation.ErrNoTeamsReference) {
		t.Errorf("reference after forget: %v", err)
	}
	f.clk.Add(400 * 24 * time.Hour)
	if errs := f.runDue(); len(errs) != 0 || len(f.bf.Requests()) != 0 {
		t.Errorf("delivered after forget: %v", errs)
	}
}

// allKeys lists the test's keys, but for the activity claims (see
// isActivityClaim).
func allKeys(t *testing.T, f *fixture) []string {
	t.Helper()
	ks, err := f.rb.Client.Keys(context.Background(), string(f.prefix)+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := ks[:0]
	for _, k := range ks {
		if !isActivityClaim(f, k) {
			out = append(out, k)
		}
	}
	return out
}

// isActivityClaim reports whether k is the claim of one delivered activity
// (keys.TeamsActivity): a hash of its IDs, written once per handled
// activity so that a redelivery has no second effect, expiring within
// teams.DefaultActivityTTL. It says nothing about anyone, so the tests
// that prove a refused press changes nothing look past it;
// TestRedeliveredActivityHasOneEffect checks it itself.
func isActivityClaim(f *fixture, k string) bool {
	return strings.HasPrefix(k, string(f.prefix)+":teams:activity:")
}

func TestRateLimitAndGoneOnDelivery(t *testing.T) {
	f := newRevisitFixture(t)
	ctx := context.Background()
	card := f.complete(ana, firstChoice)
	f.post(f.submit(ana, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
	f.take()
	f.clk.Add(31 * time.Second)

	// 429 with Retry-After: 120 on every call: both nudges come back as
	// RetryAfterError carrying the platform's delay.
	f.bf.FailWithRetryAfter(http.StatusTooManyRequests, "120")
	errs := f.runDue()
	if len(errs) != 2 {
		t.Fatalf("deliveries: %v", errs)
	}
	for _, err := range errs {
		var ra *schedule.RetryAfterError
		if !errors.As(err, &ra) || ra.After != 120*time.Second || errors.Is(err, schedule.ErrGone) {
			t.Errorf("429: %v", err)
		}
	}
	f.bf.FailWith(0)
	f.bf.Reset()
	// Not before the delay is over, even though Teams would take it now.
	f.clk.Add(119 * time.Second)
	if errs := f.runDue(); len(errs) != 0 || len(f.bf.Requests()) != 0 {
		t.Fatalf("sent before Retry-After elapsed: %v %+v", errs, f.bf.Requests())
	}
	// Retry-After is a floor; the worker adds at most a second of jitter.
	f.clk.Add(3 * time.Second)
	f.runDue()
	n := classify(f.take())
	if len(n.user) != 1 || len(n.manager) != 1 {
		t.Fatalf("after the delay: user=%d manager=%d other=%+v", len(n.user), len(n.manager), n.other)
	}

	// 403 (the user blocked or uninstalled the bot): dropped, not retried.
	f.post(f.activity(ana, personal, "restart"))
	card = f.complete(ana, firstChoice)
	f.post(f.submit(ana, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
	f.take()
	f.clk.Add(31 * time.Second)
	f.bf.FailWith(http.StatusForbidden)
	errs = f.runDue()
	if len(errs) != 2 {
		t.Fatalf("deliveries: %v", errs)
	}
	for _, err := range errs {
		if !errors.Is(err, schedule.ErrGone) {
			t.Errorf("403: %v, want ErrGone", err)
		}
	}
	f.bf.FailWith(0)
	f.bf.Reset()
	if list, _ := f.svc.List(ctx, key(ana, personal).UserKey); len(list) != 0 {
		t.Errorf("a dropped nudge is still scheduled: %+v", list)
	}
	f.clk.Add(24 * time.Hour)
	if errs := f.runDue(); len(errs) != 0 || len(f.bf.Requests()) != 0 {
		t.Errorf("a dropped nudge was retried: %v", errs)
	}
	if !strings.Contains(f.logs.String(), "recipient gone; dropping nudge") {
		t.Error("the drop was not logged")
	}
}

func TestRetakeFromNudgeShowsSinceLastTime(t *testing.T) {
	f := newRevisitFixture(t)
	n, _ := f.remindAndDeliver()
	nudge := n.user[0]
	f.clk.Add(time.Hour)

	f.post(f.submit(ana, personal, nudge.ResponseID, button(t, nudge.Card, "Retake the audit")))
	out := f.take()
	updates, posts := split(out)
	if len(updates) != 1 || len(posts) != 1 || hasActions(updates[0].Card) ||
		!strings.Contains(cardText(posts[0].Card), "Question 1 of") || !strings.Contains(cardText(posts[0].Card), "what changed since last time") {
		t.Fatalf("retake: %+v", out)
	}
	card, cardID := posts[0].Card, posts[0].ResponseID
	for i := 0; !strings.Contains(cardText(card), "Remind me in 12 months"); i++ {
		if i > 30 {
			t.Fatal("the retake never ended")
		}
		f.post(f.submit(ana, personal, cardID, lastChoice(t, card)))
		next, _ := lastCard(f.take())
		card, cardID = next.Card, next.ResponseID
	}
	if !strings.Contains(cardText(card), "Since last time") || !strings.Contains(cardText(card), "on 2 March 2026 it was") {
		t.Fatalf("no since-last section: %s", cardText(card))
	}
	golden(t, "retake_after_nudge", card)
}

// golden compares a card with testdata/<name>.golden.json (-update writes it).
func golden(t *testing.T, name string, c *adaptivecard.Card) {
	t.Helper()
	got, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff\n%s", path, got)
	}
}
