// Package schedule is itfit's durable scheduler for nudges that are due
// months ahead (a user's yearly revisit reminder, an account manager's
// nudge), which Slack's chat.scheduleMessage cannot hold.
//
// The schedule lives in Redis: a sorted set of job IDs scored by due time and
// a hash of job records, under one hash tag so that the Lua scripts work on
// Redis Cluster. Any number of Workers, in any number of replicas, poll the
// set; a Lua script claims a bounded batch of due jobs atomically by moving
// their score to the end of a lease, so finding due work costs O(log N +
// batch) however many nudges are scheduled. A worker's heartbeat keeps the
// lease of a delivery in flight; a job whose worker died is due again soon
// after (one lease, 30 s by default).
//
// Delivery is exactly once wherever the platform allows it to be known:
//
//   - a delivered occurrence (job ID and due time) is recorded in the same
//     atomic step that removes the job, and checked before every send;
//   - an outcome that may or may not have reached the platform (a timeout, a
//     connection reset after the request was written, a 5xx, a worker killed
//     mid-delivery) is ambiguous: it is never blindly retried. A Confirmer
//     (for Slack: message metadata looked up with conversations.history) is
//     asked "was it delivered?" before any resend; without one, an
//     ambiguous occurrence is resent at most AmbiguousResends times (default
//     once), each resend logged and reported as a possible duplicate.
//
// DESIGN.md states what remains (the platforms' own limits) and why this is
// hand-made rather than built on asynq.
package schedule

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
)

// Job is one scheduled nudge. Payload is opaque to the scheduler.
type Job struct {
	// ID names the job; scheduling an existing ID replaces it.
	ID string
	// Due is when the job should be delivered. Together with ID it names the
	// occurrence that the sent-record protects from a second delivery.
	Due time.Time
	// Payload is handed to the Deliverer unchanged.
	Payload []byte
	// Attempt counts failed deliveries of this occurrence so far.
	Attempt int
	// Ambiguous counts the attempts of this occurrence whose outcome is not
	// known (see ErrAmbiguous): the nudge may already be on the platform.
	// A Deliverer may use it, e.g. to look for its earlier copy.
	Ambiguous int
}

// Occurrence names this delivery of the job ("<ID>@<due Unix ms>"): the same
// for every attempt, different for a snoozed or next year's one. A Deliverer
// that can tag what it sends (Slack message metadata) tags it with this, and
// its Confirmer looks for the tag.
func (j Job) Occurrence() string {
	return j.ID + "@" + strconv.FormatInt(j.Due.UnixMilli(), 10)
}

func (j Job) valid() bool {
	return j.ID != "" && !j.Due.IsZero() && j.Attempt >= 0 && j.Ambiguous >= 0
}

var (
	// ErrNotFound is returned by Get for an ID that is not scheduled.
	ErrNotFound = errors.New("schedule: job not found")
	// ErrInvalidJob is returned for a job without an ID or due time.
	ErrInvalidJob = errors.New("schedule: invalid job")
	// ErrCorruptRecord is returned when a stored record cannot be decoded.
	ErrCorruptRecord = errors.New("schedule: corrupt job record")
)

// StoreConfig tunes a Store; the zero value is usable.
type StoreConfig struct {
	// Prefix starts every key; default keys.Default.
	Prefix keys.Prefix
	// SentTTL is how long a job's delivered occurrences are remembered after
	// its latest delivery. It must outlast a lease plus AmbiguousDelay plus
	// the time a worker may take to settle; default 7 days.
	SentTTL time.Duration
	// DeadLetterCap bounds the dead-letter list; default 1000.
	DeadLetterCap int
	// DeadLetterTTL is the age after which a dead letter is dropped (they
	// name users, and are for an operator to look at soon, not to keep);
	// default 14 days. Running workers prune older ones every minute, and the
	// whole list expires this long after the last one was added.
	DeadLetterTTL time.Duration
}

// Store holds the schedule. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	p       keys.Prefix
	sentTTL time.Duration
	deadCap int
	deadTTL time.Duration
}

