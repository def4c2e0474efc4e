package schedule

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A delivery far slower than the lease keeps its claim: the heartbeat moves
// the lease end along with the clock, so a second worker never takes it,
// and it is delivered once.
func TestHeartbeatKeepsSlowDeliveryClaim(t *testing.T) {
	h := newHarness(t)
	h.schedule("slow", t0, "p")
	started := make(chan struct{})
	release := make(chan struct{})
	slow := newPlatform(t, func(int) act { return act{posts: true, answer: answerOK} })
	d := DelivererFunc(func(ctx context.Context, j Job) error {
		close(started)
		<-release
		return slow.Deliver(ctx, j)
	})
	a := h.start(d, WorkerConfig{Lease: time.Minute, DeliverTimeout: time.Hour})
	<-started
	other := newCounter(nil)
	b := h.start(other, WorkerConfig{Lease: time.Minute})

	for range 10 { // ten leases' worth of fake time
		h.clock.Advance(50 * time.Second)
		now := h.clock.Now()
		waitFor(t, "lease extended past the clock", func() bool { return h.score("slow").After(now.Add(50 * time.Second)) })
		b.settle(t, 2)
	}
	close(release)
	waitFor(t, "delivery", func() bool { return h.gone("slow") })
	b.settle(t, 2)
	a.settle(t, 2)
	if calls, _ := other.counts("slow"); calls != 0 {
		t.Fatalf("second worker took a claim whose delivery was still in flight")
	}
	if _, got := slow.snapshot(); got[Job{ID: "slow", Due: t0}.Occurrence()] != 1 {
		t.Fatalf("delivered %v", got)
	}
}

// A worker that loses its claim stops extending it: a job replaced while
// its old version is being delivered keeps the new due time, and a job
// cancelled meanwhile does not come back, while a third delivery in flight
// beside them keeps being extended.
func TestHeartbeatStopsOnLostClaim(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, id := range []string{"kept", "snoozed", "cancelled"} {
		h.schedule(id, t0, "old")
	}
	started := make(chan string, 3)
	release := make(chan struct{})
	d := DelivererFunc(func(ctx context.Context, j Job) error {
		started <- j.ID
		<-release
		return nil
	})
	h.start(d, WorkerConfig{Lease: time.Minute, DeliverTimeout: time.Hour})
	for range 3 {
		<-started
	}
	h.schedule("snoozed", t0.Add(30*24*time.Hour), "new")
	if _, err := h.store.Cancel(ctx, "cancelled"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both claims seen lost", func() bool {
		return strings.Count(h.logs.String(), "claim lost during delivery") == 2
	})
	// Less than a lease, as between real heartbeats: a jump past the lease
	// would (rightly) let the worker take its own claim as orphaned.
	h.clock.Advance(30 * time.Second)
	now := h.clock.Now()
	waitFor(t, "a heartbeat after the loss", func() bool { return h.score("kept").After(now.Add(30 * time.Second)) })
	if got := h.score("snoozed"); !got.Equal(t0.Add(30 * 24 * time.Hour)) {
		t.Fatalf("replaced job's due time moved to %v by the old claim's heartbeat", got)
	}
	if _, err := h.rdb.ZScore(ctx, h.store.p.ScheduleDue(), "cancelled").Result(); err == nil {
		t.Fatal("cancelled job came back into the schedule")
	}
	close(release)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", h.logs)
		}
	})
	waitFor(t, "deliveries settled", func() bool {
		return strings.Count(h.logs.String(), "cancelled meanwhile") == 1 && h.gone("kept")
	})
	if j, err := h.store.Get(ctx, "snoozed"); err != nil || string(j.Payload) != "new" {
		t.Fatalf("snoozed job after the old delivery settled: %+v, %v", j, err)
	}
}

