package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/testkit"
)

// t0 is the fake clock's start; Redis scores use the injected clock, so no
// test depends on the wall clock's time.
var t0 = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

type harness struct {
	t     *testing.T
	rdb   redis.UniversalClient
	store *Store
	clock *fakeClock
	logs  *testkit.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	rdb, _ := testRedis(t)
	p := testPrefix(t, rdb)
	return &harness{
		t:     t,
		rdb:   rdb,
		store: NewStore(rdb, StoreConfig{Prefix: p}),
		clock: &fakeClock{now: t0},
		logs:  &testkit.Buffer{},
	}
}

// running is a Worker.Run in a goroutine; polls counts finished claim
// rounds, which is how tests know the worker has looked at the schedule
// since they changed the clock, without timing anything.
type running struct {
	polls  atomic.Int64
	cancel context.CancelFunc
	done   chan error
}

// start runs a worker on the fake clock. Its Sleep pauses a millisecond of
// real time only so the loop does not spin; nothing is asserted on time.
func (h *harness) start(d Deliverer, cfg WorkerConfig) *running {
	h.t.Helper()
	r := &running{done: make(chan error, 1)}
	cfg.Now = h.clock.Now
	cfg.Sleep = func(ctx context.Context, _ time.Duration) {
		r.polls.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(time.Millisecond):
		}
	}
	if cfg.Lease == 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Heartbeat == 0 {
		// Wall time: often enough that a test advancing the fake clock
		// sees the lease follow within a few milliseconds.
		cfg.Heartbeat = 2 * time.Millisecond
	}
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := NewWorker(h.store, d, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- w.Run(ctx) }()
	h.t.Cleanup(func() { r.stop(h.t) })
	return r
}

// kill ends the worker as a crash would look from Redis: its Run is
// cancelled with deliveries that never return, so it abandons them (after
// StopTimeout) and its heartbeat stops, leaving their claims to expire.
func (r *running) kill(t *testing.T) {
	t.Helper()
	r.stop(t)
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- nil // later stops return at once
	case <-time.After(30 * time.Second):
		t.Errorf("worker did not stop") // a hang guard, not a timing assertion
	}
}

// settle waits until the worker has finished n more claim rounds.
func (r *running) settle(t *testing.T, n int64) {
	t.Helper()
	target := r.polls.Load() + n
	waitFor(t, "worker polls", func() bool { return r.polls.Load() >= target })
}

// waitFor polls cond; the deadline only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// counter is a fake Deliverer counting successful deliveries per job, with
// an optional scripted answer per call.
type counter struct {
	mu        sync.Mutex
	calls     map[string]int
	delivered map[string]int
	payloads  map[string][]byte
	answer    func(j Job, call int) error
}

func newCounter(answer func(j Job, call int) error) *counter {
	return &counter{calls: map[string]int{}, delivered: map[string]int{}, payloads: map[string][]byte{}, answer: answer}
}

func (c *counter) Deliver(_ context.Context, j Job) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[j.ID]++
	var err error
	if c.answer != nil {
		err = c.answer(j, c.calls[j.ID])
	}
	if err == nil {
		c.delivered[j.ID]++
		c.payloads[j.ID] = j.Payload
	}
	return err
}

func (c *counter) counts(id string) (calls, delivered int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id], c.delivered[id]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.delivered {
		n += v
	}
	return n
}

