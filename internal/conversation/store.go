package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/keys"
)

// A session is one small Redis hash (a listpack, well under 1 KiB):
//
//	rev  revision, +1 on every change; an answer must name it
//	v    audit version the session was started with
//	st   "a" active or "d" done
//	t0   started, t1 last change (Unix seconds)
//	a:Q  the options chosen for question Q, comma-separated
//
// The current question is not stored: it is derived from the answers, in Go
// for rendering and in the scripts for checking, from the same audit.

// store runs the transition scripts. Each is one EVALSHA round trip.
type store struct {
	rdb        redis.UniversalClient
	keys       keys.Prefix
	audit      *advisor.Audit
	sessionTTL time.Duration
	historyTTL time.Duration
	historyMax int

	start, answer, back *redis.Script
}

// Script results.
const (
	resMissing  = -1 // no session
	resVersion  = -2 // the session belongs to another audit version
	resRejected = 0  // stale revision, not the current question, or not active
	resApplied  = 1
	resDone     = 2 // applied, and the audit is complete (answer); resumed (start)
	resReplaced = 3 // start: an active session of another audit version was replaced
)

func newStore(rdb redis.UniversalClient, a *advisor.Audit, p keys.Prefix, sessionTTL, historyTTL time.Duration, historyMax int) *store {
	prelude := luaPrelude(a)
	return &store{
		rdb: rdb, keys: p, audit: a,
		sessionTTL: sessionTTL, historyTTL: historyTTL, historyMax: historyMax,
		start:  redis.NewScript(prelude + luaStart),
		answer: redis.NewScript(prelude + luaAnswer),
		back:   redis.NewScript(prelude + luaBack),
	}
}

// luaPrelude renders the audit's order and skip conditions as Lua, so the
// scripts can tell which question is current without a second round trip.
func luaPrelude(a *advisor.Audit) string {
	var b strings.Builder
	b.WriteString("local IDS = {")
	for _, q := range a.Questions {
		fmt.Fprintf(&b, "%q,", q.ID)
	}
	// The hash field of each answer, spelled out once here rather than
	// concatenated on every call.
	b.WriteString("}\nlocal FS = {")
	for _, q := range a.Questions {
		fmt.Fprintf(&b, "%q,", "a:"+q.ID)
	}
	b.WriteString("}\nlocal COND = {")
	for i, q := range a.Questions {
		if q.AskIf == nil {
			continue
		}
		set, any := q.AskIf.AnyOf, true
		if len(set) == 0 {
			set, any = q.AskIf.NoneOf, false
		}
		fmt.Fprintf(&b, "[%d]={f=%q,any=%t,set={", i+1, "a:"+q.AskIf.Question, any)
		for _, o := range set {
			fmt.Fprintf(&b, "[%q]=true,", o)
		}
		b.WriteString("}},")
	}
	b.WriteString("}\n")
	b.WriteString(luaFuncs)
	return b.String()
}

// IDs are [a-z0-9_] (checked by the advisor), so %q is valid Lua.
const luaFuncs = `
local function load(k)
  local f = redis.call("HGETALL", k)
  local h = {}
  for i = 1, #f, 2 do h[f[i]] = f[i+1] end
  return h, f
end
local function holds(h, c)
  local v = h[c.f]
  if not v then return false end
  for o in string.gmatch(v, "[^,]+") do
    if c.set[o] then return c.any end
  end
  return not c.any
end
local function nextq(h)
  for i = 1, #IDS do
    if not h[FS[i]] then
      local c = COND[i]
      if not c or holds(h, c) then return IDS[i] end
    end
  end
  return ""
end
`

// KEYS: session, sessions index. ARGV: now, ttl ms, version, fresh,
// conversation, index ttl ms. The index outlives any session started with
// it, so answers need not refresh it. A session of this audit version is
// resumed unless fresh is set: one in progress at its question, a finished
// one at its result (so a card that never reached the user is shown, rather
// than the audit begun again).
const luaStart = `
local h = load(KEYS[1])
redis.call("SADD", KEYS[2], ARGV[5])
redis.call("PEXPIRE", KEYS[2], ARGV[6])
if h.rev and (h.st == "a" or h.st == "d") and h.v == ARGV[3] and ARGV[4] == "0" then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return {2, redis.call("HGETALL", KEYS[1])}
end
local code = 1
if h.rev and h.st == "a" and h.v ~= ARGV[3] and ARGV[4] == "0" then code = 3 end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "rev", tonumber(h.rev or "0") + 1, "v", ARGV[3], "st", "a", "t0", ARGV[1], "t1", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return {code, redis.call("HGETALL", KEYS[1])}
`

