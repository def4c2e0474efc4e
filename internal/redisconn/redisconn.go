// Package redisconn opens a Redis client from a single URL, so that one
// setting (REDIS_URL) reaches a single node, a Sentinel-managed primary or a
// Cluster without code changes, and starts the embedded server used when no
// URL is given.
//
// OpenProfile opens the same URL with the timeouts of who waits on it: the
// Interactive profile (500 ms, one retry: a user is waiting) for the request
// path, the Background profile (go-redis's patient defaults) for the nudge
// scheduler; see Profile.
package redisconn

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Open returns a client for the URL:
//   - redis://[user:pass@]host:port/db (or rediss:// for TLS): one node;
//   - ...?master_name=NAME&addr=host2:port: Sentinels, following the primary;
//   - ...?cluster=true[&addr=host2:port]: a Cluster.
//
// The URL can hold a password, so errors never repeat it; Redact gives the
// form that is safe to log.
func Open(rawURL string) (redis.UniversalClient, error) {
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
		return redis.NewFailoverClient(o), nil
	case q.Get("cluster") == "true":
		q.Del("cluster")
		u.RawQuery = q.Encode()
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
		}
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
		}
		return redis.NewClient(o), nil
	}
}

// Redact removes the password from a Redis URL.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Addr is the address part of the URL, for messages such as "cannot reach
// Redis at 10.0.0.5:6379 (REDIS_URL)".
func Addr(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(unknown address)"
	}
	return u.Host
}

// Embedded is an in-process Redis-protocol server for trying itfit out
// without installing anything. Nothing in it survives the process.
type Embedded struct {
	srv *miniredis.Miniredis
}

// StartEmbedded starts the server on a loopback port.
func StartEmbedded() (*Embedded, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Embedded{srv: srv}, nil
}

// URL is the address to give Open.
func (e *Embedded) URL() string { return "redis://" + e.srv.Addr() }

// Close stops the server; its data is gone.
func (e *Embedded) Close() { e.srv.Close() }

// DeleteMatching deletes every key matching a SCAN pattern, on each primary
// of a Cluster. It walks the keyspace, so it is for rare operations (forget,
// uninstall), never a request's hot path.
func DeleteMatching(ctx context.Context, rdb redis.UniversalClient, pattern string) (int, error) {
	del := func(ctx context.Context, c redis.UniversalClient) (int, error) {
		n := 0
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			d, err := c.Del(ctx, iter.Val()).Result()
			if err != nil {
				return n, err
			}
			n += int(d)
		}
		return n, iter.Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var total atomic.Int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := del(ctx, c)
			total.Add(int64(n))
			return err
		})
		return int(total.Load()), err
	}
	return del(ctx, rdb)
}
