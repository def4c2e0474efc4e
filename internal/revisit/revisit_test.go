package revisit_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// recorder is a Notifier that writes down what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []string
	err  error
}

func (r *recorder) add(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.sent = append(r.sent, s)
	return nil
}

func (r *recorder) NudgeUser(_ context.Context, to conversation.Key, last conversation.Result, why revisit.Reason) error {
	return r.add("user:" + string(to.User) + ":" + string(why) + ":" + string(last.Recommendation.Verdict))
}
func (r *recorder) NudgeManager(_ context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	return r.add("manager:" + m.Target + ":about:" + string(client.User))
}
func (r *recorder) ShareResult(_ context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	return r.add("share:" + m.Target + ":about:" + string(client.User))
}
func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

// platforms are rules like the adapters' own (a Slack manager may be in
// another workspace, "T…/U…"; an org-wide "E:" install covers its
// workspaces), written here so that revisit is tested without them.
var platforms = revisit.Platforms{
	conversation.Slack: {
		Manager: func(ws conversation.WorkspaceID, target string) (revisit.Manager, error) {
			m := revisit.Manager{Workspace: ws, Target: target}
			if w, t, ok := strings.Cut(target, "/"); ok {
				m.Workspace, m.Target = conversation.WorkspaceID(w), t
			}
			if m.Target == "" {
				return m, errors.New("no manager")
			}
			return m, nil
		},
		Covers: func(ws conversation.WorkspaceID) string {
			if strings.HasSuffix(string(ws), ":") {
				return revisit.GlobLiteral(string(ws)) + "*"
			}
			return revisit.GlobLiteral(string(ws))
		},
	},
	conversation.Teams: {},
}

// forget is what forget does with revisits and the engine registered.
func (f *fixture) forget(t *testing.T, u conversation.UserKey) erasure.Counts {
	t.Helper()
	reg := &erasure.Registry{}
	reg.Register("revisits", f.svc)
	reg.Register("sessions", erasure.Sessions(f.engine))
	c, err := reg.Forget(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type fixture struct {
	b      redistest.Backend
	clk    *clock
	engine *conversation.Engine
	sched  *schedule.Store
	svc    *revisit.Service
	rec    *recorder
}

func newFixture(t *testing.T, b redistest.Backend, after time.Duration, managers string) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2028, 2, 29, 16, 30, 0, 0, time.UTC)}
	e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix, Now: clk.Now})
	dir, err := revisit.ParseDirectory(managers, platforms)
	if err != nil {
		t.Fatal(err)
	}
	st := schedule.NewStore(b.Client, schedule.StoreConfig{Prefix: b.Prefix})
	svc := revisit.New(b.Client, st, e, revisit.Config{Prefix: b.Prefix, After: after, Managers: dir, Platforms: platforms, Now: clk.Now})
	rec := &recorder{}
	svc.Register(conversation.Slack, rec)
	t.Cleanup(func() { redistest.Clean(t, b.Client, b.Prefix) })
	return &fixture{b: b, clk: clk, engine: e, sched: st, svc: svc, rec: rec}
}

