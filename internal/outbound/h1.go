package outbound

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"sync"
	"syscall"
	"time"
)

// H1 is an http.RoundTripper for the hot calls: HTTP/1.1 over a pool of
// kept-alive connections, where the calling goroutine writes the request
// and reads the answer itself. The request is written and the answer
// parsed by net/http (Request.Write, ReadResponse); H1 only keeps the
// connections.
//
// Why not http.Transport: over HTTP/2 it writes a request's HEADERS and
// DATA frames as two TLS records in two write(2)s, from a goroutine of its
// own per request, and reads the answers in another goroutine; over
// HTTP/1.1 each request passes through its connection's write and read
// goroutines. In a profile of `scripts/load slack` at saturation (two Web
// API calls per answer) the transport's request writing, read loop and
// the stack growth of its goroutines were 27% of the bot's CPU, 11% of it
// in write(2) alone (on loopback a write carries the receiver's TCP work
// too). Through H1 each request is one record and one write(2), and no
// other goroutine wakes: the bot's CPU per answer fell by a fifth (see
// README, Performance).
//
// A request H1 does not carry itself (not http or https, one a proxy from
// the environment must carry, an Upgrade or Connection header) goes to
// Fallback.
type H1 struct {
	// TLS is the configuration each connection copies (its root CAs); nil
	// means the system's roots. ALPN offers http/1.1 only.
	TLS *tls.Config
	// Fallback carries what H1 does not (see above); nil means
	// http.DefaultTransport.
	Fallback http.RoundTripper
	// Proxy says which requests a proxy carries (and so Fallback); nil
	// means none.
	Proxy func(*http.Request) (*neturl.URL, error)
	// MaxConnsPerHost bounds a host's connections, idle, busy or being
	// dialled: a call beyond them waits for one. Zero means 256.
	MaxConnsPerHost int
	// IdleTimeout closes a connection left idle that long, before the
	// server does. Zero means 60 seconds.
	IdleTimeout time.Duration
	// DialTimeout bounds a dial with its TLS handshake. Zero means 10 s.
	DialTimeout time.Duration
	// Timeout bounds a call whose context has no deadline, the read of
	// its answer included. Zero means a minute.
	Timeout time.Duration
	// Patience is how long a call waits for a busy connection before it
	// dials another, once the host has a few (see get). Zero means 20 ms;
	// negative, never.
	Patience time.Duration

	mu    sync.Mutex
	hosts map[hostKey]*h1host
}

// NewH1 is an H1 over fallback, with its TLS configuration and proxy
// choice when fallback is an *http.Transport.
func NewH1(fallback http.RoundTripper) *H1 {
	h := &H1{Fallback: fallback}
	if t, ok := fallback.(*http.Transport); ok {
		h.TLS = t.TLSClientConfig
		h.Proxy = t.Proxy
		h.MaxConnsPerHost = t.MaxConnsPerHost
		h.IdleTimeout = t.IdleConnTimeout
	}
	return h
}

type hostKey struct{ scheme, addr string }

// h1host is one host's pool.
type h1host struct {
	mu      sync.Mutex
	max     int
	open    int            // connections open or being dialled
	idle    []*h1conn      // most recently used last
	waiters []chan *h1conn // calls waiting, first come first served
	sweep   *time.Timer    // closes connections idle too long
	timeout time.Duration  // idle timeout
}

type h1conn struct {
	conn   net.Conn // the TLS connection, or the TCP one for http
	raw    syscall.Conn
	br     *bufio.Reader
	used   time.Time
	reused bool
}

// Unsent reports whether err, from a request H1 carried, says that the
// request was not written in full: no connection could be had (a dial, a
// handshake, the wait for a busy one), or Request.Write failed (its body
// did, or a write of a request larger than the buffer). That is what
// Request.Write tells a trace's WroteRequest, so a caller of H1 needs no
// trace to know it. A failure once the request is in the buffer is not
// Unsent (its flush, the answer): the server may have read it whole.
func Unsent(err error) bool {
	var u unsentError
	return errors.As(err, &u)
}

type unsentError struct{ err error }

