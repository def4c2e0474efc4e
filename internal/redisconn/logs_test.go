package redisconn

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/testkit"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// unreachable is a client of an address nothing listens on, which fails
// every command with go-redis's "failed to dial" log line.
func unreachable(t *testing.T) (*redis.Client, string) {
	t.Helper()
	addr := testkit.ClosedAddr(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond, DialerRetries: 1})
	t.Cleanup(func() { rdb.Close() })
	return rdb, addr
}

type record struct {
	Level     string    `json:"level"`
	Msg       string    `json:"msg"`
	Component string    `json:"component"`
	Detail    string    `json:"detail"`
	Held      int       `json:"repeats_held_back"`
	Since     time.Time `json:"since"`
}

func records(t *testing.T, out string) []record {
	t.Helper()
	var rs []record
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestRouteLogsWritesEachKindOncePerInterval: go-redis's dial failures
// reach the slog logger as JSON, with the address, once per RepeatEvery;
// the next one says how many were held back and since when.
func TestRouteLogsWritesEachKindOncePerInterval(t *testing.T) {
	var out testkit.Buffer
	clock := &fakeClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	stop := routeLogs(slog.New(slog.NewJSONHandler(&out, nil)), clock.now)
	defer stop()
	rdb, addr := unreachable(t)
	ctx := context.Background()

	for range 5 {
		if rdb.Ping(ctx).Err() == nil {
			t.Fatal("PING to a closed port succeeded")
		}
	}
	rs := records(t, out.String())
	if len(rs) != 1 {
		t.Fatalf("%d lines for 5 failed dials in one interval, want 1:\n%s", len(rs), out.String())
	}
	r := rs[0]
	if r.Msg != "redis client" || r.Component != "go-redis" || r.Level != "WARN" || !strings.Contains(r.Detail, addr) || !strings.Contains(r.Detail, "failed to dial") {
		t.Fatalf("line = %+v, want a WARN naming %s", r, addr)
	}
	if strings.HasPrefix(r.Detail, "redis: ") {
		t.Errorf("detail keeps go-redis's prefix: %q", r.Detail)
	}

	clock.add(RepeatEvery)
	if rdb.Ping(ctx).Err() == nil {
		t.Fatal("PING to a closed port succeeded")
	}
	rs = records(t, out.String())
	if len(rs) != 2 || rs[1].Held != 4 || !rs[1].Since.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the interval: %+v, want a second line holding back 4 since 09:00", rs)
	}
}

// TestRouteLogsStopAndSilence: after stop, or with a nil logger, nothing
// reaches the logger any more; a stop from an earlier route does not undo a
// later one.
func TestRouteLogsStopAndSilence(t *testing.T) {
	var first, second testkit.Buffer
	stopFirst := RouteLogs(slog.New(slog.NewJSONHandler(&first, nil)))
	stopSecond := RouteLogs(slog.New(slog.NewJSONHandler(&second, nil)))
	stopFirst() // replaced already: must not stop the second
	rdb, _ := unreachable(t)
	_ = rdb.Ping(context.Background()).Err()
	if first.String() != "" || !strings.Contains(second.String(), "failed to dial") {
		t.Fatalf("first got %q, second %q: want only the second route", first.String(), second.String())
	}
	stopSecond()
	Silence()
	rdb2, _ := unreachable(t)
	_ = rdb2.Ping(context.Background()).Err()
	if strings.Count(second.String(), "\n") != 1 {
		t.Fatalf("lines after stop: %q", second.String())
	}
}
