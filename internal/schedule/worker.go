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

// Deliverer sends one nudge to its platform. It returns:
//   - nil once the platform accepted it;
//   - an error wrapping ErrGone when the bot can no longer reach the
//     recipient (uninstalled, user deactivated): the job is dropped;
//   - an error carrying a retry delay (see RetryAfter) when rate limited: the
//     platform refused it, so it is simply sent later;
//   - an error wrapping ErrAmbiguous (see Ambiguous) when the request may
//     have reached the platform but no answer says so: a timeout, a
//     connection reset after the request was written, a 5xx from a platform
//     that may have acted. The worker never simply resends these (see
//     Confirmer). It also treats as ambiguous any timeout (a context's, or
//     a net.Error's, such as http.Client.Timeout's) and any error returned
//     after the delivery's context ended (DeliverTimeout, shutdown);
//   - an error wrapping ErrNotSent (see NotSent) when the Deliverer knows
//     that nothing reached the platform (it failed before the request was
//     written): retried with backoff, even if it was a timeout;
//   - any other error for a failure known to have sent nothing (the request
//     was never written, or the platform refused it): retried with backoff.
//
// The job being delivered is also in ctx (see Delivering), for a notifier
// under layers that pass on only the recipient.
type Deliverer interface {
	Deliver(ctx context.Context, j Job) error
}

// DelivererFunc adapts a function to Deliverer.
type DelivererFunc func(ctx context.Context, j Job) error

// Deliver calls f.
func (f DelivererFunc) Deliver(ctx context.Context, j Job) error { return f(ctx, j) }

// Confirmer is the optional check that makes an ambiguous delivery safe to
// retry: before the worker sends an occurrence whose earlier attempt had an
// unknown outcome (an ambiguous error, a timeout, or a worker that died
// mid-delivery), it asks Delivered. true: the occurrence is recorded as sent
// and not sent again; false: it is sent; an error: the question is asked
// again later (with backoff). A Deliverer that implements Confirmer is used
// as one, or WorkerConfig.Confirmer names one (for a Deliverer wrapped by
// middleware that hides the method).
//
// The answer must cover every earlier attempt of the occurrence: the Slack
// one tags each message with Job.Occurrence in its metadata and looks for
// that tag with conversations.history from Job.Due on. The worker asks only
// AmbiguousDelay after the ambiguous attempt, so that a platform that was
// slow to act (Slack answering after its client's timeout) has acted.
//
// A Confirmer that cannot verify this job (its platform has no such check,
// or lacks the permission to read it) returns an error wrapping
// ErrUnverifiable: the worker then does as it does without a Confirmer
// (see WorkerConfig.AmbiguousResends).
type Confirmer interface {
	Delivered(ctx context.Context, j Job) (bool, error)
}

// ErrUnverifiable is what a Confirmer returns for a job it cannot verify.
var ErrUnverifiable = errors.New("schedule: delivery cannot be verified")

// ErrNotSent marks a failed delivery that reached nothing: the request was
// never written (a refused or timed-out dial, no token, a lookup that failed
// before the send). Wrap errors with NotSent; test with errors.Is.
var ErrNotSent = errors.New("schedule: nothing was sent")

// NotSent marks err as a failure known to have sent nothing (see
// ErrNotSent), so that the worker retries it as such even when it is a
// timeout, which it would otherwise count as ambiguous. NotSent(nil) is nil.
func NotSent(err error) error {
	if err == nil {
		return nil
	}
	return &notSentError{err: err}
}

type notSentError struct{ err error }

func (e *notSentError) Error() string   { return "not sent: " + e.err.Error() }
func (e *notSentError) Unwrap() []error { return []error{ErrNotSent, e.err} }

type jobKey struct{}

// Delivering returns the job whose delivery ctx belongs to: the worker puts
// it in the context of every Deliver call, so that a platform's notifier
// can tag what it sends with Job.Occurrence (see Confirmer) however many
// layers lie between.
func Delivering(ctx context.Context) (Job, bool) {
	j, ok := ctx.Value(jobKey{}).(Job)
	return j, ok
}

