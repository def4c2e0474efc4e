package schedule

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is how the fake platform answers one Deliver call.
type answer int

const (
	answerOK            answer = iota // accepted, said so
	answerReset                       // the connection broke after the request went out: Ambiguous
	answer500                         // a 5xx from a platform that may have acted: Ambiguous
	answerLate                        // answers only after the client gave up (the context's deadline)
	answerRefused                     // refused before anything was sent: a plain error
	answerHang                        // never answers, ignoring the context (its worker is dead)
	answerClientTimeout               // the HTTP client's own timeout, not wrapped by the Deliverer
	answerNotSent                     // a dial timeout the Deliverer knows wrote nothing: NotSent
)

// clientTimeout is what http.Client returns when its Timeout passes.
type clientTimeout struct{}

func (clientTimeout) Error() string { return "Client.Timeout exceeded while awaiting headers" }
func (clientTimeout) Timeout() bool { return true }

// act is what the platform does on one call: whether the nudge reaches the
// recipient (whatever the sender then hears), and the answer.
type act struct {
	posts  bool
	answer answer
}

// platform is a fake recipient: it counts every nudge that reaches it, by
// occurrence, whatever answer its sender gets, and logs the calls it gets,
// so a test can check that a verification came before a resend.
type platform struct {
	mu       sync.Mutex
	received map[string]int
	calls    int
	events   []string
	act      func(call int) act
	unblock  chan struct{}
}

func newPlatform(t *testing.T, act func(call int) act) *platform {
	p := &platform{received: map[string]int{}, act: act, unblock: make(chan struct{})}
	t.Cleanup(func() { close(p.unblock) })
	return p
}

func (p *platform) Deliver(ctx context.Context, j Job) error {
	p.mu.Lock()
	p.calls++
	a := p.act(p.calls)
	p.events = append(p.events, "deliver")
	if got, ok := Delivering(ctx); !ok || got.ID != j.ID || !got.Due.Equal(j.Due) {
		p.events = append(p.events, "(no job in the context)")
	}
	if a.posts {
		p.received[j.Occurrence()]++
	}
	p.mu.Unlock()
	switch a.answer {
	case answerReset:
		return Ambiguous(errors.New("read tcp: connection reset by peer"))
	case answer500:
		return Ambiguous(errors.New("slack chat.postMessage: HTTP 500"))
	case answerLate:
		<-ctx.Done()
		return fmt.Errorf("slack chat.postMessage: %w", ctx.Err())
	case answerRefused:
		return errors.New("dial tcp: connection refused")
	case answerClientTimeout:
		return &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: clientTimeout{}}
	case answerNotSent:
		return NotSent(&url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: clientTimeout{}})
	case answerHang:
		<-p.unblock
		return errors.New("the process is gone by now")
	}
	return nil
}

func (p *platform) snapshot() (events string, received map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	received = map[string]int{}
	for k, v := range p.received {
		received[k] = v
	}
	return strings.Join(p.events, " "), received
}

// verifier is the platform's Confirmer (for Slack, conversations.history
// looking for the occurrence in message metadata). fail says which of its
// calls fail.
type verifier struct {
	p     *platform
	calls int
	fail  func(call int) bool
	// cannot: it has no way to tell for this job (Slack without the
	// history scope).
	cannot bool
}

func (v *verifier) Delivered(ctx context.Context, j Job) (bool, error) {
	v.p.mu.Lock()
	defer v.p.mu.Unlock()
	v.calls++
	v.p.events = append(v.p.events, "confirm")
	if v.fail != nil && v.fail(v.calls) {
		return false, errors.New("slack conversations.history: HTTP 503")
	}
	if v.cannot {
		return false, fmt.Errorf("slack conversations.history: missing_scope: %w", ErrUnverifiable)
	}
	return v.p.received[j.Occurrence()] > 0, nil
}

// outcomes records what Observe reports.
type outcomes struct {
	mu sync.Mutex
	n  map[Outcome]int
}

func (o *outcomes) observe(out Outcome, _ Job) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[Outcome]int{}
	}
	o.n[out]++
}

func (o *outcomes) count(out Outcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[out]
}

