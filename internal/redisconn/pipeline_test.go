package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/redistest"
)

// gate is a hook on the client under a Pipelined: it holds every command
// sent alone until released, and counts the pipelines and what they carry.
type gate struct {
	hold      chan struct{}
	held      chan struct{} // a command is being held
	pipelines atomic.Int64
	piped     atomic.Int64
	alone     atomic.Int64
	largest   atomic.Int64
}

func newGate() *gate { return &gate{hold: make(chan struct{}), held: make(chan struct{}, 1)} }

func (g *gate) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g *gate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "evalsha" || cmd.Name() == "set" {
			g.alone.Add(1)
			select {
			case g.held <- struct{}{}:
			default:
			}
			<-g.hold
		}
		return next(ctx, cmd)
	}
}

func (g *gate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		g.pipelines.Add(1)
		g.piped.Add(int64(len(cmds)))
		for {
			m := g.largest.Load()
			if int64(len(cmds)) <= m || g.largest.CompareAndSwap(m, int64(len(cmds))) {
				break
			}
		}
		return next(ctx, cmds)
	}
}

// While one command is in flight (the only batch allowed), the commands of
// 50 other callers wait and then go as one pipeline; each gets its own
// reply, a script's NOSCRIPT included (Script.Run then loads it).
func TestPipelinedBatchesConcurrentCallers(t *testing.T) {
	b := redistest.Real(t)
	o := *b.Client.(*redis.Client).Options()
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() })
	g := newGate()
	c.AddHook(g)
	p := redisconn.NewPipelined(c, 1, 5*time.Second)
	ctx := context.Background()
	// A script no server has seen, so that its first EVALSHA is refused.
	script := redis.NewScript(fmt.Sprintf("-- %d\nreturn {KEYS[1], ARGV[1]}", time.Now().UnixNano()))

	first := make(chan error, 1)
	go func() {
		ok, err := p.SetNX(ctx, string(b.Prefix)+":first", "1", time.Minute).Result()
		if err == nil && !ok {
			err = errors.New("first SET NX not applied")
		}
		first <- err
	}()
	<-g.held // the first command is in flight, alone

	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := string(b.Prefix) + ":k" + strconv.Itoa(i)
			if i%2 == 0 {
				res, err := script.Run(ctx, p, []string{key}, i).StringSlice()
				if err != nil || len(res) != 2 || res[0] != key || res[1] != strconv.Itoa(i) {
					errs <- fmt.Errorf("script %d: %v %v", i, res, err)
				}
				return
			}
			ok, err := p.SetNX(ctx, key, "1", 1500*time.Millisecond).Result()
			if err != nil || !ok {
				errs <- fmt.Errorf("SET NX %d: %v %v", i, ok, err)
			}
			// The same claim again is refused.
			if ok, err := p.SetNX(ctx, key, "1", time.Minute).Result(); err != nil || ok {
				errs <- fmt.Errorf("second SET NX %d: %v %v", i, ok, err)
			}
		}()
	}
	// Let the callers queue behind the held command, then release it.
	time.Sleep(300 * time.Millisecond)
	close(g.hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The first pipeline carried every caller's first command: 25 SET NX
	// and 25 EVALSHA (refused NOSCRIPT, then run as EVAL alone).
	if g.pipelines.Load() == 0 {
		t.Fatal("no pipeline: the commands went one by one")
	}
	t.Logf("%d pipelines carried %d commands, the largest %d; %d went alone", g.pipelines.Load(), g.piped.Load(), g.largest.Load(), g.alone.Load())
	if got := g.largest.Load(); got < n {
		t.Errorf("the largest pipeline carried %d commands, want the %d queued", got, n)
	}
	// The TTLs were sent as given (ms and s).
	if ttl := c.PTTL(ctx, string(b.Prefix)+":k1").Val(); ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Errorf("PTTL of a 1.5 s claim = %v", ttl)
	}
	if ttl := c.TTL(ctx, string(b.Prefix)+":first").Val(); ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("TTL of a 1 min claim = %v", ttl)
	}
}

