package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/testkit"
)

// runBuilt builds the server for cfg and runs it on two loopback
// listeners, public and admin, until the test ends (or stop).
func runBuilt(t *testing.T, cfg Config) (public, admin string, logs *testkit.Buffer, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs = &testkit.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := build(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer s.close()
		done <- s.run(ctx, ln, aln)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	public, admin = "http://"+ln.Addr().String(), "http://"+aln.Addr().String()
	waitFor(t, admin+"/healthz", http.StatusOK)
	return public, admin, logs, stop
}

func body(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminEndpointsOnTheirOwnListener: with ITFIT_ADMIN_ADDR set, the
// probes and /metrics answer there and not on PORT, which keeps the Slack
// routes; /metrics labels a Slack request by its route; and on shutdown the
// admin listener reports not ready while the public one drains.
func TestAdminEndpointsOnTheirOwnListener(t *testing.T) {
	redisURL, _ := serveRedis(t, "TADMIN")
	api := newWebAPIFake(t)
	cfg := serveSlackCfg(t, redisURL, api)
	cfg.AdminAddr = "127.0.0.1:0" // replaced by the test's own listener
	cfg.DrainDelay = 300 * time.Millisecond
	cfg.ShutdownTimeout = 30 * time.Second
	public, admin, logs, stop := runBuilt(t, cfg)

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := body(t, public+path); code != http.StatusNotFound {
			t.Errorf("PORT %s: %d, want 404", path, code)
		}
		if code, _ := body(t, admin+path); code != http.StatusOK {
			t.Errorf("admin %s: %d, want 200", path, code)
		}
	}
	if code, _ := postSlash(t, public, "TADMIN", "U1", "help"); code != http.StatusOK {
		t.Fatalf("/itfit help on PORT: %d", code)
	}
	if code, _ := body(t, admin+"/slack/commands"); code != http.StatusNotFound {
		t.Errorf("admin /slack/commands: %d, want 404", code)
	}
	_, metrics := body(t, admin+"/metrics")
	for _, want := range []string{
		`itfit_http_request_duration_seconds_count{code="200",route="POST /slack/commands"} 1`,
		`itfit_http_request_duration_seconds_count{code="200",route="GET /readyz"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Shutdown: the admin listener says not ready during the drain delay.
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	waitFor(t, admin+"/readyz", http.StatusServiceUnavailable)
	<-stopped
	for _, want := range []string{`"msg":"admin endpoints on their own listener"`, `"msg":"shutting down: marked not ready"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

// pingCounter is a TCP proxy in front of Redis that counts the PING
// commands clients send through it.
type pingCounter struct {
	ln    net.Listener
	pings atomic.Int64
}

func newPingCounter(t *testing.T, target string) *pingCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pingCounter{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, up); c.Close() }()
			go func() { p.count(up, c); up.Close() }()
		}
	}()
	return p
}

// count copies src to dst, counting "ping" as a command's first bulk
// string (RESP: *N\r\n$4\r\nping\r\n), across read boundaries.
func (p *pingCounter) count(dst io.Writer, src io.Reader) {
	pat := []byte("*1\r\n$4\r\nping\r\n")
	var carry []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := append(carry, buf[:n]...)
			p.pings.Add(int64(bytes.Count(bytes.ToLower(chunk), pat)))
			if k := len(pat) - 1; len(chunk) > k {
				carry = append([]byte(nil), chunk[len(chunk)-k:]...)
			} else {
				carry = append([]byte(nil), chunk...)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestReadyzFloodCostsOnePingASecond: 2,000 /readyz probes from 20 clients
// at once reach Redis as at most one PING per second of the flood (plus
// start-up's own), each answered 200.
func TestReadyzFloodCostsOnePingASecond(t *testing.T) {
	real, err := url.Parse(redistest.RealURL(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := newPingCounter(t, real.Host)
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	real.Host = counter.ln.Addr().String()
	cfg.RedisURL = real.String()
	cfg.AdminAddr = "127.0.0.1:0"
	cfg.DrainDelay = 0
	_, admin, _, _ := runBuilt(t, cfg)

	before := counter.pings.Load()
	start := time.Now()
	const clients, each = 20, 100
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range clients {
		wg.Go(func() {
			for range each {
				resp, err := http.Get(admin + "/readyz")
				if err != nil {
					bad.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	pings := counter.pings.Load() - before
	t.Logf("%d probes in %s: %d PINGs reached Redis", clients*each, elapsed.Round(time.Millisecond), pings)
	if bad.Load() != 0 {
		t.Errorf("%d probes not answered 200", bad.Load())
	}
	if limit := int64(elapsed/time.Second) + 2; pings > limit || pings < 1 {
		t.Errorf("%d PINGs for %s of probes, want 1 to %d", pings, elapsed, limit)
	}
}