// WithJob returns ctx carrying j, as the worker's Deliver calls have it
// (see Delivering); for Deliverers' tests.
func WithJob(ctx context.Context, j Job) context.Context {
	return context.WithValue(ctx, jobKey{}, j)
}

// ErrGone tells the worker to drop the job without retrying: the platform
// says the bot is gone for this recipient.
var ErrGone = errors.New("schedule: recipient gone")

// ErrAmbiguous marks a delivery whose outcome is unknown: the platform may
// have accepted it. Wrap errors with Ambiguous; test with errors.Is.
var ErrAmbiguous = errors.New("schedule: delivery outcome unknown")

// Ambiguous marks err as an unknown outcome (see ErrAmbiguous); the result
// still matches err with errors.Is and errors.As. Ambiguous(nil) is nil.
func Ambiguous(err error) error {
	if err == nil {
		return nil
	}
	return &ambiguousError{err: err}
}

type ambiguousError struct{ err error }

func (e *ambiguousError) Error() string   { return "outcome unknown: " + e.err.Error() }
func (e *ambiguousError) Unwrap() []error { return []error{ErrAmbiguous, e.err} }

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

// Outcome names what happened to one claimed occurrence, for metrics (see
// WorkerConfig.Observe).
type Outcome string

// The outcomes. OutcomeResent is the one that can duplicate a nudge: it is
// an ambiguous occurrence sent again with no Confirmer to ask.
const (
	OutcomeSent        Outcome = "sent"         // delivered and recorded
	OutcomeAlreadySent Outcome = "already_sent" // found recorded before sending; not sent again
	OutcomeConfirmed   Outcome = "confirmed"    // the Confirmer found the earlier attempt delivered; not sent again
	OutcomeResent      Outcome = "resent"       // ambiguous, no Confirmer: sent again, a possible duplicate
	OutcomeAmbiguous   Outcome = "ambiguous"    // this attempt's outcome is unknown; checked again after AmbiguousDelay
	OutcomeOrphaned    Outcome = "orphaned"     // its worker stopped mid-delivery; checked again after AmbiguousDelay
	OutcomeRetried     Outcome = "retried"      // failed (or could not be verified); retried with backoff
	OutcomeRateLimited Outcome = "rate_limited" // retried after the platform's Retry-After
	OutcomeGone        Outcome = "gone"         // the recipient is gone; dropped
	OutcomeDead        Outcome = "dead"         // dead-lettered: out of attempts, or ambiguous and not resent
)

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
	// Lease is how long a claim stays invisible to other workers without a
	// heartbeat; default 30s. A delivery in flight has its lease extended
	// every Heartbeat, so a slow delivery keeps its claim, and a worker that
	// dies mid-delivery delays that nudge by at most one Lease (plus
	// AmbiguousDelay, as its outcome is unknown).
	Lease time.Duration
	// Heartbeat is how often the leases of deliveries in flight are
	// extended (wall time); default Lease/3, at most Lease/2. A lease is
	// extended only while its claim is still held (the token is checked in
	// Redis) and for at most 2·DeliverTimeout+Lease, so a Deliverer that
	// ignores its context cannot pin a job for ever.
	Heartbeat time.Duration
	// DeliverTimeout bounds one Deliver call, and one Confirmer call;
	// default 1m. It is independent of Lease (the heartbeat covers it).
	DeliverTimeout time.Duration
	// MaxAttempts is how many failed deliveries an occurrence gets before it
	// is dead-lettered; default 8. Ambiguous attempts count.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential retry delay; defaults
	// 30s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// AmbiguousDelay is how long after an ambiguous attempt (or an orphaned
	// one, counted from when its lease ran out) the occurrence is looked at
	// again: verified with the Confirmer, or resent; default 1m. It gives a
	// platform that answered late time to have acted.
	AmbiguousDelay time.Duration
	// AmbiguousResends bounds how many ambiguous attempts of one occurrence
	// are resent when there is no Confirmer: each resend may duplicate the
	// nudge (it is logged and reported as OutcomeResent); after that many
	// the occurrence is dead-lettered instead, which may lose it. Default 1
	// (a nudge may arrive twice, never three times, and is not lost to a
	// single timeout); negative: never resend (a nudge is never duplicated
	// but a timeout may lose it). With a Confirmer nothing is resent
	// unverified, and this applies only to the jobs it answers
	// ErrUnverifiable for.
	AmbiguousResends int
	// Confirmer verifies ambiguous deliveries; default the Deliverer, if it
	// implements Confirmer.
	Confirmer Confirmer
	// StopTimeout bounds how long Run takes to return after its context
	// ends; default 1s. Deliveries in flight have the first half to finish;
	// then their contexts are cancelled, and what they return is settled
	// (an interrupted delivery counts as ambiguous) in the second half. A
	// delivery that still has not returned is abandoned: its lease runs out
	// and the occurrence is treated as orphaned by the next worker.
	StopTimeout time.Duration
	// Observe, if set, is called with the outcome of every claimed
	// occurrence (for metrics); it must not block.
	Observe func(Outcome, Job)
	// Logger receives the drop, dead-letter and error lines; default
	// slog.Default().
	Logger *slog.Logger
}