// Every way a delivery can end without a clear answer, with and without a
// Confirmer: the Confirmer is asked before any resend, and nothing is sent
// twice when it says delivered; without one, an ambiguous occurrence is
// resent at most once (reported as OutcomeResent) and then dead-lettered.
func TestAmbiguousDeliveries(t *testing.T) {
	ok := act{posts: true, answer: answerOK}
	for _, tc := range []struct {
		name string
		// kill: the first attempt is made by a worker that is killed while
		// it is in flight (its platform call never returns).
		kill     bool
		acts     []act // per call; the last repeats
		verify   bool
		cannot   bool           // the verifier answers ErrUnverifiable
		failing  func(int) bool // which verifier calls fail
		resends  int            // WorkerConfig.AmbiguousResends
		events   string         // the platform's calls, in order
		received int            // copies the recipient got
		resent   int            // OutcomeResent reports
		dead     string         // "" when it ends delivered; else part of the dead letter's reason
	}{
		{name: "answers after the client timeout; verified delivered", acts: []act{{true, answerLate}}, verify: true,
			events: "deliver confirm", received: 1},
		{name: "reset after the request went out; verified delivered", acts: []act{{true, answerReset}}, verify: true,
			events: "deliver confirm", received: 1},
		{name: "the HTTP client's own timeout, unwrapped; verified delivered", acts: []act{{true, answerClientTimeout}}, verify: true,
			events: "deliver confirm", received: 1},
		{name: "500 after accepting; verified delivered", acts: []act{{true, answer500}}, verify: true,
			events: "deliver confirm", received: 1},
		{name: "reset before it reached the platform; verified not delivered, sent once", acts: []act{{false, answerReset}, ok}, verify: true,
			events: "deliver confirm deliver", received: 1},
		{name: "timed out twice without reaching it; verified each time", acts: []act{{false, answerLate}, {false, answerLate}, ok}, verify: true,
			events: "deliver confirm deliver confirm deliver", received: 1},
		{name: "the verifier fails once; asked again later, never resent blindly", acts: []act{{true, answerLate}}, verify: true,
			failing: func(n int) bool { return n == 1 }, events: "deliver confirm confirm", received: 1},
		{name: "a refusal sends nothing: retried without asking", acts: []act{{false, answerRefused}, ok}, verify: true,
			events: "deliver deliver", received: 1},
		{name: "a timeout known to have sent nothing: retried without asking", acts: []act{{false, answerNotSent}, ok}, verify: true,
			events: "deliver deliver", received: 1},
		{name: "the verifier cannot tell: resent once, a counted duplicate", acts: []act{{true, answerLate}, ok}, verify: true, cannot: true,
			events: "deliver confirm deliver", received: 2, resent: 1},
		{name: "the verifier cannot tell, no resends allowed: never sent twice", acts: []act{{true, answerLate}}, verify: true, cannot: true,
			resends: -1, events: "deliver confirm", received: 1, dead: "not resent"},
		{name: "killed after posting; verified delivered", kill: true, acts: []act{{true, answerHang}}, verify: true,
			events: "deliver confirm", received: 1},
		{name: "killed before posting; verified not delivered, sent once", kill: true, acts: []act{{false, answerHang}, ok}, verify: true,
			events: "deliver confirm deliver", received: 1},

		// No Confirmer (Teams): the documented, counted exception.
		{name: "no verifier: late answer resent once, a counted duplicate", acts: []act{{true, answerLate}, ok},
			events: "deliver deliver", received: 2, resent: 1},
		{name: "no verifier: lost request resent once, delivered once", acts: []act{{false, answerReset}, ok},
			events: "deliver deliver", received: 1, resent: 1},
		{name: "no verifier: ambiguous twice, not sent a third time", acts: []act{{false, answerLate}},
			events: "deliver deliver", received: 0, resent: 1, dead: "not resent"},
		{name: "no verifier: killed after posting, resent once, counted", kill: true, acts: []act{{true, answerHang}, ok},
			events: "deliver deliver", received: 2, resent: 1},
		{name: "no verifier, no resends allowed: never sent twice", acts: []act{{true, answerLate}}, resends: -1,
			events: "deliver", received: 1, dead: "not resent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			p := newPlatform(t, func(call int) act { return tc.acts[min(call, len(tc.acts))-1] })
			var obs outcomes
			cfg := WorkerConfig{
				DeliverTimeout:   30 * time.Millisecond, // wall time: how long "late" waits
				AmbiguousDelay:   time.Minute,
				AmbiguousResends: tc.resends,
				MinBackoff:       time.Minute, MaxBackoff: time.Minute,
				Observe: obs.observe,
			}
			if tc.verify {
				cfg.Confirmer = &verifier{p: p, fail: tc.failing, cannot: tc.cannot}
			}
			h.schedule("n", t0, "p")
			if tc.kill {
				victimCfg := cfg
				victimCfg.StopTimeout = 20 * time.Millisecond
				victim := h.start(p, victimCfg)
				waitFor(t, "the victim's call", func() bool { e, _ := p.snapshot(); return e == "deliver" })
				victim.kill(t)
				h.clock.Advance(time.Minute + time.Second) // past its lease
			}
			w := h.start(p, cfg)

			// Each round: the job waits for its due time (never claimed a
			// millisecond before it), then moves one step.
			waitFor(t, "first attempt settled", func() bool { j, gone := h.job("n"); return gone || j.Attempt >= 1 })
			for range 10 {
				j, gone := h.job("n")
				if gone {
					break
				}
				due := h.score("n")
				h.clock.Set(due.Add(-time.Millisecond))
				before, _ := p.snapshot()
				w.settle(t, 3)
				if now, _ := p.snapshot(); now != before {
					t.Fatalf("looked at again before its due time %v: %q then %q", due, before, now)
				}
				h.clock.Set(due)
				waitFor(t, "next step", func() bool { k, gone := h.job("n"); return gone || k.Attempt > j.Attempt })
			}
			w.settle(t, 2)

			events, received := p.snapshot()
			if events != tc.events {
				t.Errorf("platform calls %q, want %q", events, tc.events)
			}
			if got := received[Job{ID: "n", Due: t0}.Occurrence()]; got != tc.received {
				t.Errorf("recipient got %d copies, want %d", got, tc.received)
			}
			if got := obs.count(OutcomeResent); got != tc.resent {
				t.Errorf("%d resends reported, want %d", got, tc.resent)
			}
			if _, gone := h.job("n"); !gone {
				t.Fatal("job still scheduled")
			}
			dls, err := h.store.DeadLetters(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			sent, err := h.rdb.HExists(ctx, h.store.p.ScheduleSent("n"), fmt.Sprint(t0.UnixMilli())).Result()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.dead == "" && (!sent || len(dls) != 0):
				t.Errorf("want delivered: sent record %v, dead letters %+v", sent, dls)
			case tc.dead != "" && (sent || len(dls) != 1 || !strings.Contains(dls[0].Reason, tc.dead)):
				t.Errorf("want a dead letter saying %q: sent record %v, dead letters %+v", tc.dead, sent, dls)
			}
		})
	}
}

// job reads a job's record; gone when it is no longer scheduled.
func (h *harness) job(id string) (Job, bool) {
	h.t.Helper()
	j, err := h.store.Get(context.Background(), id)
	if errors.Is(err, ErrNotFound) {
		return Job{}, true
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return j, false
}
