package testkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
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
