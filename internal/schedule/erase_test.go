package schedule

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// commandLog is a go-redis hook that records the name of every command a
// client sends, to prove what an operation costs.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (c *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		for _, cmd := range cmds {
			c.names = append(c.names, cmd.Name())
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (c *commandLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.names
	c.names = nil
	return out
}

// Erase removes a job, every record of its delivered occurrences and its
// dead letters, and nothing of any other job (not even one whose ID starts
// alike), in one script call: no SCAN, whatever the keyspace holds.
func TestErase(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const id, other, longer = "user/slack/T1/U1", "user/slack/T1/U2", "user/slack/T1/U1x"

	// Three delivered occurrences of id (three years), one scheduled, one
	// dead letter; the same for the others.
	for _, j := range []string{id, other, longer} {
		for year := range 3 {
			due := t0.AddDate(year, 0, 0)
			h.schedule(j, due, "p")
			cs, err := h.store.claim(ctx, due, due.Add(time.Minute), 10)
			if err != nil || len(cs) != 1 {
				t.Fatalf("claim = %+v, %v", cs, err)
			}
			if res, err := h.store.ack(ctx, cs[0]); err != nil || res != ackRemoved {
				t.Fatalf("ack = %v, %v", res, err)
			}
		}
		h.schedule(j, t0.AddDate(3, 0, 0), "p")
		cs, err := h.store.claim(ctx, t0.AddDate(3, 0, 0), t0.AddDate(3, 0, 0).Add(time.Minute), 10)
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim = %+v, %v", cs, err)
		}
		if _, err := h.store.finish(ctx, cs[0], encodeDeadLetter(cs[0].job, "boom", t0), t0); err != nil {
			t.Fatal(err)
		}
		h.schedule(j, t0.AddDate(4, 0, 0), "p")
	}
	// Unrelated keys in the same Redis cost Erase nothing.
	pipe := h.rdb.Pipeline()
	for i := range 2000 {
		pipe.Set(ctx, fmt.Sprintf("%s:noise:%d", h.store.p, i), "x", time.Minute)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteKeys(t, h.rdb, string(h.store.p)+":noise:*") })

	var log commandLog
	h.rdb.AddHook(&log)
	log.take()
	n, err := h.store.Erase(ctx, id)
	if err != nil || n != 1+3+1 {
		t.Fatalf("Erase = %d, %v; want 5 (the job, 3 sent records, 1 dead letter)", n, err)
	}
	for _, c := range log.take() {
		if c != "evalsha" && c != "eval" {
			t.Errorf("Erase sent %q; want one script call", c)
		}
	}
	if _, gone := h.job(id); !gone {
		t.Error("job still scheduled")
	}
	if ex := h.rdb.Exists(ctx, h.store.p.ScheduleSent(id)).Val(); ex != 0 {
		t.Error("sent records left")
	}
	dls, err := h.store.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, d := range dls {
		left = append(left, d.Job.ID)
	}
	if strings.Join(left, ",") != longer+","+other {
		t.Errorf("dead letters left: %v, want the other two jobs'", left)
	}
	for _, j := range []string{other, longer} {
		if _, gone := h.job(j); gone {
			t.Errorf("%s was erased too", j)
		}
		if n := h.rdb.HLen(ctx, h.store.p.ScheduleSent(j)).Val(); n != 3 {
			t.Errorf("%s has %d sent records, want 3", j, n)
		}
	}
	if n, err := h.store.Erase(ctx, id); err != nil || n != 0 {
		t.Errorf("second Erase = %d, %v", n, err)
	}
}

// A delivery in flight when its job is erased still settles, and writes no
// record naming the user back.
func TestEraseDuringDeliveryLeavesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.schedule("u", t0, "p")
	started := make(chan struct{})
	release := make(chan struct{})
	h.start(DelivererFunc(func(ctx context.Context, j Job) error {
		close(started)
		<-release
		return nil
	}), WorkerConfig{})
	<-started
	if _, err := h.store.Erase(ctx, "u"); err != nil {
		t.Fatal(err)
	}
	close(release)
	waitFor(t, "settled", func() bool { return strings.Contains(h.logs.String(), "cancelled meanwhile") })
	for _, k := range keysUnder(t, h) {
		if strings.Contains(k, ":sent:") {
			t.Errorf("left behind: %s", k)
		}
	}
}

