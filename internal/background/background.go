// Package background runs work that outlives the HTTP request that caused
// it (Slack must be answered within 3 seconds, so the work comes after the
// acknowledgement) and lets shutdown wait for it before Redis is closed.
package background

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Group runs tasks with a bound on how many run at once and how long each
// may take. A panic in a task is logged, never fatal.
type Group struct {
	sem     chan struct{}
	timeout time.Duration
	log     *slog.Logger
	wg      sync.WaitGroup
}

// New returns a group whose tasks are not cancelled when the request that
// started them ends, but do end after timeout.
func New(log *slog.Logger, limit int, timeout time.Duration) *Group {
	return &Group{sem: make(chan struct{}, limit), timeout: timeout, log: log}
}

// Go runs f with a context carrying ctx's values (the request's logger) but
// not its cancellation. When the group is full, Go waits for a slot, so a
// burst slows the acknowledgements a little rather than dropping work.
func (g *Group) Go(ctx context.Context, name string, f func(ctx context.Context)) {
	g.wg.Add(1)
	g.sem <- struct{}{}
	go func() {
		defer func() {
			<-g.sem
			g.wg.Done()
		}()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				g.log.Error("background task panicked", "task", name, "panic", p, "stack", string(debug.Stack()))
			}
		}()
		f(ctx)
	}()
}

// Wait blocks until every task has finished or ctx ends.
func (g *Group) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