// NewStore returns a Store on rdb, which may be a single node, Sentinel or
// Cluster client.
func NewStore(rdb redis.UniversalClient, cfg StoreConfig) *Store {
	if cfg.Prefix == "" {
		cfg.Prefix = keys.Default
	}
	if cfg.SentTTL <= 0 {
		cfg.SentTTL = 7 * 24 * time.Hour
	}
	if cfg.DeadLetterCap <= 0 {
		cfg.DeadLetterCap = 1000
	}
	if cfg.DeadLetterTTL <= 0 {
		cfg.DeadLetterTTL = 14 * 24 * time.Hour
	}
	return &Store{rdb: rdb, p: cfg.Prefix, sentTTL: cfg.SentTTL, deadCap: cfg.DeadLetterCap, deadTTL: cfg.DeadLetterTTL}
}

// Schedule adds the job, or replaces the job with the same ID (its due time,
// payload and attempt count): this is how a reminder is snoozed. A claim held
// on the old version is voided, so an in-flight delivery of it cannot remove
// the new one. Scheduling an occurrence (ID and due time) that was already
// delivered is harmless: the worker recognises it and does not send it again.
func (s *Store) Schedule(ctx context.Context, j Job) error {
	if !j.valid() {
		return ErrInvalidJob
	}
	rec := encodeRecord(j)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.p.ScheduleJobs(), j.ID, rec)
		p.ZAdd(ctx, s.p.ScheduleDue(), redis.Z{Score: float64(j.Due.UnixMilli()), Member: j.ID})
		p.HDel(ctx, s.p.ScheduleClaims(), j.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("schedule %q: %w", j.ID, err)
	}
	return nil
}

// ScheduleMany schedules jobs as Schedule does, in transactions of up to 1000
// jobs each sent in one round trip (for imports and re-scheduling in bulk).
func (s *Store) ScheduleMany(ctx context.Context, jobs []Job) error {
	const chunk = 1000
	for len(jobs) > 0 {
		part := jobs[:min(chunk, len(jobs))]
		jobs = jobs[len(part):]
		for _, j := range part {
			if !j.valid() {
				return ErrInvalidJob
			}
		}
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, j := range part {
				p.HSet(ctx, s.p.ScheduleJobs(), j.ID, encodeRecord(j))
				p.ZAdd(ctx, s.p.ScheduleDue(), redis.Z{Score: float64(j.Due.UnixMilli()), Member: j.ID})
				p.HDel(ctx, s.p.ScheduleClaims(), j.ID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("schedule %d jobs: %w", len(part), err)
		}
	}
	return nil
}

// Cancel removes the job; it reports whether there was one. A delivery
// already in flight cannot be called back, but it will not be retried.
// Records of occurrences already delivered stay (until SentTTL); Erase
// removes them too.
func (s *Store) Cancel(ctx context.Context, id string) (bool, error) {
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.HDel(ctx, s.p.ScheduleJobs(), id)
		p.ZRem(ctx, s.p.ScheduleDue(), id)
		p.HDel(ctx, s.p.ScheduleClaims(), id)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("cancel %q: %w", id, err)
	}
	return n.Val() > 0, nil
}

// Erase removes everything the schedule holds about one job ID: the job
// (as Cancel does), the records of its delivered occurrences and its dead
// letters. It reports how many records it removed. It is one Lua script
// touching that ID's keys only: O(its records + DeadLetterCap), never a
// keyspace scan, so forget costs the same whatever else Redis holds. A
// delivery already in flight may still reach the user, but leaves no record
// behind (its acknowledgement finds no job and writes nothing).
func (s *Store) Erase(ctx context.Context, id string) (int, error) {
	needle := binary.AppendUvarint(nil, uint64(len(id)))
	needle = append(needle, id...)
	n, err := eraseScript.Run(ctx, s.rdb,
		[]string{s.p.ScheduleDue(), s.p.ScheduleJobs(), s.p.ScheduleClaims(), s.p.ScheduleDead(), s.p.ScheduleSent(id)},
		id, needle).Int()
	if err != nil {
		return 0, fmt.Errorf("erase %q: %w", id, err)
	}
	return n, nil
}