func (f *fixture) complete(t *testing.T, k conversation.Key) {
	t.Helper()
	r, err := f.engine.Restart(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	for r.Question != nil {
		r, err = f.engine.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{r.Question.Options[0].ID}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func key(user string) conversation.Key {
	return conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: conversation.UserID(user)}, Conversation: "D1"}
}

// runUntilIdle runs a worker with the fixture's clock until nothing is due.
func (f *fixture) deliverDue(t *testing.T) {
	t.Helper()
	w := schedule.NewWorker(f.sched, f.svc, schedule.WorkerConfig{Now: f.clk.Now, Sleep: func(ctx context.Context, d time.Duration) {}, PollInterval: time.Millisecond})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	// Poll the schedule until the due jobs are gone (bounded by attempts).
	for i := 0; i < 500; i++ {
		due := 0
		for _, u := range []string{"ana", "ben"} {
			rs, _ := f.svc.List(ctx, key(u).UserKey)
			for _, r := range rs {
				if !r.Due.After(f.clk.Now()) {
					due++
				}
			}
		}
		if due == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRemindDeliversOneUserAndOneManagerNudge(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, 30*time.Second, "slack:T1=UMGR")
			k := key("ana")
			f.complete(t, k)
			due, err := f.svc.Remind(ctx, k, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := f.clk.Now().Add(30 * time.Second); !due.Equal(want) {
				t.Fatalf("due %s, want %s", due, want)
			}
			rs, _ := f.svc.List(ctx, k.UserKey)
			if len(rs) != 2 || rs[1].Manager == nil || rs[1].Manager.Target != "UMGR" {
				t.Fatalf("reminders %+v", rs)
			}
			f.deliverDue(t) // not yet due
			if got := f.rec.list(); len(got) != 0 {
				t.Fatalf("sent before due: %v", got)
			}
			f.clk.Set(due)
			f.deliverDue(t)
			f.deliverDue(t) // a second pass sends nothing more
			got := strings.Join(f.rec.list(), " ")
			if got != "user:ana:due:fully-managed manager:UMGR:about:ana" && got != "manager:UMGR:about:ana user:ana:due:fully-managed" {
				t.Fatalf("sent %q", got)
			}
		})
	}
}

func TestDueDateIsAYearLaterInWorkingHours(t *testing.T) {
	b := redistest.Embedded(t)
	f := newFixture(t, b, 0, "")
	k := key("ana")
	f.complete(t, k) // completed 29 Feb 2028 16:30 UTC
	tests := []struct{ tz, want string }{
		{"", "2029-02-28T10:00:00Z"},                        // a Wednesday
		{"America/Toronto", "2029-02-28T10:00:00-05:00"},    // 11:30 local on the 29th
		{"Pacific/Kiritimati", "2029-03-01T10:00:00+14:00"}, // already 1 March there: a Thursday
	}
	for _, tt := range tests {
		due, err := f.svc.Remind(ctx, k, tt.tz)
		if err != nil {
			t.Fatal(err)
		}
		if got := due.Format(time.RFC3339); got != tt.want {
			t.Errorf("tz %q: due %s, want %s", tt.tz, got, tt.want)
		}
	}
	if _, err := f.svc.Remind(ctx, k, "Mars/Olympus"); !errors.Is(err, revisit.ErrUnknownZone) {
		t.Errorf("unknown zone: %v", err)
	}
	if _, err := f.svc.Remind(ctx, key("nobody"), ""); !errors.Is(err, revisit.ErrNoResult) {
		t.Errorf("no result: %v", err)
	}
}

