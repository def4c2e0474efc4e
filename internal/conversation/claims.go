package conversation

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
)

// Claims remembers, for a while, that something was done once for a person
// (the note about a stale button on one message, the restart a double click
// asked for twice), so that a repeat has no effect on any replica. All of a
// person's claims are members of one sorted set under their hash tag,
// scored by when each expires: forget deletes one known key, and the set
// never holds more than the claims of the last TTL.
type Claims struct {
	rdb    redis.UniversalClient
	prefix keys.Prefix
	ttl    time.Duration
	now    func() time.Time
}

// NewClaims returns the store; claims expire after ttl (default 1 hour).
func NewClaims(rdb redis.UniversalClient, prefix keys.Prefix, ttl time.Duration, now func() time.Time) *Claims {
	if prefix == "" {
		prefix = keys.Default
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	if now == nil {
		now = time.Now
	}
	return &Claims{rdb: rdb, prefix: prefix, ttl: ttl, now: now}
}

// KEYS: the claims set. ARGV: now ms, expiry ms, id, set ttl ms. Expired
// members go first, so a claim older than the TTL can be taken again.
var claimScript = redis.NewScript(`
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
local added = redis.call("ZADD", KEYS[1], "NX", ARGV[2], ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
return added
`)

func (c *Claims) key(u UserKey) string {
	return c.prefix.Claims(string(u.Platform), string(u.Workspace), string(u.User))
}

// Claim reports whether this is the first claim of id for the person
// within the TTL.
func (c *Claims) Claim(ctx context.Context, u UserKey, id string) (bool, error) {
	now := c.now()
	n, err := claimScript.Run(ctx, c.rdb, []string{c.key(u)},
		now.UnixMilli(), now.Add(c.ttl).UnixMilli(), id, c.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("claim: %w: %w", ErrUnavailable, err)
	}
	return n == 1, nil
}

// Release gives a claim back, when the work it guarded failed and may be
// tried again.
func (c *Claims) Release(ctx context.Context, u UserKey, id string) error {
	if err := c.rdb.ZRem(ctx, c.key(u), id).Err(); err != nil {
		return fmt.Errorf("release claim: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// Erase deletes every claim of a person, returning how many keys went.
func (c *Claims) Erase(ctx context.Context, u UserKey) (int, error) {
	n, err := c.rdb.Del(ctx, c.key(u)).Result()
	if err != nil {
		return 0, fmt.Errorf("erase claims: %w: %w", ErrUnavailable, err)
	}
	return int(n), nil
}
