package obs_test

import (
	"bytes"
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

// TestMiddlewareLoggerMatchesWith: the request's logger writes exactly what
// slog's Logger.With("request_id", id) would, whatever the handler derives
// from it (attributes, groups, loggers derived twice from one parent), and
// only at enabled levels.
func TestMiddlewareLoggerMatchesWith(t *testing.T) {
	cases := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"plain", func(l *slog.Logger) { l.Info("hello", "k", 1) }},
		{"with", func(l *slog.Logger) { l.With("action", "itfit_answer:x").Warn("hello", "k", 2) }},
		{"group", func(l *slog.Logger) { l.WithGroup("g").Info("hello", "k", 3) }},
		{"with, group, with", func(l *slog.Logger) {
			l.With("a", 1).WithGroup("g").With("b", 2).Error("hello", "k", 4)
		}},
		{"one derived logger, two lines", func(l *slog.Logger) {
			d := l.With("a", 1)
			d.Info("first")
			d.Info("second", "k", 5)
		}},
		{"siblings from one parent", func(l *slog.Logger) {
			base := l.With("a", 1)
			x, y := base.With("b", 2), base.With("c", 3)
			y.Info("y")
			x.Info("x")
			base.Info("base")
		}},
		{"empty with and group", func(l *slog.Logger) { l.With().WithGroup("").Info("hello") }},
		{"below the level", func(l *slog.Logger) { l.With("a", 1).Debug("not written"); l.Debug("nor this") }},
	}
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got, want bytes.Buffer
			base := slog.New(slog.NewJSONHandler(&got, opts))
			h := obs.Middleware(base, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.log(obs.Logger(r.Context(), nil))
			}))
			req := httptest.NewRequest(http.MethodPost, "/slack/interactions", nil)
			req.Header.Set("X-Request-Id", "req-1")
			h.ServeHTTP(httptest.NewRecorder(), req)

			tc.log(slog.New(slog.NewJSONHandler(&want, opts)).With("request_id", "req-1"))
			if got.String() != want.String() {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
			}
		})
	}
}
