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
	resRepeated = -3 // answer: its delivery was claimed before; nothing done
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
		answer: redis.NewScript(prelude + luaClaim + luaAnswer),
		back:   redis.NewScript(luaBackPrelude(a) + luaBack),
	}
}

// luaPrelude renders the audit's order and skip conditions as Lua for the
// start and answer scripts, so that they can tell which question is current
// without a second round trip.
//
// They read a session with one HMGET of its fields in a fixed order (read),
// rather than HGETALL into a Lua table keyed by field, and the reply is the
// values alone, answers in audit order, so the Go side neither matches field
// names nor sorts: position F+i holds the answer to question i (1-based),
// false when it is unanswered. The audit is rendered as code, not as tables:
// a script's top level runs on every call, and building the tables of
// question IDs and conditions was a fifth of the answer script's time in
// Redis. Both cuts are measured by BenchmarkAnswer and BenchmarkAudits.
func luaPrelude(a *advisor.Audit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "local F = %d\nlocal N = %d\n", sessionFixed, len(a.Questions))
	b.WriteString("local function read(k)\n  return redis.call(\"HMGET\", k")
	for _, f := range sessionFields {
		fmt.Fprintf(&b, ", %q", f)
	}
	for _, q := range a.Questions {
		fmt.Fprintf(&b, ", %q", "a:"+q.ID)
	}
	b.WriteString(")\nend\n")
	// nextq(r, from): the first question from position from on that is
	// unanswered and asked, 0 when none is. A condition names an earlier
	// question (the advisor checks), so once question i is answered the
	// next one comes after it; an unanswered (skipped) one asks nothing.
	b.WriteString("local function nextq(r, from)\n  local v, hit\n")
	for i, q := range a.Questions {
		fmt.Fprintf(&b, "  if from <= %d and not r[%d] then\n", i+1, sessionFixed+i+1)
		if q.AskIf == nil {
			fmt.Fprintf(&b, "    return %d\n  end\n", i+1)
			continue
		}
		set, any := q.AskIf.AnyOf, true
		if len(set) == 0 {
			set, any = q.AskIf.NoneOf, false
		}
		fmt.Fprintf(&b, "    v, hit = r[%d], false\n    if v then\n      for o in string.gmatch(v, \"[^,]+\") do\n        if ", sessionFixed+a.Index(q.AskIf.Question)+1)
		for j, o := range set {
			if j > 0 {
				b.WriteString(" or ")
			}
			fmt.Fprintf(&b, "o == %q", o)
		}
		b.WriteString(" then hit = true break end\n      end\n")
		if any {
			fmt.Fprintf(&b, "      if hit then return %d end\n", i+1)
		} else {
			fmt.Fprintf(&b, "      if not hit then return %d end\n", i+1)
		}
		b.WriteString("    end\n  end\n")
	}
	b.WriteString("  return 0\nend\n")
	// entry(r): the history entry's answers, "q=o,o;q=o" in audit order.
	b.WriteString("local function entry(r)\n  local parts, v = {}\n")
	for i, q := range a.Questions {
		fmt.Fprintf(&b, "  v = r[%d]\n  if v then parts[#parts+1] = %q .. v end\n", sessionFixed+i+1, string(q.ID)+"=")
	}
	b.WriteString("  return table.concat(parts, \";\")\nend\n")
	return b.String()
}

// luaBackPrelude is what the back script reads a session with: HGETALL
// into a table keyed by field, and the answer fields in audit order.
func luaBackPrelude(a *advisor.Audit) string {
	var b strings.Builder
	b.WriteString("local FS = {")
	for _, q := range a.Questions {
		fmt.Fprintf(&b, "%q,", "a:"+q.ID)
	}
	b.WriteString(`}
local function load(k)
  local f = redis.call("HGETALL", k)
  local h = {}
  for i = 1, #f, 2 do h[f[i]] = f[i+1] end
  return h, f
end
`)
	return b.String()
}

// sessionFields are the fixed fields of a session, in the order read
// returns them before the answers. IDs are [a-z0-9_] (checked by the
// advisor), so %q is valid Lua.
var sessionFields = [...]string{"rev", "v", "st", "t0", "t1"}

const sessionFixed = len(sessionFields)

// KEYS: session, sessions index. ARGV: now, ttl ms, version, fresh,
// conversation, index ttl ms. The index outlives any session started with
// it, so answers need not refresh it. A session of this audit version is
// resumed unless fresh is set: one in progress at its question, a finished
// one at its result (so a card that never reached the user is shown, rather
// than the audit begun again). A resumed session comes back as read returns
// it; a new one as its revision alone, the rest being what the caller sent
// (version, now) or nothing (answers).
const luaStart = `
local r = read(KEYS[1])
redis.call("SADD", KEYS[2], ARGV[5])
redis.call("PEXPIRE", KEYS[2], ARGV[6])
if r[1] and (r[3] == "a" or r[3] == "d") and r[2] == ARGV[3] and ARGV[4] == "0" then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return {2, r}
end
local code = 1
if r[1] and r[3] == "a" and r[2] ~= ARGV[3] and ARGV[4] == "0" then code = 3 end
local rev = tonumber(r[1] or "0") + 1
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], "rev", rev, "v", ARGV[3], "st", "a", "t0", ARGV[1], "t1", ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return {code, rev}
`

