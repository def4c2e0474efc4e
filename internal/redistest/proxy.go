package redistest

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Proxy is a TCP proxy in front of a Redis that a test can cut and restore,
// to play Redis going away mid-audit and coming back; black-hole (bytes held,
// nothing answered, as when a network drops packets) and heal; or slow down.
type Proxy struct {
	t      testing.TB
	target string
	ln     net.Listener

	mu      sync.Mutex
	down    bool
	conns   []net.Conn
	hole    chan struct{} // non-nil while black-holed; closed by Heal
	latency time.Duration
}

// NewProxy listens on a loopback port and forwards to target.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, ln: ln}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.Heal()
	})
	return p
}

// CuttableClient returns a client of the real Redis b that goes through a
// Proxy, and the Proxy to cut it with. The client neither retries nor waits
// long to dial, so a cut shows at once as the error a user would meet.
func CuttableClient(t testing.TB, b Backend) (*Proxy, *redis.Client) {
	t.Helper()
	real, ok := b.Client.(*redis.Client)
	if !ok {
		t.Fatalf("CuttableClient needs a single-node backend, not %s", b.Name)
	}
	opt := *real.Options()
	proxy := NewProxy(t, opt.Addr)
	opt.Addr = proxy.Addr()
	opt.MaxRetries = -1
	opt.DialTimeout = 200 * time.Millisecond
	rdb := redis.NewClient(&opt)
	t.Cleanup(func() { rdb.Close() })
	return proxy, rdb
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.pass()
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

// pass holds bytes while the proxy is black-holed, then adds the latency.
func (p *Proxy) pass() {
	p.mu.Lock()
	for p.hole != nil {
		hole := p.hole
		p.mu.Unlock()
		<-hole
		p.mu.Lock()
	}
	d := p.latency
	p.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
}

// BlackHole keeps connections open (new ones are accepted too) but holds
// every byte in either direction until Heal: a client sees no error, only
// silence, as when a network drops packets.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hole == nil {
		p.hole = make(chan struct{})
	}
}

// Heal ends a black hole; what was held is delivered.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hole != nil {
		close(p.hole)
		p.hole = nil
	}
}

// SetLatency delays every chunk of bytes, each way, by d (0 for none).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Cut drops every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}
