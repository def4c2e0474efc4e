// Package schedule is itfit's durable scheduler for nudges that are due
// months ahead (a user's yearly revisit reminder, an account manager's
// nudge), which Slack's chat.scheduleMessage cannot hold.
//
// The schedule lives in Redis: a sorted set of job IDs scored by due time and
// a hash of job records, under one hash tag so that the Lua scripts work on
// Redis Cluster. Any number of Workers, in any number of replicas, poll the
// set; a Lua script claims a bounded batch of due jobs atomically by moving
// their score to the end of a lease, so finding due work costs O(log N +
// batch) however many nudges are scheduled, and a job whose worker died is
// due again when its lease ends. A delivered occurrence is recorded (with a
// TTL) before the job is removed, so a job claimed again after a lost ack is
// recognised and not sent twice. See DESIGN.md for why this is hand-made
// rather than built on asynq.
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
	// SentTTL is how long a delivered occurrence is remembered. It must
	// outlast any lease plus the time a worker may take to ack; default 7 days.
	SentTTL time.Duration
	// DeadLetterCap bounds the dead-letter list; default 1000.
	DeadLetterCap int
}

// Store holds the schedule. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	p       keys.Prefix
	sentTTL time.Duration
	deadCap int
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
	return &Store{rdb: rdb, p: cfg.Prefix, sentTTL: cfg.SentTTL, deadCap: cfg.DeadLetterCap}
}

// Schedule adds the job, or replaces the job with the same ID (its due time,
// payload and attempt count): this is how a reminder is snoozed. A claim held
// on the old version is voided, so an in-flight delivery of it cannot remove
// the new one. Scheduling an occurrence (ID and due time) that was already
// delivered is harmless: the worker recognises it and does not send it again.
func (s *Store) Schedule(ctx context.Context, j Job) error {
	if j.ID == "" || j.Due.IsZero() || j.Attempt < 0 {
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
			if j.ID == "" || j.Due.IsZero() || j.Attempt < 0 {
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

// DeadLetter is a job that ran out of attempts, as kept in the capped list.
type DeadLetter struct {
	Job    Job
	Reason string
	At     time.Time
}

// DeadLetters returns up to n dead letters, newest first.
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

// claimed is one job held under a lease by a worker.
type claimed struct {
	job   Job
	token string
}

// claimScript takes up to ARGV[3] jobs due at ARGV[1] (Unix ms), moves each
// one's score to the end of its lease (ARGV[2]) and records the claim token
// (ARGV[4]), all atomically, so two workers never hold the same job at once
// and a job whose worker died is due again when the lease ends. The range
// read is O(log N + batch).
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local rec = redis.call('HGET', KEYS[2], id)
  if rec then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    out[#out + 1] = id
    out[#out + 1] = rec
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// finishScript removes a job the caller still holds (delivered, gone, or
// dead); with ARGV[3] set it also pushes a dead letter onto the capped list.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[4]) - 1)
end
return 1
`)

// requeueScript puts a job the caller still holds back in the schedule at
// ARGV[3] with the record ARGV[4] (a retry, or a release on shutdown).
var requeueScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
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
	out := make([]claimed, 0, len(res)/2)
	var bad []error
	for i := 0; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		rec, _ := res[i+1].(string)
		j, err := decodeRecord(id, []byte(rec))
		if err != nil {
			// Leave it claimed: it comes back after the lease and is logged
			// again, rather than silently vanishing. The rest of the batch
			// is still delivered.
			bad = append(bad, fmt.Errorf("claim %q: %w", id, err))
			continue
		}
		out = append(out, claimed{job: j, token: token})
	}
	return out, errors.Join(bad...)
}

// wasSent reports whether this occurrence was already delivered.
func (s *Store) wasSent(ctx context.Context, j Job) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.p.ScheduleSent(j.ID, j.Due.UnixMilli())).Result()
	if err != nil {
		return false, fmt.Errorf("sent record %q: %w", j.ID, err)
	}
	return n > 0, nil
}

// markSent records that this occurrence was delivered. It is written before
// the job is removed so that a worker dying in between leaves a record that
// stops the next claim from sending it again.
func (s *Store) markSent(ctx context.Context, j Job) error {
	if err := s.rdb.Set(ctx, s.p.ScheduleSent(j.ID, j.Due.UnixMilli()), "1", s.sentTTL).Err(); err != nil {
		return fmt.Errorf("mark sent %q: %w", j.ID, err)
	}
	return nil
}

// finish removes a held job; dead, if not nil, is pushed as a dead letter.
// It reports false if the claim was no longer held (the job was replaced,
// cancelled, or re-claimed after the lease ran out).
func (s *Store) finish(ctx context.Context, c claimed, dead []byte) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, s.scriptKeys(), c.job.ID, c.token, dead, s.deadCap).Int()
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

// newToken names one claim; it only has to differ between claims.
func newToken() string {
	return strconv.FormatUint(rand.Uint64(), 36)
}

// A record is version byte 1, uvarint attempt, varint due (Unix ms), then
// the payload: a few bytes of overhead per job rather than JSON's dozens.
const recordVersion = 1

func encodeRecord(j Job) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(j.Payload))
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(j.Attempt))
	b = binary.AppendVarint(b, j.Due.UnixMilli())
	return append(b, j.Payload...)
}

func decodeRecord(id string, b []byte) (Job, error) {
	if len(b) < 1 || b[0] != recordVersion {
		return Job{}, ErrCorruptRecord
	}
	b = b[1:]
	attempt, n := binary.Uvarint(b)
	if n <= 0 {
		return Job{}, ErrCorruptRecord
	}
	b = b[n:]
	due, n := binary.Varint(b)
	if n <= 0 {
		return Job{}, ErrCorruptRecord
	}
	b = b[n:]
	var payload []byte
	if len(b) > 0 {
		payload = append([]byte(nil), b...)
	}
	return Job{ID: id, Due: time.UnixMilli(due), Payload: payload, Attempt: int(attempt)}, nil
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
