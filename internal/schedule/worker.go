package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Deliverer sends one nudge to its platform. It returns nil once the
// platform accepted it, an error wrapping ErrGone when the bot can no longer
// reach the recipient (uninstalled, user deactivated), an error carrying a
// retry delay (see RetryAfter) when rate limited, and any other error for a
// failure worth retrying.
type Deliverer interface {
	Deliver(ctx context.Context, j Job) error
}

// DelivererFunc adapts a function to Deliverer.
type DelivererFunc func(ctx context.Context, j Job) error

// Deliver calls f.
func (f DelivererFunc) Deliver(ctx context.Context, j Job) error { return f(ctx, j) }

// ErrGone tells the worker to drop the job without retrying: the platform
// says the bot is gone for this recipient.
var ErrGone = errors.New("schedule: recipient gone")

// RetryAfterError is a rate-limit answer (HTTP 429 with Retry-After): the
// job is retried no earlier than After from now.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

// RetryAfter wraps err with the platform's requested delay.
func RetryAfter(after time.Duration, err error) error {
	return &RetryAfterError{After: after, Err: err}
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// WorkerConfig tunes a Worker; the zero value gives the documented defaults.
type WorkerConfig struct {
	// Now is the clock; default time.Now. Tests inject a fake one.
	Now func() time.Time
	// Sleep waits between polls; default a timer that stops early when ctx
	// ends. Tests inject one that does not wait on the wall clock.
	Sleep func(ctx context.Context, d time.Duration)
	// PollInterval is the pause when nothing is due; default 1s, jittered
	// by up to +20% so that replicas do not poll in step.
	PollInterval time.Duration
	// Batch bounds how many jobs one claim takes; default 32.
	Batch int
	// Concurrency bounds deliveries in flight; default 8.
	Concurrency int
	// Lease is how long a claimed job stays invisible to other workers;
	// default 2m. A worker that dies mid-delivery delays that nudge by at
	// most this long.
	Lease time.Duration
	// DeliverTimeout bounds one Deliver call; default and maximum Lease/2,
	// so that a delivery ends while the claim is still held and a slow
	// delivery is not raced by a second worker.
	DeliverTimeout time.Duration
	// MaxAttempts is how many failed deliveries an occurrence gets before it
	// is dead-lettered; default 8.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential retry delay; defaults
	// 30s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the drop, dead-letter and error lines; default
	// slog.Default().
	Logger *slog.Logger
}

// Worker delivers due jobs from a Store. Run any number of them, in any
// number of processes, on the same Store.
type Worker struct {
	s   *Store
	d   Deliverer
	cfg WorkerConfig
	log *slog.Logger
}

// NewWorker returns a Worker delivering s's jobs through d.
func NewWorker(s *Store, d Deliverer, cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 32
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.DeliverTimeout <= 0 || cfg.DeliverTimeout > cfg.Lease/2 {
		cfg.DeliverTimeout = cfg.Lease / 2
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 30 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(time.Hour, cfg.MinBackoff)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Worker{s: s, d: d, cfg: cfg, log: log.With("component", "schedule")}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Run polls for due jobs and delivers them until ctx ends. On the way out it
// waits for deliveries in flight, which run on a context that is not
// cancelled with ctx but bounded by DeliverTimeout, and acks or requeues
// them, so no claim is left to wait for its lease. It returns nil after a
// graceful stop; Redis errors are logged and retried, not returned.
func (w *Worker) Run(ctx context.Context) error {
	slots := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for ctx.Err() == nil {
		// Claim only as many jobs as there are free slots, so a lease starts
		// when its delivery starts instead of while it waits in a queue.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	grab:
		for free < w.cfg.Batch {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break grab
			}
		}
		now := w.cfg.Now()
		jobs, err := w.s.claim(ctx, now, now.Add(w.cfg.Lease), free)
		for range free - len(jobs) {
			<-slots
		}
		for _, c := range jobs {
			wg.Go(func() {
				defer func() { <-slots }()
				w.handle(context.WithoutCancel(ctx), c)
			})
		}
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			w.log.Error("claiming due nudges failed", "err", err, "failures", failures)
			w.cfg.Sleep(ctx, w.backoff(failures-1, w.cfg.PollInterval, 30*w.cfg.PollInterval))
		case len(jobs) < free:
			failures = 0
			w.cfg.Sleep(ctx, w.jitter(w.cfg.PollInterval))
		default:
			failures = 0 // more may be due: claim again at once
		}
	}
	return nil
}

// handle delivers one claimed job and settles it. ctx is not cancelled by
// Run's caller, so settling happens even during shutdown.
func (w *Worker) handle(ctx context.Context, c claimed) {
	log := w.log.With("job", c.job.ID, "due", c.job.Due, "attempt", c.job.Attempt)
	sent, err := w.s.wasSent(ctx, c.job)
	if err != nil {
		// Without the answer a send could be a duplicate; let the lease run
		// out and try again rather than risk it.
		log.Error("checking sent record failed; job retried after its lease", "err", err)
		return
	}
	if sent {
		log.Info("nudge already delivered before its ack was lost; removing it")
		w.finish(ctx, log, c, nil)
		return
	}

	dctx, cancel := context.WithTimeout(ctx, w.cfg.DeliverTimeout)
	err = w.d.Deliver(dctx, c.job)
	cancel()

	var ra *RetryAfterError
	switch {
	case err == nil:
		if err := w.s.markSent(ctx, c.job); err != nil {
			log.Error("nudge delivered but recording it failed; it may be sent again", "err", err)
			return
		}
		w.finish(ctx, log, c, nil)
	case errors.Is(err, ErrGone):
		log.Warn("recipient gone; dropping nudge", "err", err)
		w.finish(ctx, log, c, nil)
	case c.job.Attempt+1 >= w.cfg.MaxAttempts:
		c.job.Attempt++
		log.Error("nudge out of attempts; dead-lettered", "err", err, "attempts", c.job.Attempt)
		w.finish(ctx, log, c, encodeDeadLetter(c.job, err.Error(), w.cfg.Now()))
	case errors.As(err, &ra):
		// Retry-After is a floor: jitter only ever adds to it.
		delay := max(ra.After, 0) + rand.N(min(max(ra.After, 0)/10, time.Second)+1)
		c.job.Attempt++
		log.Info("rate limited; retrying after the platform's delay", "err", err, "delay", delay)
		w.requeue(ctx, log, c, w.cfg.Now().Add(delay))
	default:
		delay := w.backoff(c.job.Attempt, w.cfg.MinBackoff, w.cfg.MaxBackoff)
		c.job.Attempt++
		log.Warn("delivering nudge failed; retrying", "err", err, "delay", delay)
		w.requeue(ctx, log, c, w.cfg.Now().Add(delay))
	}
}

func (w *Worker) finish(ctx context.Context, log *slog.Logger, c claimed, dead []byte) {
	held, err := w.s.finish(ctx, c, dead)
	switch {
	case err != nil:
		log.Error("removing nudge failed; it comes back after its lease", "err", err)
	case !held:
		log.Info("nudge was replaced, cancelled or re-claimed during delivery; left as it is")
	}
}

func (w *Worker) requeue(ctx context.Context, log *slog.Logger, c claimed, at time.Time) {
	held, err := w.s.requeue(ctx, c, at)
	switch {
	case err != nil:
		log.Error("rescheduling nudge failed; it comes back after its lease", "err", err)
	case !held:
		log.Info("nudge was replaced, cancelled or re-claimed during delivery; left as it is")
	}
}

// backoff is min*2^attempt capped at max, with "equal jitter": half fixed,
// half random, so delays still grow while replicas spread out.
func (w *Worker) backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := hi
	if attempt < 32 {
		d = min(lo<<attempt, hi)
	}
	if d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// jitter adds up to 20% to d.
func (w *Worker) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + rand.N(d/5+1)
}
