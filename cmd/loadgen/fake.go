package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// fakeServer is the http.Server behind a platform's fakes. It remembers when
// the bot last called it, so that the run can end once the bot has gone
// quiet: the bot's last calls of a run (marking the question before the card
// answered) come after the user has seen the card, and closing at once made
// them fail against a closed port and fill the bot's log.
type fakeServer struct {
	*http.Server
	last atomic.Int64 // unix nanoseconds of the latest request
	once sync.Once
}

// newFakeServer serves h and counts every connection the bot opens in
// conns: with TLS each is a handshake, counted as the ClientHello arrives;
// on plain HTTP each accepted connection. With http1, TLS offers only
// http/1.1, as a Bot Connector or proxy that never speaks HTTP/2 would.
func newFakeServer(h http.Handler, tlsCfg *tls.Config, http1 bool, conns *connStats) *fakeServer {
	f := &fakeServer{}
	f.Server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.last.Store(time.Now().UnixNano())
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	if http1 {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		f.Protocols = p
	}
	if tlsCfg != nil {
		tlsCfg = tlsCfg.Clone()
		if http1 {
			tlsCfg.NextProtos = []string{"http/1.1"}
		}
		tlsCfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			conns.opened()
			return nil, nil // the listener's own configuration
		}
		f.TLSConfig = tlsCfg
	} else {
		f.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.opened()
			}
		}
	}
	return f
}

// serve serves on ln, over TLS when the server has a TLS configuration.
func (f *fakeServer) serve(ln net.Listener) {
	if f.TLSConfig != nil {
		_ = f.ServeTLS(ln, "", "")
		return
	}
	_ = f.Serve(ln)
}

// settleFor and settleLimit: the bot counts as quiet after settleFor without
// a call; the fakes close after settleLimit whatever it does.
const (
	settleFor   = 250 * time.Millisecond
	settleLimit = 3 * time.Second
)

// Close waits for the bot to go quiet, then shuts the server down. Calls
// after the first do nothing.
func (f *fakeServer) Close() { f.once.Do(f.close) }

func (f *fakeServer) close() {
	deadline := time.Now().Add(settleLimit)
	for time.Now().Before(deadline) {
		idle := time.Since(time.Unix(0, f.last.Load()))
		if idle >= settleFor {
			break
		}
		time.Sleep(settleFor - idle)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.Shutdown(ctx)
}

// connStats counts the connections (over TLS, the handshakes) the bot opens
// to the fakes: before the load (start-up, the Teams key fetch) and during
// it, each with the number of answers recorded when it was opened, so that
// the report can leave out the warm-up while the pools fill.
type connStats struct {
	tls  bool
	load atomic.Pointer[stats] // set when the load starts

	mu     sync.Mutex
	before int
	during []int64 // answers recorded before each connection of the load
}

func (c *connStats) opened() {
	st := c.load.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == nil {
		c.before++
		return
	}
	c.during = append(c.during, st.answeredSoFar.Load())
}

// warmupShare is the part of a run's answers during which new connections
// count as warm-up: the pools fill as the users in flight ramp up.
const warmupShare = 0.1

// summary returns the connections before the load, during it, and during
// it after the first warmupShare of answers.
func (c *connStats) summary(answers int) (before, during, afterWarmup int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	warm := int64(float64(answers) * warmupShare)
	for _, a := range c.during {
		if a >= warm {
			afterWarmup++
		}
	}
	return c.before, len(c.during), afterWarmup
}
