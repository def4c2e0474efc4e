package main

import "testing"

// The profiling listener shows memory contents (tokens included), so it
// must never open beyond loopback.
func TestPprofListenerIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:6060", "example.com:6060", "nonsense"} {
		if ln, err := listenLoopback(addr); err == nil {
			ln.Close()
			t.Errorf("%q accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		ln, err := listenLoopback(addr)
		if err != nil {
			t.Logf("%q: %v (the machine may lack that loopback)", addr, err)
			continue
		}
		ln.Close()
	}
	if ln, err := listenLoopback("127.0.0.1:0"); err != nil {
		t.Fatalf("127.0.0.1 refused: %v", err)
	} else {
		ln.Close()
	}
}
