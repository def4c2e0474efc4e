// Package webhooks sends itfit's events to the operator's own systems (a
// CRM, a PSA): audit.completed, result.shared, revisit.due, verdict.changed
// and user.forgotten, as JSON (schema/v1.json) POSTed to https endpoints
// configured in ITFIT_WEBHOOKS.
//
// Deliveries are signed to the Standard Webhooks specification
// (webhook-id, webhook-timestamp, webhook-signature: HMAC-SHA256 with each
// whsec_ secret, so several secrets can be live during a rotation), with
// the specification's Go library; receivers verify them with any of its
// libraries.
//
// Delivery is durable and never on a person's path: the chat flows only
// queue an event in Redis (one script and one schedule write), and a worker
// sends it. Each event is a job in a schedule of its own (internal/schedule:
// leases with heartbeats, no job lost to a crashed replica), and sits in a
// queue per person and endpoint, of which only the head is ever sent, by
// one sender at a time: events about a person reach each endpoint in the
// order they happened. A failed attempt is retried with exponential
// backoff and jitter, or after the receiver's Retry-After, always with the
// same webhook-id so that receivers can deduplicate; after the endpoint's
// max_attempts it becomes a dead letter that `bot webhooks` lists, replays
// or drops, and the next event goes.
//
// Privacy: an event says what happened to which platform user ID; the
// result itself (verdict, reasons, scope, what changed) and the person's
// name go only where the person shared their result with an account
// manager or the operator assigned one to their workspace. Forget drops
// everything queued for the person and queues user.forgotten after any
// send in flight, so nothing about them is sent after it.
package webhooks

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// Managers says who a person's account manager is (*revisit.Service): a
// person with one (shared, or assigned by the operator) may be disclosed.
type Managers interface {
	ManagerOf(ctx context.Context, u conversation.UserKey) (revisit.Manager, bool, error)
}

// History gives a person's results, newest first (*conversation.Engine).
type History interface {
	History(ctx context.Context, u conversation.UserKey) ([]conversation.Result, error)
}

// Options build a Service.
type Options struct {
	Prefix keys.Prefix
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger gets the queueing and delivery lines; never a URL, a secret or
	// a body.
	Logger  *slog.Logger
	Metrics *obs.Metrics
	// Managers decides disclosure; nil: nobody has a manager, so events
	// carry IDs only.
	Managers Managers
	// History gives the result a result.shared event carries.
	History History
	// RootCAs verifies receivers' certificates; nil: the system's.
	RootCAs *x509.CertPool
	// UserAgent is sent with every delivery; default "itfit-webhooks".
	UserAgent string
}

// Service queues events and delivers them. It is safe for concurrent use.
type Service struct {
	endpoints []Endpoint
	targets   map[string]*target
	q         *queue
	o         Options
	log       *slog.Logger
}

// New returns a Service for the endpoints (see Parse), queueing on rdb.
func New(rdb redis.UniversalClient, endpoints []Endpoint, o Options) (*Service, error) {
	if o.Prefix == "" {
		o.Prefix = keys.Default
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UserAgent == "" {
		o.UserAgent = "itfit-webhooks"
	}
	s := &Service{endpoints: endpoints, targets: map[string]*target{}, q: newQueue(rdb, o.Prefix), o: o,
		log: o.Logger.With("component", "webhooks")}
	for _, ep := range endpoints {
		t, err := newTarget(ep, o.RootCAs)
		if err != nil {
			return nil, err
		}
		s.targets[ep.Name] = t
	}
	return s, nil
}

// Endpoints are the configured endpoints.
func (s *Service) Endpoints() []Endpoint { return s.endpoints }

// WorkerConfig tunes the delivery worker; the zero value is production's.
type WorkerConfig struct {
	// Now and Sleep are the worker's clock (tests inject fakes); see
	// schedule.WorkerConfig.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration)
	// Concurrency bounds deliveries in flight; default 8.
	Concurrency int
	// Heartbeat is how often leases of deliveries in flight are extended.
	Heartbeat time.Duration
}

// Worker returns the delivery worker, on its own (patient) Redis client:
// run it with Run beside the server, in any number of replicas.
func (s *Service) Worker(bg redis.UniversalClient, cfg WorkerConfig) *schedule.Worker {
	now := cfg.Now
	if now == nil {
		now = s.o.Now
	}
	q := newQueue(bg, s.o.Prefix)
	d := &deliverer{q: q, targets: s.targets, now: now, log: s.log, metrics: s.o.Metrics, userAgent: s.o.UserAgent}
	timeout := DefaultTimeout
	for _, ep := range s.endpoints {
		timeout = max(timeout, ep.Timeout)
	}
	return schedule.NewWorker(q.sched, d, schedule.WorkerConfig{
		Now: now, Sleep: cfg.Sleep, Concurrency: cfg.Concurrency, Heartbeat: cfg.Heartbeat,
		DeliverTimeout: timeout + 30*time.Second,
		// The deliverer counts attempts per event and dead-letters them
		// itself (the schedule's own counts include the polls of events
		// waiting their turn), and a resend after an unknown outcome is
		// what the specification expects: the same webhook-id, which
		// receivers deduplicate.
		MaxAttempts:      math.MaxInt32,
		AmbiguousResends: math.MaxInt32,
		AmbiguousDelay:   minBackoff,
		MinBackoff:       time.Second,
		MaxBackoff:       time.Minute,
		// The schedule's info lines speak of rate limits for what are, here,
		// events waiting their turn; the deliverer logs what matters.
		Logger: slog.New(atLeast{Handler: s.o.Logger.Handler(), min: slog.LevelWarn}).With("worker", "webhooks"),
	})
}

// atLeast drops records below min.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{Handler: h.Handler.WithGroup(name), min: h.min}
}