// KEYS: session, history. ARGV: rev, question, options, now, ttl ms,
// history ttl ms, history max, version. On success it returns the session
// as it was before the answer (the caller applies the answer itself), which
// spares a second HGETALL on the hot path.
const luaAnswer = `
local h, f = load(KEYS[1])
if not h.rev then return {-1} end
if h.v ~= ARGV[8] then return {-2, f} end
if h.rev ~= ARGV[1] or h.st ~= "a" or nextq(h) ~= ARGV[2] then return {0, f} end
h["a:" .. ARGV[2]] = ARGV[3]
local done = nextq(h) == ""
redis.call("HSET", KEYS[1], "a:" .. ARGV[2], ARGV[3], "rev", tonumber(h.rev) + 1, "t1", ARGV[4], "st", done and "d" or "a")
redis.call("PEXPIRE", KEYS[1], ARGV[5])
if done then
  local prev = redis.call("LINDEX", KEYS[2], 0)
  local parts = {}
  for i = 1, #IDS do
    local v = h[FS[i]]
    if v then parts[#parts+1] = IDS[i] .. "=" .. v end
  end
  redis.call("LPUSH", KEYS[2], ARGV[4] .. "|" .. h.v .. "|" .. table.concat(parts, ";"))
  redis.call("LTRIM", KEYS[2], 0, tonumber(ARGV[7]) - 1)
  redis.call("PEXPIRE", KEYS[2], ARGV[6])
  return {2, f, prev}
end
return {1, f}
`

// KEYS: session. ARGV: rev, now, ttl ms. Like the answer script it
// returns the session as it was, so that the caller knows which answer it
// took back (the last in audit order) and applies the removal itself.
const luaBack = `
local h, f = load(KEYS[1])
if not h.rev then return {-1} end
if h.rev ~= ARGV[1] or h.st ~= "a" then return {0, f} end
local last
for i = 1, #FS do
  if h[FS[i]] then last = FS[i] end
end
if not last then return {0, f} end
redis.call("HDEL", KEYS[1], last)
redis.call("HSET", KEYS[1], "rev", tonumber(h.rev) + 1, "t1", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return {1, f}
`

func (s *store) sessionKey(k Key) string {
	return s.keys.Session(string(k.Platform), string(k.Workspace), string(k.User), string(k.Conversation))
}

func (s *store) historyKey(u UserKey) string {
	return s.keys.History(string(u.Platform), string(u.Workspace), string(u.User))
}

