// Package background runs work that outlives the HTTP request that caused
// it (Slack must be answered within 3 seconds, so the work comes after the
// acknowledgement) and lets shutdown wait for it before Redis is closed.
//
// The acknowledgement path never waits for it: TryGo either starts the
// task, queues it, or says at once that it cannot (ErrBusy, ErrStale), so
// an adapter acknowledges in time and can tell the user "busy, try again"
// instead of holding the request. Three bounds keep one bad dependency (a
// slow Redis, a workspace whose Web API answers 429 Retry-After: 20) from
// turning into a backlog:
//
//   - Limit tasks run at once and Queue more may wait; beyond that, ErrBusy.
//     Goroutines are bounded by Limit, queued closures by Queue.
//   - A fair share per tenant (a Slack workspace, a Teams tenant): a
//     tenant beyond TenantShare of the running slots (or of the queue; at
//     least MinPerTenant) may only use what is spare: one share of the
//     slots, and one of the queue, stay free for the other tenants. So a
//     flooding tenant sheds its own work while every other tenant still
//     starts at once, and one busy tenant alone is not held to a quarter
//     of an idle group. Queued tasks start round-robin across tenants.
//   - Work the user has given up on is dropped, not run late: a task still
//     queued MaxAge (10 s) after its request arrived is discarded, and every
//     task's context ends Timeout (30 s) after that arrival.
//
// The time a request arrived is WithArrival's (the HTTP middleware can set
// it), else the time of the TryGo call.
//
// Use from an adapter:
//
//	if err := bg.TryGo(r.Context(), string(teamID), "slack interaction", work); err != nil {
//		// ErrBusy or ErrStale: acknowledge with "itfit is busy, try again in a moment".
//	}
package background

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

var (
	// ErrBusy is returned by TryGo when the group, or the tenant's share of
	// it, is full. Nothing was started; the caller should tell the user to
	// try again.
	ErrBusy = errors.New("background: busy")
	// ErrStale is returned by TryGo (and passed to Config.OnDrop for a
	// queued task) when the request arrived more than MaxAge ago: its user
	// has given up waiting.
	ErrStale = errors.New("background: request too old to serve")
)

// Config tunes a Group; the zero value gives the documented defaults.
type Config struct {
	// Limit is how many tasks run at once; default 256.
	Limit int
	// Queue is how many more may wait for a slot; default Limit.
	Queue int
	// Timeout ends each task's context this long after its request
	// arrived; default 30s.
	Timeout time.Duration
	// MaxAge drops a task that has not started this long after its request
	// arrived; default 10s.
	MaxAge time.Duration
	// TenantShare is the fraction of Limit, and of Queue, that one tenant
	// may always hold, and that is kept free for the others when one holds
	// more; default 1/4. The empty tenant is not limited by it.
	TenantShare float64
	// MinPerTenant is the share's floor, so a small group still serves a
	// tenant a few at a time; default 4.
	MinPerTenant int
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
	// OnDrop, if set, is called for each task refused or dropped (err is
	// ErrBusy or ErrStale), for metrics. It must not block.
	OnDrop func(tenant, name string, err error)
	// Logger receives panics and dropped tasks; default slog.Default().
	Logger *slog.Logger
}

// Group runs tasks under the bounds above. A panic in a task is logged,
// never fatal.
type Group struct {
	cfg                  Config
	log                  *slog.Logger
	runShare, queueShare int
	mu                   sync.Mutex
	running, queued      int
	tenants              map[string]*tenant
	ready                []string // tenants with queued tasks, in round-robin order
	next                 int      // where the round-robin resumes in ready
	wg                   sync.WaitGroup
	// idle hands a task to a goroutine that has just finished one and
	// waits a moment for another (see run), rather than start a goroutine
	// per task: a new goroutine's stack grows by copying, again, on every
	// task's first deep call (an HTTP/2 write under TLS), which was 7% of
	// the bot's CPU at saturation.
	idle chan *task
}

