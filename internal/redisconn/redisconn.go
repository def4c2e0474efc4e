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
	"fmt"
	"net/url"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Open returns a client for the URL:
//   - redis://[user:pass@]host:port/db (or rediss:// for TLS): one node;
//   - ...?master_name=NAME&addr=host2:port: Sentinels, following the primary;
//   - ...?cluster=true[&addr=host2:port]: a Cluster.
//
// The URL can hold a password, so errors never repeat it; Redact gives the
// form that is safe to log. Open does not connect: the first command does.
func Open(rawURL string) (redis.UniversalClient, error) {
	o, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch {
	case o.failover != nil:
		return redis.NewFailoverClient(o.failover), nil
	case o.cluster != nil:
		return redis.NewClusterClient(o.cluster), nil
	default:
		return redis.NewClient(o.single), nil
	}
}

// Topology says what a valid URL points at ("a single node", "Sentinels
// following primary NAME", "a Cluster"), without creating a client: for
// checks that must not touch the network.
func Topology(rawURL string) (string, error) {
	o, err := parse(rawURL)
	switch {
	case err != nil:
		return "", err
	case o.failover != nil:
		return fmt.Sprintf("Sentinels following primary %q", o.failover.MasterName), nil
	case o.cluster != nil:
		return "a Cluster", nil
	default:
		return "a single node", nil
	}
}

// options is a parsed REDIS_URL: exactly one of the three is set.
type options struct {
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

func parse(rawURL string) (options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return options{}, fmt.Errorf("REDIS_URL is not a URL")
	}
	q := u.Query()
	var o options
	switch {
	case q.Has("master_name"):
		o.failover, err = redis.ParseFailoverURL(rawURL)
	case q.Get("cluster") == "true":
		q.Del("cluster")
		u.RawQuery = q.Encode()
		o.cluster, err = redis.ParseClusterURL(u.String())
	default:
		o.single, err = redis.ParseURL(rawURL)
	}
	if err != nil {
		return options{}, fmt.Errorf("REDIS_URL %s: %v", Redact(rawURL), err)
	}
	return o, nil
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
