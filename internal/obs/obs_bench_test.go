package obs_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/itfit/itfit/internal/obs"
)

// BenchmarkMiddleware is the cost every request pays before its handler:
// the request ID, the request's logger and the latency histogram, with the
// JSON logger at warn as `bot serve` runs under load.
func BenchmarkMiddleware(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/interactions", func(w http.ResponseWriter, r *http.Request) {
		obs.Logger(r.Context(), log).With("action", "itfit_answer:x").Debug("not written")
		w.WriteHeader(http.StatusOK)
	})
	h := obs.Middleware(log, obs.NewMetrics(), mux)
	req := httptest.NewRequest(http.MethodPost, "/slack/interactions", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}

// discard is a ResponseWriter that keeps one header map, so the benchmark
// counts the middleware's allocations rather than its own.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(p []byte) (int, error) { return len(p), nil }
func (*discard) WriteHeader(int)             {}