// idleWait is how long a goroutine that finished a task waits for the next.
const idleWait = time.Second

type tenant struct {
	running int
	queue   []*task
}

type task struct {
	ctx     context.Context
	tenant  string
	name    string
	arrived time.Time
	f       func(context.Context)
}

// New returns a group of limit running tasks (and as many queued) whose
// contexts end timeout after their request arrived, with the other
// defaults of Config.
func New(log *slog.Logger, limit int, timeout time.Duration) *Group {
	return NewGroup(Config{Limit: limit, Timeout: timeout, Logger: log})
}

// NewGroup returns a group tuned by cfg.
func NewGroup(cfg Config) *Group {
	if cfg.Limit <= 0 {
		cfg.Limit = 256
	}
	if cfg.Queue < 0 {
		cfg.Queue = 0
	} else if cfg.Queue == 0 {
		cfg.Queue = cfg.Limit
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 10 * time.Second
	}
	if cfg.TenantShare <= 0 || cfg.TenantShare > 1 {
		cfg.TenantShare = 0.25
	}
	if cfg.MinPerTenant <= 0 {
		cfg.MinPerTenant = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	share := func(n int) int { return min(n, max(cfg.MinPerTenant, int(float64(n)*cfg.TenantShare))) }
	return &Group{
		cfg: cfg, log: log,
		runShare: share(cfg.Limit), queueShare: share(cfg.Queue),
		tenants: map[string]*tenant{},
		idle:    make(chan *task),
	}
}

type arrivalKey struct{}

// WithArrival records when the request behind ctx arrived, so that the
// tasks it starts are aged from then rather than from the TryGo call.
func WithArrival(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, t)
}

// Arrival is the time WithArrival recorded, if any.
func Arrival(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(arrivalKey{}).(time.Time)
	return t, ok
}

// TryGo runs f for tenant with a context that carries ctx's values (the
// request's logger) but not its cancellation, and ends Timeout after the
// request arrived. It never blocks: it starts f, or queues it behind the
// tenant's running share, or returns ErrBusy (the group or the tenant's
// share is full) or ErrStale (the request is older than MaxAge). tenant
// is the Slack workspace or Teams tenant ID; "" is work of no tenant,
// which is not held to a share.
func (g *Group) TryGo(ctx context.Context, tenantKey, name string, f func(ctx context.Context)) error {
	now := g.cfg.Now()
	arrived, ok := Arrival(ctx)
	if !ok {
		arrived = now
	}
	if now.Sub(arrived) > g.cfg.MaxAge {
		g.drop(tenantKey, name, ErrStale)
		return ErrStale
	}
	runCap, queueCap := g.runShare, g.queueShare
	if tenantKey == "" {
		runCap, queueCap = g.cfg.Limit, g.cfg.Queue
	}

	g.mu.Lock()
	ts := g.tenants[tenantKey]
	var running, queued int
	if ts != nil {
		running, queued = ts.running, len(ts.queue)
	}
	start := g.running < g.cfg.Limit && queued == 0 && (running < runCap || g.running < g.cfg.Limit-g.runShare)
	if !start && (g.queued >= g.cfg.Queue || (queued >= queueCap && g.queued >= g.cfg.Queue-g.queueShare)) {
		g.mu.Unlock()
		g.drop(tenantKey, name, ErrBusy)
		return ErrBusy
	}
	if ts == nil {
		ts = &tenant{}
		g.tenants[tenantKey] = ts
	}
	t := &task{ctx: context.WithoutCancel(ctx), tenant: tenantKey, name: name, arrived: arrived, f: f}
	g.wg.Add(1)
	if start {
		g.running++
		ts.running++
		g.mu.Unlock()
		select {
		case g.idle <- t:
		default:
			go g.run(t)
		}
		return nil
	}
	ts.queue = append(ts.queue, t)
	if len(ts.queue) == 1 {
		g.ready = append(g.ready, tenantKey)
	}
	g.queued++
	g.mu.Unlock()
	return nil
}