func TestSnoozeStopAndForget(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, time.Hour, "slack:T1=UMGR")
			k, other := key("ana"), key("ben")
			f.complete(t, k)
			f.complete(t, other)
			if _, err := f.svc.Remind(ctx, k, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Remind(ctx, other, ""); err != nil {
				t.Fatal(err)
			}
			due, err := f.svc.Snooze(ctx, k.UserKey)
			if err != nil || due.Format(time.DateOnly) != "2028-03-29" {
				t.Fatalf("snooze: %s %v", due, err)
			}
			rs, _ := f.svc.List(ctx, k.UserKey)
			for _, r := range rs {
				if !r.Due.Equal(due) {
					t.Errorf("%s nudge due %s after snooze, want %s", r.Kind, r.Due, due)
				}
			}
			if stopped, err := f.svc.Stop(ctx, k.UserKey); err != nil || !stopped {
				t.Fatalf("stop: %v %v", stopped, err)
			}
			if rs, _ := f.svc.List(ctx, k.UserKey); len(rs) != 0 {
				t.Fatalf("after stop: %+v", rs)
			}
			if err := f.svc.Share(ctx, k, "UBOSS"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Remind(ctx, k, ""); err != nil {
				t.Fatal(err)
			}
			rs, _ = f.svc.List(ctx, k.UserKey)
			if len(rs) != 2 || rs[1].Manager.Target != "UBOSS" {
				t.Fatalf("a shared manager should replace the configured one: %+v", rs)
			}
			er := f.forget(t, k.UserKey)
			// Other: the shared manager and the day's share count.
			if er.Reminders != 2 || er.Results != 1 || er.Sessions != 1 || er.Other != 2 {
				t.Fatalf("forget: %+v", er)
			}
			for _, key := range redistest.Keys(t, b.Client, b.Prefix) {
				if strings.Contains(key, ":ana}") {
					t.Errorf("after forget Redis still holds %s", key)
				}
			}
			jobs, _ := b.Client.HKeys(ctx, string(b.Prefix)+":{schedule}:jobs").Result()
			for _, j := range jobs {
				if strings.HasSuffix(j, "/ana") {
					t.Errorf("after forget the schedule still holds %s", j)
				}
			}
			if rs, _ := f.svc.List(ctx, other.UserKey); len(rs) != 2 {
				t.Errorf("forget touched another user's reminders: %+v", rs)
			}
		})
	}
}

// TestShareLimit: past the day's allowance a share is refused before
// anything is sent or stored; the count is the user's own and expires a
// day after the first share.
func TestShareLimit(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, time.Hour, "")
			f.svc = revisit.New(b.Client, f.sched, f.engine, revisit.Config{Prefix: b.Prefix, After: time.Hour, Platforms: platforms, Now: f.clk.Now, SharesPerDay: 2})
			f.svc.Register(conversation.Slack, f.rec)
			k, other := key("ana"), key("ben")
			f.complete(t, k)
			f.complete(t, other)
			for _, m := range []conversation.UserID{"UBOSS", "UBOSS2"} {
				if err := f.svc.Share(ctx, k, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.svc.Share(ctx, k, "USPAM"); !errors.Is(err, revisit.ErrShareLimit) {
				t.Fatalf("third share in a day: %v, want ErrShareLimit", err)
			}
			if got := f.rec.list(); len(got) != 2 || slices.Contains(got, "share:USPAM:about:ana") {
				t.Fatalf("sent: %v", got)
			}
			if m, ok, _ := f.svc.ManagerOf(ctx, k.UserKey); !ok || m.Target != "UBOSS2" {
				t.Fatalf("a refused share replaced the manager: %+v", m)
			}
			if err := f.svc.Share(ctx, other, "UBOSS"); err != nil {
				t.Fatalf("another user's allowance was used up: %v", err)
			}
			ttl, err := b.Client.TTL(ctx, b.Prefix.Shares("slack", "T1", "ana")).Result()
			if err != nil || ttl <= 23*time.Hour || ttl > 24*time.Hour {
				t.Fatalf("share count TTL %v %v, want a day from the first share", ttl, err)
			}
		})
	}
}

