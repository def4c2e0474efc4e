package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestFakeServerProtocolsAndHandshakes runs a fake as loadgen does and
// calls it with a client that tries HTTP/2 first, as the bot's do: with
// -http1 the fake must answer HTTP/1.1, without it HTTP/2, and every
// connection the client opens must be counted as one handshake (before the
// load, then during it with the answers recorded so far).
func TestFakeServerProtocolsAndHandshakes(t *testing.T) {
	ca, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		http1     bool
		tls       bool
		wantMajor int
	}{
		{"https offering h2", false, true, 2},
		{"https, -http1", true, true, 1},
		{"plain http", false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conns := &connStats{tls: tc.tls}
			mux := http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, r.Proto)
			})
			var cfg *tls.Config
			scheme := "http"
			if tc.tls {
				cfg, scheme = ca.serverTLS(), "https"
			}
			srv := newFakeServer(mux, cfg, tc.http1, conns)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.serve(ln)
			t.Cleanup(srv.Close)
			url := scheme + "://" + ln.Addr().String() + "/"

			get := func(c *http.Client) {
				t.Helper()
				resp, err := c.Get(url)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.ProtoMajor != tc.wantMajor {
					t.Fatalf("protocol %s (server saw %s), want HTTP/%d", resp.Proto, body, tc.wantMajor)
				}
			}
			client := func() *http.Client {
				return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
					ForceAttemptHTTP2: true, TLSClientConfig: ca.clientTLS(), MaxIdleConnsPerHost: 4,
				}}
			}
			// Before the load: one connection, reused.
			c1 := client()
			get(c1)
			get(c1)
			// During the load, after 5 answers: a second client, a second
			// connection; its reuse opens none.
			st := newStats(1)
			conns.load.Store(st)
			for range 5 {
				st.worker(0).answered(time.Millisecond)
			}
			c2 := client()
			get(c2)
			get(c2)
			get(c1)
			before, during, after := conns.summary(100)
			if before != 1 || during != 1 || after != 0 {
				t.Fatalf("before %d, during %d, after the first 10 of 100 answers %d; want 1, 1, 0", before, during, after)
			}
			if _, _, after := conns.summary(50); after != 1 {
				t.Fatalf("after the first 5 of 50 answers: %d, want 1", after)
			}
		})
	}
}