// Worker delivers due jobs from a Store. Run any number of them, in any
// number of processes, on the same Store.
type Worker struct {
	s       *Store
	d       Deliverer
	confirm Confirmer
	cfg     WorkerConfig
	resends int
	log     *slog.Logger
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
		cfg.Lease = 30 * time.Second
	}
	if cfg.Heartbeat <= 0 || cfg.Heartbeat > cfg.Lease/2 {
		cfg.Heartbeat = cfg.Lease / 3
	}
	if cfg.DeliverTimeout <= 0 {
		cfg.DeliverTimeout = time.Minute
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
	if cfg.AmbiguousDelay <= 0 {
		cfg.AmbiguousDelay = time.Minute
	}
	resends := cfg.AmbiguousResends
	switch {
	case resends == 0:
		resends = 1
	case resends < 0:
		resends = 0
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = time.Second
	}
	confirm := cfg.Confirmer
	if confirm == nil {
		confirm, _ = d.(Confirmer)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Worker{s: s, d: d, confirm: confirm, cfg: cfg, resends: resends, log: log.With("component", "schedule")}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Run polls for due jobs and delivers them until ctx ends, then returns
// within StopTimeout (default 1s) whatever the deliveries in flight do:
// they get half of it to finish, then their contexts are cancelled and what
// they return is settled; an interrupted delivery is ambiguous, so after a
// restart it is verified (or, with no Confirmer, resent once) rather than
// sent blindly. The bound also needs the Store's client to honour context
// cancellation for a claim in progress when ctx ends (redisconn's profiles
// do; go-redis's default client finishes that one round trip first). It
// returns nil; Redis errors are logged and retried.
func (w *Worker) Run(ctx context.Context) error {
	base := context.WithoutCancel(ctx)
	deliverCtx, stopDeliveries := context.WithCancel(base)
	defer stopDeliveries()
	settleCtx, stopSettling := context.WithCancel(base)
	defer stopSettling()

	fl := &flights{m: map[*flight]struct{}{}}
	// Once Run returns nothing of it extends a lease: a claim it abandons
	// runs out from its last extension.
	defer fl.close()
	hbCtx, stopHeartbeat := context.WithCancel(base)
	defer stopHeartbeat()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		w.heartbeat(hbCtx, fl)
	}()

	slots := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	w.poll(ctx, slots, &wg, func(c claimed) {
		w.handle(deliverCtx, settleCtx, fl, c)
	})

	// One deadline for everything that follows.
	grace := time.NewTimer(w.cfg.StopTimeout / 2)
	defer grace.Stop()
	hard := time.NewTimer(w.cfg.StopTimeout)
	defer hard.Stop()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-grace.C:
		w.log.Info("cancelling nudge deliveries still in flight at shutdown; they are verified after restart", "in_flight", fl.len())
		stopDeliveries()
		select {
		case <-done:
		case <-hard.C:
			stopSettling()
			w.log.Warn("abandoning nudge deliveries that did not return at shutdown; each is treated as orphaned after its lease", "in_flight", fl.len())
			return nil
		}
	}
	stopHeartbeat()
	select {
	case <-hbDone:
	case <-hard.C:
	}
	return nil
}