// A caller whose context ends while its command waits for a batch stops
// waiting at once, and its command is never sent.
func TestPipelinedCallerGivesUp(t *testing.T) {
	b := redistest.Real(t)
	o := *b.Client.(*redis.Client).Options()
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() })
	g := newGate()
	c.AddHook(g)
	p := redisconn.NewPipelined(c, 1, 5*time.Second)
	ctx := context.Background()

	go func() { _ = p.SetNX(ctx, string(b.Prefix)+":busy", "1", time.Minute) }()
	<-g.held

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	key := string(b.Prefix) + ":abandoned"
	err := p.SetNX(short, key, "1", time.Minute).Err()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SET NX past its deadline: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the caller waited %v past its 50 ms deadline", took)
	}
	// A context that has already ended sends nothing either.
	if err := p.EvalSha(short, "0000000000000000000000000000000000000000", []string{key}, 1, 2).Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EVALSHA on an ended context: %v", err)
	}
	close(g.hold)
	// The next command goes through, and the abandoned one was not sent.
	if err := p.SetNX(ctx, string(b.Prefix)+":after", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, key).Val(); n != 0 {
		t.Fatal("the abandoned command was sent")
	}
}

// With Redis black-holed, a batch of the interactive profile's commands
// fails within about the second a single command has, not one batch after
// another.
func TestPipelinedBlackHoleFailsFast(t *testing.T) {
	real := redistest.RealURL(t)
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	c, err := redisconn.OpenProfile(u.String(), redisconn.Interactive)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, ok := c.(*redisconn.Pipelined); !ok {
		t.Fatalf("the interactive profile's client is %T, not batched", c)
	}
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	prefix := redistest.NewPrefix()
	proxy.BlackHole()
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	var slowest atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := c.SetNX(ctx, string(prefix)+":k"+strconv.Itoa(i), "1", time.Minute).Err(); err != nil {
				failed.Add(1)
			}
			if d := int64(time.Since(t0)); d > slowest.Load() {
				slowest.Store(d)
			}
		}()
	}
	wg.Wait()
	t.Logf("40 SET NX against a black hole: %d failed, the slowest after %v (all within %v)", failed.Load(), time.Duration(slowest.Load()), time.Since(start))
	if failed.Load() != 40 {
		t.Errorf("%d of 40 failed", failed.Load())
	}
	// One command's bound is 2 × 500 ms + 64 ms; the slack is for a loaded
	// machine.
	if d := time.Duration(slowest.Load()); d > 2500*time.Millisecond {
		t.Errorf("a command took %v to fail", d)
	}
	proxy.Heal()
	c2, _ := redisconn.Open(real)
	defer c2.Close()
	for i := range 40 {
		c2.Del(ctx, string(prefix)+":k"+strconv.Itoa(i))
	}
}

// On every topology (a single node, a Cluster, a Sentinel primary, each when
// the environment names one) the interactive profile's batches carry
// scripts and claims to the right nodes: 60 callers at once, keys spread
// over the Cluster's slots, each with its own reply.
func TestPipelinedTopologies(t *testing.T) {
	for _, env := range []string{redistest.EnvURL, redistest.EnvClusterURL, redistest.EnvSentinelURL} {
		t.Run(env, func(t *testing.T) {
			raw := os.Getenv(env)
			if raw == "" {
				t.Skipf("%s not set", env)
			}
			c, err := redisconn.OpenProfile(raw, redisconn.Interactive)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			prefix := redistest.NewPrefix()
			script := redis.NewScript("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])")
			var wg sync.WaitGroup
			errs := make(chan error, 120)
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// A hash tag per caller: the Cluster spreads them over its nodes.
					key := fmt.Sprintf("%s:{u%d}:s", prefix, i)
					if got, err := script.Run(ctx, c, []string{key}, "v"+strconv.Itoa(i)).Text(); err != nil || got != "v"+strconv.Itoa(i) {
						errs <- fmt.Errorf("script %d: %q %v", i, got, err)
					}
					claim := fmt.Sprintf("%s:{u%d}:c", prefix, i)
					if ok, err := c.SetNX(ctx, claim, "1", time.Minute).Result(); err != nil || !ok {
						errs <- fmt.Errorf("claim %d: %v %v", i, ok, err)
					}
					if ok, err := c.SetNX(ctx, claim, "1", time.Minute).Result(); err != nil || ok {
						errs <- fmt.Errorf("second claim %d: %v %v", i, ok, err)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			for i := range 60 {
				c.Del(ctx, fmt.Sprintf("%s:{u%d}:s", prefix, i), fmt.Sprintf("%s:{u%d}:c", prefix, i))
			}
		})
	}
}
