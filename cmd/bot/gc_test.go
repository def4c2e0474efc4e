package main

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	limited, unlimited := write("limited", "268435456\n"), write("unlimited", "max\n")
	for _, tc := range []struct {
		name      string
		env       map[string]string
		cgroup    string
		wantGOGC  int
		wantLimit int64
	}{
		{"defaults in a 256 MiB container", nil, limited, defaultGOGC, 192 << 20},
		{"no container limit", nil, unlimited, defaultGOGC, math.MaxInt64},
		{"no cgroup", nil, filepath.Join(dir, "missing"), defaultGOGC, math.MaxInt64},
		{"GOGC set by the operator", map[string]string{"GOGC": "150"}, limited, 150, 192 << 20},
		{"GOMEMLIMIT set by the operator", map[string]string{"GOMEMLIMIT": "200MiB"}, limited, defaultGOGC, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The runtime read the real environment at start; stand in for it.
			gogc := 100
			if v := tc.env["GOGC"]; v != "" {
				gogc = 150
			}
			old := debug.SetGCPercent(gogc)
			oldLimit := debug.SetMemoryLimit(math.MaxInt64)
			defer func() { debug.SetGCPercent(old); debug.SetMemoryLimit(oldLimit) }()
			tuneGC(slog.New(slog.DiscardHandler), func(k string) string { return tc.env[k] }, tc.cgroup)
			if got := debug.SetGCPercent(gogc); got != tc.wantGOGC {
				t.Errorf("GOGC = %d, want %d", got, tc.wantGOGC)
			}
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, tc.wantLimit)
			}
		})
	}
}
