// Package revisit turns a completed audit into an ongoing relationship: it
// schedules the user's yearly revisit and the account manager's nudge in the
// durable scheduler, lets users list, snooze, stop and forget them, and
// delivers them through the platform that the user came from.
package revisit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/schedule"
)

// Kind is who a nudge is for.
type Kind string

const (
	ForUser    Kind = "user"
	ForManager Kind = "manager"
)

// Reason is why a user is nudged.
type Reason string

const (
	Due     Reason = "due"     // the revisit date came
	Invited Reason = "invited" // their account manager asked them to retake
)

// Notifier sends nudges on one platform. Implementations return
// schedule.ErrGone when the platform says the recipient or the bot is gone,
// and schedule.RetryAfter for rate limits.
type Notifier interface {
	// NudgeUser reminds a user of their last result, with Retake, Snooze
	// and Stop buttons.
	NudgeUser(ctx context.Context, to conversation.Key, last conversation.Result, why Reason) error
	// NudgeManager tells an account manager that a client's revisit is due,
	// with the client's last result and a button that invites the client
	// to retake.
	NudgeManager(ctx context.Context, m Manager, client conversation.Key, last conversation.Result) error
	// ShareResult sends a manager a client's result now.
	ShareResult(ctx context.Context, m Manager, client conversation.Key, last conversation.Result) error
}

// Verifier tells, on a platform that can, whether a scheduled nudge reached
// its recipient: the scheduler asks it (through Service.Delivered) before
// it sends again a nudge whose earlier attempt had an unknown outcome. j is
// the scheduled job; a notifier tags what it sends with j.Occurrence (the
// job is in its context, see schedule.Delivering) and looks for that tag.
// A platform without one (Teams) cannot verify, and the scheduler's
// AmbiguousResends decides.
type Verifier interface {
	UserNudged(ctx context.Context, to conversation.Key, j schedule.Job) (bool, error)
	ManagerNudged(ctx context.Context, m Manager, client conversation.Key, j schedule.Job) (bool, error)
}

// Events hears each revisit as it comes due, before the person is nudged
// (outgoing webhooks' revisit.due, *webhooks.Service). occurrence names
// the nudge (schedule.Job.Occurrence), the same when its delivery is
// retried. An error means nothing was recorded: the nudge is retried.
type Events interface {
	RevisitDue(ctx context.Context, client conversation.Key, last conversation.Result, due time.Time, occurrence string) error
}

// Engine is what revisits need of the conversation engine.
type Engine interface {
	History(ctx context.Context, u conversation.UserKey) ([]conversation.Result, error)
}

// Errors safe to show a user.
var (
	ErrNoResult    = errors.New("finish an audit first; the reminder is about its result")
	ErrNoManager   = errors.New("no account manager is set up for your workspace")
	ErrNoReminder  = errors.New("there is no such reminder")
	ErrNoNotifier  = errors.New("nudges are not switched on for this platform")
	ErrUnknownZone = errors.New("unknown time zone")
	ErrShareLimit  = errors.New("you have shared your result as many times as a day allows; you can share it again tomorrow")
	errBadPayload  = errors.New("revisit: undecodable nudge")
)

// Config tunes a Service.
type Config struct {
	Prefix keys.Prefix
	// After overrides the revisit interval (12 calendar months, delivered at
	// 10:00 on a working day in the user's zone) with a plain duration, for
	// tests and demos (ITFIT_REVISIT_AFTER).
	After    time.Duration
	Managers Directory
	// Platforms are the platforms' own rules (see Rules).
	Platforms  Platforms
	HistoryTTL time.Duration // how long a shared-manager choice is kept
	// SharesPerDay bounds how often one user may send their result to a
	// manager in 24 hours (default 10), so a share button cannot be used to
	// flood a colleague with messages from the bot.
	SharesPerDay int
	// Events, if set, hears each user's revisit as it comes due.
	Events Events
	Now    func() time.Time
	Logger *slog.Logger
}

// Service schedules, manages and delivers revisits.
type Service struct {
	rdb       redis.UniversalClient
	sched     *schedule.Store
	engine    Engine
	notifiers map[conversation.Platform]Notifier
	verifiers map[conversation.Platform]Verifier
	cfg       Config
}

