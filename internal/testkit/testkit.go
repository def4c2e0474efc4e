// Package testkit holds the small helpers that tests in several packages
// need alike. It imports only the standard library, so any package's tests
// may use it; nothing outside tests should.
package testkit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer that a logger writing from many goroutines and
// a test reading it may share.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// JSONStrings is every string in a JSON document, one per line, decoded as
// a platform reads them. encoding/json writes "<" as "\u003c", so searching
// the raw bytes for "<!channel>" or "<@U1>" could never find one; search
// this instead. A document that is not JSON fails the test.
func JSONStrings(t testing.TB, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// Corpus runs one subtest per delivery in dir (testdata/corpus): every
// NAME.json with its NAME.expect.json beside it, decoded into a *E, handed
// to run with its name and bytes. It fails with fewer than min
// deliveries, and a delivery without its expectation.
func Corpus[E any](t *testing.T, dir string, min int, run func(t *testing.T, name string, raw []byte, want *E)) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".expect.json") {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
	}
	if len(names) < min {
		t.Fatalf("%d deliveries in %s, want at least %d", len(names), dir, min)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			want := new(E)
			if b, err := os.ReadFile(filepath.Join(dir, name+".expect.json")); err != nil {
				t.Fatalf("no expectation: %v", err)
			} else if err := json.Unmarshal(b, want); err != nil {
				t.Fatalf("%s.expect.json: %v", name, err)
			}
			run(t, name, raw, want)
		})
	}
}