// Go is TryGo without a tenant, for callers that do not pass one yet. It
// never blocks either: a task the group cannot take is dropped with a log
// line, and its user hears nothing. Prefer TryGo, which lets the caller
// say "busy" to the user, and holds each tenant to its share.
func (g *Group) Go(ctx context.Context, name string, f func(ctx context.Context)) {
	if err := g.TryGo(ctx, "", name, f); err != nil {
		g.log.Warn("background task not started", "task", name, "err", err)
	}
}

// run executes t, then whatever queued task its slot goes to next.
// A task counts in wg until its slot is released, so that when Wait
// returns every slot is free again.
// Then it waits up to idleWait for a task TryGo hands it.
func (g *Group) run(t *task) {
	var timer *time.Timer
	for {
		for t != nil {
			g.exec(t)
			next := g.release(t.tenant)
			g.wg.Done()
			t = next
		}
		if timer == nil {
			timer = time.NewTimer(idleWait)
		} else {
			timer.Reset(idleWait)
		}
		select {
		case t = <-g.idle:
		case <-timer.C:
			return
		}
	}
}

func (g *Group) exec(t *task) {
	ctx, cancel := context.WithTimeout(t.ctx, t.arrived.Add(g.cfg.Timeout).Sub(g.cfg.Now()))
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("background task panicked", "task", t.name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	t.f(ctx)
}

// release frees the slot a task of tenantKey held and hands it to the next
// queued task (round-robin across tenants), which it returns for the same
// goroutine to run; nil when none may start.
func (g *Group) release(tenantKey string) *task {
	g.mu.Lock()
	g.running--
	ts := g.tenants[tenantKey]
	ts.running--
	if ts.running == 0 && len(ts.queue) == 0 {
		delete(g.tenants, tenantKey)
	}
	next, stale := g.pickLocked()
	g.mu.Unlock()
	for _, t := range stale {
		g.log.Warn("background task dropped: its request is too old", "task", t.name, "tenant", t.tenant,
			"age", g.cfg.Now().Sub(t.arrived).String())
		g.drop(t.tenant, t.name, ErrStale)
		g.wg.Done()
	}
	return next
}

// pickLocked takes the next queued task that may start (its tenant is
// below its share) and accounts it as running; tasks found too old on the
// way are taken out and returned to be dropped.
func (g *Group) pickLocked() (next *task, stale []*task) {
	if g.running >= g.cfg.Limit {
		return nil, nil
	}
	now := g.cfg.Now()
	for scanned := 0; scanned < len(g.ready); {
		if g.next >= len(g.ready) {
			g.next = 0
		}
		key := g.ready[g.next]
		ts := g.tenants[key]
		runCap := g.runShare
		if key == "" {
			runCap = g.cfg.Limit
		}
		for len(ts.queue) > 0 && now.Sub(ts.queue[0].arrived) > g.cfg.MaxAge {
			stale = append(stale, ts.queue[0])
			ts.queue = ts.queue[1:]
			g.queued--
		}
		if len(ts.queue) == 0 {
			g.ready = append(g.ready[:g.next], g.ready[g.next+1:]...)
			if ts.running == 0 {
				delete(g.tenants, key)
			}
			continue
		}
		if ts.running >= runCap && g.running >= g.cfg.Limit-g.runShare {
			g.next++
			scanned++
			continue
		}
		next = ts.queue[0]
		ts.queue = ts.queue[1:]
		g.queued--
		g.running++
		ts.running++
		if len(ts.queue) == 0 {
			g.ready = append(g.ready[:g.next], g.ready[g.next+1:]...)
		} else {
			g.next++
		}
		return next, stale
	}
	return nil, stale
}

func (g *Group) drop(tenantKey, name string, err error) {
	if g.cfg.OnDrop != nil {
		g.cfg.OnDrop(tenantKey, name, err)
	}
}

// Wait blocks until every task, running or queued, has finished (or been
// dropped as too old) or ctx ends.
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