func (h *harness) schedule(id string, due time.Time, payload string) {
	h.t.Helper()
	if err := h.store.Schedule(context.Background(), Job{ID: id, Due: due, Payload: []byte(payload)}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) gone(id string) bool {
	_, err := h.store.Get(context.Background(), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		h.t.Fatal(err)
	}
	return errors.Is(err, ErrNotFound)
}

func (h *harness) score(id string) time.Time {
	h.t.Helper()
	s, err := h.rdb.ZScore(context.Background(), h.store.p.ScheduleDue(), id).Result()
	if err != nil {
		h.t.Fatalf("score %s: %v", id, err)
	}
	return time.UnixMilli(int64(s))
}

// A job is not delivered before it is due, and is delivered exactly once
// after; the occurrence is then recorded as sent.
func TestDeliveredOnceWhenDue(t *testing.T) {
	h := newHarness(t)
	due := t0.Add(365 * 24 * time.Hour)
	h.schedule("revisit:slack:T1:U1", due, "hello")
	d := newCounter(nil)
	w := h.start(d, WorkerConfig{})

	w.settle(t, 3)
	h.clock.Set(due.Add(-time.Millisecond))
	w.settle(t, 3)
	if calls, _ := d.counts("revisit:slack:T1:U1"); calls != 0 {
		t.Fatalf("delivered %d times before due", calls)
	}
	if got := h.score("revisit:slack:T1:U1"); !got.Equal(due) {
		t.Fatalf("claimed before due: score %v, want %v", got, due)
	}

	h.clock.Set(due)
	waitFor(t, "removal", func() bool { return h.gone("revisit:slack:T1:U1") })
	h.clock.Advance(24 * time.Hour)
	w.settle(t, 3)
	if calls, delivered := d.counts("revisit:slack:T1:U1"); calls != 1 || delivered != 1 {
		t.Fatalf("calls=%d delivered=%d, want 1/1", calls, delivered)
	}
	if string(d.payloads["revisit:slack:T1:U1"]) != "hello" {
		t.Fatalf("payload %q", d.payloads["revisit:slack:T1:U1"])
	}
	ok, err := h.rdb.HExists(context.Background(), h.store.p.ScheduleSent("revisit:slack:T1:U1"), fmt.Sprint(due.UnixMilli())).Result()
	if err != nil || !ok {
		t.Fatalf("sent record: %v, %v", ok, err)
	}
	if ttl := h.rdb.PTTL(context.Background(), h.store.p.ScheduleSent("revisit:slack:T1:U1")).Val(); ttl <= 0 || ttl > 7*24*time.Hour {
		t.Fatalf("sent record TTL %v, want up to 7 days", ttl)
	}
}

// Scheduling an existing ID replaces due time and payload; Get sees it;
// Cancel removes it; a claim on the replaced version is voided.
func TestRescheduleCancelGet(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.schedule("a", t0.Add(time.Hour), "one")
	j, err := h.store.Get(ctx, "a")
	if err != nil || !j.Due.Equal(t0.Add(time.Hour)) || string(j.Payload) != "one" || j.Attempt != 0 {
		t.Fatalf("Get = %+v, %v", j, err)
	}
	h.schedule("a", t0.Add(2*time.Hour), "two")
	j, err = h.store.Get(ctx, "a")
	if err != nil || !j.Due.Equal(t0.Add(2*time.Hour)) || string(j.Payload) != "two" {
		t.Fatalf("after reschedule Get = %+v, %v", j, err)
	}
	if n := h.rdb.ZCard(ctx, h.store.p.ScheduleDue()).Val(); n != 1 {
		t.Fatalf("due set holds %d entries, want 1", n)
	}

	// A worker holding the old version cannot remove the new one.
	h.schedule("b", t0, "old")
	cs, err := h.store.claim(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(cs) != 1 || cs[0].job.ID != "b" {
		t.Fatalf("claim = %+v, %v", cs, err)
	}
	h.schedule("b", t0.Add(time.Hour), "snoozed")
	if held, err := h.store.finish(ctx, cs[0], nil, t0); err != nil || held {
		t.Fatalf("finish of replaced claim = %v, %v; want not held", held, err)
	}
	if j, err := h.store.Get(ctx, "b"); err != nil || string(j.Payload) != "snoozed" {
		t.Fatalf("snoozed job = %+v, %v", j, err)
	}

	if ok, err := h.store.Cancel(ctx, "a"); err != nil || !ok {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	if _, err := h.store.Get(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after cancel: %v", err)
	}
	if ok, err := h.store.Cancel(ctx, "a"); err != nil || ok {
		t.Fatalf("second Cancel = %v, %v", ok, err)
	}
	if err := h.store.Schedule(ctx, Job{Due: t0}); !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("Schedule without ID: %v", err)
	}

	// Through a worker: only the replacement is delivered, once, and a
	// cancelled job never is.
	h.schedule("c", t0.Add(time.Hour), "first")
	h.schedule("c", t0.Add(2*time.Hour), "second")
	h.schedule("d", t0.Add(time.Hour), "cancelled")
	if _, err := h.store.Cancel(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	d := newCounter(nil)
	w := h.start(d, WorkerConfig{})
	h.clock.Set(t0.Add(time.Hour))
	w.settle(t, 3)
	if calls, _ := d.counts("c"); calls != 0 {
		t.Fatalf("old due time of rescheduled job was used")
	}
	h.clock.Set(t0.Add(2 * time.Hour))
	waitFor(t, "delivery of c", func() bool { return h.gone("c") })
	w.settle(t, 2)
	if _, delivered := d.counts("c"); delivered != 1 || string(d.payloads["c"]) != "second" {
		t.Fatalf("c delivered %d times with %q", delivered, d.payloads["c"])
	}
	if calls, _ := d.counts("d"); calls != 0 {
		t.Fatalf("cancelled job delivered")
	}
}

// Three workers sharing one Redis deliver 300 due jobs exactly once each.
func TestThreeWorkersDeliverEachJobOnce(t *testing.T) {
	h := newHarness(t)
	const n = 300
	for i := range n {
		h.schedule(fmt.Sprintf("job-%03d", i), t0.Add(-time.Duration(i)*time.Second), "x")
	}
	d := newCounter(nil)
	var ws []*running
	for range 3 {
		ws = append(ws, h.start(d, WorkerConfig{Batch: 7, Concurrency: 4}))
	}
	waitFor(t, "all deliveries", func() bool { return d.total() >= n })
	waitFor(t, "empty schedule", func() bool {
		return h.rdb.ZCard(context.Background(), h.store.p.ScheduleDue()).Val() == 0
	})
	for _, w := range ws {
		w.settle(t, 2)
	}
	for i := range n {
		id := fmt.Sprintf("job-%03d", i)
		if calls, delivered := d.counts(id); calls != 1 || delivered != 1 {
			t.Errorf("%s: calls=%d delivered=%d", id, calls, delivered)
		}
	}
	if got := d.total(); got != n {
		t.Fatalf("total deliveries %d, want %d", got, n)
	}
}

// A worker that dies mid-delivery (its Deliver never returns, and it never
// acks) leaves a claim marked in flight; once the lease runs out another
// worker takes it as orphaned, waits AmbiguousDelay, and (with no Confirmer)
// sends it once: the dead worker never reached the platform here.
func TestKilledWorkerJobDeliveredAfterLease(t *testing.T) {
	h := newHarness(t)
	h.schedule("k", t0, "payload")

	started := make(chan struct{})
	unblock := make(chan struct{})
	dead := DelivererFunc(func(ctx context.Context, j Job) error {
		close(started)
		<-unblock // ignores ctx, as a process that is gone would
		return errors.New("the process is gone by now")
	})
	victim := h.start(dead, WorkerConfig{Lease: time.Minute, StopTimeout: 20 * time.Millisecond})
	t.Cleanup(func() { close(unblock) }) // runs before the victim's stop
	<-started
	victim.kill(t)

	d := newCounter(nil)
	w := h.start(d, WorkerConfig{Lease: time.Minute})
	h.clock.Advance(59 * time.Second)
	w.settle(t, 3)
	if calls, _ := d.counts("k"); calls != 0 {
		t.Fatalf("job re-delivered while its lease was held")
	}
	h.clock.Advance(2 * time.Second)
	waitFor(t, "orphan requeued", func() bool {
		j, err := h.store.Get(context.Background(), "k")
		return err == nil && j.Ambiguous == 1
	})
	if got, want := h.score("k"), h.clock.Now().Add(time.Minute); got.Before(want.Add(-time.Second)) || got.After(want) {
		t.Fatalf("orphan due again at %v, want AmbiguousDelay later (%v)", got, want)
	}
	h.clock.Advance(time.Minute)
	waitFor(t, "delivery after lease", func() bool { return h.gone("k") })
	h.clock.Advance(time.Hour)
	w.settle(t, 3)
	if calls, delivered := d.counts("k"); calls != 1 || delivered != 1 {
		t.Fatalf("calls=%d delivered=%d, want 1/1", calls, delivered)
	}
}

// A delivery that succeeded after its worker had lost the claim (its lease
// ran out, another worker took it as orphaned) is recorded all the same, so
// the new holder does not send it again.
func TestLateSuccessAfterLostClaimNotResent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.schedule("lost", t0, "p")
	cs, err := h.store.claim(ctx, t0, t0.Add(time.Minute), 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim = %v, %v", cs, err)
	}
	if st, err := h.store.begin(ctx, cs[0]); err != nil || st != beginSend {
		t.Fatalf("begin = %v, %v", st, err)
	}

	d := newCounter(nil)
	w := h.start(d, WorkerConfig{Lease: time.Minute})
	h.clock.Advance(time.Minute + time.Second)
	waitFor(t, "orphan requeued", func() bool {
		j, err := h.store.Get(ctx, "lost")
		return err == nil && j.Ambiguous == 1
	})
	// The first worker's platform call returns now, successfully.
	if res, err := h.store.ack(ctx, cs[0]); err != nil || res != ackRecorded {
		t.Fatalf("late ack = %v, %v; want recorded only", res, err)
	}
	h.clock.Advance(2 * time.Minute)
	waitFor(t, "removal", func() bool { return h.gone("lost") })
	w.settle(t, 2)
	if calls, _ := d.counts("lost"); calls != 0 {
		t.Fatalf("sent twice: %d more calls", calls)
	}
	if !strings.Contains(h.logs.String(), "already delivered") {
		t.Fatalf("no log line for the recognised duplicate:\n%s", h.logs)
	}
}

// A 429 with Retry-After is not retried before the delay has passed on the
// injected clock, and the job is then delivered.
func TestRetryAfterHonoured(t *testing.T) {
	h := newHarness(t)
	h.schedule("rl", t0, "p")
	d := newCounter(func(j Job, call int) error {
		if call == 1 {
			return RetryAfter(10*time.Minute, errors.New("slack: 429 ratelimited"))
		}
		return nil
	})
	w := h.start(d, WorkerConfig{})
	waitFor(t, "first attempt settled", func() bool {
		j, err := h.store.Get(context.Background(), "rl")
		return err == nil && j.Attempt == 1
	})
	if s := h.score("rl"); s.Before(t0.Add(10*time.Minute)) || s.After(t0.Add(10*time.Minute+time.Second)) {
		t.Fatalf("requeued for %v, want within a second after %v", s, t0.Add(10*time.Minute))
	}
	h.clock.Set(t0.Add(10*time.Minute - time.Millisecond))
	w.settle(t, 3)
	if calls, _ := d.counts("rl"); calls != 1 {
		t.Fatalf("retried before Retry-After: %d calls", calls)
	}
	h.clock.Set(t0.Add(10*time.Minute + time.Second))
	waitFor(t, "delivery", func() bool { return h.gone("rl") })
	if calls, delivered := d.counts("rl"); calls != 2 || delivered != 1 {
		t.Fatalf("calls=%d delivered=%d, want 2/1", calls, delivered)
	}
}

// Retryable errors back off exponentially (with jitter) and then succeed.
func TestBackoffThenSuccess(t *testing.T) {
	h := newHarness(t)
	h.schedule("flaky", t0, "p")
	d := newCounter(func(j Job, call int) error {
		if call <= 2 {
			return errors.New("teams: 502 bad gateway")
		}
		return nil
	})
	w := h.start(d, WorkerConfig{MinBackoff: time.Minute, MaxBackoff: time.Hour})
	attempt := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("attempt %d settled", n), func() bool {
			j, err := h.store.Get(context.Background(), "flaky")
			return err == nil && j.Attempt == n
		})
	}
	attempt(1) // delay in [30s, 1m]
	if s := h.score("flaky"); s.Before(t0.Add(30*time.Second)) || s.After(t0.Add(time.Minute)) {
		t.Fatalf("first retry at %v", s.Sub(t0))
	}
	h.clock.Set(t0.Add(time.Minute))
	attempt(2) // delay in [1m, 2m] from t0+1m
	if s := h.score("flaky"); s.Before(t0.Add(2*time.Minute)) || s.After(t0.Add(3*time.Minute)) {
		t.Fatalf("second retry at %v", s.Sub(t0))
	}
	h.clock.Set(t0.Add(3 * time.Minute))
	waitFor(t, "delivery", func() bool { return h.gone("flaky") })
	w.settle(t, 2)
	if calls, delivered := d.counts("flaky"); calls != 3 || delivered != 1 {
		t.Fatalf("calls=%d delivered=%d, want 3/1", calls, delivered)
	}
}