// New returns a Service. Notifiers are added with Register as each
// platform's adapter is switched on.
func New(rdb redis.UniversalClient, sched *schedule.Store, e Engine, cfg Config) *Service {
	if cfg.Prefix == "" {
		cfg.Prefix = keys.Default
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HistoryTTL <= 0 {
		cfg.HistoryTTL = conversation.DefaultHistoryTTL
	}
	if cfg.SharesPerDay <= 0 {
		cfg.SharesPerDay = 10
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{rdb: rdb, sched: sched, engine: e, notifiers: map[conversation.Platform]Notifier{},
		verifiers: map[conversation.Platform]Verifier{}, cfg: cfg}
}

// Register makes a platform's notifier available. Call it before Run.
func (s *Service) Register(p conversation.Platform, n Notifier) { s.notifiers[p] = n }

// RegisterVerifier makes a platform's nudges verifiable (see Verifier).
// Call it before Run.
func (s *Service) RegisterVerifier(p conversation.Platform, v Verifier) { s.verifiers[p] = v }

// Delivers reports whether nudges reach people on a platform: a notifier
// is registered for it.
func (s *Service) Delivers(p conversation.Platform) bool {
	_, ok := s.notifiers[p]
	return ok
}

// payload is a scheduled nudge, kept small: it names people, never answers.
type payload struct {
	Kind      Kind     `json:"k"`
	Platform  string   `json:"p"`
	Workspace string   `json:"w"`
	User      string   `json:"u"`
	Conv      string   `json:"c"`
	Manager   *Manager `json:"m,omitempty"`
}

// client is the user the nudge is about.
func (p payload) client() conversation.Key {
	return conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Platform(p.Platform), Workspace: conversation.WorkspaceID(p.Workspace), User: conversation.UserID(p.User)},
		Conversation: conversation.ConversationID(p.Conv),
	}
}

func jobID(kind Kind, u conversation.UserKey) string {
	return string(kind) + "/" + string(u.Platform) + "/" + string(u.Workspace) + "/" + string(u.User)
}

// Reminder is a scheduled nudge, as listed to its user.
type Reminder struct {
	Kind    Kind
	Due     time.Time
	Manager *Manager
}

// Remind schedules a user's revisit of their latest result, and the
// account manager's nudge for the same moment when one is known. tz is the
// user's IANA zone if the platform tells it ("" for UTC).
func (s *Service) Remind(ctx context.Context, k conversation.Key, tz string) (time.Time, error) {
	last, err := s.last(ctx, k.UserKey)
	if err != nil {
		return time.Time{}, err
	}
	due, err := s.dueAt(last.CompletedAt, tz)
	if err != nil {
		return time.Time{}, err
	}
	jobs := []schedule.Job{s.job(ForUser, k, nil, due)}
	if m, ok, err := s.managerFor(ctx, k.UserKey); err != nil {
		return time.Time{}, err
	} else if ok {
		jobs = append(jobs, s.job(ForManager, k, &m, due))
	}
	if err := s.sched.ScheduleMany(ctx, jobs); err != nil {
		return time.Time{}, fmt.Errorf("schedule revisit: %w: %w", conversation.ErrUnavailable, err)
	}
	return due, nil
}

func (s *Service) job(kind Kind, k conversation.Key, m *Manager, due time.Time) schedule.Job {
	p, _ := json.Marshal(payload{Kind: kind, Platform: string(k.Platform), Workspace: string(k.Workspace), User: string(k.User), Conv: string(k.Conversation), Manager: m})
	return schedule.Job{ID: jobID(kind, k.UserKey), Due: due, Payload: p}
}

// dueAt is 12 calendar months after completion at 10:00 on a working day
// in the user's zone, or completion + ITFIT_REVISIT_AFTER; never in the past.
func (s *Service) dueAt(completed time.Time, tz string) (time.Time, error) {
	now := s.cfg.Now()
	if s.cfg.After > 0 {
		return later(completed.Add(s.cfg.After), now), nil
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w %q", ErrUnknownZone, tz)
		}
		loc = l
	}
	d := advisor.AddMonths(completed.In(loc), 12)
	d = time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, loc)
	switch d.Weekday() {
	case time.Saturday:
		d = d.AddDate(0, 0, 2)
	case time.Sunday:
		d = d.AddDate(0, 0, 1)
	}
	return later(d, now), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *Service) last(ctx context.Context, u conversation.UserKey) (conversation.Result, error) {
	h, err := s.engine.History(ctx, u)
	if err != nil {
		return conversation.Result{}, err
	}
	if len(h) == 0 {
		return conversation.Result{}, ErrNoResult
	}
	return h[0], nil
}

