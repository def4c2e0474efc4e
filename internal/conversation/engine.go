package conversation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/keys"
)

// Options tune an Engine; zero values take the defaults.
type Options struct {
	Prefix     keys.Prefix      // default keys.Default
	SessionTTL time.Duration    // abandoned sessions expire; default 7 days
	HistoryTTL time.Duration    // completed results are kept; default 2 years
	HistoryMax int              // results kept per user; default 20
	Now        func() time.Time // default time.Now
	// Observe, when set, sees the outcome of every operation (for metrics).
	Observe func(k Key, r Reply, err error)
}

// Engine runs audits. It holds no conversation state of its own: every
// replica reads and writes the same Redis, so any of them can take the next
// click.
type Engine struct {
	audit   *advisor.Audit
	store   *store
	now     func() time.Time
	observe func(Key, Reply, error)
}

// New returns an engine for the audit on the given Redis.
func New(rdb redis.UniversalClient, a *advisor.Audit, o Options) *Engine {
	if o.Prefix == "" {
		o.Prefix = keys.Default
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 7 * 24 * time.Hour
	}
	if o.HistoryTTL <= 0 {
		o.HistoryTTL = DefaultHistoryTTL
	}
	if o.HistoryMax <= 0 {
		o.HistoryMax = 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observe == nil {
		o.Observe = func(Key, Reply, error) {}
	}
	return &Engine{audit: a, store: newStore(rdb, a, o.Prefix, o.SessionTTL, o.HistoryTTL, o.HistoryMax), now: o.Now, observe: o.Observe}
}

// Audit is the audit this engine asks.
func (e *Engine) Audit() *advisor.Audit { return e.audit }

// Redis and Prefix are where the engine keeps its state, for stores that
// keep theirs beside it (claims, in tests).
func (e *Engine) Redis() redis.UniversalClient { return e.store.rdb }
func (e *Engine) Prefix() keys.Prefix          { return e.store.keys }

// Start begins an audit, or resumes the one in progress.
func (e *Engine) Start(ctx context.Context, k Key) (Reply, error) {
	r, err := e.begin(ctx, k, false)
	e.observe(k, r, err)
	return r, err
}

// Restart drops any audit in progress and begins a new one.
func (e *Engine) Restart(ctx context.Context, k Key) (Reply, error) {
	r, err := e.begin(ctx, k, true)
	e.observe(k, r, err)
	return r, err
}

func (e *Engine) begin(ctx context.Context, k Key, fresh bool) (Reply, error) {
	code, sess, err := e.store.Start(ctx, k, e.now(), fresh)
	if err != nil {
		return Reply{}, err
	}
	ev := Started
	if code == resDone {
		ev = Resumed
	}
	r := e.reply(sess, ev)
	r.AuditChanged = code == resReplaced
	return r, nil
}

// Answer records an answer to the question shown at a.Rev. An answer to any
// other question or revision changes nothing and comes back Stale with the
// current state; invalid options come back as an error and change nothing.
// An answer whose delivery (a.Once) was claimed before comes back Repeated,
// having changed nothing.
func (e *Engine) Answer(ctx context.Context, k Key, a Answer) (Reply, error) {
	r, err := e.answer(ctx, k, a)
	e.observe(k, r, err)
	return r, err
}

func (e *Engine) answer(ctx context.Context, k Key, a Answer) (Reply, error) {
	opts, err := e.audit.CheckAnswer(a.Question, a.Options)
	if err != nil {
		return Reply{}, fmt.Errorf("answer %s: %w", a.Question, err)
	}
	code, sess, prev, err := e.store.Answer(ctx, k, a.Rev, a.Question, opts, e.now(), a.Once)
	if err != nil {
		return Reply{}, err
	}
	switch code {
	case resRepeated:
		return Reply{Event: Repeated}, nil
	case resMissing:
		return Reply{Event: NoSession}, nil
	case resVersion:
		// The operator replaced the audit mid-way; the old answers may not
		// fit the new questions, so begin again and say why.
		r, err := e.begin(ctx, k, true)
		r.AuditChanged = true
		return r, err
	case resRejected:
		return e.reply(sess, Stale), nil
	}
	ev := Advanced
	if code == resDone {
		ev = Completed
	}
	r := e.reply(sess, ev)
	if ev == Completed && prev != "" {
		if last, ok := e.parseHistory(prev); ok {
			r.SinceLast = e.audit.Compare(last.Answers, last.CompletedAt, sess.Answers, r.Result)
		}
	}
	q, _ := e.audit.Question(a.Question)
	r.Answered = &Echo{Question: q, Labels: q.Labels(opts), Options: opts}
	return r, nil
}

// Back takes back the last answer, if rev is still current.
func (e *Engine) Back(ctx context.Context, k Key, rev int64) (Reply, error) {
	r, err := e.back(ctx, k, rev)
	e.observe(k, r, err)
	return r, err
}

func (e *Engine) back(ctx context.Context, k Key, rev int64) (Reply, error) {
	code, sess, undone, err := e.store.Back(ctx, k, rev, e.now())
	if err != nil {
		return Reply{}, err
	}
	switch code {
	case resMissing:
		return Reply{Event: NoSession}, nil
	case resRejected:
		return e.reply(sess, Stale), nil
	}
	r := e.reply(sess, WentBack)
	if q, ok := e.audit.Question(undone.Question); ok {
		r.Undone = &Echo{Question: q, Labels: q.Labels(undone.Options), Options: undone.Options}
	}
	return r, nil
}

// Cancel drops the audit in this conversation.
func (e *Engine) Cancel(ctx context.Context, k Key) (Reply, error) {
	existed, err := e.store.Delete(ctx, k)
	if err != nil {
		return Reply{}, err
	}
	if !existed {
		return Reply{Event: NoSession}, nil
	}
	return Reply{Event: Cancelled}, nil
}

// Status reports where the audit in this conversation stands.
func (e *Engine) Status(ctx context.Context, k Key) (Reply, error) {
	sess, ok, err := e.store.Load(ctx, k)
	if err != nil {
		return Reply{}, err
	}
	if !ok {
		return Reply{Event: NoSession}, nil
	}
	return e.reply(sess, Current), nil
}

// reply derives everything an adapter shows from the stored answers.
func (e *Engine) reply(sess Session, ev Event) Reply {
	r := Reply{Event: ev, Rev: sess.Rev, Answers: sess.Answers, UpdatedAt: sess.UpdatedAt}
	if sess.Status == Done {
		rec := e.audit.Recommend(sess.Answers, sess.UpdatedAt)
		r.Result = &rec
		r.Position, r.Total = len(sess.Answers), len(sess.Answers)
		return r
	}
	if q, ok := e.audit.Next(sess.Answers); ok {
		r.Question = q
		r.Position, r.Total = e.audit.Progress(sess.Answers)
	}
	return r
}

// Result is one completed audit from a user's history.
type Result struct {
	CompletedAt    time.Time
	AuditVersion   string
	Answers        advisor.Answers
	Recommendation advisor.Recommendation
}

// History returns a user's completed audits, newest first. The
// recommendation is derived again from the stored answers, never stored.
func (e *Engine) History(ctx context.Context, u UserKey) ([]Result, error) {
	entries, err := e.store.rdb.LRange(ctx, e.store.historyKey(u), 0, -1).Result()
	if err != nil {
		return nil, unavailable("load history", err)
	}
	out := make([]Result, 0, len(entries))
	for _, entry := range entries {
		r, ok := e.parseHistory(entry)
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Latest returns the n newest results of each user, newest first, in one
// pipelined round trip (per node on a Cluster): the account managers'
// desk reads a page of clients at once.
func (e *Engine) Latest(ctx context.Context, us []UserKey, n int) ([][]Result, error) {
	cmds := make([]*redis.StringSliceCmd, len(us))
	_, err := e.store.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range us {
			cmds[i] = p.LRange(ctx, e.store.historyKey(u), 0, int64(n)-1)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("load results", err)
	}
	out := make([][]Result, len(us))
	for i, c := range cmds {
		for _, entry := range c.Val() {
			if r, ok := e.parseHistory(entry); ok {
				out[i] = append(out[i], r)
			}
		}
	}
	return out, nil
}

// parseHistory reads "unix|version|q=o,o;q=o".
func (e *Engine) parseHistory(entry string) (Result, bool) {
	ts, rest, ok1 := strings.Cut(entry, "|")
	version, answers, ok2 := strings.Cut(rest, "|")
	n, err := strconv.ParseInt(ts, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return Result{}, false
	}
	var as advisor.Answers
	for _, pair := range strings.Split(answers, ";") {
		q, opts, ok := strings.Cut(pair, "=")
		if ok {
			as = append(as, advisor.Answer{Question: advisor.QuestionID(q), Options: splitOptions(opts)})
		}
	}
	at := time.Unix(n, 0).UTC()
	return Result{CompletedAt: at, AuditVersion: version, Answers: as, Recommendation: e.audit.Recommend(as, at)}, true
}

// Erased counts what Forget removed.
type Erased struct {
	Sessions int
	Results  int
}

// Forget erases every session and result of a user.
func (e *Engine) Forget(ctx context.Context, u UserKey) (Erased, error) {
	s := e.store
	convs, err := s.rdb.SMembers(ctx, s.indexKey(u)).Result()
	if err != nil {
		return Erased{}, unavailable("forget", err)
	}
	sessions := make([]string, len(convs))
	for i, c := range convs {
		sessions[i] = s.sessionKey(Key{UserKey: u, Conversation: ConversationID(c)})
	}
	// All of a user's keys share a hash tag, so this MULTI is valid on a
	// Cluster too.
	var delSessions *redis.IntCmd
	var results *redis.IntCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		results = p.LLen(ctx, s.historyKey(u))
		if len(sessions) > 0 {
			delSessions = p.Del(ctx, sessions...)
		}
		p.Del(ctx, s.historyKey(u), s.indexKey(u))
		return nil
	})
	if err != nil {
		return Erased{}, unavailable("forget", err)
	}
	er := Erased{Results: int(results.Val())}
	if delSessions != nil {
		er.Sessions = int(delSessions.Val())
	}
	return er, nil
}

// Ping checks that storage answers, for readiness probes.
func (e *Engine) Ping(ctx context.Context) error {
	if err := e.store.rdb.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// DefaultHistoryTTL is how long a person's history, and what is kept
// beside it (their language, where to reach them on Teams, their account
// manager), lives after it was last written when no retention is set: two
// years, so a yearly revisit always finds it.
const DefaultHistoryTTL = 2 * 365 * 24 * time.Hour
