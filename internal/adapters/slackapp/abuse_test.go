package slackapp

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/slackapi"
)

// counted counts the requests that reached the handler and those that
// left it, so a test knows when every connection has been dealt with.
type counted struct {
	next          http.Handler
	entered, done atomic.Int64
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.entered.Add(1)
	defer c.done.Add(1)
	c.next.ServeHTTP(w, r)
}

// slowPost opens a connection and sends the head of a POST announcing
// length bytes, then only the first bytes of body: what a client that
// wants to hold server memory cheaply does.
func slowPost(t *testing.T, addr, path string, hdr map[string]string, length int, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: itfit.test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", path, length)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	return c
}

// heapInuse is the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// waitUntil polls cond; the bound only turns a hang into a failure.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// TestSlowUnsignedBodiesHoldLittleMemory opens 1,000 real connections to
// the real handler, each announcing a 128 KiB body under a current
// timestamp and a made-up signature, and sending 2 bytes of it. Before the
// fix each reserved the 128 KiB it announced (146 MiB for 1,000). Now the
// first slackapi.MaxUnverifiedReads are read into small buffers that grow only as
// bytes arrive, and the rest are refused at once with 503; the heap grows
// by less than 32 MiB, and by no more than a goroutine per connection.
func TestSlowUnsignedBodiesHoldLittleMemory(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	h.app.Mount(mux)
	c := &counted{next: obs.Middleware(slog.New(slog.DiscardHandler), nil, mux)}
	srv := httptest.NewServer(c)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	const n = 1000
	held := min(n, slackapi.MaxUnverifiedReads)
	g0, heap0 := runtime.NumGoroutine(), heapInuse()
	ts := strconv.FormatInt(h.now.Unix(), 10)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		conns = append(conns, slowPost(t, addr, "/slack/commands", map[string]string{
			slackapi.HeaderSignature: fmt.Sprintf("v0=%064x", i), slackapi.HeaderTimestamp: ts,
		}, DefaultMaxBody, "te"))
	}
	waitUntil(t, "every request handled or held", func() bool {
		return c.entered.Load() == n && c.done.Load() == int64(n-held)
	})
	heap1, g1 := heapInuse(), runtime.NumGoroutine()
	grew := int64(heap1) - int64(heap0)
	t.Logf("%d connections announcing %d KiB and sending 2 bytes: heap in use +%.1f MiB (%d -> %d bytes), goroutines %d -> %d, %d held in body reads",
		n, DefaultMaxBody>>10, float64(grew)/(1<<20), heap0, heap1, g0, g1, held)
	if grew >= 32<<20 {
		t.Errorf("heap grew by %.1f MiB, want under 32 MiB", float64(grew)/(1<<20))
	}
	if g1-g0 > n+50 {
		t.Errorf("goroutines %d -> %d: more than one per connection", g0, g1)
	}

	// The refused ones were told so at once, and why (read now that the
	// heap is measured: a reader per connection costs memory too).
	var refused, other atomic.Int64
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Go(func() {
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return // held in its body read
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
				refused.Add(1)
			} else {
				other.Add(1)
			}
		})
	}
	wg.Wait()
	if refused.Load() != int64(n-held) || other.Load() != 0 {
		t.Errorf("%d refused with 503 and Retry-After, %d answered otherwise; want %d and 0", refused.Load(), other.Load(), n-held)
	}

	// Once the slow clients give up, everything they held is let go and
	// Slack's own requests go through.
	for _, conn := range conns {
		conn.Close()
	}
	waitUntil(t, "every held request released", func() bool { return c.done.Load() == n })
	waitUntil(t, "goroutines back", func() bool { return runtime.NumGoroutine() <= g0+10 })
	if code, _ := h.command("U1", "help"); code != http.StatusOK {
		t.Fatalf("a signed command after the flood: %d", code)
	}
}

// TestBodiesAreNotReadBeforeTheCheapChecks: a request with a timestamp out
// of the window, no signature, or a body announced over the limit is
// answered before its body arrives (the test never sends it; a server that
// waited for it would never answer).
func TestBodiesAreNotReadBeforeTheCheapChecks(t *testing.T) {
	h := newHarness(t)
	addr := h.srv.Listener.Addr().String()
	now := h.now.Unix()
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		length int
		want   int
	}{
		{"stale timestamp", map[string]string{slackapi.HeaderSignature: "v0=" + strings.Repeat("0", 64), slackapi.HeaderTimestamp: strconv.FormatInt(now-301, 10)}, 1000, http.StatusUnauthorized},
		{"timestamp from the future", map[string]string{slackapi.HeaderSignature: "v0=" + strings.Repeat("0", 64), slackapi.HeaderTimestamp: strconv.FormatInt(now+301, 10)}, 1000, http.StatusUnauthorized},
		{"timestamp not a number", map[string]string{slackapi.HeaderSignature: "v0=" + strings.Repeat("0", 64), slackapi.HeaderTimestamp: "soon"}, 1000, http.StatusUnauthorized},
		{"no signature", map[string]string{slackapi.HeaderTimestamp: strconv.FormatInt(now, 10)}, 1000, http.StatusUnauthorized},
		{"announced over the limit", map[string]string{slackapi.HeaderSignature: "v0=" + strings.Repeat("0", 64), slackapi.HeaderTimestamp: strconv.FormatInt(now, 10)}, DefaultMaxBody + 1, http.StatusRequestEntityTooLarge},
	} {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			t.Run(tc.name+path, func(t *testing.T) {
				conn := slowPost(t, addr, path, tc.hdr, tc.length, "te")
				defer conn.Close()
				_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("no answer before the body: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
				}
				if !resp.Close {
					t.Error("the connection is kept open, so the server would wait for the unread body")
				}
			})
		}
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d Web API calls after refused requests", n)
	}
}
