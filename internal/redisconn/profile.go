package redisconn

import (
	"fmt"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// Profile is how long a Redis client waits, and how often it retries,
// chosen by who waits on it. One REDIS_URL is opened twice, as two clients
// that share nothing (pools, connections, timeouts):
//
//   - Interactive, for the request path (a click, a slash command): a user
//     is waiting and Slack wants its answer within 3 s, so a Redis that does
//     not answer must fail fast and be said so ("temporarily unavailable").
//     500 ms to dial, read, write or get a pooled connection, at most one
//     retry: a command fails within about 1 s (2 × 500 ms plus a backoff
//     of at most 64 ms) however Redis fails, black-holed included, and
//     sooner if its context's deadline is sooner.
//   - Background, for the nudge scheduler and other work nobody waits on:
//     go-redis's patient defaults (3 s reads and writes, 5 s to dial, 3
//     retries), so a Redis hiccup is ridden out rather than turned into a
//     retry storm; its context's deadline still bounds each call (so a
//     shutdown cuts it).
//
// A timeout given in REDIS_URL itself (dial_timeout, read_timeout,
// write_timeout, pool_timeout, max_retries) wins over the profile.
//
// Note that a retried write may have run once already (go-redis retries a
// read timeout); the request path's writes are atomic transitions that
// tolerate a second run.
type Profile struct {
	Name                                                string
	DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout time.Duration
	// MaxRetries is go-redis's: retries after the first try; -1 none.
	MaxRetries                       int
	MinRetryBackoff, MaxRetryBackoff time.Duration
	// PoolSize is go-redis's connections per node (per process: its
	// default is 10 per CPU); 0 keeps go-redis's default.
	PoolSize int
	// Pipelines, when above 0, batches the hot-path commands of concurrent
	// callers into pipelines, at most this many in flight (see Pipelined).
	Pipelines int
}

// The two profiles.
var (
	Interactive = Profile{
		Name:        "interactive",
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond, PoolTimeout: 500 * time.Millisecond,
		MaxRetries: 1, MinRetryBackoff: 8 * time.Millisecond, MaxRetryBackoff: 64 * time.Millisecond,
		// The hot path's commands share 2 pipelines at a time, so under
		// load the bot holds 3-5 connections (scripts/load: 3-5 accepted
		// at 100 users in flight with pool sizes 8, 20 and 128 alike, and
		// no difference in CPU beyond the machine's noise). 32 leaves
		// room for the commands that are not batched (transactions, the
		// Teams conversation reference, loads) with the background pool's
		// 256 tasks, whatever the pod's CPU count (go-redis's default is
		// 10 per CPU: 10 on a 1-CPU pod).
		PoolSize: 32, Pipelines: 2,
	}
	Background = Profile{
		Name:        "background",
		DialTimeout: 5 * time.Second, ReadTimeout: 3 * time.Second,
		WriteTimeout: 3 * time.Second, PoolTimeout: 4 * time.Second,
		MaxRetries: 3, MinRetryBackoff: 8 * time.Millisecond, MaxRetryBackoff: 512 * time.Millisecond,
		// The nudge scheduler: at most 8 deliveries in flight (its default
		// Concurrency), beside its lease heartbeat and the due-work poll.
		PoolSize: 16,
	}
)

// OpenProfile is Open with the profile's timeouts: the same URL forms
// (single node, Sentinel with master_name, Cluster with cluster=true), a
// client of its own. Open it once per profile and close both.
//
//	interactive, err := redisconn.OpenProfile(cfg.RedisURL, redisconn.Interactive) // engine, adapters
//	background, err := redisconn.OpenProfile(cfg.RedisURL, redisconn.Background)   // schedule.Store
func OpenProfile(rawURL string, p Profile) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL is not a URL")
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
		}
		k := knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff, &o.ContextTimeoutEnabled, &o.PoolSize}
		p.apply(k)
		return p.wrap(redis.NewFailoverClient(o), k), nil
	case q.Get("cluster") == "true":
		q.Del("cluster")
		u.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
		}
		k := knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff, &o.ContextTimeoutEnabled, &o.PoolSize}
		p.apply(k)
		return p.wrap(redis.NewClusterClient(o), k), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
		}
		k := knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MinRetryBackoff, &o.MaxRetryBackoff, &o.ContextTimeoutEnabled, &o.PoolSize}
		p.apply(k)
		return p.wrap(redis.NewClient(o), k), nil
	}
}

// knobs points at the same settings in each go-redis options type.
type knobs struct {
	dial, read, write, pool *time.Duration
	retries                 *int
	minBackoff, maxBackoff  *time.Duration
	contextTimeout          *bool
	poolSize                *int
}

// wrap batches c's hot-path commands when the profile says so, each batch
// bounded by the time one command may take with the settings in k: every
// try's read or write timeout and the longest backoff between tries.
func (p Profile) wrap(c redis.UniversalClient, k knobs) redis.UniversalClient {
	if p.Pipelines <= 0 {
		return c
	}
	budget := time.Duration(1+max(*k.retries, 0))*max(*k.read, *k.write) + *k.maxBackoff
	return NewPipelined(c, p.Pipelines, budget)
}

// apply sets what the URL left unset (zero).
func (p Profile) apply(k knobs) {
	set := func(dst *time.Duration, v time.Duration) {
		if *dst == 0 {
			*dst = v
		}
	}
	set(k.dial, p.DialTimeout)
	set(k.read, p.ReadTimeout)
	set(k.write, p.WriteTimeout)
	set(k.pool, p.PoolTimeout)
	set(k.minBackoff, p.MinRetryBackoff)
	set(k.maxBackoff, p.MaxRetryBackoff)
	if *k.retries == 0 {
		*k.retries = p.MaxRetries
	}
	if *k.poolSize == 0 {
		*k.poolSize = p.PoolSize
	}
	*k.contextTimeout = true
}
