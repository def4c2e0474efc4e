package background_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/testkit"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

// gate is a task body that reports it started and waits to be released.
type gate struct {
	started chan string
	release chan struct{}
	ran     sync.Map
}

func newGate() *gate {
	return &gate{started: make(chan string, 1000), release: make(chan struct{})}
}

func (g *gate) task(name string) func(context.Context) {
	return func(context.Context) {
		g.ran.Store(name, true)
		g.started <- name
		<-g.release
	}
}

func (g *gate) didRun(name string) bool { _, ok := g.ran.Load(name); return ok }

type drops struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *drops) onDrop(tenant, name string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[tenant+" "+err.Error()]++
}

func (d *drops) count(tenant string, err error) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[tenant+" "+err.Error()]
}

func newGroup(t *testing.T, cfg background.Config) (*background.Group, *clock, *testkit.Buffer) {
	t.Helper()
	c := &clock{now: t0}
	logs := &testkit.Buffer{}
	cfg.Now = c.Now
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return background.NewGroup(cfg), c, logs
}

func drain(t *testing.T, g *background.Group) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a hang guard only
	defer cancel()
	if err := g.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// A full group answers ErrBusy at once: TryGo returns while every task it
// could have waited for is still blocked (a blocking TryGo would hang here).
// Queued tasks run as slots free, and Wait drains them all.
func TestFullGroupIsBusyAtOnce(t *testing.T) {
	var d drops
	g, _, _ := newGroup(t, background.Config{Limit: 2, Queue: 1, OnDrop: d.onDrop})
	gt := newGate()
	for i := range 2 {
		if err := g.TryGo(t.Context(), "", fmt.Sprint("run", i), gt.task(fmt.Sprint("run", i))); err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
	}
	<-gt.started
	<-gt.started
	if err := g.TryGo(t.Context(), "", "queued", gt.task("queued")); err != nil {
		t.Fatalf("queued: %v", err)
	}
	for i := range 3 {
		if err := g.TryGo(t.Context(), "", "over", gt.task("over")); !errors.Is(err, background.ErrBusy) {
			t.Fatalf("over the limit (%d): %v, want ErrBusy", i, err)
		}
	}
	if n := d.count("", background.ErrBusy); n != 3 {
		t.Fatalf("OnDrop saw %d busy refusals, want 3", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with tasks running = %v, want the context's error", err)
	}
	close(gt.release)
	drain(t, g)
	if !gt.didRun("queued") || gt.didRun("over") {
		t.Fatalf("queued ran %v, refused ran %v", gt.didRun("queued"), gt.didRun("over"))
	}
}

// One tenant flooding the group cannot take what the others need: beyond
// its share (a quarter) it may only use what is spare, so a quarter of the
// slots and of the queue always stay free for the other tenants, which
// start at once; once the group is full the others' queued work goes before
// the flood's, and the flood's own queued work still runs. A tenant alone
// is not held to a quarter of an idle group.
func TestTenantFloodCannotStarveAnother(t *testing.T) {
	var d drops
	g, _, _ := newGroup(t, background.Config{Limit: 16, Queue: 16, TenantShare: 0.25, MinPerTenant: 2, OnDrop: d.onDrop})
	gt := newGate()
	admitted := 0
	for i := range 1000 {
		if err := g.TryGo(t.Context(), "TFLOOD", fmt.Sprint("flood", i), gt.task(fmt.Sprint("flood", i))); err == nil {
			admitted++
		} else if !errors.Is(err, background.ErrBusy) {
			t.Fatal(err)
		}
	}
	if admitted != 12+12 { // all but a quarter of 16 running, and of 16 queued
		t.Fatalf("flooding tenant admitted %d tasks, want 24", admitted)
	}
	for range 12 {
		<-gt.started
	}
	for i := range 4 {
		name := fmt.Sprint("TA", i)
		if err := g.TryGo(t.Context(), "TA", name, gt.task(name)); err != nil {
			t.Fatalf("%s refused while another tenant floods: %v", name, err)
		}
		if got := <-gt.started; got != name {
			t.Fatalf("%s did not start at once (started %s)", name, got)
		}
	}
	// The group is full: two more tenants queue, and are not refused; the
	// flood, at its share of the queue with the queue's spare used, is.
	for _, name := range []string{"TB0", "TC0", "TB1", "TC1"} {
		if err := g.TryGo(t.Context(), name[:2], name, gt.task(name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := g.TryGo(t.Context(), "TFLOOD", "more", gt.task("more")); !errors.Is(err, background.ErrBusy) {
		t.Fatalf("flood beyond its share: %v", err)
	}
	if n := d.count("TFLOOD", background.ErrBusy); n != 1000-24+1 {
		t.Fatalf("flood refused %d times, want %d", n, 1000-24+1)
	}
	// Each slot that frees goes to the other tenants' queued work first,
	// round-robin, however long the flood has queued.
	var order []string
	for range 4 {
		gt.release <- struct{}{}
		order = append(order, <-gt.started)
	}
	if want := []string{"TB0", "TC0", "TB1", "TC1"}; !slices.Equal(order, want) {
		t.Fatalf("freed slots went to %v, want %v", order, want)
	}
	close(gt.release)
	drain(t, g)
	for i := range 24 {
		if name := fmt.Sprint("flood", i); !gt.didRun(name) {
			t.Errorf("queued %s never ran", name)
		}
	}
}

// A queued task whose request is older than MaxAge when its turn comes is
// dropped, not run late; a TryGo for a request already that old is refused.
// Younger queued work still runs.
func TestStaleQueuedWorkIsDropped(t *testing.T) {
	var d drops
	g, clk, logs := newGroup(t, background.Config{Limit: 1, Queue: 8, MaxAge: 10 * time.Second, OnDrop: d.onDrop})
	gt := newGate()
	if err := g.TryGo(t.Context(), "T1", "slow", gt.task("slow")); err != nil {
		t.Fatal(err)
	}
	<-gt.started
	for _, name := range []string{"old1", "old2"} {
		if err := g.TryGo(t.Context(), "T2", name, gt.task(name)); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(11 * time.Second)
	if err := g.TryGo(t.Context(), "T2", "fresh", gt.task("fresh")); err != nil {
		t.Fatal(err)
	}
	old := background.WithArrival(t.Context(), clk.Now().Add(-11*time.Second))
	if err := g.TryGo(old, "T3", "given up", gt.task("given up")); !errors.Is(err, background.ErrStale) {
		t.Fatalf("a request 11 s old: %v, want ErrStale", err)
	}
	close(gt.release)
	drain(t, g)
	for name, want := range map[string]bool{"old1": false, "old2": false, "fresh": true, "given up": false} {
		if gt.didRun(name) != want {
			t.Errorf("%s ran = %v, want %v", name, !want, want)
		}
	}
	if n := d.count("T2", background.ErrStale); n != 2 {
		t.Errorf("OnDrop saw %d stale drops for T2, want 2", n)
	}
	if !strings.Contains(logs.String(), "too old") {
		t.Errorf("no log line for the dropped tasks:\n%s", logs)
	}
}

// A task's context carries the request's values, outlives the request's
// cancellation, and ends Timeout after the request arrived (not after the
// task started).
func TestTaskContextDeadlineFromArrival(t *testing.T) {
	g, clk, _ := newGroup(t, background.Config{Limit: 1, Timeout: 30 * time.Second})
	type key struct{}
	req, cancelReq := context.WithCancel(context.WithValue(t.Context(), key{}, "request logger"))
	req = background.WithArrival(req, clk.Now())
	clk.Advance(3 * time.Second) // the request waited 3 s before TryGo
	got := make(chan context.Context, 1)
	if err := g.TryGo(req, "T1", "t", func(ctx context.Context) { got <- ctx }); err != nil {
		t.Fatal(err)
	}
	cancelReq()
	ctx := <-got
	drain(t, g)
	if ctx.Value(key{}) != "request logger" {
		t.Error("request values lost")
	}
	dl, ok := ctx.Deadline()
	if !ok {
		t.Fatal("no deadline")
	}
	// 27 s of the 30 were left when the task started (minus the wall time
	// this test took to get here).
	if left := time.Until(dl); left > 27*time.Second || left < 20*time.Second {
		t.Errorf("deadline %v from now, want about 27s", left)
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err = %v", ctx.Err())
	}
}

// A panicking task is logged; its slot is freed and Wait still returns.
func TestPanicIsRecovered(t *testing.T) {
	g, _, logs := newGroup(t, background.Config{Limit: 1, Queue: -1})
	if err := g.TryGo(t.Context(), "T1", "boom", func(context.Context) { panic("kaboom") }); err != nil {
		t.Fatal(err)
	}
	drain(t, g)
	var ran atomic.Bool
	if err := g.TryGo(t.Context(), "T1", "after", func(context.Context) { ran.Store(true) }); err != nil {
		t.Fatalf("slot not freed after the panic: %v", err)
	}
	drain(t, g)
	if !ran.Load() || !strings.Contains(logs.String(), "kaboom") {
		t.Fatalf("ran=%v logs:\n%s", ran.Load(), logs)
	}
}

// Go, for callers without a tenant, never blocks either: what the group
// cannot take is dropped with a log line.
func TestGoNeverBlocks(t *testing.T) {
	g, _, logs := newGroup(t, background.Config{Limit: 1, Queue: -1})
	gt := newGate()
	g.Go(t.Context(), "first", gt.task("first"))
	<-gt.started
	g.Go(t.Context(), "second", gt.task("second"))
	close(gt.release)
	drain(t, g)
	if gt.didRun("second") || !strings.Contains(logs.String(), "background task not started") {
		t.Fatalf("second ran %v; logs:\n%s", gt.didRun("second"), logs)
	}
}

// BenchmarkTryGo is the acknowledgement path's cost when the group has
// room: TryGo from many goroutines over eight tenants, each caller waiting
// for its task to have run (so the figure includes starting a goroutine).
//
//	go test -run '^$' -bench TryGo -benchmem ./internal/background/
func BenchmarkTryGo(b *testing.B) {
	g := background.NewGroup(background.Config{Logger: slog.New(slog.DiscardHandler)})
	tenants := []string{"T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"}
	var i atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		tenant := tenants[i.Add(1)%int64(len(tenants))]
		done := make(chan struct{}, 1)
		task := func(context.Context) { done <- struct{}{} }
		for pb.Next() {
			if err := g.TryGo(context.Background(), tenant, "bench", task); err != nil {
				b.Fatal(err)
			}
			<-done
		}
	})
	_ = g.Wait(context.Background())
}

// BenchmarkTryGoRefused is the cost of being told "busy": the path a
// flooding tenant takes, which must stay cheap.
func BenchmarkTryGoRefused(b *testing.B) {
	g := background.NewGroup(background.Config{Limit: 1, Queue: -1, Logger: slog.New(slog.DiscardHandler)})
	release := make(chan struct{})
	_ = g.TryGo(context.Background(), "T1", "hold", func(context.Context) { <-release })
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := g.TryGo(context.Background(), "T2", "bench", func(context.Context) {}); !errors.Is(err, background.ErrBusy) {
				b.Fatal(err)
			}
		}
	})
	close(release)
	_ = g.Wait(context.Background())
}
