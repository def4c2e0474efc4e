package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/schedule"
)

// The queue: per user and endpoint, a list of event IDs (oldest first) and
// a state hash holding each waiting event's body, the head's attempts and
// next attempt, and the lock of the one sender of the head. Every waiting
// event also has a job in the webhook schedule (internal/schedule), which
// is what makes delivery durable: leases, heartbeats, retries at the time
// the job asks for, orphans after a crash. A job only ever sends its event
// when that event is the head of its queue and it holds the lock, so
// events about one user reach an endpoint in the order they happened, and
// never two at once. A job is scheduled before its event is pushed, so no
// event is ever queued without a job to send it.

// pushScript appends events to queues. KEYS: queue, state for each stream,
// then the user's seen set. ARGV: now (ms), the seen set's cutoff (ms) and
// TTL (ms), "1" to skip events already seen, then (stream number, id,
// body) triples. An event already waiting in a stream is not queued again.
var pushScript = redis.NewScript(`
local seen = KEYS[#KEYS]
local skip = {}
local pushed = 0
for i = 5, #ARGV, 3 do
  local id = ARGV[i + 1]
  if skip[id] == nil then
    skip[id] = ARGV[4] == '1' and redis.call('ZSCORE', seen, id) ~= false
  end
end
for i = 5, #ARGV, 3 do
  local k, id = tonumber(ARGV[i]), ARGV[i + 1]
  if not skip[id] and redis.call('HSETNX', KEYS[2 * k], 'b:' .. id, ARGV[i + 2]) == 1 then
    redis.call('RPUSH', KEYS[2 * k - 1], id)
    pushed = pushed + 1
  end
  redis.call('ZADD', seen, ARGV[1], id)
end
redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. ARGV[2])
redis.call('PEXPIRE', seen, ARGV[3])
return pushed
`)

// beginScript decides whether a job may send its event (ARGV[1]) now.
// KEYS: queue, state. ARGV: id, token, now (ms), lock end (ms). It returns
// {"send", body, attempts} with the lock taken; {"wait", next attempt of
// the head, lock end} when the event waits behind another; {"busy", lock
// end} when another sender holds the head; {"gone"} when it is not queued
// (sent, dropped, forgotten, or not pushed yet).
var beginScript = redis.NewScript(`
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then
  if redis.call('HEXISTS', KEYS[2], 'b:' .. ARGV[1]) == 1 then
    return {'wait', redis.call('HGET', KEYS[2], 'next_at') or '0', redis.call('HGET', KEYS[2], 'lock_until') or '0'}
  end
  return {'gone'}
end
local lock = redis.call('HGET', KEYS[2], 'lock')
if lock and lock ~= ARGV[2] then
  local held = redis.call('HGET', KEYS[2], 'lock_until') or '0'
  if tonumber(held) > tonumber(ARGV[3]) then return {'busy', held} end
end
redis.call('HSET', KEYS[2], 'lock', ARGV[2], 'lock_until', ARGV[4])
return {'send', redis.call('HGET', KEYS[2], 'b:' .. ARGV[1]), redis.call('HGET', KEYS[2], 'attempts') or '0'}
`)

// settleScript ends a send of ARGV[1] that needs no retry. KEYS: queue,
// state. ARGV: id, token, mode ("ok": delivered, so it leaves if it is
// the head; "drop": it leaves wherever it is). It releases the lock if
// the token holds it and returns {1 if it left, the new head or ""}.
var settleScript = redis.NewScript(`
local left = 0
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  redis.call('HDEL', KEYS[2], 'b:' .. ARGV[1], 'attempts', 'next_at', 'error')
  left = 1
elseif ARGV[3] == 'drop' then
  left = redis.call('LREM', KEYS[1], 1, ARGV[1])
  redis.call('HDEL', KEYS[2], 'b:' .. ARGV[1])
end
if redis.call('HGET', KEYS[2], 'lock') == ARGV[2] then
  redis.call('HDEL', KEYS[2], 'lock', 'lock_until')
end
return {left, redis.call('LINDEX', KEYS[1], 0) or ''}
`)

// failScript records a failed attempt of the head ARGV[1]. KEYS: queue,
// state. ARGV: id, token, next attempt (ms), error, max attempts. It
// releases the lock and returns {attempts so far, body}: the body only
// when the attempts are used up (the caller dead-letters it), attempts -1
// when the event is no longer the head (forgotten meanwhile).
var failScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], 'lock') == ARGV[2] then
  redis.call('HDEL', KEYS[2], 'lock', 'lock_until')