// CancelMatching cancels every job whose ID matches the glob pattern (Redis
// MATCH syntax; escape literal parts) and returns how many it removed. It
// walks the job hash with HSCAN, so it costs O(all jobs): it is for rare
// bulk operations such as a Slack workspace uninstalling the app, never for
// the delivery path. A job scheduled while the walk runs may be missed; a
// job of a gone workspace is then dropped by its delivery instead.
func (s *Store) CancelMatching(ctx context.Context, pattern string) (int, error) {
	var ids []string
	it := s.rdb.HScan(ctx, s.p.ScheduleJobs(), 0, pattern, 1000).Iterator()
	for i := 0; it.Next(ctx); i++ {
		// HSCAN returns field, value, field, value…; only fields are IDs.
		if i%2 == 0 {
			ids = append(ids, it.Val())
		}
	}
	if err := it.Err(); err != nil {
		return 0, fmt.Errorf("cancel matching %q: %w", pattern, err)
	}
	n := 0
	const chunk = 500
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		var del *redis.IntCmd
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			del = p.HDel(ctx, s.p.ScheduleJobs(), part...)
			members := make([]any, len(part))
			for i, id := range part {
				members[i] = id
			}
			p.ZRem(ctx, s.p.ScheduleDue(), members...)
			p.HDel(ctx, s.p.ScheduleClaims(), part...)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("cancel matching %q: %w", pattern, err)
		}
		n += int(del.Val())
	}
	return n, nil
}

// Get returns the scheduled job with this ID, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Job, error) {
	rec, err := s.rdb.HGet(ctx, s.p.ScheduleJobs(), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return Job{}, ErrNotFound
	}
	if err != nil {
		return Job{}, fmt.Errorf("get %q: %w", id, err)
	}
	j, err := decodeRecord(id, rec)
	if err != nil {
		return Job{}, fmt.Errorf("get %q: %w", id, err)
	}
	return j, nil
}

// DeadLetter is a job that ran out of attempts (or whose ambiguous delivery
// was not resent), as kept in the capped list.
type DeadLetter struct {
	Job    Job
	Reason string
	At     time.Time
}