func (e unsentError) Error() string { return e.err.Error() }
func (e unsentError) Unwrap() error { return e.err }

// ErrServerClosed: an idle connection's server closed it as the request
// went out, before any answer came.
var ErrServerClosed = errors.New("outbound: the server closed the kept-alive connection before answering")

// RoundTrip sends req on one of the pool's connections, or through Fallback.
func (h *H1) RoundTrip(req *http.Request) (*http.Response, error) {
	if !h.Carries(req) {
		if h.Fallback == nil {
			return http.DefaultTransport.RoundTrip(req)
		}
		return h.Fallback.RoundTrip(req)
	}
	ctx := req.Context()
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, orDefault(h.Timeout, time.Minute))
	}
	hs := h.host(req.URL.Scheme, canonicalAddr(req.URL.Scheme, req.URL.Host))
	pc, err := h.get(ctx, hs, req)
	if err != nil {
		cancel()
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, unsentError{err}
	}
	return h.exchange(ctx, cancel, hs, pc, req)
}

// Carries reports whether H1 sends req itself, rather than through
// Fallback: then an error it returns says by Unsent whether any of the
// request can have reached the server.
func (h *H1) Carries(req *http.Request) bool {
	u := req.URL
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return false
	}
	if req.Header.Get("Upgrade") != "" || req.Header.Get("Connection") != "" {
		return false
	}
	if h.Proxy != nil {
		if p, err := h.Proxy(req); err != nil || p != nil {
			return false
		}
	}
	return true
}

func (h *H1) host(scheme, addr string) *h1host {
	k := hostKey{scheme, addr}
	h.mu.Lock()
	defer h.mu.Unlock()
	hs := h.hosts[k]
	if hs == nil {
		if h.hosts == nil {
			h.hosts = map[hostKey]*h1host{}
		}
		hs = &h1host{max: h.MaxConnsPerHost, timeout: orDefault(h.IdleTimeout, 60*time.Second)}
		if hs.max <= 0 {
			hs.max = 256
		}
		h.hosts[k] = hs
	}
	return hs
}

// get is an idle connection still open, else a new one while the host has
// room for it, else the first to come back. Once the host has eager
// connections, all busy, a call waits up to Patience for one of them
// before it dials: under load one comes back far sooner than a handshake
// takes, and the pool stays near the calls truly in flight.
func (h *H1) get(ctx context.Context, hs *h1host, req *http.Request) (*h1conn, error) {
	patient := h.Patience >= 0
	for {
		hs.mu.Lock()
		if n := len(hs.idle); n > 0 {
			pc := hs.idle[n-1]
			hs.idle[n-1] = nil
			hs.idle = hs.idle[:n-1]
			hs.mu.Unlock()
			if time.Since(pc.used) < hs.timeout && pc.open() {
				pc.reused = true
				return pc, nil
			}
			hs.drop(pc)
			continue
		}
		var timeout <-chan time.Time
		if hs.open < hs.max {
			if !patient || hs.open < eager {
				hs.open++
				hs.mu.Unlock()
				pc, err := h.dial(ctx, req)
				if err != nil {
					hs.release()
					return nil, err
				}
				return pc, nil
			}
			t := time.NewTimer(orDefault(h.Patience, 20*time.Millisecond))
			defer t.Stop()
			timeout = t.C
		}
		w := make(chan *h1conn, 1)
		hs.waiters = append(hs.waiters, w)
		hs.mu.Unlock()
		select {
		case pc := <-w:
			if pc == nil {
				patient = false // a connection closed: there is room to dial
				continue
			}
			pc.reused = true
			return pc, nil
		case <-timeout:
			patient = false
			if pc, handed := hs.leave(w); handed && pc != nil {
				pc.reused = true
				return pc, nil
			}
		case <-ctx.Done():
			if pc, handed := hs.leave(w); handed {
				// Handed something as the context ended: pass it on.
				if pc != nil {
					hs.put(pc)
				} else {
					hs.wake() // the room it was given, to the next
				}
			}
			return nil, ctx.Err()
		}
	}
}

// eager is how many connections a host gets without waiting for a busy
// one (see get).
const eager = 8