func TestParseDirectory(t *testing.T) {
	d, err := revisit.ParseDirectory("slack:T1=U9, slack:T2=TPROV/C7,teams:tenant-1=29:abc", platforms)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := d.For(conversation.UserKey{Platform: conversation.Slack, Workspace: "T2"})
	if !ok || m.Workspace != "TPROV" || m.Target != "C7" {
		t.Errorf("cross-workspace manager: %+v", m)
	}
	m, ok = d.For(conversation.UserKey{Platform: conversation.Teams, Workspace: "tenant-1"})
	if !ok || m.Target != "29:abc" || m.Workspace != "tenant-1" {
		t.Errorf("teams manager: %+v", m)
	}
	for _, bad := range []string{"slack:T1", "irc:T1=U1", "slack:=U1", "slack:T1=U1,slack:T1=U2"} {
		if _, err := revisit.ParseDirectory(bad, platforms); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestForgetAfterDeliveryLeavesNothing: once a nudge was delivered, the
// scheduler keeps a record of the delivery named after the job, and so
// after the user; forget must erase it with the rest.
func TestForgetAfterDeliveryLeavesNothing(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := newFixture(t, b, time.Minute, "slack:T1=UMGR")
			k := key("ana")
			f.complete(t, k)
			due, err := f.svc.Remind(ctx, k, "")
			if err != nil {
				t.Fatal(err)
			}
			f.clk.Set(due)
			f.deliverDue(t)
			if got := len(f.rec.list()); got != 2 {
				t.Fatalf("%d nudges delivered, want 2", got)
			}
			f.forget(t, k.UserKey)
			for _, key := range redistest.Keys(t, b.Client, b.Prefix) {
				// The user's tag ("…:ana}") or a job named after them ("…/ana:").
				if strings.Contains(key, ":ana}") || strings.Contains(key, "/ana:") {
					t.Errorf("after forget Redis still holds %s", key)
				}
			}
		})
	}
}

// verifierRec is a Verifier that writes down what it was asked.
type verifierRec struct {
	mu    sync.Mutex
	asked []string
}

func (v *verifierRec) UserNudged(_ context.Context, to conversation.Key, j schedule.Job) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, "user:"+string(to.User)+":"+string(to.Conversation)+":"+j.Occurrence())
	return true, nil
}

func (v *verifierRec) ManagerNudged(_ context.Context, m revisit.Manager, client conversation.Key, j schedule.Job) (bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, "manager:"+m.Target+":about:"+string(client.User)+":"+j.Occurrence())
	return false, nil
}

// Delivered asks the Verifier of the platform each nudge went to (the
// manager's for a manager's nudge), and says ErrUnverifiable where there is
// none, so that the scheduler falls back to its resend rule.
func TestDeliveredAsksTheRecipientsPlatform(t *testing.T) {
	b := redistest.Embedded(t)
	f := newFixture(t, b, 30*time.Second, "slack:T1=UMGR,teams:TT=UTMGR")
	v := &verifierRec{}
	f.svc.RegisterVerifier(conversation.Slack, v)
	f.svc.Register(conversation.Teams, f.rec)
	slackUser := key("ana")
	teamsUser := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "TT", User: "ben"}, Conversation: "a:1"}
	for _, k := range []conversation.Key{slackUser, teamsUser} {
		f.complete(t, k)
		if _, err := f.svc.Remind(ctx, k, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		id    string
		want  bool
		err   error
		asked string
	}{
		{id: "user/slack/T1/ana", want: true, asked: "user:ana:D1:user/slack/T1/ana@"},
		{id: "manager/slack/T1/ana", want: false, asked: "manager:UMGR:about:ana:manager/slack/T1/ana@"},
		{id: "user/teams/TT/ben", err: schedule.ErrUnverifiable},
		{id: "manager/teams/TT/ben", err: schedule.ErrUnverifiable},
	} {
		t.Run(tc.id, func(t *testing.T) {
			j, err := f.sched.Get(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			v.mu.Lock()
			v.asked = nil
			v.mu.Unlock()
			got, err := f.svc.Delivered(ctx, j)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("Delivered = %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
			v.mu.Lock()
			defer v.mu.Unlock()
			if tc.asked == "" && len(v.asked) != 0 || tc.asked != "" && (len(v.asked) != 1 || v.asked[0] != tc.asked+strconv.FormatInt(j.Due.UnixMilli(), 10)) {
				t.Errorf("asked %q, want %q", v.asked, tc.asked)
			}
		})
	}
	if _, err := f.svc.Delivered(ctx, schedule.Job{ID: "x", Due: time.Now(), Payload: []byte("{")}); !errors.Is(err, schedule.ErrUnverifiable) {
		t.Errorf("an undecodable payload: %v, want ErrUnverifiable", err)
	}
}
