package revisit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// events records RevisitDue calls; fail makes the next one fail.
type events struct {
	mu    sync.Mutex
	calls []string
	fail  bool
}

func (e *events) RevisitDue(_ context.Context, client conversation.Key, last conversation.Result, due time.Time, occurrence string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fail {
		e.fail = false
		return errors.New("redis away")
	}
	e.calls = append(e.calls, string(client.User)+" "+string(last.Recommendation.Verdict)+" "+occurrence)
	return nil
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

// The user's revisit is reported to Events before the user is nudged, and
// a failed report leaves the nudge unsent until it is retried.
func TestRevisitDueIsReportedBeforeTheNudge(t *testing.T) {
	b := redistest.Real(t)
	t.Cleanup(func() { redistest.Clean(t, b.Client, b.Prefix) })
	clk := &clock{t: time.Date(2028, 2, 29, 16, 30, 0, 0, time.UTC)}
	e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix, Now: clk.Now})
	dir, err := revisit.ParseDirectory("slack:T1=UMGR", platforms)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{fail: true}
	st := schedule.NewStore(b.Client, schedule.StoreConfig{Prefix: b.Prefix})
	svc := revisit.New(b.Client, st, e, revisit.Config{Prefix: b.Prefix, After: time.Minute, Managers: dir, Platforms: platforms, Now: clk.Now, Events: ev})
	rec := &recorder{}
	svc.Register(conversation.Slack, rec)
	f := &fixture{b: b, clk: clk, engine: e, sched: st, svc: svc, rec: rec}
	k := key("ana")
	f.complete(t, k)
	due, err := svc.Remind(ctx, k, "")
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(due)
	w := schedule.NewWorker(st, svc, schedule.WorkerConfig{Now: clk.Now, Sleep: func(context.Context, time.Duration) { time.Sleep(time.Millisecond) }})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })
	id := "user/slack/T1/ana"
	until(t, "the failed report to be retried later", func() bool {
		j, err := st.Get(ctx, id)
		return err == nil && j.Attempt == 1
	})
	last, _ := e.History(ctx, k.UserKey)
	nudge := "user:ana:due:" + string(last[0].Recommendation.Verdict)
	if slices.Contains(rec.list(), nudge) {
		t.Fatalf("nudged although the revisit could not be reported: %v", rec.list())
	}
	clk.Set(due.Add(2 * time.Hour)) // past any backoff
	until(t, "the nudge", func() bool { return slices.Contains(rec.list(), nudge) })
	want := "ana " + string(last[0].Recommendation.Verdict) + " " + schedule.Job{ID: id, Due: due}.Occurrence()
	if got := ev.list(); len(got) != 1 || got[0] != want {
		t.Errorf("RevisitDue calls %v, want [%s]", got, want)
	}
}

func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what) // a hang guard, not a timing assertion
		}
		time.Sleep(time.Millisecond)
	}
}