// After MaxAttempts failures the job goes to the dead-letter list, with a
// log line, and is not tried again.
func TestMaxAttemptsDeadLetter(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.schedule("doomed", t0, "p")
	d := newCounter(func(Job, int) error { return errors.New("boom") })
	w := h.start(d, WorkerConfig{MaxAttempts: 3, MinBackoff: time.Minute, MaxBackoff: time.Minute})
	for i := 1; i <= 2; i++ {
		waitFor(t, "retry", func() bool {
			j, err := h.store.Get(ctx, "doomed")
			return err == nil && j.Attempt == i
		})
		h.clock.Advance(time.Minute)
	}
	waitFor(t, "dead letter", func() bool { return h.gone("doomed") })
	h.clock.Advance(24 * time.Hour)
	w.settle(t, 3)
	if calls, _ := d.counts("doomed"); calls != 3 {
		t.Fatalf("calls=%d, want 3", calls)
	}
	dls, err := h.store.DeadLetters(ctx, 10)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	if dl := dls[0]; dl.Job.ID != "doomed" || dl.Job.Attempt != 3 || dl.Reason != "boom" || string(dl.Job.Payload) != "p" || !dl.Job.Due.Equal(t0) {
		t.Fatalf("dead letter %+v", dl)
	}
	if !strings.Contains(h.logs.String(), "dead-lettered") {
		t.Fatalf("no dead-letter log line:\n%s", h.logs)
	}
}