// managerFor is the manager the user shared with, else the configured one.
func (s *Service) managerFor(ctx context.Context, u conversation.UserKey) (Manager, bool, error) {
	raw, err := s.rdb.Get(ctx, s.cfg.Prefix.Manager(string(u.Platform), string(u.Workspace), string(u.User))).Bytes()
	switch {
	case err == nil:
		var m Manager
		if json.Unmarshal(raw, &m) == nil {
			return m, true, nil
		}
	case !errors.Is(err, redis.Nil):
		return Manager{}, false, fmt.Errorf("load manager: %w: %w", conversation.ErrUnavailable, err)
	}
	m, ok := s.cfg.Managers.For(u)
	return m, ok, nil
}

// ManagerOf is the account manager a user's nudges go to, if any: the one
// they shared with, else the one configured for their workspace. Adapters
// use it to check that whoever clicks the invitation to retake is that
// manager.
func (s *Service) ManagerOf(ctx context.Context, u conversation.UserKey) (Manager, bool, error) {
	return s.managerFor(ctx, u)
}

// Share sends the user's latest result to an account manager now and
// remembers them as this user's manager for later nudges. manager names a
// user on the client's own platform and workspace (Slack's user picker).
func (s *Service) Share(ctx context.Context, k conversation.Key, manager conversation.UserID) error {
	last, err := s.last(ctx, k.UserKey)
	if err != nil {
		return err
	}
	m := Manager{Platform: k.Platform, Workspace: k.Workspace, Target: string(manager)}
	n, ok := s.notifiers[k.Platform]
	if !ok {
		return ErrNoNotifier
	}
	if err := s.countShare(ctx, k.UserKey); err != nil {
		return err
	}
	if err := n.ShareResult(ctx, m, k, last); err != nil {
		return fmt.Errorf("share result: %w", err)
	}
	raw, _ := json.Marshal(m)
	if err := s.rdb.Set(ctx, s.cfg.Prefix.Manager(string(k.Platform), string(k.Workspace), string(k.User)), raw, s.cfg.HistoryTTL).Err(); err != nil {
		return fmt.Errorf("remember manager: %w: %w", conversation.ErrUnavailable, err)
	}
	// A revisit already scheduled now nudges this manager too.
	if j, err := s.sched.Get(ctx, jobID(ForUser, k.UserKey)); err == nil {
		if err := s.sched.Schedule(ctx, s.job(ForManager, k, &m, j.Due)); err != nil {
			return fmt.Errorf("schedule manager nudge: %w: %w", conversation.ErrUnavailable, err)
		}
	}
	return nil
}

// countShare counts a share against the user's daily allowance, whether
// or not it then reaches anyone (a refused send costs the platform a call
// too), and refuses it past the allowance.
func (s *Service) countShare(ctx context.Context, u conversation.UserKey) error {
	key := s.cfg.Prefix.Shares(string(u.Platform), string(u.Workspace), string(u.User))
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.Incr(ctx, key)
		p.ExpireNX(ctx, key, 24*time.Hour)
		return nil
	})
	if err != nil {
		return fmt.Errorf("count share: %w: %w", conversation.ErrUnavailable, err)
	}
	if n.Val() > int64(s.cfg.SharesPerDay) {
		return ErrShareLimit
	}
	return nil
}

// List returns the user's scheduled nudges.
func (s *Service) List(ctx context.Context, u conversation.UserKey) ([]Reminder, error) {
	var out []Reminder
	for _, kind := range []Kind{ForUser, ForManager} {
		j, err := s.sched.Get(ctx, jobID(kind, u))
		if errors.Is(err, schedule.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list reminders: %w: %w", conversation.ErrUnavailable, err)
		}
		r := Reminder{Kind: kind, Due: j.Due}
		var p payload
		if json.Unmarshal(j.Payload, &p) == nil {
			r.Manager = p.Manager
		}
		out = append(out, r)
	}
	return out, nil
}

// SnoozeFor is how far Snooze pushes a nudge.
const snoozeMonths = 1