// A Deliverer that ignores its context cannot pin a job for ever: past
// 2·DeliverTimeout+Lease its lease is left to run out, and another worker
// takes the job as orphaned (verified before any resend).
func TestHungDeliveryIsOrphanedAfterItsBound(t *testing.T) {
	h := newHarness(t)
	h.schedule("hung", t0, "p")
	p := newPlatform(t, func(call int) act {
		if call == 1 {
			return act{posts: false, answer: answerHang}
		}
		return act{posts: true, answer: answerOK}
	})
	cfg := WorkerConfig{Lease: time.Minute, DeliverTimeout: 10 * time.Minute, Confirmer: &verifier{p: p}}
	h.start(p, cfg)
	waitFor(t, "the hung call", func() bool { e, _ := p.snapshot(); return e == "deliver" })
	for range 42 { // 21 minutes, in steps shorter than the lease: still extended
		h.clock.Advance(30 * time.Second)
		now := h.clock.Now()
		waitFor(t, "lease extended", func() bool { return h.score("hung").After(now.Add(30 * time.Second)) })
	}
	h.clock.Advance(30 * time.Second) // past 2·10m+1m
	waitFor(t, "the hung delivery given up", func() bool { return strings.Contains(h.logs.String(), "running past its bound") })
	if _, gone := h.job("hung"); gone || strings.Contains(h.logs.String(), "orphaned") {
		t.Fatal("the hung delivery was taken over within its bound")
	}
	h.clock.Advance(2 * time.Minute) // its lease runs out
	waitFor(t, "orphan requeued", func() bool { j, gone := h.job("hung"); return !gone && j.Ambiguous == 1 })
	h.clock.Advance(2 * time.Minute) // AmbiguousDelay
	waitFor(t, "delivered", func() bool { return h.gone("hung") })
	if events, got := p.snapshot(); events != "deliver confirm deliver" || got[Job{ID: "hung", Due: t0}.Occurrence()] != 1 {
		t.Fatalf("events %q, received %v", events, got)
	}
}

// Run returns within StopTimeout of its context ending although a delivery
// is still in flight: the delivery's context is cancelled, the interrupted
// attempt is settled as ambiguous, and after a restart it is verified, so
// the nudge arrives exactly once.
func TestShutdownKeepsItsDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		// the first attempt: a slow platform call that stops when its
		// context is cancelled (posting first or not), or one that ignores
		// its context altogether.
		first    act
		events   string
		received int
	}{
		{"interrupted after posting", act{true, answerLate}, "deliver confirm", 1},
		{"interrupted before posting", act{false, answerLate}, "deliver confirm deliver", 1},
		{"ignores cancellation, after posting", act{true, answerHang}, "deliver confirm", 1},
		{"ignores cancellation, before posting", act{false, answerHang}, "deliver confirm deliver", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.schedule("n", t0, "p")
			p := newPlatform(t, func(call int) act {
				if call == 1 {
					return tc.first
				}
				return act{posts: true, answer: answerOK}
			})
			cfg := WorkerConfig{Lease: time.Minute, DeliverTimeout: time.Hour, Confirmer: &verifier{p: p}, StopTimeout: 100 * time.Millisecond}
			w := h.start(p, cfg)
			waitFor(t, "the slow call", func() bool { e, _ := p.snapshot(); return e == "deliver" })
			w.cancel()
			if err := <-w.done; err != nil { // returned with the call still blocked
				t.Fatalf("Run: %v", err)
			}
			w.done <- nil
			if tc.first.answer == answerLate && !strings.Contains(h.logs.String(), "delivery outcome unknown") {
				t.Fatalf("interrupted delivery not settled as ambiguous:\n%s", h.logs)
			}

			// Restart: a new worker, after the lease if it was abandoned.
			h.clock.Advance(time.Minute + time.Second)
			again := h.start(p, cfg)
			// The advance also passes AmbiguousDelay, so the new worker may
			// settle the occurrence before it is seen requeued: either is
			// fine here, the events below say what happened.
			waitFor(t, "requeued as ambiguous, or settled", func() bool { j, gone := h.job("n"); return gone || j.Ambiguous == 1 })
			h.clock.Advance(time.Minute)
			waitFor(t, "settled after restart", func() bool { return h.gone("n") })
			again.settle(t, 2)
			events, got := p.snapshot()
			if events != tc.events || got[Job{ID: "n", Due: t0}.Occurrence()] != tc.received {
				t.Fatalf("events %q received %v; want %q and %d", events, got, tc.events, tc.received)
			}
		})
	}
}

// A delivery that finishes within the first half of StopTimeout is settled
// normally at shutdown: nothing is left to verify.
func TestShutdownLetsQuickDeliveriesFinish(t *testing.T) {
	h := newHarness(t)
	h.schedule("quick", t0, "p")
	started := make(chan struct{})
	release := make(chan struct{})
	d := DelivererFunc(func(ctx context.Context, j Job) error {
		close(started)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	w := h.start(d, WorkerConfig{StopTimeout: time.Minute})
	<-started
	w.cancel()
	close(release)
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
	w.done <- nil
	if !h.gone("quick") {
		t.Fatal("a delivery that finished during the grace was not acked")
	}
	if dls, _ := h.store.DeadLetters(context.Background(), 1); len(dls) != 0 {
		t.Fatalf("dead letters %+v", dls)
	}
}
