package redisconn_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/redistest"
)

// With Redis black-holed (connections open, nothing answered), a command on
// the interactive profile fails within about a second, while the same
// command on the background profile keeps waiting and succeeds once the
// network heals; the two clients share nothing, so the background one's
// patience holds no interactive connection.
func TestInteractiveFailsFastBackgroundWaits(t *testing.T) {
	real := redistest.RealURL(t)
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	ctx := context.Background()
	open := func(p redisconn.Profile) redis.UniversalClient {
		t.Helper()
		c, err := redisconn.OpenProfile(u.String(), p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	inter, bg := open(redisconn.Interactive), open(redisconn.Background)

	proxy.BlackHole()
	bgDone := make(chan error, 1)
	bgStart := time.Now()
	go func() { bgDone <- bg.Ping(ctx).Err() }()

	start := time.Now()
	err = inter.Ping(ctx).Err()
	took := time.Since(start)
	t.Logf("interactive PING against a black hole failed after %v: %v", took, err)
	if err == nil {
		t.Fatal("interactive PING succeeded against a black hole")
	}
	// The bound is 2 × 500 ms + at most 64 ms of backoff; the slack is for
	// a loaded machine, not for a slower client.
	if took > 2*time.Second {
		t.Fatalf("interactive PING took %v to fail, want about 1 s", took)
	}
	select {
	case err := <-bgDone:
		t.Fatalf("background PING gave up as fast as the interactive one: %v", err)
	default:
	}

	proxy.Heal()
	if err := <-bgDone; err != nil {
		t.Fatalf("background PING after healing: %v", err)
	}
	t.Logf("background PING waited %v and succeeded", time.Since(bgStart))
	if err := inter.Ping(ctx).Err(); err != nil {
		t.Fatalf("interactive PING after healing: %v", err)
	}
}

// A caller's deadline shorter than the profile's timeouts is honoured by
// both profiles (so a shutdown or a request deadline cuts a Redis call).
func TestProfilesHonourContextDeadline(t *testing.T) {
	real := redistest.RealURL(t)
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	for _, p := range []redisconn.Profile{redisconn.Interactive, redisconn.Background} {
		t.Run(p.Name, func(t *testing.T) {
			c, err := redisconn.OpenProfile(u.String(), p)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Ping(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			proxy.BlackHole()
			defer proxy.Heal()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err = c.Ping(ctx).Err()
			if err == nil || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
				t.Fatalf("PING past its deadline: %v", err)
			}
		})
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// Every URL form gets the profile: a single node, a Cluster, a Sentinel
// primary (each when the environment names one), and a URL's own timeout
// wins over the profile.
func TestOpenProfileTopologies(t *testing.T) {
	type timeouts struct {
		read    time.Duration
		retries int
	}
	read := func(c redis.UniversalClient) timeouts {
		if p, ok := c.(*redisconn.Pipelined); ok {
			c = p.Unwrap()
		}
		switch c := c.(type) {
		case *redis.Client:
			return timeouts{c.Options().ReadTimeout, c.Options().MaxRetries}
		case *redis.ClusterClient:
			return timeouts{c.Options().ReadTimeout, c.Options().MaxRetries}
		}
		t.Fatalf("unexpected client %T", c)
		return timeouts{}
	}
	for _, env := range []string{redistest.EnvURL, redistest.EnvClusterURL, redistest.EnvSentinelURL} {
		t.Run(env, func(t *testing.T) {
			raw := os.Getenv(env)
			if raw == "" {
				t.Skipf("%s not set", env)
			}
			for _, tc := range []struct {
				p    redisconn.Profile
				want timeouts
			}{
				{redisconn.Interactive, timeouts{500 * time.Millisecond, 1}},
				{redisconn.Background, timeouts{3 * time.Second, 3}},
			} {
				c, err := redisconn.OpenProfile(raw, tc.p)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Ping(context.Background()).Err(); err != nil {
					t.Errorf("%s: %v", tc.p.Name, err)
				}
				if got := read(c); got != tc.want {
					t.Errorf("%s: %+v, want %+v", tc.p.Name, got, tc.want)
				}
				c.Close()
			}
			u, _ := url.Parse(raw)
			q := u.Query()
			q.Set("read_timeout", "2s")
			u.RawQuery = q.Encode()
			c, err := redisconn.OpenProfile(u.String(), redisconn.Interactive)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := read(c); got.read != 2*time.Second {
				t.Errorf("URL's read_timeout lost: %+v", got)
			}
		})
	}
}