func (s *store) indexKey(u UserKey) string {
	return s.keys.Sessions(string(u.Platform), string(u.Workspace), string(u.User))
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

func (s *store) Start(ctx context.Context, k Key, now time.Time, fresh bool) (int64, Session, error) {
	f := "0"
	if fresh {
		f = "1"
	}
	res, err := s.start.Run(ctx, s.rdb, []string{s.sessionKey(k), s.indexKey(k.UserKey)},
		now.Unix(), s.sessionTTL.Milliseconds(), s.audit.Version, f, string(k.Conversation), max(s.sessionTTL, s.historyTTL).Milliseconds()).Slice()
	if err != nil {
		return 0, Session{}, unavailable("start session", err)
	}
	return s.result(res)
}

// Answer records an answer. On completion it also returns the user's
// previous result (a history entry, "" if none), read in the same script so
// that the new card can say what changed at no extra round trip.
func (s *store) Answer(ctx context.Context, k Key, rev int64, q advisor.QuestionID, opts []advisor.OptionID, now time.Time) (int64, Session, string, error) {
	res, err := s.answer.Run(ctx, s.rdb, []string{s.sessionKey(k), s.historyKey(k.UserKey)},
		rev, string(q), joinOptions(opts), now.Unix(), s.sessionTTL.Milliseconds(), s.historyTTL.Milliseconds(), s.historyMax, s.audit.Version).Slice()
	if err != nil {
		return 0, Session{}, "", unavailable("record answer", err)
	}
	code, sess, err := s.result(res)
	if err != nil {
		return code, sess, "", err
	}
	var prev string
	if len(res) > 2 {
		prev, _ = res[2].(string)
	}
	if code == resApplied || code == resDone {
		// What the script wrote, applied to the state it read. The answer
		// is to the current question, which follows every answered one in
		// audit order, so appending keeps the order.
		sess.Answers = append(sess.Answers, advisor.Answer{Question: q, Options: opts})
		sess.Rev++
		sess.UpdatedAt = time.Unix(now.Unix(), 0).UTC()
		if code == resDone {
			sess.Status = Done
		}
	}
	return code, sess, prev, nil
}

// Back takes back the last answer; on success it also returns that answer.
func (s *store) Back(ctx context.Context, k Key, rev int64, now time.Time) (int64, Session, advisor.Answer, error) {
	res, err := s.back.Run(ctx, s.rdb, []string{s.sessionKey(k)}, rev, now.Unix(), s.sessionTTL.Milliseconds()).Slice()
	if err != nil {
		return 0, Session{}, advisor.Answer{}, unavailable("go back", err)
	}
	code, sess, err := s.result(res)
	if err != nil || code != resApplied || len(sess.Answers) == 0 {
		return code, sess, advisor.Answer{}, err
	}
	// What the script removed, from the state it read: the last answer in
	// audit order (parse sorts them so).
	undone := sess.Answers[len(sess.Answers)-1]
	sess.Answers = sess.Answers[:len(sess.Answers)-1]
	sess.Rev++
	sess.UpdatedAt = time.Unix(now.Unix(), 0).UTC()
	return code, sess, undone, nil
}

func (s *store) Load(ctx context.Context, k Key) (Session, bool, error) {
	m, err := s.rdb.HGetAll(ctx, s.sessionKey(k)).Result()
	if err != nil {
		return Session{}, false, unavailable("load session", err)
	}
	if len(m) == 0 {
		return Session{}, false, nil
	}
	sess, err := s.parse(func(yield func(k, v string) bool) {
		for k, v := range m {
			if !yield(k, v) {
				return
			}
		}
	})
	return sess, err == nil, err
}

func (s *store) Delete(ctx context.Context, k Key) (bool, error) {
	n, err := s.rdb.Del(ctx, s.sessionKey(k)).Result()
	if err != nil {
		return false, unavailable("delete session", err)
	}
	return n > 0, nil
}

// result decodes a script's reply: {code, {field, value, ...}}.
func (s *store) result(res []any) (int64, Session, error) {
	if len(res) == 0 {
		return 0, Session{}, errors.New("empty script reply")
	}
	code, _ := res[0].(int64)
	if len(res) < 2 {
		return code, Session{}, nil
	}
	flat, _ := res[1].([]any)
	sess, err := s.parse(func(yield func(k, v string) bool) {
		for i := 0; i+1 < len(flat); i += 2 {
			k, _ := flat[i].(string)
			v, _ := flat[i+1].(string)
			if !yield(k, v) {
				return
			}
		}
	})
	return code, sess, err
}

// parse builds a Session from hash fields, answers in audit order.
func (s *store) parse(fields func(yield func(k, v string) bool)) (Session, error) {
	var sess Session
	var err error
	for k, v := range fields {
		switch {
		case k == "rev":
			sess.Rev, err = strconv.ParseInt(v, 10, 64)
		case k == "v":
			sess.AuditVersion = v
		case k == "st":
			sess.Status = Active
			if v == "d" {
				sess.Status = Done
			}
		case k == "t0":
			sess.StartedAt, err = unixTime(v)
		case k == "t1":
			sess.UpdatedAt, err = unixTime(v)
		case strings.HasPrefix(k, "a:"):
			sess.Answers = append(sess.Answers, advisor.Answer{Question: advisor.QuestionID(k[2:]), Options: splitOptions(v)})
		}
		if err != nil {
			return Session{}, fmt.Errorf("session field %s: %w", k, err)
		}
	}
	// slices.SortFunc, unlike sort.Slice, allocates nothing per call.
	slices.SortFunc(sess.Answers, func(a, b advisor.Answer) int {
		return s.audit.Index(a.Question) - s.audit.Index(b.Question)
	})
	return sess, nil
}

func unixTime(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	return time.Unix(n, 0).UTC(), err
}

func joinOptions(opts []advisor.OptionID) string {
	var b strings.Builder
	for i, o := range opts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(o))
	}
	return b.String()
}

// splitOptions is strings.Split into OptionIDs, with one allocation rather
// than two: it runs for every answer of every session read.
func splitOptions(v string) []advisor.OptionID {
	out := make([]advisor.OptionID, 0, strings.Count(v, ",")+1)
	for {
		o, rest, more := strings.Cut(v, ",")
		out = append(out, advisor.OptionID(o))
		if !more {
			return out
		}
		v = rest
	}
}
