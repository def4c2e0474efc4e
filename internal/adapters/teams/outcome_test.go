package teams_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/schedule"
)

// A nudge send answered 5xx (the connector may have posted it) is not
// repeated by the connector, and reaches the scheduler as ambiguous, which
// decides by its resend rule (Teams cannot tell whether it was posted); a
// 4xx is a refusal; a failure before the send (creating the manager's 1:1
// chat) is "not sent", which the scheduler retries as such.
func TestAmbiguousNudgeSendIsNotRepeated(t *testing.T) {
	for _, tc := range []struct {
		status    int
		ambiguous bool
	}{
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusBadRequest, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newRevisitFixture(t)
			card := f.complete(ana, firstChoice)
			f.post(f.submit(ana, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
			f.take()
			f.clk.Add(31 * time.Second)
			f.bf.Reset()
			f.bf.FailWith(tc.status)
			errs := f.runDue()
			if len(errs) != 2 {
				t.Fatalf("deliveries: %v", errs)
			}
			for _, err := range errs {
				// The manager has no 1:1 chat yet: creating it failed, so
				// nothing was posted, whatever the status.
				manager := strings.Contains(err.Error(), "manager")
				if got, want := errors.Is(err, schedule.ErrAmbiguous), tc.ambiguous && !manager; got != want {
					t.Errorf("%d: ambiguous = %v (%v)", tc.status, got, err)
				}
				if got := errors.Is(err, schedule.ErrNotSent); got != manager {
					t.Errorf("%d: not sent = %v (%v)", tc.status, got, err)
				}
			}
			sends := 0
			for _, r := range f.bf.Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/activities") {
					sends++
				}
			}
			if sends != 1 {
				t.Errorf("%d sends of the user's nudge reached the connector, want 1 (no blind retry)", sends)
			}
		})
	}
}

// What remains on Teams, measured: a nudge whose send was answered 500
// after the connector had the request is, a minute later, either dead-
// lettered (ITFIT_NUDGE_RESENDS=0, the default: never twice, and lost if
// the connector had not posted it) or sent once more and counted as a
// possible duplicate (ITFIT_NUDGE_RESENDS=1). Nothing can tell which
// happened: Teams has no history a bot can read without Graph permissions.
// The manager's nudge, whose 1:1 chat had to be created first (and that
// failed), sent nothing: it is retried as such, and sent once.
func TestTeamsAmbiguousNudgeEitherDeadOrResentOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		resends int // schedule.WorkerConfig.AmbiguousResends, as cmd/bot maps ITFIT_NUDGE_RESENDS
		sends   int // of the user's nudge
		dead    int
		resent  int
	}{
		{name: "never resent (the default)", resends: -1, sends: 1, dead: 1},
		{name: "resent once", resends: 1, sends: 2, resent: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRevisitFixture(t)
			card := f.complete(ana, firstChoice)
			f.post(f.submit(ana, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
			f.take()
			f.clk.Add(31 * time.Second)
			f.bf.Reset()
			var mu sync.Mutex
			outcomes := map[string]int{}
			cfg := schedule.WorkerConfig{
				AmbiguousResends: tc.resends,
				Observe: func(o schedule.Outcome, j schedule.Job) {
					kind, _, _ := strings.Cut(j.ID, "/")
					mu.Lock()
					outcomes[kind+":"+string(o)]++
					mu.Unlock()
				},
			}
			f.bf.FailWith(http.StatusInternalServerError)
			f.runDueWith(cfg)
			f.bf.FailWith(0)
			f.clk.Add(time.Minute + time.Second) // the scheduler's AmbiguousDelay, and the retry's backoff
			f.runDueWith(cfg)
			f.clk.Add(time.Hour)
			f.runDueWith(cfg)

			userSends, managerSent := 0, 0
			for _, r := range f.bf.Requests() {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/activities") {
					continue
				}
				switch {
				case r.ConversationID == personal:
					userSends++
				case r.Status == http.StatusOK:
					managerSent++
				}
			}
			dead, err := f.sched.DeadLetters(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if userSends != tc.sends || len(dead) != tc.dead || outcomes["user:resent"] != tc.resent || outcomes["user:ambiguous"] != 1 {
				t.Errorf("user's nudge: %d sends, %d dead letters, outcomes %v; want %d sends, %d dead, %d resent, 1 ambiguous",
					userSends, len(dead), outcomes, tc.sends, tc.dead, tc.resent)
			}
			if managerSent != 1 || outcomes["manager:retried"] != 1 || outcomes["manager:sent"] != 1 {
				t.Errorf("manager's nudge: %d delivered, outcomes %v; want it retried and sent once", managerSent, outcomes)
			}
		})
	}
}

// runDueWith is runDue with the worker's configuration (its clock, sleep
// and logger set here).
func (f *fixture) runDueWith(cfg schedule.WorkerConfig) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Now, cfg.Logger = f.clk.Now, f.log
	cfg.Sleep = func(context.Context, time.Duration) { cancel() }
	if err := schedule.NewWorker(f.sched, f.svc, cfg).Run(ctx); err != nil {
		f.t.Fatal(err)
	}
}