func keysUnder(t *testing.T, h *harness) []string {
	t.Helper()
	ks, err := h.rdb.Keys(context.Background(), string(h.store.p)+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// Dead letters older than DeadLetterTTL go: at the next push, when a worker
// prunes (every minute of its clock), and the list as a whole expires that
// long after its last push.
func TestDeadLetterTTL(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.store.deadTTL = 24 * time.Hour
	push := func(id string, at time.Time) {
		t.Helper()
		h.schedule(id, at, "p")
		cs, err := h.store.claim(ctx, at, at.Add(time.Minute), 1)
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim = %+v, %v", cs, err)
		}
		if _, err := h.store.finish(ctx, cs[0], encodeDeadLetter(cs[0].job, "boom", at), at); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() string {
		t.Helper()
		dls, err := h.store.DeadLetters(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range dls {
			out = append(out, d.Job.ID)
		}
		return strings.Join(out, ",")
	}
	push("old", t0)
	push("mid", t0.Add(12*time.Hour))
	if ttl := h.rdb.PTTL(ctx, h.store.p.ScheduleDead()).Val(); ttl <= 0 || ttl > 24*time.Hour {
		t.Fatalf("dead-letter list TTL %v, want up to a day", ttl)
	}
	push("new", t0.Add(25*time.Hour)) // "old" is now past a day
	if got := ids(); got != "new,mid" {
		t.Fatalf("after a push: %s", got)
	}

	// A worker prunes on its own, with no push.
	w := h.start(newCounter(nil), WorkerConfig{})
	h.clock.Set(t0.Add(37 * time.Hour)) // "mid" past a day
	w.settle(t, 2)
	h.clock.Advance(time.Minute)
	waitFor(t, "prune", func() bool { return ids() == "new" })
}

// Three workers, one of them killed with deliveries in flight that had
// reached the recipient, deliver 200 due nudges exactly once each: the
// orphans are verified, not resent.
func TestThreeWorkersOneKilledEachNudgeOnce(t *testing.T) {
	h := newHarness(t)
	const n = 200
	for i := range n {
		h.schedule(fmt.Sprintf("job-%03d", i), t0.Add(-time.Duration(i)*time.Second), "x")
	}
	p := newPlatform(t, func(int) act { return act{posts: true, answer: answerOK} })
	shared := &sharedPlatform{p: p}
	cfg := WorkerConfig{Batch: 7, Concurrency: 4, Confirmer: &verifier{p: p}}
	vcfg := cfg
	vcfg.StopTimeout = 20 * time.Millisecond
	victim := h.start(DelivererFunc(shared.victimDeliver), vcfg)
	waitFor(t, "the victim's four calls", func() bool { return shared.victimCalls() == 4 })
	var ws []*running
	for range 2 {
		ws = append(ws, h.start(DelivererFunc(shared.deliver), cfg))
	}
	victim.kill(t)
	waitFor(t, "the others' deliveries", func() bool {
		return h.rdb.ZCard(context.Background(), h.store.p.ScheduleDue()).Val() == 4
	})
	h.clock.Advance(time.Minute + time.Second) // the victim's leases run out
	waitFor(t, "orphans requeued", func() bool {
		for _, c := range shared.victimJobs() {
			if j, gone := h.job(c); gone || j.Ambiguous != 1 {
				return false
			}
		}
		return true
	})
	h.clock.Advance(2 * time.Minute) // AmbiguousDelay
	waitFor(t, "empty schedule", func() bool {
		return h.rdb.ZCard(context.Background(), h.store.p.ScheduleDue()).Val() == 0
	})
	for _, w := range ws {
		w.settle(t, 2)
	}
	_, received := p.snapshot()
	total := 0
	for i := range n {
		occ := Job{ID: fmt.Sprintf("job-%03d", i), Due: t0.Add(-time.Duration(i) * time.Second)}.Occurrence()
		if received[occ] != 1 {
			t.Errorf("%s received %d times", occ, received[occ])
		}
		total += received[occ]
	}
	if total != n {
		t.Fatalf("recipient got %d nudges, want %d", total, n)
	}
}

// sharedPlatform is one recipient reached by the killed worker, whose
// calls reach it and then never return, and by the survivors.
type sharedPlatform struct {
	p     *platform
	mu    sync.Mutex
	vjobs []string
}

func (s *sharedPlatform) deliver(ctx context.Context, j Job) error { return s.p.Deliver(ctx, j) }

func (s *sharedPlatform) victimDeliver(ctx context.Context, j Job) error {
	s.mu.Lock()
	s.vjobs = append(s.vjobs, j.ID)
	s.mu.Unlock()
	s.p.mu.Lock()
	s.p.received[j.Occurrence()]++
	s.p.mu.Unlock()
	<-s.p.unblock
	return nil
}

func (s *sharedPlatform) victimCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.vjobs)
}

func (s *sharedPlatform) victimJobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vjobs...)
}