// Snooze moves the user's nudges a month later than now (the manager's
// follows the user's, so the two stay together).
func (s *Service) Snooze(ctx context.Context, u conversation.UserKey) (time.Time, error) {
	due := advisor.AddMonths(s.cfg.Now(), snoozeMonths)
	found := false
	for _, kind := range []Kind{ForUser, ForManager} {
		j, err := s.sched.Get(ctx, jobID(kind, u))
		if errors.Is(err, schedule.ErrNotFound) {
			continue
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("snooze: %w: %w", conversation.ErrUnavailable, err)
		}
		j.Due, j.Attempt = due, 0
		if err := s.sched.Schedule(ctx, j); err != nil {
			return time.Time{}, fmt.Errorf("snooze: %w: %w", conversation.ErrUnavailable, err)
		}
		found = true
	}
	if !found {
		// Snooze on a nudge already delivered: schedule the next one.
		k := conversation.Key{UserKey: u}
		if _, err := s.last(ctx, u); err != nil {
			return time.Time{}, err
		}
		if err := s.sched.Schedule(ctx, s.job(ForUser, k, nil, due)); err != nil {
			return time.Time{}, fmt.Errorf("snooze: %w: %w", conversation.ErrUnavailable, err)
		}
	}
	return due, nil
}

// SnoozeManager is the account manager's Snooze on their desk: the
// manager's nudge about this client moves a month later than now, and the
// client's own reminder stays where the client put it. It returns the new
// date, and whether a nudge was scheduled to move.
func (s *Service) SnoozeManager(ctx context.Context, client conversation.UserKey) (time.Time, bool, error) {
	due := advisor.AddMonths(s.cfg.Now(), snoozeMonths)
	j, err := s.sched.Get(ctx, jobID(ForManager, client))
	if errors.Is(err, schedule.ErrNotFound) {
		return due, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("snooze manager nudge: %w: %w", conversation.ErrUnavailable, err)
	}
	j.Due, j.Attempt = due, 0
	if err := s.sched.Schedule(ctx, j); err != nil {
		return time.Time{}, false, fmt.Errorf("snooze manager nudge: %w: %w", conversation.ErrUnavailable, err)
	}
	return due, true, nil
}

// Stop cancels the user's nudges; it reports whether any was scheduled.
func (s *Service) Stop(ctx context.Context, u conversation.UserKey) (bool, error) {
	any := false
	for _, kind := range []Kind{ForUser, ForManager} {
		ok, err := s.sched.Cancel(ctx, jobID(kind, u))
		if err != nil {
			return false, fmt.Errorf("stop reminders: %w: %w", conversation.ErrUnavailable, err)
		}
		any = any || ok
	}
	return any, nil
}

// StopWorkspace cancels every scheduled nudge of a workspace's users, their
// managers' nudges included (those jobs are named after the client), and
// returns how many it cancelled. An adapter calls it when the app is
// uninstalled from the workspace: nothing can be delivered there any more.
// The platform's Rules say which workspaces an uninstall covers. It walks
// the whole schedule: a rare operation, not a hot path.
func (s *Service) StopWorkspace(ctx context.Context, p conversation.Platform, ws conversation.WorkspaceID) (int, error) {
	if p == "" || ws == "" {
		return 0, errors.New("stop workspace: no platform or workspace")
	}
	match := globLiteral.Replace(string(ws))
	if r := s.cfg.Platforms[p]; r.Covers != nil {
		match = r.Covers(ws)
	}
	n, err := s.sched.CancelMatching(ctx, "*/"+globLiteral.Replace(string(p))+"/"+match+"/*")
	if err != nil {
		return n, fmt.Errorf("stop workspace: %w: %w", conversation.ErrUnavailable, err)
	}
	return n, nil
}

// GlobLiteral escapes glob characters, for Rules.Covers.
func GlobLiteral(s string) string { return globLiteral.Replace(s) }