// DeadLetters returns up to n dead letters, newest first. They are kept at
// most DeadLetterCap of them and for DeadLetterTTL; Erase removes a job's.
func (s *Store) DeadLetters(ctx context.Context, n int) ([]DeadLetter, error) {
	raw, err := s.rdb.LRange(ctx, s.p.ScheduleDead(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(raw))
	for _, r := range raw {
		d, err := decodeDeadLetter([]byte(r))
		if err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// claimed is one job held under a lease by a worker. orphaned says the
// previous holder's lease ran out while its delivery was in flight (the
// worker died, or lost Redis for longer than a lease): it may have sent it.
type claimed struct {
	job      Job
	token    string
	orphaned bool
}

// A claim's entry in the claims hash is its token while held, and the token
// followed by inFlight once the delivery has begun (begin): a claim found
// in that state when its lease has run out is an orphaned delivery, one
// found without it belonged to a worker that stopped before sending.
const inFlight = "!"

// held is the Lua test that the caller's claim (ARGV[2]) still holds the job
// (ARGV[1]), in either state.
const held = `local function held(claims, id, token)
  local v = redis.call('HGET', claims, id)
  return v == token or v == token .. '` + inFlight + `'
end
`

// deadLib reads a dead letter's time (its first field, a zigzag varint of
// Unix ms) and drops letters older than a cutoff from the list's tail, where
// the oldest are.
const deadLib = `local function dead_at(e)
  local v, m = 0, 1
  for i = 1, #e do
    local b = string.byte(e, i)
    v = v + (b % 128) * m
    if b < 128 then
      if v % 2 == 0 then return v / 2 end
      return -(v + 1) / 2
    end
    m = m * 128
  end
  return nil
end
local function prune_dead(key, cutoff)
  local n = 0
  while true do
    local e = redis.call('LINDEX', key, -1)
    if not e then return n end
    local t = dead_at(e)
    if t and t >= cutoff then return n end
    redis.call('RPOP', key)
    n = n + 1
  end
end
`

// claimScript takes up to ARGV[3] jobs due at ARGV[1] (Unix ms), moves each
// one's score to the end of its lease (ARGV[2]) and records the claim token
// (ARGV[4]), all atomically, so two workers never hold the same job at once
// and a job whose worker died is due again when the lease ends. It returns
// id, record, orphaned ("1" when the previous claim's delivery was in
// flight) for each; an orphan's new claim stays marked in flight, so that
// its ambiguity survives this worker failing to settle it too. The range
// read is O(log N + batch).
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local rec = redis.call('HGET', KEYS[2], id)
  if rec then
    local prev = redis.call('HGET', KEYS[3], id)
    local orphaned = prev and string.sub(prev, -1) == '` + inFlight + `'
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    out[#out + 1] = id
    out[#out + 1] = rec
    if orphaned then
      redis.call('HSET', KEYS[3], id, ARGV[4] .. '` + inFlight + `')
      out[#out + 1] = '1'
    else
      redis.call('HSET', KEYS[3], id, ARGV[4])
      out[#out + 1] = '0'
    end
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// beginScript is the last step before sending: it returns 0 if the claim
// was lost, 2 if this occurrence (field ARGV[3] of the sent hash) was
// already delivered, else marks the claim in flight and returns 1. Checking
// the sent record and marking in one step means that no claim is ever found
// "in flight" for an occurrence known to be delivered.
var beginScript = redis.NewScript(held + `
if not held(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '` + inFlight + `')
return 1
`)

// heartbeatScript moves the lease end of every claim still held (ARGV[2k],
// ARGV[2k+1] = id, token) to ARGV[1], and returns the 0-based indexes of
// those that are not held any more.
var heartbeatScript = redis.NewScript(held + `
local lost = {}
for i = 2, #ARGV, 2 do
  if held(KEYS[2], ARGV[i], ARGV[i + 1]) then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i])
  else
    lost[#lost + 1] = (i - 2) / 2
  end
end
return lost
`)

// ackScript records a delivered occurrence (field ARGV[3] of the job's sent
// hash, TTL ARGV[4] ms) and removes the job, in one step, if the caller
// still holds it (returns 1). If the claim was lost but the job is still
// scheduled (re-claimed after a lease ran out, or replaced) it records the
// delivery only (returns 2), so that whoever holds it now does not send it
// again. A job that is gone (cancelled, erased) gets no record (returns 0).
var ackScript = redis.NewScript(held + `
local mine = held(KEYS[3], ARGV[1], ARGV[2])
if not mine and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[4], ARGV[3], '1')
redis.call('PEXPIRE', KEYS[4], ARGV[4])
if not mine then return 2 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`)

// finishScript removes a job the caller still holds (gone, or dead); with
// ARGV[3] set it also pushes a dead letter onto the list, which it caps at
// ARGV[4] entries and ARGV[5] (Unix ms) of age, and whose TTL it sets to
// ARGV[6] ms.
var finishScript = redis.NewScript(held + deadLib + `
if not held(KEYS[3], ARGV[1], ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
  prune_dead(KEYS[4], tonumber(ARGV[5]))
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
return 1
`)

// requeueScript puts a job the caller still holds back in the schedule at
// ARGV[3] with the record ARGV[4] (a retry, or a release on shutdown).
var requeueScript = redis.NewScript(held + `
if not held(KEYS[3], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`)

// pruneDeadScript drops dead letters older than ARGV[1] (Unix ms).
var pruneDeadScript = redis.NewScript(deadLib + `
return prune_dead(KEYS[1], tonumber(ARGV[1]))
`)

// eraseScript removes job ARGV[1] (its record, schedule entry and claim),
// its sent hash (KEYS[5]) and every dead letter whose ID field (after the
// time varint) is ARGV[2] (the uvarint length and the ID), and returns how
// many records went.
var eraseScript = redis.NewScript(`
local n = redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
n = n + redis.call('HLEN', KEYS[5])
redis.call('DEL', KEYS[5])
for _, e in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  local i = 1
  while i <= #e and string.byte(e, i) >= 128 do i = i + 1 end
  if string.sub(e, i + 1, i + #ARGV[2]) == ARGV[2] then
    n = n + redis.call('LREM', KEYS[4], 1, e)
  end
end
return n
`)

func (s *Store) scriptKeys() []string {
	return []string{s.p.ScheduleDue(), s.p.ScheduleJobs(), s.p.ScheduleClaims(), s.p.ScheduleDead()}
}

// claim leases up to n jobs due at now until leaseEnd.
func (s *Store) claim(ctx context.Context, now, leaseEnd time.Time, n int) ([]claimed, error) {
	token := newToken()
	res, err := claimScript.Run(ctx, s.rdb, s.scriptKeys()[:3],
		now.UnixMilli(), leaseEnd.UnixMilli(), n, token).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	out := make([]claimed, 0, len(res)/3)
	var bad []error
	for i := 0; i+2 < len(res); i += 3 {
		id, _ := res[i].(string)
		rec, _ := res[i+1].(string)
		orphaned, _ := res[i+2].(string)
		j, err := decodeRecord(id, []byte(rec))
		if err != nil {
			// Leave it claimed: it comes back after the lease and is logged
			// again, rather than silently vanishing. The rest of the batch
			// is still delivered.
			bad = append(bad, fmt.Errorf("claim %q: %w", id, err))
			continue
		}
		out = append(out, claimed{job: j, token: token, orphaned: orphaned == "1"})
	}
	return out, errors.Join(bad...)
}

// beginResult is what begin found.
type beginResult int

const (
	beginLost beginResult = iota // the claim is not held any more
	beginSend                    // held, marked in flight: send it
	beginSent                    // this occurrence was already delivered
)

// begin marks a held claim in flight, unless the claim is lost or the
// occurrence was already delivered.
func (s *Store) begin(ctx context.Context, c claimed) (beginResult, error) {
	n, err := beginScript.Run(ctx, s.rdb, []string{s.p.ScheduleClaims(), s.p.ScheduleSent(c.job.ID)},
		c.job.ID, c.token, c.job.Due.UnixMilli()).Int()
	if err != nil {
		return beginLost, fmt.Errorf("begin %q: %w", c.job.ID, err)
	}
	switch n {
	case 1:
		return beginSend, nil
	case 2:
		return beginSent, nil
	default:
		return beginLost, nil
	}
}

// extend moves the lease of each held claim to leaseEnd and reports, per
// claim, whether it was lost.
func (s *Store) extend(ctx context.Context, cs []claimed, leaseEnd time.Time) ([]bool, error) {
	args := make([]any, 0, 1+2*len(cs))
	args = append(args, leaseEnd.UnixMilli())
	for _, c := range cs {
		args = append(args, c.job.ID, c.token)
	}
	res, err := heartbeatScript.Run(ctx, s.rdb, []string{s.p.ScheduleDue(), s.p.ScheduleClaims()}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("extend leases: %w", err)
	}
	lost := make([]bool, len(cs))
	for _, i := range res {
		if i >= 0 && int(i) < len(lost) {
			lost[i] = true
		}
	}
	return lost, nil
}

// ackResult is what ack did.
type ackResult int

const (
	ackGone     ackResult = iota // the job is gone: nothing recorded
	ackRemoved                   // recorded and removed
	ackRecorded                  // recorded; the job is someone else's now
)

// ack records the occurrence as delivered and removes the job, atomically,
// so no crash can fall between the two.
func (s *Store) ack(ctx context.Context, c claimed) (ackResult, error) {
	n, err := ackScript.Run(ctx, s.rdb, append(s.scriptKeys()[:3], s.p.ScheduleSent(c.job.ID)),
		c.job.ID, c.token, c.job.Due.UnixMilli(), s.sentTTL.Milliseconds()).Int()
	if err != nil {
		return ackGone, fmt.Errorf("ack %q: %w", c.job.ID, err)
	}
	return ackResult(n), nil
}

// finish removes a held job; dead, if not nil, is pushed as a dead letter
// (stamped at now, which also sets the age cutoff). It reports false if the
// claim was no longer held (the job was replaced, cancelled, or re-claimed
// after the lease ran out).
func (s *Store) finish(ctx context.Context, c claimed, dead []byte, now time.Time) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, s.scriptKeys(), c.job.ID, c.token, dead, s.deadCap,
		now.Add(-s.deadTTL).UnixMilli(), s.deadTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("finish %q: %w", c.job.ID, err)
	}
	return n == 1, nil
}

// requeue puts a held job back at the given time with its (updated) record.
func (s *Store) requeue(ctx context.Context, c claimed, at time.Time) (bool, error) {
	n, err := requeueScript.Run(ctx, s.rdb, s.scriptKeys()[:3],
		c.job.ID, c.token, at.UnixMilli(), encodeRecord(c.job)).Int()
	if err != nil {
		return false, fmt.Errorf("requeue %q: %w", c.job.ID, err)
	}
	return n == 1, nil
}

// pruneDead drops dead letters older than DeadLetterTTL at now.
func (s *Store) pruneDead(ctx context.Context, now time.Time) (int, error) {
	n, err := pruneDeadScript.Run(ctx, s.rdb, []string{s.p.ScheduleDead()}, now.Add(-s.deadTTL).UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("prune dead letters: %w", err)
	}
	return n, nil
}

// newToken names one claim; it only has to differ between claims.
func newToken() string {
	return strconv.FormatUint(rand.Uint64(), 36)
}

// A record is version byte 1, uvarint attempt, varint due (Unix ms), then
// the payload: a few bytes of overhead per job rather than JSON's dozens.
// An occurrence with an ambiguous attempt is version 2, with a uvarint
// ambiguous count after the attempt; the common case keeps version 1's size.
const (
	recordVersion          = 1
	recordVersionAmbiguous = 2
)

func encodeRecord(j Job) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(j.Payload))
	if j.Ambiguous == 0 {
		b = append(b, recordVersion)
		b = binary.AppendUvarint(b, uint64(j.Attempt))
	} else {
		b = append(b, recordVersionAmbiguous)
		b = binary.AppendUvarint(b, uint64(j.Attempt))
		b = binary.AppendUvarint(b, uint64(j.Ambiguous))
	}
	b = binary.AppendVarint(b, j.Due.UnixMilli())
	return append(b, j.Payload...)
}

func decodeRecord(id string, b []byte) (Job, error) {
	if len(b) < 1 || (b[0] != recordVersion && b[0] != recordVersionAmbiguous) {
		return Job{}, ErrCorruptRecord
	}
	version := b[0]
	b = b[1:]
	attempt, n := binary.Uvarint(b)
	if n <= 0 {
		return Job{}, ErrCorruptRecord
	}
	b = b[n:]
	var ambiguous uint64
	if version == recordVersionAmbiguous {
		if ambiguous, n = binary.Uvarint(b); n <= 0 {
			return Job{}, ErrCorruptRecord
		}
		b = b[n:]
	}
	due, n := binary.Varint(b)
	if n <= 0 {
		return Job{}, ErrCorruptRecord
	}
	b = b[n:]
	var payload []byte
	if len(b) > 0 {
		payload = append([]byte(nil), b...)
	}
	return Job{ID: id, Due: time.UnixMilli(due), Payload: payload, Attempt: int(attempt), Ambiguous: int(ambiguous)}, nil
}

// A dead letter is the varint time (Unix ms), the uvarint-prefixed ID and
// reason, then the job record.
func encodeDeadLetter(j Job, reason string, at time.Time) []byte {
	b := binary.AppendVarint(nil, at.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(j.ID)))
	b = append(b, j.ID...)
	b = binary.AppendUvarint(b, uint64(len(reason)))
	b = append(b, reason...)
	return append(b, encodeRecord(j)...)
}

func decodeDeadLetter(b []byte) (DeadLetter, error) {
	at, n := binary.Varint(b)
	if n <= 0 {
		return DeadLetter{}, ErrCorruptRecord
	}
	b = b[n:]
	str := func() (string, bool) {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return "", false
		}
		s := string(b[n : n+int(l)])
		b = b[n+int(l):]
		return s, true
	}
	id, ok1 := str()
	reason, ok2 := str()
	if !ok1 || !ok2 {
		return DeadLetter{}, ErrCorruptRecord
	}
	j, err := decodeRecord(id, b)
	if err != nil {
		return DeadLetter{}, err
	}
	return DeadLetter{Job: j, Reason: reason, At: time.UnixMilli(at)}, nil
}
