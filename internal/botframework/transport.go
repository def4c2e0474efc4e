package botframework

import (
	"net/http"
	"sync"
	"time"

	"github.com/itfit/itfit/internal/outbound"
)

// Sizing of the shared transport. A Teams answer makes one or two connector
// calls, so the calls in flight follow the activities in flight; 256 idle
// connections per host covers far more than a replica serves at once, and
// an idle one costs a few kilobytes.
const (
	maxIdlePerHost  = 256
	idleConnTimeout = 90 * time.Second
)

// sharedTransport is the one transport for Microsoft's endpoints (Bot
// Connector, token endpoint, OpenID metadata and keys), used whenever a
// Validator, TokenSource or Connector is given no HTTPClient, so that their
// connections are pooled together. http.DefaultTransport keeps 2 idle
// connections per host: against a connector that speaks HTTP/1.1, every
// call beyond the second in flight handshook TLS afresh (1,306 handshakes
// per 1,000 answers in `scripts/load teams -http1`). HTTP/2 is attempted
// where the server offers it; proxies come from the environment, as with
// the default transport. A host that answers over HTTP/1.1 (a connector
// or proxy without h2) is then spoken to through an outbound.H1 of the
// same sizing (outbound.Negotiated), which costs less per call than this
// transport's HTTP/1.1 connections and their two goroutines each.
var sharedTransport = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no limit across hosts: a serviceUrl per region, the token and key hosts
	t.MaxIdleConnsPerHost = maxIdlePerHost
	// Never more connections to a host than the pool keeps: over HTTP/1.1
	// one beyond it would be closed when it comes back.
	t.MaxConnsPerHost = maxIdlePerHost
	t.IdleConnTimeout = idleConnTimeout
	t.ForceAttemptHTTP2 = true
	return outbound.NewNegotiated(t)
})

// withTimeout returns a client that has a timeout, because an HTTP client
// without one can hang a request goroutine forever: for nil, a client over
// the shared transport; for a client without a timeout, a copy with d.
func withTimeout(c *http.Client, d time.Duration) *http.Client {
	if c == nil {
		return &http.Client{Timeout: d, Transport: sharedTransport()}
	}
	if c.Timeout > 0 {
		return c
	}
	cp := *c
	cp.Timeout = d
	return &cp
}
