package obs_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/obs"
)

// TestRouteLabelIsTheMatchedPattern sends real requests through the
// middleware and the mux, and reads /metrics as Prometheus would: each
// latency series is labelled with the pattern that matched (not
// "unmatched", which the label was for every request while the middleware
// read the pattern off its own copy of the request), and a path nothing
// matched is "unmatched".
func TestRouteLabelIsTheMatchedPattern(t *testing.T) {
	m := obs.NewMetrics()
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }
	mux.HandleFunc("POST /slack/commands", ok)
	mux.HandleFunc("POST /slack/interactions", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad", http.StatusBadRequest)
	})
	mux.HandleFunc("GET /items/{id}", ok)
	mux.Handle("GET /metrics", m.Handler())
	srv := httptest.NewServer(obs.Middleware(slog.New(slog.DiscardHandler), m, mux))
	defer srv.Close()

	for _, r := range []struct{ method, path string }{
		{"POST", "/slack/commands"}, {"POST", "/slack/commands"}, {"POST", "/slack/interactions"},
		{"GET", "/items/1"}, {"GET", "/items/2"}, {"GET", "/nothing/here"},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`itfit_http_request_duration_seconds_count{code="200",route="POST /slack/commands"} 2`,
		`itfit_http_request_duration_seconds_count{code="400",route="POST /slack/interactions"} 1`,
		`itfit_http_request_duration_seconds_count{code="200",route="GET /items/{id}"} 2`,
		`itfit_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "itfit_http_request_duration_seconds_count") {
				t.Log(l)
			}
		}
	}
}