// The dead-letter list is capped.
func TestDeadLetterCap(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.store.deadCap = 2
	for i := range 3 {
		h.schedule(fmt.Sprint("d", i), t0, "p")
	}
	cs, err := h.store.claim(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(cs) != 3 {
		t.Fatalf("claim = %v, %v", cs, err)
	}
	for _, c := range cs {
		if _, err := h.store.finish(ctx, c, encodeDeadLetter(c.job, "x", t0), t0); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.rdb.LLen(ctx, h.store.p.ScheduleDead()).Val(); n != 2 {
		t.Fatalf("dead letters kept: %d, want 2", n)
	}
}

// "Gone" drops the job at once, with a log line and no retry.
func TestGoneDropped(t *testing.T) {
	h := newHarness(t)
	h.schedule("uninstalled", t0, "p")
	d := newCounter(func(Job, int) error { return fmt.Errorf("slack: account_inactive: %w", ErrGone) })
	w := h.start(d, WorkerConfig{})
	waitFor(t, "drop", func() bool { return h.gone("uninstalled") })
	h.clock.Advance(48 * time.Hour)
	w.settle(t, 3)
	if calls, _ := d.counts("uninstalled"); calls != 1 {
		t.Fatalf("calls=%d, want 1", calls)
	}
	if dls, _ := h.store.DeadLetters(context.Background(), 10); len(dls) != 0 {
		t.Fatalf("gone job was dead-lettered")
	}
	if !strings.Contains(h.logs.String(), "recipient gone") {
		t.Fatalf("no drop log line:\n%s", h.logs)
	}
}

// Cancelling Run lets an in-flight delivery finish and be acked, so nothing
// waits for a lease after a graceful stop.
func TestGracefulStopFinishesInFlight(t *testing.T) {
	h := newHarness(t)
	h.schedule("inflight", t0, "p")
	started := make(chan struct{})
	release := make(chan struct{})
	d := DelivererFunc(func(ctx context.Context, j Job) error {
		close(started)
		<-release
		return ctx.Err() // nil: shutdown does not cancel the delivery
	})
	w := h.start(d, WorkerConfig{})
	<-started
	w.cancel()
	close(release)
	if err := <-w.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	w.done <- nil
	if !h.gone("inflight") {
		t.Fatalf("in-flight job not acked on graceful stop")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	j := Job{ID: "x", Due: time.UnixMilli(1893456000123), Payload: []byte{0, 1, 2}, Attempt: 300}
	got, err := decodeRecord("x", encodeRecord(j))
	if err != nil || got.ID != j.ID || !got.Due.Equal(j.Due) || !bytes.Equal(got.Payload, j.Payload) || got.Attempt != j.Attempt {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	j.Ambiguous = 2
	got, err = decodeRecord("x", encodeRecord(j))
	if err != nil || got.Ambiguous != 2 || got.Attempt != 300 || !got.Due.Equal(j.Due) || !bytes.Equal(got.Payload, j.Payload) {
		t.Fatalf("round trip with ambiguity: %+v, %v", got, err)
	}
	if _, err := decodeRecord("x", []byte{9}); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("bad version: %v", err)
	}
	dl, err := decodeDeadLetter(encodeDeadLetter(j, "why", t0))
	if err != nil || dl.Reason != "why" || dl.Job.ID != "x" || !dl.At.Equal(t0) {
		t.Fatalf("dead letter round trip: %+v, %v", dl, err)
	}
}

// ScheduleMany stores every job as Schedule would, across chunk boundaries,
// and a corrupt record does not hold back the rest of a claimed batch.
func TestScheduleManyAndCorruptRecord(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	jobs := make([]Job, 2500)
	for i := range jobs {
		jobs[i] = Job{ID: fmt.Sprint("m", i), Due: t0.Add(time.Duration(i) * time.Second), Payload: []byte{byte(i)}}
	}
	if err := h.store.ScheduleMany(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if n := h.rdb.ZCard(ctx, h.store.p.ScheduleDue()).Val(); n != 2500 {
		t.Fatalf("due set holds %d, want 2500", n)
	}
	if j, err := h.store.Get(ctx, "m2499"); err != nil || !j.Due.Equal(t0.Add(2499*time.Second)) || j.Payload[0] != byte(2499%256) {
		t.Fatalf("Get = %+v, %v", j, err)
	}
	if err := h.store.ScheduleMany(ctx, []Job{{ID: "x"}}); !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("ScheduleMany without due: %v", err)
	}

	if err := h.rdb.HSet(ctx, h.store.p.ScheduleJobs(), "m0", "garbage").Err(); err != nil {
		t.Fatal(err)
	}
	cs, err := h.store.claim(ctx, t0.Add(time.Second), t0.Add(time.Minute), 10)
	if !errors.Is(err, ErrCorruptRecord) || len(cs) != 1 || cs[0].job.ID != "m1" {
		t.Fatalf("claim = %+v, %v; want m1 and a corrupt-record error", cs, err)
	}
}
