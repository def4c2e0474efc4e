package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/testkit"
)

// tlsServer is an HTTPS test server offering HTTP/2 and HTTP/1.1, that
// counts the connections it accepted and those open.
type tlsServer struct {
	*httptest.Server
	accepted atomic.Int64
	closed   atomic.Int64
}

func newTLSServer(t *testing.T, h http.HandlerFunc, tune func(*http.Server)) *tlsServer {
	t.Helper()
	return startTLSServer(t, h, tune, true)
}

// newHTTP1Server is newTLSServer speaking HTTP/1.1 alone (no h2 in ALPN),
// as a connector or proxy that does not offer HTTP/2.
func newHTTP1Server(t *testing.T, h http.HandlerFunc) *tlsServer {
	t.Helper()
	return startTLSServer(t, h, nil, false)
}

func startTLSServer(t *testing.T, h http.HandlerFunc, tune func(*http.Server), http2 bool) *tlsServer {
	t.Helper()
	s := &tlsServer{Server: httptest.NewUnstartedServer(h)}
	s.EnableHTTP2 = http2
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.accepted.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.closed.Add(1)
		}
	}
	if tune != nil {
		tune(s.Config)
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// h1For is an H1 that trusts s's certificate.
func h1For(s *tlsServer) *H1 { return NewH1(s.Client().Transport) }

func post(t *testing.T, h http.RoundTripper, ctx context.Context, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s %s", r.Proto, r.Method, b)
}

func TestH1SpeaksHTTP1OnOneConnectionKeptAlive(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	h := h1For(s)
	for i := range 20 {
		_, got, err := post(t, h, context.Background(), s.URL+"/api/chat.postMessage", fmt.Sprint(`{"n":`, i, `}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint(`HTTP/1.1 POST {"n":`, i, `}`); got != want {
			t.Fatalf("answer %q, want %q", got, want)
		}
	}
	if n := s.accepted.Load(); n != 1 {
		t.Fatalf("the server accepted %d connections for 20 calls one after another, want 1", n)
	}
}

func TestH1DialsAfreshWhenTheServerClosedAnIdleConnection(t *testing.T) {
	s := newTLSServer(t, echo, func(c *http.Server) { c.IdleTimeout = 30 * time.Millisecond })
	h := h1For(s)
	if _, _, err := post(t, h, context.Background(), s.URL, "one"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.closed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.closed.Load() == 0 {
		t.Fatal("the server never closed its idle connection")
	}
	// The pool still holds the connection the server closed: sending on it
	// would fail after the request went out (ErrServerClosed), an outcome
	// the caller could not know.
	var wrote int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote++ },
	})
	_, got, err := post(t, h, ctx, s.URL, "two")
	if err != nil {
		t.Fatalf("a call after the server closed the idle connection: %v", err)
	}
	if got != "HTTP/1.1 POST two" || wrote != 1 {
		t.Fatalf("answer %q, written %d times", got, wrote)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Fatalf("accepted %d connections, want 2", n)
	}
}

func TestH1BoundsTheConnectionsToAHost(t *testing.T) {
	var active, most atomic.Int64
	release := make(chan struct{})
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := active.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		active.Add(-1)
		echo(w, r)
	}, nil)
	h := h1For(s)
	h.MaxConnsPerHost = 2
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Go(func() {
			_, got, err := post(t, h, context.Background(), s.URL, fmt.Sprint(i))
			if err == nil && got != fmt.Sprint("HTTP/1.1 POST ", i) {
				err = fmt.Errorf("answer %q", got)
			}
			errs <- err
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if m := most.Load(); m > 2 {
		t.Fatalf("%d calls at the server at once, want at most 2", m)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Fatalf("accepted %d connections for 6 calls over at most 2, want 2", n)
	}
}

// holdEager starts eager calls that the server holds until release is
// closed, and returns once the server has them all.
func holdEager(t *testing.T, h *H1, s *tlsServer, release chan struct{}) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := range eager {
		wg.Go(func() {
			if _, _, err := post(t, h, context.Background(), s.URL, fmt.Sprint(i)); err != nil {
				t.Error(err)
			}
		})
	}
	for s.accepted.Load() < eager {
		time.Sleep(time.Millisecond)
	}
	return &wg
}

func TestH1WaitsAMomentForABusyConnectionRatherThanDial(t *testing.T) {
	release := make(chan struct{})
	s := newTLSServer(t, hang(release), nil)
	h := h1For(s)
	h.Patience = 5 * time.Second
	wg := holdEager(t, h, s, release)
	got := make(chan string, 1)
	go func() {
		_, b, err := post(t, h, context.Background(), s.URL, "patient")
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if b := <-got; b != "HTTP/1.1 POST patient" {
		t.Fatalf("answer %q", b)
	}
	wg.Wait()
	if n := s.accepted.Load(); n != eager {
		t.Fatalf("accepted %d connections, want %d: the call beyond them should have had one back", n, eager)
	}
}

func TestH1DialsOnceItsPatienceIsSpent(t *testing.T) {
	release := make(chan struct{})
	s := newTLSServer(t, hang(release), nil)
	h := h1For(s)
	h.Patience = 20 * time.Millisecond
	wg := holdEager(t, h, s, release)
	done := make(chan error, 1)
	go func() {
		_, _, err := post(t, h, context.Background(), s.URL, "impatient")
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for s.accepted.Load() == eager && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	n := s.accepted.Load()
	close(release)
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n != eager+1 {
		t.Fatalf("accepted %d connections while %d were held, want %d: the call should have dialled", n, eager, eager+1)
	}
}

// hang is a server that reads the request and answers only when released.
func hang(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		fmt.Fprintf(w, "%s %s %s", r.Proto, r.Method, b)
	}
}

// givesUpInTime fails the test unless call ends with the deadline, and
// well before the 2 s a hang would take.
func givesUpInTime(t *testing.T, what string, call func() error) {
	t.Helper()
	start := time.Now()
	if err := call(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: %v, want the deadline", what, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("%s gave up after %v", what, d)
	}
}

func TestH1ACallWaitingForRoomGivesUpAtItsDeadline(t *testing.T) {
	release := make(chan struct{})
	s := newTLSServer(t, hang(release), nil)
	h := h1For(s)
	h.MaxConnsPerHost = 1
	first := make(chan error, 1)
	go func() {
		_, _, err := post(t, h, context.Background(), s.URL, "first")
		first <- err
	}()
	for s.accepted.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	givesUpInTime(t, "a call waiting for the only connection", func() error {
		_, _, err := post(t, h, ctx, s.URL, "second")
		return err
	})
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The room the second call waited for is intact: the next call
	// reuses the connection.
	if _, got, err := post(t, h, context.Background(), s.URL, "third"); err != nil || got != "HTTP/1.1 POST third" {
		t.Fatalf("third call: %q, %v", got, err)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Fatalf("accepted %d connections, want 1", n)
	}
}

func TestH1ACallBrokenOffByItsContextSaysItWasWritten(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newTLSServer(t, hang(release), nil)
	h := h1For(s)
	h.MaxConnsPerHost = 1
	var wrote atomic.Bool
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	})
	ctx, cancel := context.WithTimeout(ctx, 80*time.Millisecond)
	defer cancel()
	givesUpInTime(t, "a call the server never answers", func() error {
		_, _, err := post(t, h, ctx, s.URL, "lost")
		return err
	})
	if !wrote.Load() {
		t.Fatal("the request was written, but the trace was not told")
	}
	// Its connection was given up: the only room is free again.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel2()
	if _, _, err := post(t, h, ctx2, s.URL, "next"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("next call: %v, want the deadline (the server hangs, but a connection was dialled)", err)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Fatalf("accepted %d connections, want 2 (the broken one is not reused)", n)
	}
}

// failingBody is a request body that fails after its first bytes.
type failingBody struct{ sent bool }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.sent {
		return 0, errors.New("the body's source failed")
	}
	b.sent = true
	return copy(p, "half a body"), nil
}

// Unsent is what a trace's WroteRequest would have said: true only when
// the request was not written in full, whatever else went wrong.
func TestH1SaysWhetherAFailedRequestWasWrittenInFull(t *testing.T) {
	release := make(chan struct{})
	hung := newTLSServer(t, hang(release), nil)
	reset := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.(*tls.Conn).NetConn().(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}, func(s *http.Server) { s.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} })
	closedPort := "https://" + testkit.ClosedAddr(t) + "/"
	busy := h1For(hung)
	busy.MaxConnsPerHost = 1
	busy.Patience = -1
	held := make(chan struct{})
	defer func() { close(release); <-held }()
	go func() {
		defer close(held)
		post(t, busy, context.Background(), hung.URL, "holds the only connection")
	}()
	for hung.accepted.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, tc := range []struct {
		name   string
		h      *H1
		url    string
		body   io.Reader
		unsent bool
	}{
		{"no server at the port", h1For(hung), closedPort, strings.NewReader("x"), true},
		{"a certificate not trusted", NewH1(http.DefaultTransport), reset.URL, strings.NewReader("x"), true},
		{"the body failing", h1For(hung), hung.URL, &failingBody{}, true},
		{"waiting for the only connection", busy, hung.URL, strings.NewReader("x"), true},
		{"written, never answered", h1For(hung), hung.URL, strings.NewReader("x"), false},
		{"written, then the connection closed unanswered", h1For(reset), reset.URL, strings.NewReader("x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			var wrote atomic.Bool
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
			})
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.h.Carries(req) {
				t.Fatal("H1 does not carry the request itself")
			}
			resp, err := tc.h.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("the call succeeded")
			}
			if got := Unsent(err); got != tc.unsent {
				t.Errorf("Unsent(%v) = %v, want %v", err, got, tc.unsent)
			}
			if wrote.Load() == tc.unsent {
				t.Errorf("the trace was told written = %v, Unsent says %v", wrote.Load(), tc.unsent)
			}
		})
	}
}

func TestH1WithoutADeadlineACallHasItsTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newTLSServer(t, hang(release), nil)
	h := h1For(s)
	h.Timeout = 80 * time.Millisecond
	givesUpInTime(t, "a call without a deadline", func() error {
		_, _, err := post(t, h, context.Background(), s.URL, "x")
		return err
	})
}

// An answer's body closed before its end costs its connection, unless
// what is left has come already (a JSON decoder leaves the "\n").
func TestH1AnswerClosedBeforeItsEnd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		read  int
		conns int64
	}{
		{name: "64 KiB left", body: strings.Repeat("x", 64<<10), read: 10, conns: 3},
		{name: "its newline left", body: `{"ok":true}` + "\n", read: len(`{"ok":true}`), conns: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) }, nil)
			h := h1For(s)
			h.MaxConnsPerHost = 1
			for range 3 {
				req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
				resp, err := h.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(resp.Body, make([]byte, tc.read)); err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if n := s.accepted.Load(); n != tc.conns {
				t.Fatalf("accepted %d connections for 3 calls, want %d", n, tc.conns)
			}
		})
	}
}

func TestH1HonoursConnectionClose(t *testing.T) {
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		echo(w, r)
	}, nil)
	h := h1For(s)
	h.MaxConnsPerHost = 1
	for i := range 3 {
		if _, got, err := post(t, h, context.Background(), s.URL, fmt.Sprint(i)); err != nil || got != fmt.Sprint("HTTP/1.1 POST ", i) {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if n := s.accepted.Load(); n != 3 {
		t.Fatalf("accepted %d connections, want 3", n)
	}
}

func TestH1ReadsChunkedAndEmptyAnswersAndKeepsTheConnection(t *testing.T) {
	s := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
	}, nil)
	h := h1For(s)
	for range 2 {
		resp, got, err := post(t, h, context.Background(), s.URL+"/chunked", "")
		if err != nil || got != "part0;part1;part2;" {
			t.Fatalf("chunked: %q, %v", got, err)
		}
		if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
			t.Fatalf("transfer encoding %v, want chunked", resp.TransferEncoding)
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/empty", nil)
		resp, err = h.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("empty: %v, %v", resp, err)
		}
		resp.Body.Close() // closed unread: nothing was left to read
	}
	if n := s.accepted.Load(); n != 1 {
		t.Fatalf("accepted %d connections, want 1", n)
	}
}

func TestH1ClosesConnectionsIdleTooLong(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	h := h1For(s)
	h.IdleTimeout = 50 * time.Millisecond
	if _, _, err := post(t, h, context.Background(), s.URL, "x"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.closed.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.closed.Load() != 1 {
		t.Fatal("the idle connection was never closed without a call to notice it")
	}
	if _, _, err := post(t, h, context.Background(), s.URL, "y"); err != nil {
		t.Fatal(err)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Fatalf("accepted %d connections, want 2", n)
	}
}

type recordingRT struct{ n atomic.Int64 }

func (r *recordingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestH1LeavesProxiedAndOtherRequestsToTheFallback(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	fb := &recordingRT{}
	h := h1For(s)
	h.Fallback = fb
	h.Proxy = func(r *http.Request) (*neturl.URL, error) {
		if r.URL.Path == "/proxied" {
			return neturl.Parse("http://proxy.example:3128")
		}
		return nil, nil
	}
	for _, u := range []string{s.URL + "/proxied", "ftp://example.com/x"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if _, err := h.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/upgrade", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	if _, err := h.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if fb.n.Load() != 3 {
		t.Fatalf("the fallback carried %d requests, want 3", fb.n.Load())
	}
	if _, _, err := post(t, h, context.Background(), s.URL+"/direct", "x"); err != nil {
		t.Fatal(err)
	}
	if fb.n.Load() != 3 || s.accepted.Load() != 1 {
		t.Fatalf("a direct call: fallback %d, server connections %d", fb.n.Load(), s.accepted.Load())
	}
}

func TestH1RefusesAServerItDoesNotTrust(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	h := NewH1(http.DefaultTransport) // the system's roots: not the test CA
	if _, _, err := post(t, h, context.Background(), s.URL, "x"); err == nil {
		t.Fatal("a server with an unknown certificate was trusted")
	}
	// A refused dial gives its room back.
	h2 := NewH1(http.DefaultTransport)
	h2.MaxConnsPerHost = 1
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _, err := post(t, h2, ctx, s.URL, "x")
		cancel()
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v, want the certificate refused at once", err)
		}
	}
}

// BenchmarkRoundTrip is a Web API-sized call (a 2 KB form, a small JSON
// answer) to a local TLS server offering HTTP/2, 8 at once, through H1 and
// through http.Transport over HTTP/2 and HTTP/1.1. The server's work is in
// the figures too.
func BenchmarkRoundTrip(b *testing.B) {
	answer := []byte(`{"ok":true,"channel":"D0123","ts":"1700000000.000100"}`)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	defer s.Close()
	body := bytes.Repeat([]byte("a"), 2048)
	h2 := s.Client().Transport.(*http.Transport).Clone()
	h2.ForceAttemptHTTP2 = true
	h2.MaxIdleConnsPerHost = 64
	h1std := h2.Clone()
	h1std.ForceAttemptHTTP2 = false
	h1std.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	h1std.TLSClientConfig = h2.TLSClientConfig.Clone()
	h1std.TLSClientConfig.NextProtos = []string{"http/1.1"}
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"H1", NewH1(h2)},
		{"Transport-HTTP2", h2},
		{"Transport-HTTP1", h1std},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetParallelism(4) // 8 at once on 2 cores
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/chat.postMessage", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, err := c.rt.RoundTrip(req)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						b.Error(err)
					}
					resp.Body.Close()
					if c.name == "Transport-HTTP2" && resp.ProtoMajor != 2 || c.name != "Transport-HTTP2" && resp.ProtoMajor != 1 {
						b.Errorf("%s spoke %s", c.name, resp.Proto)
						return
					}
				}
			})
		})
	}
}
