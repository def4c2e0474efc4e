// Package redistest gives tests a Redis to talk to: the real server named by
// ITFIT_TEST_REDIS_URL, and the embedded one, so that one contract suite
// runs against both. Each test gets its own key prefix and its keys are
// deleted when it ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/redisconn"
)

// EnvURL names the real Redis used by tests; EnvClusterURL and
// EnvSentinelURL name a Cluster and a Sentinel-managed primary (scripts/test
// starts all three).
const (
	EnvURL         = "ITFIT_TEST_REDIS_URL"
	EnvClusterURL  = "ITFIT_TEST_REDIS_CLUSTER_URL"
	EnvSentinelURL = "ITFIT_TEST_REDIS_SENTINEL_URL"
	// EnvFailoverURL names a Sentinel-managed primary that only the
	// failover test uses: failing over the shared one would lose writes of
	// tests running meanwhile in other packages.
	EnvFailoverURL = "ITFIT_TEST_REDIS_FAILOVER_URL"
)

// Backend is one Redis a contract test runs against.
type Backend struct {
	Name   string
	Client redis.UniversalClient
	Prefix keys.Prefix
}

// Backends returns the embedded server and, when configured, the real
// single node, Cluster and Sentinel. In CI (CI=true) a missing real Redis
// fails the test.
func Backends(t testing.TB) []Backend {
	t.Helper()
	bs := []Backend{Embedded(t)}
	if b, ok := real(t); ok {
		bs = append(bs, b)
	}
	for _, env := range []string{EnvClusterURL, EnvSentinelURL} {
		if b, ok := open(t, env); ok {
			bs = append(bs, b)
		}
	}
	return bs
}

func open(t testing.TB, env string) (Backend, bool) {
	t.Helper()
	url := os.Getenv(env)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s must be set in CI: scripts/test starts a real Redis for the store tests", env)
		}
		return Backend{}, false
	}
	rdb, err := redisconn.Open(url)
	if err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer: %v", env, err)
	}
	p := NewPrefix()
	t.Cleanup(func() {
		Clean(t, rdb, p)
		rdb.Close()
	})
	name := map[string]string{EnvURL: "redis", EnvClusterURL: "cluster", EnvSentinelURL: "sentinel"}[env]
	return Backend{Name: name, Client: rdb, Prefix: p}, true
}

// Real returns the real Redis, skipping the test when none is configured
// (and failing it in CI, where one must be).
func Real(t testing.TB) Backend {
	t.Helper()
	b, ok := real(t)
	if !ok {
		t.Skipf("%s is not set; this test needs a real redis-server", EnvURL)
	}
	return b
}

// RealURL returns ITFIT_TEST_REDIS_URL for tests that open their own
// connection (a whole `bot serve`), skipping the test when it is unset and
// failing it in CI, where it must be set. Such a test must clean up the keys
// it writes itself.
func RealURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s must be set in CI: scripts/test starts a real Redis", EnvURL)
		}
		t.Skipf("%s is not set; this test needs a real redis-server", EnvURL)
	}
	return u
}

func real(t testing.TB) (Backend, bool) {
	t.Helper()
	return open(t, EnvURL)
}

// Embedded starts an in-process server for one test.
func Embedded(t testing.TB) Backend {
	t.Helper()
	e, err := redisconn.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := redisconn.Open(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rdb.Close()
		e.Close()
	})
	return Backend{Name: "embedded", Client: rdb, Prefix: NewPrefix()}
}

// NewPrefix returns a key prefix no other test uses.
func NewPrefix() keys.Prefix {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return keys.Prefix("itfit-test-" + hex.EncodeToString(b))
}

// Clean deletes every key under the prefix.
func Clean(t testing.TB, rdb redis.UniversalClient, p keys.Prefix) {
	t.Helper()
	ctx := context.Background()
	for _, k := range Keys(t, rdb, p) {
		rdb.Del(ctx, k)
	}
}

// Keys lists the keys under a prefix (on every primary of a Cluster), for
// tests that prove nothing is left.
func Keys(t testing.TB, rdb redis.UniversalClient, p keys.Prefix) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		ks, err := c.Keys(ctx, string(p)+":*").Result()
		mu.Lock()
		out = append(out, ks...)
		mu.Unlock()
		return err
	}
	var err error
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, rdb)
	}
	if err != nil {
		t.Fatalf("list test keys: %v", err)
	}
	return out
}