// leave takes w off the waiters. When it is no longer there, it was handed
// a connection, or nil for room to dial, which leave returns.
func (hs *h1host) leave(w chan *h1conn) (*h1conn, bool) {
	hs.mu.Lock()
	for i, o := range hs.waiters {
		if o == w {
			hs.waiters = append(hs.waiters[:i], hs.waiters[i+1:]...)
			hs.mu.Unlock()
			return nil, false
		}
	}
	hs.mu.Unlock()
	return <-w, true
}

func (h *H1) dial(ctx context.Context, req *http.Request) (*h1conn, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(h.DialTimeout, 10*time.Second))
	defer cancel()
	addr := canonicalAddr(req.URL.Scheme, req.URL.Host)
	nd := &net.Dialer{KeepAlive: 30 * time.Second}
	var c net.Conn
	var err error
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{}
		if h.TLS != nil {
			cfg = h.TLS.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		c, err = (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	pc := &h1conn{conn: c, br: bufio.NewReaderSize(c, 4096)}
	inner := c
	if t, ok := c.(*tls.Conn); ok {
		inner = t.NetConn()
	}
	if sc, ok := inner.(syscall.Conn); ok {
		pc.raw = sc
	}
	return pc, nil
}

// open reports whether nothing has come on an idle connection: the server
// has neither closed it nor written to it unasked. It peeks at the socket
// without waiting (one recvfrom(2)): http.Transport's read loop would have
// seen the close, and a request sent on a closed connection might or
// might not have been acted on.
func (pc *h1conn) open() bool {
	if pc.br.Buffered() > 0 {
		return false
	}
	if pc.raw == nil {
		return true
	}
	rc, err := pc.raw.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (e == syscall.EAGAIN || e == syscall.EWOULDBLOCK)
		return true // never wait
	})
	return err == nil && alive
}

// put gives pc to the first call waiting, else to the idle pool.
func (hs *h1host) put(pc *h1conn) {
	pc.used = time.Now()
	hs.mu.Lock()
	if len(hs.waiters) > 0 {
		w := hs.waiters[0]
		hs.waiters = hs.waiters[1:]
		hs.mu.Unlock()
		w <- pc
		return
	}
	hs.idle = append(hs.idle, pc)
	if hs.sweep == nil {
		hs.sweep = time.AfterFunc(hs.timeout, hs.sweepIdle)
	}
	hs.mu.Unlock()
}

// sweepIdle closes the connections idle longer than the timeout (the
// oldest are first), and comes back while any stay idle.
func (hs *h1host) sweepIdle() {
	now := time.Now()
	hs.mu.Lock()
	n := 0
	for n < len(hs.idle) && now.Sub(hs.idle[n].used) >= hs.timeout {
		n++
	}
	old := append([]*h1conn(nil), hs.idle[:n]...)
	hs.idle = append(hs.idle[:0], hs.idle[n:]...)
	hs.open -= len(old)
	hs.sweep = nil
	if len(hs.idle) > 0 {
		hs.sweep = time.AfterFunc(hs.idle[0].used.Add(hs.timeout).Sub(now), hs.sweepIdle)
	}
	hs.mu.Unlock()
	closeAll(old)
	for range old {
		hs.wake()
	}
}

// drop closes pc and gives up its room.
func (hs *h1host) drop(pc *h1conn) {
	pc.conn.Close()
	hs.release()
}

// release gives up a connection's room: to the first call waiting, which
// dials, else to the host.
func (hs *h1host) release() {
	hs.mu.Lock()
	hs.open--
	hs.mu.Unlock()
	hs.wake()
}

func (hs *h1host) wake() {
	hs.mu.Lock()
	if len(hs.waiters) == 0 {
		hs.mu.Unlock()
		return
	}
	w := hs.waiters[0]
	hs.waiters = hs.waiters[1:]
	hs.mu.Unlock()
	w <- nil
}

func closeAll(pcs []*h1conn) {
	for _, pc := range pcs {
		pc.conn.Close()
	}
}

