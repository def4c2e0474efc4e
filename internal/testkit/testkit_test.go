package testkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestJSONStringsDecodesWhatRawBytesHide(t *testing.T) {
	raw, _ := json.Marshal([]map[string]any{{"type": "section", "text": map[string]any{"text": "hi <@U1> & <!channel>"}, "n": 3}})
	if strings.Contains(string(raw), "<@U1>") {
		t.Fatalf("encoding/json no longer escapes '<' (the reason for JSONStrings): %s", raw)
	}
	got := JSONStrings(t, raw)
	for _, want := range []string{"section\n", "hi <@U1> & <!channel>\n"} {
		if !strings.Contains(got, want) {
			t.Fatalf("JSONStrings = %q, missing %q", got, want)
		}
	}
	if strings.Contains(got, "3") {
		t.Fatalf("JSONStrings kept a number: %q", got)
	}
}

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&b, "line %d\n", i)
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}
}

// ClosedAddr refuses connections at once, keeps its port from every
// listener while the test runs, and gives it back at cleanup.
func TestClosedAddrRefusesAndHoldsItsPort(t *testing.T) {
	var addr string
	t.Run("held", func(t *testing.T) {
		addr = ClosedAddr(t)
		start := time.Now()
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("dialling %s succeeded", addr)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dialling %s: %v, want connection refused", addr, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refused after %v, want at once", d)
		}
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			t.Errorf("a listener was given %s while ClosedAddr held it", addr)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s still held after the test that asked for it: %v", addr, err)
	}
	ln.Close()
}