// disclosure is Full for a person with an account manager.
func (s *Service) disclosure(ctx context.Context, u conversation.UserKey) (Disclosure, *revisit.Manager, error) {
	if s.o.Managers == nil {
		return IDs, nil, nil
	}
	m, ok, err := s.o.Managers.ManagerOf(ctx, u)
	if err != nil {
		return IDs, nil, fmt.Errorf("webhooks: who may see the result: %w", err)
	}
	if !ok {
		return IDs, nil, nil
	}
	return Full, &m, nil
}

// deliveries are the events for every endpoint that takes them.
func (s *Service) deliveries(evs ...event) []delivery {
	var out []delivery
	for _, ep := range s.endpoints {
		for _, ev := range evs {
			if ep.Wants(ev.Type) {
				out = append(out, delivery{endpoint: ep.Name, ev: ev})
			}
		}
	}
	return out
}

// Completed queues audit.completed and, when a retake moved the verdict,
// verdict.changed. It is the chat flows' call where an audit completes;
// failures are logged, never shown to the person.
func (s *Service) Completed(ctx context.Context, u conversation.UserKey, name string, r conversation.Reply) {
	if r.Result == nil || len(s.endpoints) == 0 {
		return
	}
	if err := s.completed(ctx, u, name, r); err != nil {
		obs.Logger(ctx, s.log).Error("webhooks: events of a completed audit not queued", "err", err)
	}
}

func (s *Service) completed(ctx context.Context, u conversation.UserKey, name string, r conversation.Reply) error {
	disc, _, err := s.disclosure(ctx, u)
	if err != nil {
		return err
	}
	now := s.o.Now()
	d := subject(u, name, disc)
	if disc == Full {
		d.Result = resultOf(r.Result)
		if r.SinceLast != nil {
			d.Changes = changesOf(r.SinceLast)
		}
	}
	evs := []event{newEvent(newID(), AuditCompleted, now, d)}
	// That the verdict moved is itself a result: it is told only where the
	// result may be.
	if disc == Full && r.SinceLast != nil && r.SinceLast.VerdictMoved {
		evs = append(evs, newEvent(newID(), VerdictChanged, now, d))
	}
	return s.q.push(ctx, u, s.deliveries(evs...), now, false)
}

// Shared queues result.shared: the person sent their latest result to an
// account manager (so it is disclosed). It is the chat flows' call after a
// share; failures are logged.
func (s *Service) Shared(ctx context.Context, u conversation.UserKey, name string) {
	if len(s.endpoints) == 0 {
		return
	}
	if err := s.shared(ctx, u, name); err != nil {
		obs.Logger(ctx, s.log).Error("webhooks: result.shared not queued", "err", err)
	}
}

func (s *Service) shared(ctx context.Context, u conversation.UserKey, name string) error {
	disc, m, err := s.disclosure(ctx, u)
	if err != nil {
		return err
	}
	d := subject(u, name, disc)
	if disc == Full {
		if s.o.History != nil {
			h, err := s.o.History.History(ctx, u)
			if err != nil {
				return fmt.Errorf("webhooks: the shared result: %w", err)
			}
			if len(h) > 0 {
				d.Result = resultOf(&h[0].Recommendation)
			}
		}
		d.Manager = &manager{Platform: m.Platform, Workspace: m.Workspace, ID: m.Target}
	}
	now := s.o.Now()
	return s.q.push(ctx, u, s.deliveries(newEvent(newID(), ResultShared, now, d)), now, false)
}