// CloseIdleConnections closes the idle connections, Fallback's too.
func (h *H1) CloseIdleConnections() {
	h.mu.Lock()
	hosts := make([]*h1host, 0, len(h.hosts))
	for _, hs := range h.hosts {
		hosts = append(hosts, hs)
	}
	h.mu.Unlock()
	for _, hs := range hosts {
		hs.mu.Lock()
		idle := hs.idle
		hs.idle = nil
		hs.open -= len(idle)
		hs.mu.Unlock()
		closeAll(idle)
		for range idle {
			hs.wake()
		}
	}
	if c, ok := h.Fallback.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// writers buffer a request whole, up to a TLS record's 16 KiB, so that it
// goes out in one record and one write.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// exchange writes req on pc and reads its answer's head; the body gives pc
// back once read to its end.
func (h *H1) exchange(ctx context.Context, cancel context.CancelFunc, hs *h1host, pc *h1conn, req *http.Request) (*http.Response, error) {
	// The context's end (its deadline among them) breaks the connection's
	// reads and writes, which then fail at once; nothing else sets a
	// deadline on it.
	stop := context.AfterFunc(ctx, func() { pc.conn.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		hs.drop(pc)
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		cancel()
		return nil, err
	}
	// The request goes into the buffer (writeRequest: Request.Write's
	// bytes; Request.Write itself tells a trace, WroteRequest, once it is
	// there, as http.Transport's does), and a failure before then is
	// Unsent: a flush that fails after it is an outcome unknown, the
	// cautious side.
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(pc.conn)
	err := writeRequest(bw, req)
	written := err == nil
	if written {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writers.Put(bw)
	if err != nil {
		if !written {
			err = unsentError{err}
		}
		return fail(err)
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			if pc.reused && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
				err = fmt.Errorf("%w: %w", ErrServerClosed, err)
			}
			return fail(err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue // an interim answer (it has no body): the final one follows
		}
		break
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("outbound: a 101 Switching Protocols that was not asked for"))
	}
	if resp.Body == http.NoBody {
		// Nothing more to read (a 204, a HEAD): the connection is free.
		stop()
		if !resp.Close && !req.Close {
			hs.put(pc)
		} else {
			hs.drop(pc)
		}
		cancel()
		return resp, nil
	}
	resp.Body = &h1body{rc: resp.Body, hs: hs, pc: pc, stop: stop, cancel: cancel, keep: !resp.Close && !req.Close, length: resp.ContentLength}
	return resp, nil
}

// h1body is an answer's body: read to its end, the connection goes back to
// the pool; closed before then, the connection is closed.
type h1body struct {
	rc     io.ReadCloser
	hs     *h1host
	pc     *h1conn
	stop   func() bool
	cancel context.CancelFunc
	keep   bool
	done   bool
	length int64 // the answer's Content-Length, -1 when chunked
	read   int64
}

func (b *h1body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	switch {
	case err == io.EOF:
		b.finish(true)
	case err != nil:
		b.finish(false)
	}
	return n, err
}

// Close before the end reads the rest when it has come already: a JSON
// decoder stops after the value and leaves its newline, or only the body's
// end, unread. Anything else costs the connection, as it would with
// http.Transport: waiting for the rest could wait for a server that
// stalls.
func (b *h1body) Close() error {
	if b.done {
		return nil
	}
	rest := b.length - b.read
	if b.length >= 0 && rest <= int64(b.pc.br.Buffered()) {
		n, err := io.CopyN(io.Discard, b.rc, rest+1)
		b.finish(n == rest && err == io.EOF)
		return nil
	}
	b.finish(false)
	return nil
}

func (b *h1body) finish(atEOF bool) {
	b.done = true
	// stop is false once the context's end has broken the connection.
	if b.stop() && atEOF && b.keep && b.pc.br.Buffered() == 0 {
		b.hs.put(b.pc)
	} else {
		b.hs.drop(b.pc)
	}
	b.cancel()
}

// canonicalAddr is hostport with the scheme's port where it has none.
func canonicalAddr(scheme, hostport string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	h := hostport
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	if scheme == "https" {
		return net.JoinHostPort(h, "443")
	}
	return net.JoinHostPort(h, "80")
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