// globLiteral keeps glob characters in an ID literal for a MATCH pattern.
var globLiteral = strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`, `\`, `\\`)

// Erase deletes everything revisits hold about a user: their scheduled
// nudges (the manager's too), the records of nudges already delivered,
// the manager they shared with and their share count. It is this service's
// part of forget (erasure.Registry); every key is known by name.
func (s *Service) Erase(ctx context.Context, u conversation.UserKey) (erasure.Counts, error) {
	var c erasure.Counts
	for _, kind := range []Kind{ForUser, ForManager} {
		id := jobID(kind, u)
		ok, err := s.sched.Cancel(ctx, id)
		if err != nil {
			return c, fmt.Errorf("forget: %w: %w", conversation.ErrUnavailable, err)
		}
		if ok {
			c.Reminders++
		}
		// The records of nudges already delivered, and dead letters, name
		// the user too; Erase removes them without a scan.
		n, err := s.sched.Erase(ctx, id)
		if err != nil {
			return c, fmt.Errorf("forget: %w: %w", conversation.ErrUnavailable, err)
		}
		c.Other += n
	}
	p := s.cfg.Prefix
	n, err := s.rdb.Del(ctx,
		p.Manager(string(u.Platform), string(u.Workspace), string(u.User)),
		p.Shares(string(u.Platform), string(u.Workspace), string(u.User))).Result()
	if err != nil {
		return c, fmt.Errorf("forget: %w: %w", conversation.ErrUnavailable, err)
	}
	c.Other += int(n)
	return c, nil
}

// Invite asks a client to retake the audit now (an account manager's
// button); the client's scheduled revisit stays as it is.
func (s *Service) Invite(ctx context.Context, client conversation.Key) error {
	last, err := s.last(ctx, client.UserKey)
	if err != nil {
		return err
	}
	n, ok := s.notifiers[client.Platform]
	if !ok {
		return ErrNoNotifier
	}
	return n.NudgeUser(ctx, client, last, Invited)
}

// Deliver sends one due nudge; it is the scheduler's Deliverer.
func (s *Service) Deliver(ctx context.Context, j schedule.Job) error {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return fmt.Errorf("%w: %v: %w", errBadPayload, err, schedule.ErrGone)
	}
	client := p.client()
	last, err := s.last(ctx, client.UserKey)
	if errors.Is(err, ErrNoResult) {
		// The user forgot their data since; there is nothing to remind of.
		return fmt.Errorf("no result left for the nudge: %w", schedule.ErrGone)
	}
	if err != nil {
		// Nothing went out yet: a timeout here is not a nudge in doubt.
		return schedule.NotSent(err)
	}
	switch p.Kind {
	case ForUser:
		n, ok := s.notifiers[client.Platform]
		if !ok {
			// Retried, not dropped: a platform switched off by a bad deploy
			// should not cost users their reminders.
			return fmt.Errorf("%w: %s", ErrNoNotifier, client.Platform)
		}
		if s.cfg.Events != nil {
			if err := s.cfg.Events.RevisitDue(ctx, client, last, j.Due, j.Occurrence()); err != nil {
				return schedule.NotSent(fmt.Errorf("report the revisit: %w", err))
			}
		}
		return n.NudgeUser(ctx, client, last, Due)
	case ForManager:
		if p.Manager == nil {
			return fmt.Errorf("manager nudge without a manager: %w", schedule.ErrGone)
		}
		n, ok := s.notifiers[p.Manager.Platform]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNoNotifier, p.Manager.Platform)
		}
		return n.NudgeManager(ctx, *p.Manager, client, last)
	default:
		return fmt.Errorf("%w: kind %q: %w", errBadPayload, p.Kind, schedule.ErrGone)
	}
}

var (
	_ schedule.Deliverer = (*Service)(nil)
	_ schedule.Confirmer = (*Service)(nil)
)

// Delivered is the scheduler's Confirmer: it asks the Verifier of the
// platform the nudge went to whether it is there. A platform without one,
// or a payload that names no recipient, is schedule.ErrUnverifiable.
func (s *Service) Delivered(ctx context.Context, j schedule.Job) (bool, error) {
	var p payload
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return false, fmt.Errorf("%w: %v: %w", errBadPayload, err, schedule.ErrUnverifiable)
	}
	client := p.client()
	switch {
	case p.Kind == ForUser:
		if v, ok := s.verifiers[client.Platform]; ok {
			return v.UserNudged(ctx, client, j)
		}
		return false, fmt.Errorf("%s nudges: %w", client.Platform, schedule.ErrUnverifiable)
	case p.Kind == ForManager && p.Manager != nil:
		if v, ok := s.verifiers[p.Manager.Platform]; ok {
			return v.ManagerNudged(ctx, *p.Manager, client, j)
		}
		return false, fmt.Errorf("%s nudges: %w", p.Manager.Platform, schedule.ErrUnverifiable)
	}
	return false, fmt.Errorf("%w: kind %q: %w", errBadPayload, p.Kind, schedule.ErrUnverifiable)
}