// KEYS: session, history, the person's claims. ARGV: rev, question's
// position (1-based), its hash field, options, now, ttl ms, history ttl ms,
// history max, version, and the delivery to claim first ("" for none) with
// now ms, its expiry ms and its TTL ms: a delivery claimed before is a
// replay or a redelivery, and changes nothing. On success it returns the session as it was before the answer (the caller
// applies the answer itself), which spares a second read on the hot path. A
// session of another audit version comes back as HGETALL's fields and
// values, since read knows only this audit's questions.
const luaAnswer = `
if ARGV[10] ~= "" and claim(KEYS[3], ARGV[11], ARGV[12], ARGV[10], ARGV[13]) == 0 then return {-3} end
local r = read(KEYS[1])
if not r[1] then return {-1} end
if r[2] ~= ARGV[9] then return {-2, redis.call("HGETALL", KEYS[1])} end
local qi = tonumber(ARGV[2])
if r[1] ~= ARGV[1] or r[3] ~= "a" or qi < 1 or nextq(r, 1) ~= qi then return {0, r} end
r[F + qi] = ARGV[4]
local done = nextq(r, qi + 1) == 0
redis.call("HSET", KEYS[1], ARGV[3], ARGV[4], "rev", tonumber(r[1]) + 1, "t1", ARGV[5], "st", done and "d" or "a")
redis.call("PEXPIRE", KEYS[1], ARGV[6])
if done then
  local prev = redis.call("LINDEX", KEYS[2], 0)
  redis.call("LPUSH", KEYS[2], ARGV[5] .. "|" .. r[2] .. "|" .. entry(r))
  redis.call("LTRIM", KEYS[2], 0, tonumber(ARGV[8]) - 1)
  redis.call("PEXPIRE", KEYS[2], ARGV[7])
  r[F + qi] = false
  return {2, r, prev}
end
r[F + qi] = false
return {1, r}
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

func (s *store) claimsKey(u UserKey) string {
	return s.keys.Claims(string(u.Platform), string(u.Workspace), string(u.User))
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
	code, err := replyCode(res)
	if err != nil || code == resDone {
		sess, err := s.decodeRead(res, err)
		return code, sess, err
	}
	// A new session: the script wrote the revision it returns and what it
	// was sent.
	rev, ok := res[1].(int64)
	if !ok {
		return code, Session{}, fmt.Errorf("start session: revision %T in the script's reply", res[1])
	}
	t := time.Unix(now.Unix(), 0).UTC()
	return code, Session{Rev: rev, AuditVersion: s.audit.Version, Status: Active, StartedAt: t, UpdatedAt: t}, nil
}

// Answer records an answer, first claiming its delivery when once names
// one. On completion it also returns the user's previous result (a history
// entry, "" if none), read in the same script so that the new card can say
// what changed at no extra round trip.
func (s *store) Answer(ctx context.Context, k Key, rev int64, q advisor.QuestionID, opts []advisor.OptionID, now time.Time, once Delivery) (int64, Session, string, error) {
	var id string
	if once.ID != "" {
		id = once.claim()
	}
	// An unknown question is position 0, which the script refuses.
	res, err := s.answer.Run(ctx, s.rdb, []string{s.sessionKey(k), s.historyKey(k.UserKey), s.claimsKey(k.UserKey)},
		rev, s.audit.Index(q)+1, "a:"+string(q), joinOptions(opts), now.Unix(), s.sessionTTL.Milliseconds(), s.historyTTL.Milliseconds(), s.historyMax, s.audit.Version,
		id, now.UnixMilli(), now.Add(once.ttl()).UnixMilli(), once.ttl().Milliseconds()).Slice()
	if err != nil {
		return 0, Session{}, "", unavailable("record answer", err)
	}
	code, err := replyCode(res)
	var sess Session
	switch {
	case err != nil || code == resMissing || code == resRepeated:
	case code == resVersion:
		_, sess, err = s.result(res)
	default:
		sess, err = s.decodeRead(res, nil)
	}
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

// replyCode is the code a script's reply begins with.
func replyCode(res []any) (int64, error) {
	if len(res) == 0 {
		return 0, errors.New("empty script reply")
	}
	code, _ := res[0].(int64)
	return code, nil
}

// decodeRead decodes a reply {code, read's values, ...}: the fixed fields,
// then each question's answer in audit order (nil when unanswered). A field
// the session lacks leaves its zero value, as parse does. err, when set, is
// returned as it is, so callers can pass replyCode's along.
func (s *store) decodeRead(res []any, err error) (Session, error) {
	if err != nil || len(res) < 2 {
		return Session{}, err
	}
	vals, _ := res[1].([]any)
	if len(vals) != sessionFixed+len(s.audit.Questions) {
		return Session{}, fmt.Errorf("session: %d values in the script's reply, want %d", len(vals), sessionFixed+len(s.audit.Questions))
	}
	var sess Session
	for i, name := range sessionFields {
		v, ok := vals[i].(string)
		if !ok {
			continue
		}
		switch name {
		case "rev":
			sess.Rev, err = strconv.ParseInt(v, 10, 64)
		case "v":
			sess.AuditVersion = v
		case "st":
			sess.Status = Active
			if v == "d" {
				sess.Status = Done
			}
		case "t0":
			sess.StartedAt, err = unixTime(v)
		case "t1":
			sess.UpdatedAt, err = unixTime(v)
		}
		if err != nil {
			return Session{}, fmt.Errorf("session field %s: %w", name, err)
		}
	}
	for i, q := range s.audit.Questions {
		if v, ok := vals[sessionFixed+i].(string); ok {
			sess.Answers = append(sess.Answers, advisor.Answer{Question: q.ID, Options: splitOptions(v)})
		}
	}
	return sess, nil
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
