package outbound

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Negotiated is an http.RoundTripper that attempts HTTP/2, as T does, and
// sends a host's calls through H1 once the host has answered T over
// HTTP/1.1: a server, or a proxy before it, that speaks only HTTP/1.1 gets
// H1's pool (a connection per call in flight, written and read by the
// calling goroutine) rather than T's, which has two goroutines per
// connection. Against HTTP/1.1 fakes, that took about 11% off the Teams
// path's CPU per answer at saturation and its RSS from 92-99 to 82-85 MiB
// (see README, Performance). A host that offers HTTP/2 never reaches H1.
//
// A host marked HTTP/1.1 is asked again through T every Recheck, by one
// call while the others keep to H1, so that a server that comes to offer
// HTTP/2 is spoken to over it.
type Negotiated struct {
	// T attempts HTTP/2 (ForceAttemptHTTP2, or a TLSNextProto).
	T http.RoundTripper
	// H1 carries the calls to the hosts that answered over HTTP/1.1; what
	// it does not carry itself (see H1.Carries) goes to T.
	H1 *H1
	// Recheck is how long a host stays marked HTTP/1.1 before a call asks
	// it through T again. Zero means 5 minutes.
	Recheck time.Duration

	http1 sync.Map // hostKey → *atomic.Int64: when the host was marked or last asked (Unix ns)
}

// NewNegotiated is a Negotiated over t, with an H1 that has t's TLS
// configuration, proxy choice and sizing, and t as its Fallback.
func NewNegotiated(t *http.Transport) *Negotiated {
	return &Negotiated{T: t, H1: NewH1(t)}
}

// RoundTrip sends req through H1 when its host answered over HTTP/1.1 not
// long ago, else through T.
func (n *Negotiated) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return n.T.RoundTrip(req)
	}
	k := hostKey{req.URL.Scheme, canonicalAddr(req.URL.Scheme, req.URL.Host)}
	if v, ok := n.http1.Load(k); ok {
		at := v.(*atomic.Int64)
		marked, now := at.Load(), time.Now().UnixNano()
		// Past Recheck, the one call that moves the mark on asks through T.
		ask := now-marked >= int64(orDefault(n.Recheck, 5*time.Minute)) && at.CompareAndSwap(marked, now)
		if !ask && n.H1.Carries(req) {
			return n.H1.RoundTrip(req)
		}
	}
	resp, err := n.T.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ProtoMajor == 1 {
		if v, loaded := n.http1.LoadOrStore(k, newMark()); loaded {
			v.(*atomic.Int64).Store(time.Now().UnixNano())
		}
	} else {
		n.http1.Delete(k)
	}
	return resp, nil
}

func newMark() *atomic.Int64 {
	m := new(atomic.Int64)
	m.Store(time.Now().UnixNano())
	return m
}

// CloseIdleConnections closes T's idle connections and H1's.
func (n *Negotiated) CloseIdleConnections() {
	if c, ok := n.T.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	n.H1.CloseIdleConnections()
}
