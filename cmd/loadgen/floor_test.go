package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/redistest"
)

// The floor's server does an audit's input and output: every answer it
// acknowledges reaches the fake Web API as one chat.update and one
// chat.postMessage, every start as users.info, conversations.open and
// chat.postMessage, each sent only once its EVALSHAs succeeded; and
// floorRun removes the hashes it wrote when it is done.
func TestFloorRunSendsAnAuditsCalls(t *testing.T) {
	url := redistest.RealURL(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	var srv *floorServer
	start := func(api, caFile string) (string, int, func(), error) {
		roots, err := floorRoots(caFile)
		if err != nil {
			return "", 0, nil, err
		}
		srv = newFloorServer(api, roots, rdb)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", 0, nil, err
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
		go hs.Serve(ln)
		return ln.Addr().String(), os.Getpid(), func() { hs.Close() }, nil
	}
	var out bytes.Buffer
	cfg := floorConfig{redisURL: url, n: 300, users: 7, size: 4500, audit: 4}
	calls, err := floorRun(cfg, start, &out)
	if err != nil {
		t.Fatalf("floorRun: %v\n%s", err, out.String())
	}
	sent := cfg.n + max(cfg.n/10, cfg.users)
	starts := calls["users.info"]
	if calls["chat.update"] != sent || starts < sent/cfg.audit || calls["conversations.open"] != starts ||
		calls["chat.postMessage"] != sent+starts || len(calls) != 4 {
		t.Errorf("the fake Web API saw %v, want %d chat.update, at least %d users.info and conversations.open, and as many chat.postMessage as both",
			calls, sent, sent/cfg.audit)
	}
	if !strings.Contains(out.String(), "floor: 300 answers and ") || !strings.Contains(out.String(), "floor server CPU per answer (starts included): ") {
		t.Errorf("report:\n%s", out.String())
	}
	ctx := context.Background()
	for u := 0; u < cfg.users; u++ {
		if n, err := rdb.Exists(ctx, floorKeyPrefix+"U"+strconv.Itoa(u)).Result(); err != nil || n != 0 {
			t.Errorf("%sU%d left in Redis (%d, %v)", floorKeyPrefix, u, n, err)
		}
	}
}

// A request the floor's server cannot verify is refused, and makes no call.
func TestFloorServerRefusesAnUnsignedRequest(t *testing.T) {
	f := &floorFake{waiting: map[string]chan struct{}{}, calls: map[string]int{}}
	api, stop, err := startFloorFake(f, t.TempDir()+"/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	srv := newFloorServer(api, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+ln.Addr().String()+"/slack/interactions", strings.NewReader("payload=%7B%7D"))
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("X-Slack-Signature", "v0=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	time.Sleep(50 * time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != 0 {
		t.Errorf("calls made: %v", f.calls)
	}
}