// poll claims due jobs while ctx lasts and starts handle for each.
func (w *Worker) poll(ctx context.Context, slots chan struct{}, wg *sync.WaitGroup, handle func(claimed)) {
	failures := 0
	var pruned time.Time
	for ctx.Err() == nil {
		// Claim only as many jobs as there are free slots, so a lease starts
		// when its delivery starts instead of while it waits in a queue.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
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
		if now.Sub(pruned) >= time.Minute {
			pruned = now
			if n, err := w.s.pruneDead(ctx, now); err != nil && ctx.Err() == nil {
				w.log.Warn("pruning old dead letters failed; tried again in a minute", "err", err)
			} else if n > 0 {
				w.log.Info("dropped dead letters past their age", "count", n)
			}
		}
		jobs, err := w.s.claim(ctx, now, now.Add(w.cfg.Lease), free)
		for range free - len(jobs) {
			<-slots
		}
		for _, c := range jobs {
			wg.Go(func() {
				defer func() { <-slots }()
				handle(c)
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
}

// handle settles one claimed job: verifies, delivers, records. dctx ends
// at shutdown's first half (it bounds platform calls), sctx at its end (it
// bounds the Redis calls that settle).
func (w *Worker) handle(dctx, sctx context.Context, fl *flights, c claimed) {
	log := w.log.With("job", c.job.ID, "due", c.job.Due, "attempt", c.job.Attempt)
	if c.orphaned {
		// Its worker began sending and never settled: the nudge may be on
		// the platform. Look again after AmbiguousDelay, as for a timeout.
		log.Warn("nudge orphaned by a worker that stopped mid-delivery; it is verified before any resend")
		w.observe(OutcomeOrphaned, c.job)
		w.ambiguous(sctx, log, c, errors.New("orphaned: the delivering worker stopped"))
		return
	}
	defer fl.add(c, w.cfg.Now())()

	state, err := w.s.begin(sctx, c)
	switch {
	case err != nil:
		// Nothing was sent and the claim is not marked in flight: when its
		// lease runs out it is delivered as usual.
		log.Error("starting a delivery failed; the nudge is retried after its lease", "err", err)
		return
	case state == beginLost:
		log.Info("nudge was replaced, cancelled or re-claimed before sending; left as it is")
		return
	case state == beginSent:
		log.Info("nudge already delivered before its claim was settled; removing it, not sending it again")
		w.observe(OutcomeAlreadySent, c.job)
		w.ack(sctx, log, c)
		return
	}

	if c.job.Ambiguous > 0 {
		if !w.checkAmbiguous(dctx, sctx, log, c) {
			return
		}
	}
	if dctx.Err() != nil {
		// Shutdown came before the request was made: nothing was sent.
		w.requeue(sctx, log, c, w.cfg.Now())
		return
	}

	ctx, cancel := context.WithTimeout(WithJob(dctx, c.job), w.cfg.DeliverTimeout)
	err = w.d.Deliver(ctx, c.job)
	interrupted := ctx.Err() != nil
	cancel()

	var ra *RetryAfterError
	switch {
	case err == nil:
		w.observe(OutcomeSent, c.job)
		w.ack(sctx, log, c)
	case errors.Is(err, ErrGone):
		log.Warn("recipient gone; dropping nudge", "err", err)
		w.observe(OutcomeGone, c.job)
		w.finish(sctx, log, c, nil)
	case errors.Is(err, ErrAmbiguous):
		w.ambiguous(sctx, log, c, err)
	case errors.As(err, &ra):
		c.job.Attempt++
		if c.job.Attempt >= w.cfg.MaxAttempts {
			w.dead(sctx, log, c, err.Error())
			return
		}
		// Retry-After is a floor: jitter only ever adds to it.
		delay := max(ra.After, 0) + rand.N(min(max(ra.After, 0)/10, time.Second)+1)
		log.Info("rate limited; retrying after the platform's delay", "err", err, "delay", delay)
		w.observe(OutcomeRateLimited, c.job)
		w.requeue(sctx, log, c, w.cfg.Now().Add(delay))
	case errors.Is(err, ErrNotSent) && dctx.Err() != nil:
		// Shutdown cut it before anything went out: unchanged, and due now.
		w.requeue(sctx, log, c, w.cfg.Now())
	case errors.Is(err, ErrNotSent):
		w.retry(sctx, log, c, err)
	case interrupted || isTimeout(err):
		w.ambiguous(sctx, log, c, err)
	default:
		w.retry(sctx, log, c, err)
	}
}

// isTimeout reports a timeout (a context's, or a net.Error's such as
// http.Client.Timeout): the request may have been written and acted on.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// checkAmbiguous decides whether an occurrence with an ambiguous earlier
// attempt may be sent now; when not, it has settled it.
func (w *Worker) checkAmbiguous(dctx, sctx context.Context, log *slog.Logger, c claimed) bool {
	log = log.With("ambiguous", c.job.Ambiguous)
	if w.confirm == nil {
		return w.unverified(sctx, log, c)
	}
	ctx, cancel := context.WithTimeout(dctx, w.cfg.DeliverTimeout)
	delivered, err := w.confirm.Delivered(ctx, c.job)
	cancel()
	switch {
	case err != nil && dctx.Err() != nil:
		// Shutdown interrupted the check, not the delivery: unchanged.
		w.requeue(sctx, log, c, w.cfg.Now())
		return false
	case errors.Is(err, ErrUnverifiable):
		log.Warn("the platform cannot verify this nudge's earlier attempt", "err", err)
		return w.unverified(sctx, log, c)
	case err != nil:
		w.retry(sctx, log, c, fmt.Errorf("verifying an ambiguous delivery: %w", err))
		return false
	case delivered:
		log.Info("an earlier attempt had been delivered; recorded as sent, not sent again")
		w.observe(OutcomeConfirmed, c.job)
		w.ack(sctx, log, c)
		return false
	default:
		log.Info("verified that no earlier attempt was delivered; sending")
		return true
	}
}

// unverified decides, with nothing to verify it, whether an occurrence with
// an ambiguous earlier attempt is resent (within AmbiguousResends); when
// not, it has dead-lettered it.
func (w *Worker) unverified(sctx context.Context, log *slog.Logger, c claimed) bool {
	if c.job.Ambiguous > w.resends {
		log.Warn("an earlier attempt may have been delivered and cannot be verified; not resending it")
		w.dead(sctx, log, c, "not resent: an earlier attempt may have been delivered")
		return false
	}
	log.Warn("resending a nudge whose earlier attempt may have been delivered (nothing can verify it): possible duplicate")
	w.observe(OutcomeResent, c.job)
	return true
}

// ambiguous settles an attempt whose outcome is unknown: it is looked at
// again after AmbiguousDelay (verified, or resent within AmbiguousResends).
func (w *Worker) ambiguous(ctx context.Context, log *slog.Logger, c claimed, err error) {
	c.job.Ambiguous++
	c.job.Attempt++
	if c.job.Attempt >= w.cfg.MaxAttempts {
		w.dead(ctx, log, c, "outcome unknown, may have been delivered: "+err.Error())
		return
	}
	log.Warn("nudge delivery outcome unknown; it is verified before any resend", "err", err,
		"ambiguous", c.job.Ambiguous, "delay", w.cfg.AmbiguousDelay)
	w.observe(OutcomeAmbiguous, c.job)
	w.requeue(ctx, log, c, w.cfg.Now().Add(w.cfg.AmbiguousDelay))
}

// retry settles a failure that sent nothing: backoff, or dead letter.
func (w *Worker) retry(ctx context.Context, log *slog.Logger, c claimed, err error) {
	delay := w.backoff(c.job.Attempt, w.cfg.MinBackoff, w.cfg.MaxBackoff)
	c.job.Attempt++
	if c.job.Attempt >= w.cfg.MaxAttempts {
		w.dead(ctx, log, c, err.Error())
		return
	}
	log.Warn("delivering nudge failed; retrying", "err", err, "delay", delay)
	w.observe(OutcomeRetried, c.job)
	w.requeue(ctx, log, c, w.cfg.Now().Add(delay))
}

// dead removes the job and keeps it as a dead letter.
func (w *Worker) dead(ctx context.Context, log *slog.Logger, c claimed, reason string) {
	log.Error("nudge dead-lettered", "reason", reason, "attempts", c.job.Attempt, "ambiguous", c.job.Ambiguous)
	w.observe(OutcomeDead, c.job)
	now := w.cfg.Now()
	w.finish(ctx, log, c, encodeDeadLetter(c.job, reason, now))
}

func (w *Worker) observe(o Outcome, j Job) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(o, j)
	}
}

func (w *Worker) ack(ctx context.Context, log *slog.Logger, c claimed) {
	res, err := w.s.ack(ctx, c)
	switch {
	case err != nil:
		// The claim stays marked in flight, so the next worker treats it as
		// orphaned: verified (or counted as a possible duplicate).
		log.Error("nudge delivered but recording it failed; it is verified before any resend", "err", err)
	case res == ackRecorded:
		log.Info("nudge delivered after its claim was lost; recorded, so its new holder does not send it again")
	case res == ackGone:
		log.Info("nudge delivered, but it was cancelled meanwhile; nothing recorded")
	}
}

func (w *Worker) finish(ctx context.Context, log *slog.Logger, c claimed, dead []byte) {
	held, err := w.s.finish(ctx, c, dead, w.cfg.Now())
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

// flights are the claims this worker is settling, whose leases the
// heartbeat extends.
type flights struct {
	mu     sync.Mutex
	m      map[*flight]struct{}
	closed bool // Run has returned: extend no more
}

func (f *flights) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

type flight struct {
	c       claimed
	start   time.Time
	stopped bool // lost, or past its bound: no longer extended
}

// add registers c and returns the function that removes it.
func (f *flights) add(c claimed, now time.Time) func() {
	fl := &flight{c: c, start: now}
	f.mu.Lock()
	f.m[fl] = struct{}{}
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.m, fl)
		f.mu.Unlock()
	}
}

func (f *flights) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// heartbeat extends the leases of the deliveries in flight every Heartbeat
// until ctx ends.
func (w *Worker) heartbeat(ctx context.Context, f *flights) {
	t := time.NewTicker(w.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.extend(ctx, f)
	}
}

func (w *Worker) extend(ctx context.Context, f *flights) {
	bound := 2*w.cfg.DeliverTimeout + w.cfg.Lease
	var live []*flight
	f.mu.Lock()
	if f.closed || ctx.Err() != nil {
		f.mu.Unlock()
		return
	}
	// Read under the lock that close takes, so no extension computed after
	// Run returned can carry a later time.
	now := w.cfg.Now()
	for fl := range f.m {
		switch {
		case fl.stopped:
		case now.Sub(fl.start) > bound:
			fl.stopped = true
			w.log.Warn("nudge delivery running past its bound; its lease is left to run out and it will be verified",
				"job", fl.c.job.ID, "bound", bound)
		default:
			live = append(live, fl)
		}
	}
	f.mu.Unlock()
	if len(live) == 0 {
		return
	}
	cs := make([]claimed, len(live))
	for i, fl := range live {
		cs[i] = fl.c
	}
	lost, err := w.s.extend(ctx, cs, now.Add(w.cfg.Lease))
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("extending nudge leases failed; tried again at the next heartbeat", "err", err)
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range lost {
		if l {
			live[i].stopped = true
			w.log.Info("nudge claim lost during delivery (cancelled, replaced or re-claimed); no longer extended", "job", live[i].c.job.ID)
		}
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
