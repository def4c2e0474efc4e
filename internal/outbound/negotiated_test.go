package outbound

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counting is a RoundTripper that counts the calls it passes on.
type counting struct {
	rt    http.RoundTripper
	calls atomic.Int64
}

func (c *counting) RoundTrip(req *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.rt.RoundTrip(req)
}

// negotiatedFor is a Negotiated that trusts s, its T counted.
func negotiatedFor(s *tlsServer) (*Negotiated, *counting) {
	t := s.Client().Transport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	n := NewNegotiated(t)
	c := &counting{rt: t}
	n.T = c
	return n, c
}

func (h *H1) hostCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.hosts)
}

func TestNegotiatedSpeaksHTTP2WhereOffered(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	n, c := negotiatedFor(s)
	for i := range 5 {
		if _, got, err := post(t, n, context.Background(), s.URL, "x"); err != nil || got != "HTTP/2.0 POST x" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if got := c.calls.Load(); got != 5 {
		t.Errorf("%d of 5 calls through T", got)
	}
	if n.H1.hostCount() != 0 {
		t.Error("H1 was used for a host that speaks HTTP/2")
	}
}

func TestNegotiatedTakesAnHTTP1HostToH1(t *testing.T) {
	s := newHTTP1Server(t, echo)
	n, c := negotiatedFor(s)
	for i := range 5 {
		if _, got, err := post(t, n, context.Background(), s.URL, "x"); err != nil || got != "HTTP/1.1 POST x" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if got := c.calls.Load(); got != 1 {
		t.Errorf("%d of 5 calls through T, want the first only", got)
	}
	if n.H1.hostCount() != 1 {
		t.Error("H1 did not carry the calls after the first")
	}
	// T's connection and one of H1's, kept alive for the four calls.
	if got := s.accepted.Load(); got != 2 {
		t.Errorf("the server accepted %d connections, want 2", got)
	}
}

func TestNegotiatedAsksAnHTTP1HostAgainAfterRecheck(t *testing.T) {
	s := newHTTP1Server(t, echo)
	n, c := negotiatedFor(s)
	n.Recheck = 50 * time.Millisecond
	call := func() {
		t.Helper()
		if _, got, err := post(t, n, context.Background(), s.URL, "x"); err != nil || got != "HTTP/1.1 POST x" {
			t.Fatalf("%q, %v", got, err)
		}
	}
	call() // T: marks the host
	call() // H1
	time.Sleep(60 * time.Millisecond)
	call() // T again: still HTTP/1.1, marked afresh
	call() // H1
	if got := c.calls.Load(); got != 2 {
		t.Errorf("%d of 4 calls through T, want 2 (the first, and the one after Recheck)", got)
	}
}

// Past Recheck, only one of the calls in flight asks through T; the others
// keep to H1.
func TestNegotiatedRechecksWithOneCall(t *testing.T) {
	s := newHTTP1Server(t, echo)
	n, c := negotiatedFor(s)
	n.Recheck = time.Hour
	if _, _, err := post(t, n, context.Background(), s.URL, "x"); err != nil {
		t.Fatal(err)
	}
	v, _ := n.http1.Load(hostKey{"https", s.Listener.Addr().String()})
	v.(*atomic.Int64).Add(-int64(2 * time.Hour)) // marked two hours ago
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, s.URL, nil)
			resp, err := n.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if got := c.calls.Load(); got != 2 {
		t.Errorf("%d calls through T, want 2 (the first, and one recheck)", got)
	}
}

// A host marked HTTP/1.1 that has come to offer HTTP/2 is spoken to over
// it after Recheck, and the mark goes.
func TestNegotiatedReturnsToHTTP2(t *testing.T) {
	s := newTLSServer(t, echo, nil)
	n, c := negotiatedFor(s)
	n.Recheck = time.Hour
	k := hostKey{"https", s.Listener.Addr().String()}
	m := newMark()
	m.Add(-int64(2 * time.Hour)) // marked two hours ago, when it spoke HTTP/1.1
	n.http1.Store(k, m)
	for i := range 3 {
		if _, got, err := post(t, n, context.Background(), s.URL, "x"); err != nil || got != "HTTP/2.0 POST x" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if _, ok := n.http1.Load(k); ok {
		t.Error("a host that answered over HTTP/2 stayed marked HTTP/1.1")
	}
	if got := c.calls.Load(); got != 3 {
		t.Errorf("%d of 3 calls through T", got)
	}
}

// A plain http:// host (a local fake connector, say) is HTTP/1.1 too: its
// calls after the first go through H1, over plain TCP.
func TestNegotiatedTakesAPlainHTTPHostToH1(t *testing.T) {
	var accepted atomic.Int64
	s := httptest.NewUnstartedServer(http.HandlerFunc(echo))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			accepted.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	n := NewNegotiated(http.DefaultTransport.(*http.Transport).Clone())
	c := &counting{rt: n.T}
	n.T = c
	for i := range 5 {
		if _, got, err := post(t, n, context.Background(), s.URL+"/v3/conversations/a/activities", "x"); err != nil || got != "HTTP/1.1 POST x" {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if got := c.calls.Load(); got != 1 {
		t.Errorf("%d of 5 calls through T, want the first only", got)
	}
	if n.H1.hostCount() != 1 {
		t.Error("H1 did not carry the calls after the first")
	}
	if got := accepted.Load(); got != 2 {
		t.Errorf("the server accepted %d connections, want 2", got)
	}
}
