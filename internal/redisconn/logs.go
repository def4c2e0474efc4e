package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// go-redis writes its own lines ("redis: 2026/12/01 ... pool.go:770: ...
// failed to dial after 5 attempts") to os.Stderr through one logger for the
// whole process, several a second while Redis is down. That would break the
// JSON logs of `bot serve` and show up in the middle of a `bot chat`
// conversation. So the process's go-redis logger is replaced once by a
// bridge that drops every line unless RouteLogs has given it a slog.Logger,
// and writes each kind of line at most once per RepeatEvery there.

// RepeatEvery is how often the same go-redis message (by its format, so
// "failed to dial after %d attempts: %v" is one message however often it
// comes) reaches the log; the next one says how many were held back.
const RepeatEvery = time.Minute

var (
	installOnce sync.Once
	routed      atomic.Pointer[route]
)

type route struct {
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	seen map[string]*repeat
}

type repeat struct {
	last time.Time
	held int
}

// bridge is what go-redis logs through.
type bridge struct{}

func (bridge) Printf(ctx context.Context, format string, v ...any) {
	if r := routed.Load(); r != nil {
		r.printf(ctx, format, v...)
	}
}

// Silence stops go-redis writing its own lines to stderr, for commands
// whose output is for people (`bot chat`, `bot check`): what matters there
// is reported through the command's own errors. It is what RouteLogs does
// with a nil logger.
func Silence() { RouteLogs(nil) }

// RouteLogs sends go-redis's own log lines to log, as JSON lines like every
// other, each kind at most once per RepeatEvery; a nil log drops them. The
// setting is for the whole process, as go-redis has one logger: the last
// call wins. The returned func stops the routing, unless a later call has
// replaced it.
func RouteLogs(log *slog.Logger) (stop func()) {
	return routeLogs(log, time.Now)
}

func routeLogs(log *slog.Logger, now func() time.Time) (stop func()) {
	installOnce.Do(func() { redis.SetLogger(bridge{}) })
	if log == nil {
		routed.Store(nil)
		return func() {}
	}
	r := &route{log: log.With("component", "go-redis"), now: now, seen: map[string]*repeat{}}
	routed.Store(r)
	return func() { routed.CompareAndSwap(r, nil) }
}

func (r *route) printf(ctx context.Context, format string, v ...any) {
	now := r.now()
	r.mu.Lock()
	rep := r.seen[format]
	if rep == nil {
		rep = &repeat{}
		r.seen[format] = rep
	} else if now.Sub(rep.last) < RepeatEvery {
		rep.held++
		r.mu.Unlock()
		return
	}
	held, since := rep.held, rep.last
	rep.last, rep.held = now, 0
	r.mu.Unlock()

	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	level := slog.LevelInfo
	for _, bad := range []string{"fail", "error", "panic", "unable", "cannot", "refused", "timeout"} {
		if strings.Contains(strings.ToLower(msg), bad) {
			level = slog.LevelWarn
			break
		}
	}
	attrs := []slog.Attr{slog.String("detail", msg)}
	if held > 0 {
		attrs = append(attrs, slog.Int("repeats_held_back", held), slog.Time("since", since))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	r.log.LogAttrs(context.WithoutCancel(ctx), level, "redis client", attrs...)
}
