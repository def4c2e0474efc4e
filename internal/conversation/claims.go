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

// luaClaim is a person's claim as a Lua function, shared by Claim and the
// answer script (which claims an answer's delivery in the round trip that
// records it). k is the claims set; exp is when the claim expires and ttl
// the least the set must live on (ms). Expired members go first, so a claim
// older than its TTL can be taken again; the set's TTL only ever grows, so
// a short claim never cuts a longer one's life (PEXPIRE GT, which leaves a
// set without a TTL alone: the set is new then, and gets one).
const luaClaim = `
local function claim(k, now, exp, id, ttl)
  redis.call("ZREMRANGEBYSCORE", k, "-inf", now)
  local added = redis.call("ZADD", k, "NX", exp, id)
  if redis.call("PEXPIRE", k, ttl, "GT") == 0 and redis.call("PTTL", k) == -1 then redis.call("PEXPIRE", k, ttl) end
  return added
end
`

// KEYS: the claims set. ARGV: now ms, expiry ms, id, set ttl ms.
var claimScript = redis.NewScript(luaClaim + `
return claim(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`)

// claim is the delivery's member among the person's claims, apart from the
// flows' own ("stale:…", "restart:…").
func (d Delivery) claim() string { return "once:" + d.ID }

// ttl is the delivery's TTL, at least a second.
func (d Delivery) ttl() time.Duration { return max(d.TTL, time.Second) }

func (c *Claims) key(u UserKey) string {
	return c.prefix.Claims(string(u.Platform), string(u.Workspace), string(u.User))
}

// Claim reports whether this is the first claim of id for the person
// within the TTL.
func (c *Claims) Claim(ctx context.Context, u UserKey, id string) (bool, error) {
	return c.claimFor(ctx, u, id, c.ttl)
}

// ClaimDelivery claims a delivery for the person, under the ID the answer
// script claims an answer's delivery by (Answer.Once), for the presses
// that do not reach that script.
func (c *Claims) ClaimDelivery(ctx context.Context, u UserKey, d Delivery) (bool, error) {
	return c.claimFor(ctx, u, d.claim(), d.ttl())
}

// claimFor is Claim with a TTL of its own for this claim.
func (c *Claims) claimFor(ctx context.Context, u UserKey, id string, ttl time.Duration) (bool, error) {
	now := c.now()
	n, err := claimScript.Run(ctx, c.rdb, []string{c.key(u)},
		now.UnixMilli(), now.Add(ttl).UnixMilli(), id, ttl.Milliseconds()).Int()
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