end
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return {-1, ''} end
local n = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'next_at', ARGV[3], 'error', ARGV[4])
if n >= tonumber(ARGV[5]) then
  return {n, redis.call('HGET', KEYS[2], 'b:' .. ARGV[1])}
end
return {n, ''}
`)

// eraseScript forgets a user's queues. KEYS: queue, state for each stream,
// then the seen set. ARGV: now (ms), seen TTL (ms), then (stream number,
// id, body) triples to queue afterwards (user.forgotten). Each stream's
// lock is kept (a send in flight finishes before anything queued after it
// is sent), the rest deleted. It returns (stream number, id) pairs of what
// it removed.
var eraseScript = redis.NewScript(`
local removed = {}
local queued = {}
for j = 3, #ARGV, 3 do queued[tonumber(ARGV[j])] = true end
for i = 1, (#KEYS - 1) / 2 do
  local q, s = KEYS[2 * i - 1], KEYS[2 * i]
  for _, id in ipairs(redis.call('LRANGE', q, 0, -1)) do
    removed[#removed + 1] = i
    removed[#removed + 1] = id
  end
  local lock = redis.call('HMGET', s, 'lock', 'lock_until')
  redis.call('DEL', q, s)
  if lock[1] then
    redis.call('HSET', s, 'lock', lock[1], 'lock_until', lock[2] or '0')
    if not queued[i] then redis.call('PEXPIRE', s, 600000) end
  end
end
redis.call('DEL', KEYS[#KEYS])
for j = 3, #ARGV, 3 do
  local k = tonumber(ARGV[j])
  redis.call('HSET', KEYS[2 * k], 'b:' .. ARGV[j + 1], ARGV[j + 2])
  redis.call('RPUSH', KEYS[2 * k - 1], ARGV[j + 1])
  redis.call('ZADD', KEYS[#KEYS], ARGV[1], ARGV[j + 1])
  redis.call('PEXPIRE', KEYS[#KEYS], ARGV[2])
end
return removed
`)

// Dead letters are one list, newest first. An entry is a header line,
// "<at ms> <endpoint>/<event id> <user ref>", and the letter as JSON, so
// that the scripts find a letter by key or by user without decoding JSON.

// deadPushScript pushes a dead letter (ARGV[2]) after removing any older one
// with the same key (ARGV[1]), caps the list at ARGV[3] entries and ARGV[4]
// (ms) of age, and sets its TTL to ARGV[5] ms.
var deadPushScript = redis.NewScript(deadLib + `
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if field(e, 2) == ARGV[1] then redis.call('LREM', KEYS[1], 0, e) end
end
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
while true do
  local e = redis.call('LINDEX', KEYS[1], -1)
  if not e or tonumber(field(e, 1)) >= tonumber(ARGV[4]) then break end
  redis.call('RPOP', KEYS[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// deadRemoveScript removes the letters whose header field ARGV[1] (2: the
// key, 3: the user) is ARGV[2], or every letter for field "all", and
// returns them.
var deadRemoveScript = redis.NewScript(deadLib + `
local out = {}
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if ARGV[1] == 'all' or field(e, tonumber(ARGV[1])) == ARGV[2] then
    redis.call('LREM', KEYS[1], 0, e)
    out[#out + 1] = e
  end
end
return out
`)

// deadLib reads field n (1-based, space-separated) of an entry's header.
const deadLib = `local function field(e, n)
  local head = string.match(e, '^[^\n]*')
  local i = 0
  for f in string.gmatch(head, '[^ ]+') do
    i = i + 1
    if i == n then return f end
  end
  return nil
end
`

// stream names one queue: a user and an endpoint.
type stream struct {
	user     conversation.UserKey
	endpoint string
}

func (st stream) keys(p keys.Prefix) (queue, state string) {
	u := st.user
	return p.WebhookQueue(string(u.Platform), string(u.Workspace), string(u.User), st.endpoint),
		p.WebhookState(string(u.Platform), string(u.Workspace), string(u.User), st.endpoint)
}

// jobPayload is what a delivery job carries: which event, in which stream,
// and when it was queued. It names the user, as the queue does.
type jobPayload struct {
	Endpoint  string `json:"e"`
	Platform  string `json:"p"`
	Workspace string `json:"w"`
	User      string `json:"u"`
	Event     string `json:"id"`
	Queued    int64  `json:"t"`
}

func (j jobPayload) stream() stream {
	return stream{endpoint: j.Endpoint, user: conversation.UserKey{
		Platform: conversation.Platform(j.Platform), Workspace: conversation.WorkspaceID(j.Workspace), User: conversation.UserID(j.User)}}
}

// jobID names the delivery of one event to one endpoint: no user in it, so
// the schedule's records of delivered jobs name nobody.
func jobID(endpoint, event string) string { return endpoint + "/" + event }

func newJob(st stream, event string, now time.Time) schedule.Job {
	p, _ := json.Marshal(jobPayload{Endpoint: st.endpoint, Platform: string(st.user.Platform), Workspace: string(st.user.Workspace),
		User: string(st.user.User), Event: event, Queued: now.UnixMilli()})
	return schedule.Job{ID: jobID(st.endpoint, event), Due: now, Payload: p}
}

// userRef is a user as a dead letter's header names them: no spaces or
// newlines, and distinct for distinct users.
func userRef(u conversation.UserKey) string {
	return url.QueryEscape(string(u.Platform)) + ":" + url.QueryEscape(string(u.Workspace)) + ":" + url.QueryEscape(string(u.User))
}

// DeadLetter is a delivery that ran out of attempts.
type DeadLetter struct {
	Endpoint  string    `json:"endpoint"`
	Event     string    `json:"event_id"`
	Type      Type      `json:"type"`
	Platform  string    `json:"platform"`
	Workspace string    `json:"workspace"`
	User      string    `json:"user"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	At        time.Time `json:"at"`
	Body      string    `json:"body"`
}

// Key names the letter for `bot webhooks replay` and `drop`:
// "<endpoint>/<event id>".
func (d DeadLetter) Key() string { return jobID(d.Endpoint, d.Event) }

func (d DeadLetter) userKey() conversation.UserKey {
	return conversation.UserKey{Platform: conversation.Platform(d.Platform), Workspace: conversation.WorkspaceID(d.Workspace), User: conversation.UserID(d.User)}
}

func (d DeadLetter) encode() string {
	j, _ := json.Marshal(d)
	return strconv.FormatInt(d.At.UnixMilli(), 10) + " " + d.Key() + " " + userRef(d.userKey()) + "\n" + string(j)
}

var errCorruptLetter = errors.New("webhooks: undecodable dead letter")

func decodeDeadLetter(e string) (DeadLetter, error) {
	_, js, ok := strings.Cut(e, "\n")
	var d DeadLetter
	if !ok || json.Unmarshal([]byte(js), &d) != nil {
		return DeadLetter{}, errCorruptLetter
	}
	return d, nil
}

// queue is the Redis side of the webhooks: the user's streams and the
// webhook schedule.
type queue struct {
	rdb     redis.UniversalClient
	p       keys.Prefix
	sched   *schedule.Store
	seenTTL time.Duration
	deadCap int
	deadTTL time.Duration
}

func newQueue(rdb redis.UniversalClient, p keys.Prefix) *queue {
	return &queue{
		rdb: rdb, p: p,
		sched:   schedule.NewStore(rdb, schedule.StoreConfig{Prefix: p.WebhookSchedule()}),
		seenTTL: 7 * 24 * time.Hour,
		deadCap: 1000,
		deadTTL: 14 * 24 * time.Hour,
	}
}

func (q *queue) seenKey(u conversation.UserKey) string {
	return q.p.WebhookSeen(string(u.Platform), string(u.Workspace), string(u.User))
}

// delivery is one event for one endpoint.
type delivery struct {
	endpoint string
	ev       event
}

// push queues events about one user (jobs first, then the queues). With
// once, an event whose ID was queued before (within a week) is not queued
// again.
func (q *queue) push(ctx context.Context, u conversation.UserKey, ds []delivery, now time.Time, once bool) error {
	if len(ds) == 0 {
		return nil
	}
	if once {
		fresh := ds[:0:0]
		for _, d := range ds {
			_, err := q.rdb.ZScore(ctx, q.seenKey(u), d.ev.ID).Result()
			switch {
			case errors.Is(err, redis.Nil):
				fresh = append(fresh, d)
			case err != nil:
				return fmt.Errorf("webhooks: queue: %w", err)
			}
		}
		if ds = fresh; len(ds) == 0 {
			return nil
		}
	}
	idx := map[string]int{}
	var ks []string
	jobs := make([]schedule.Job, 0, len(ds))
	args := []any{now.UnixMilli(), now.Add(-q.seenTTL).UnixMilli(), q.seenTTL.Milliseconds(), boolArg(once)}
	for _, d := range ds {
		st := stream{user: u, endpoint: d.endpoint}
		k, ok := idx[d.endpoint]
		if !ok {
			qk, sk := st.keys(q.p)
			ks = append(ks, qk, sk)
			k = len(ks) / 2
			idx[d.endpoint] = k
		}
		jobs = append(jobs, newJob(st, d.ev.ID, now))
		args = append(args, k, d.ev.ID, d.ev.Body)
	}
	ks = append(ks, q.seenKey(u))
	if err := q.sched.ScheduleMany(ctx, jobs); err != nil {
		return fmt.Errorf("webhooks: schedule: %w", err)
	}
	if err := pushScript.Run(ctx, q.rdb, ks, args...).Err(); err != nil {
		return fmt.Errorf("webhooks: queue: %w", err)
	}
	return nil
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// beginResult is what begin found.
type beginResult struct {
	state    string // send, wait, busy, gone
	body     []byte
	attempts int
	nextAt   time.Time // wait: when the head is tried next (zero: unknown)
	lockEnd  time.Time // wait, busy: until when the head's sender holds it
}

func (q *queue) begin(ctx context.Context, st stream, id, token string, now, lockEnd time.Time) (beginResult, error) {
	qk, sk := st.keys(q.p)
	res, err := beginScript.Run(ctx, q.rdb, []string{qk, sk}, id, token, now.UnixMilli(), lockEnd.UnixMilli()).StringSlice()
	if err != nil || len(res) == 0 {
		return beginResult{}, fmt.Errorf("webhooks: begin: %w", errors.Join(err, errUnexpected(len(res) == 0)))
	}
	r := beginResult{state: res[0]}
	ms := func(i int) time.Time {
		if i >= len(res) {
			return time.Time{}
		}
		n, _ := strconv.ParseInt(res[i], 10, 64)
		if n <= 0 {
			return time.Time{}
		}
		return time.UnixMilli(n)
	}
	switch r.state {
	case "send":
		if len(res) < 3 {
			return beginResult{}, fmt.Errorf("webhooks: begin: %w", errUnexpected(true))
		}
		r.body = []byte(res[1])
		r.attempts, _ = strconv.Atoi(res[2])
	case "wait":
		r.nextAt, r.lockEnd = ms(1), ms(2)
	case "busy":
		r.lockEnd = ms(1)
	}
	return r, nil
}

func errUnexpected(bad bool) error {
	if bad {
		return errors.New("unexpected answer from Redis")
	}
	return nil
}

// settle ends a send that needs no retry; it returns the new head, if any.
func (q *queue) settle(ctx context.Context, st stream, id, token string, drop bool) (left bool, next string, err error) {
	qk, sk := st.keys(q.p)
	mode := "ok"
	if drop {
		mode = "drop"
	}
	res, err := settleScript.Run(ctx, q.rdb, []string{qk, sk}, id, token, mode).Slice()
	if err != nil || len(res) != 2 {
		return false, "", fmt.Errorf("webhooks: settle: %w", errors.Join(err, errUnexpected(len(res) != 2)))
	}
	n, _ := res[0].(int64)
	next, _ = res[1].(string)
	return n == 1, next, nil
}

// fail records a failed attempt; body is set when the attempts are used up.
func (q *queue) fail(ctx context.Context, st stream, id, token string, nextAt time.Time, reason string, max int) (attempts int, body []byte, err error) {
	qk, sk := st.keys(q.p)
	res, err := failScript.Run(ctx, q.rdb, []string{qk, sk}, id, token, nextAt.UnixMilli(), reason, max).Slice()
	if err != nil || len(res) != 2 {
		return 0, nil, fmt.Errorf("webhooks: record failure: %w", errors.Join(err, errUnexpected(len(res) != 2)))
	}
	n, _ := res[0].(int64)
	b, _ := res[1].(string)
	if b != "" {
		body = []byte(b)
	}
	return int(n), body, nil
}

// wake makes the job of a new head due now, so it does not wait for its
// next poll.
func (q *queue) wake(ctx context.Context, st stream, id string, now time.Time) error {
	if err := q.sched.Schedule(ctx, newJob(st, id, now)); err != nil {
		return fmt.Errorf("webhooks: wake the next event: %w", err)
	}
	return nil
}

// bury keeps a delivery that ran out of attempts as a dead letter.
func (q *queue) bury(ctx context.Context, d DeadLetter) error {
	err := deadPushScript.Run(ctx, q.rdb, []string{q.p.WebhookDead()}, d.Key(), d.encode(), q.deadCap,
		d.At.Add(-q.deadTTL).UnixMilli(), q.deadTTL.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("webhooks: dead letter: %w", err)
	}
	return nil
}

// deadLetters returns up to n dead letters, newest first.
func (q *queue) deadLetters(ctx context.Context, n int) ([]DeadLetter, error) {
	raw, err := q.rdb.LRange(ctx, q.p.WebhookDead(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("webhooks: dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(raw))
	for _, e := range raw {
		d, err := decodeDeadLetter(e)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// removeDead removes dead letters by key, by user, or all ("", "").
func (q *queue) removeDead(ctx context.Context, field, value string) ([]DeadLetter, error) {
	raw, err := deadRemoveScript.Run(ctx, q.rdb, []string{q.p.WebhookDead()}, field, value).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("webhooks: remove dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(raw))
	for _, e := range raw {
		if d, err := decodeDeadLetter(e); err == nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// requeue puts a dead letter back at the end of its queue, with its own
// event ID (receivers that saw an earlier attempt recognise it). Earlier
// records of its job are erased first, so the schedule does not take it for
// delivered.
func (q *queue) requeue(ctx context.Context, d DeadLetter, now time.Time) error {
	st := stream{user: d.userKey(), endpoint: d.Endpoint}
	if _, err := q.sched.Erase(ctx, d.Key()); err != nil {
		return fmt.Errorf("webhooks: replay: %w", err)
	}
	qk, sk := st.keys(q.p)
	if err := q.sched.Schedule(ctx, newJob(st, d.Event, now)); err != nil {
		return fmt.Errorf("webhooks: replay: %w", err)
	}
	err := pushScript.Run(ctx, q.rdb, []string{qk, sk, q.seenKey(st.user)},
		now.UnixMilli(), now.Add(-q.seenTTL).UnixMilli(), q.seenTTL.Milliseconds(), "0", 1, d.Event, d.Body).Err()
	if err != nil {
		return fmt.Errorf("webhooks: replay: %w", err)
	}
	return nil
}

// erase forgets a user's queues on every endpoint named, queues forgotten
// on those that take it, and removes the jobs of what it dropped. It
// returns how many events it dropped.
func (q *queue) erase(ctx context.Context, u conversation.UserKey, endpoints []string, forgotten []delivery, now time.Time) (int, error) {
	var ks []string
	idx := map[string]int{}
	for _, e := range endpoints {
		qk, sk := stream{user: u, endpoint: e}.keys(q.p)
		ks = append(ks, qk, sk)
		idx[e] = len(ks) / 2
	}
	ks = append(ks, q.seenKey(u))
	args := []any{now.UnixMilli(), q.seenTTL.Milliseconds()}
	jobs := make([]schedule.Job, 0, len(forgotten))
	for _, d := range forgotten {
		jobs = append(jobs, newJob(stream{user: u, endpoint: d.endpoint}, d.ev.ID, now))
		args = append(args, idx[d.endpoint], d.ev.ID, d.ev.Body)
	}
	if err := q.sched.ScheduleMany(ctx, jobs); err != nil {
		return 0, fmt.Errorf("webhooks: forget: %w", err)
	}
	res, err := eraseScript.Run(ctx, q.rdb, ks, args...).Slice()
	if err != nil {
		return 0, fmt.Errorf("webhooks: forget: %w", err)
	}
	n := 0
	for i := 0; i+1 < len(res); i += 2 {
		k, _ := res[i].(int64)
		id, _ := res[i+1].(string)
		if k < 1 || int(k) > len(endpoints) {
			continue
		}
		n++
		if _, err := q.sched.Erase(ctx, jobID(endpoints[k-1], id)); err != nil {
			// The event is gone from its queue: its job finds nothing to
			// send and ends.
			return n, fmt.Errorf("webhooks: forget: %w", err)
		}
	}
	return n, nil
}