// RevisitDue queues revisit.due for a person whose yearly revisit came due
// (the revisit worker's call, before it nudges them). occurrence names the
// nudge (schedule.Job.Occurrence): a retried delivery of the same nudge
// queues nothing new. An error means nothing was queued; the caller retries.
func (s *Service) RevisitDue(ctx context.Context, client conversation.Key, last conversation.Result, due time.Time, occurrence string) error {
	if len(s.endpoints) == 0 {
		return nil
	}
	disc, m, err := s.disclosure(ctx, client.UserKey)
	if err != nil {
		return err
	}
	d := subject(client.UserKey, "", disc)
	d.Revisit = &revisitDue{DueAt: stamp(due)}
	if disc == Full {
		d.Result = resultOf(&last.Recommendation)
		d.Manager = &manager{Platform: m.Platform, Workspace: m.Workspace, ID: m.Target}
	}
	now := s.o.Now()
	return s.q.push(ctx, client.UserKey, s.deliveries(newEvent(idFor("revisit.due\x00"+occurrence), RevisitDue, now, d)), now, true)
}

// Erase is webhooks' part of forget (erasure.Registry): it drops every
// event queued about the person on every endpoint, and their dead
// letters, and queues user.forgotten for the endpoints that take it, after
// any send already in flight. Everything it drops counts as "other".
func (s *Service) Erase(ctx context.Context, u conversation.UserKey) (erasure.Counts, error) {
	if len(s.endpoints) == 0 {
		return erasure.Counts{}, nil
	}
	now := s.o.Now()
	names := make([]string, len(s.endpoints))
	for i, ep := range s.endpoints {
		names[i] = ep.Name
	}
	forgotten := s.deliveries(newEvent(newID(), UserForgotten, now, subject(u, "", IDs)))
	n, err := s.q.erase(ctx, u, names, forgotten, now)
	if err != nil {
		return erasure.Counts{Other: n}, err
	}
	dead, err := s.q.removeDead(ctx, "3", userRef(u))
	if err != nil {
		return erasure.Counts{Other: n}, err
	}
	return erasure.Counts{Other: n + len(dead)}, nil
}

var _ erasure.Eraser = (*Service)(nil)

// DeadLetters returns up to n dead letters, newest first. They are kept
// for 14 days, at most 1,000.
func (s *Service) DeadLetters(ctx context.Context, n int) ([]DeadLetter, error) {
	return s.q.deadLetters(ctx, n)
}

// ErrNoLetter is returned for a key no dead letter has.
var ErrNoLetter = errors.New("no such dead letter")

// ErrEndpointGone is returned when replaying a letter whose endpoint is no
// longer configured.
var ErrEndpointGone = errors.New("its endpoint is no longer in ITFIT_WEBHOOKS")

// Replay queues the dead letter named key ("<endpoint>/<event id>"), or
// every one for key "" and all, again: at the end of its person's queue,
// with its own webhook-id and body, and a fresh set of attempts. It
// returns the letters replayed.
func (s *Service) Replay(ctx context.Context, key string, all bool) ([]DeadLetter, error) {
	letters, err := s.pick(ctx, key, all)
	if err != nil {
		return nil, err
	}
	for _, d := range letters {
		if _, ok := s.targets[d.Endpoint]; !ok {
			return nil, fmt.Errorf("replay %s: %w", d.Key(), ErrEndpointGone)
		}
	}
	var done []DeadLetter
	for _, d := range letters {
		// Queued again before the letter goes, so a failure in between
		// leaves a letter to replay, never a lost event.
		if err := s.q.requeue(ctx, d, s.o.Now()); err != nil {
			return done, err
		}
		if _, err := s.q.removeDead(ctx, "2", d.Key()); err != nil {
			return done, err
		}
		done = append(done, d)
	}
	return done, nil
}

// Drop deletes the dead letter named key, or every one with all.
func (s *Service) Drop(ctx context.Context, key string, all bool) ([]DeadLetter, error) {
	if all {
		return s.q.removeDead(ctx, "all", "")
	}
	out, err := s.q.removeDead(ctx, "2", key)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("drop %q: %w", key, ErrNoLetter)
	}
	return out, err
}

func (s *Service) pick(ctx context.Context, key string, all bool) ([]DeadLetter, error) {
	list, err := s.q.deadLetters(ctx, s.q.deadCap)
	if err != nil {
		return nil, err
	}
	if all {
		// Oldest first, so each person's letters go back in their order.
		slices.Reverse(list)
		return list, nil
	}
	for _, d := range list {
		if d.Key() == key {
			return []DeadLetter{d}, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", key, ErrNoLetter)
}
