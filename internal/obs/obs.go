// Package obs is itfit's observability: Prometheus metrics, a request ID
// on every HTTP request, and the request-scoped logger that carries it.
package obs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/itfit/itfit/internal/background"
)

// Metrics are the counters and histograms itfit exports on /metrics. The
// methods are safe on a nil *Metrics, so tests may leave it out.
type Metrics struct {
	reg         *prometheus.Registry
	turns       *prometheus.CounterVec
	completions *prometheus.CounterVec
	requests    *prometheus.HistogramVec
	storeErrors *prometheus.CounterVec
	platform    *prometheus.CounterVec
	nudges      *prometheus.CounterVec
	shed        *prometheus.CounterVec
	webhooks    *prometheus.CounterVec
	webhookTime *prometheus.HistogramVec
}

// NewMetrics registers itfit's metrics, plus Go and process collectors, on
// a registry of its own.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_turns_total", Help: "Audit operations by platform and outcome (started, advanced, stale, ...).",
		}, []string{"platform", "event"}),
		completions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_completions_total", Help: "Completed audits by platform and verdict.",
		}, []string{"platform", "verdict"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "itfit_http_request_duration_seconds", Help: "HTTP request latency by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "code"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_store_errors_total", Help: "Redis operations that failed, by platform.",
		}, []string{"platform"}),
		platform: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_platform_calls_total", Help: "Calls to Slack and Teams APIs by platform, call and outcome (ok, retried, failed).",
		}, []string{"platform", "call", "outcome"}),
		nudges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_nudges_total", Help: "Revisit nudge deliveries by kind and outcome (the scheduler's: sent, already_sent, confirmed, resent, ambiguous, orphaned, retried, rate_limited, gone, dead).",
		}, []string{"kind", "outcome"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_work_shed_total", Help: "Work after an acknowledgement not run, by task and reason (busy: the pool or the tenant's share was full; stale: its person had waited too long).",
		}, []string{"task", "reason"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "itfit_webhook_deliveries_total", Help: "Outgoing webhook delivery attempts by endpoint and outcome (delivered, retried, rate_limited, blocked, dead, dropped).",
		}, []string{"endpoint", "outcome"}),
		webhookTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "itfit_webhook_request_duration_seconds", Help: "Outgoing webhook request latency by endpoint, until the receiver answered or the attempt failed.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.turns, m.completions, m.requests, m.storeErrors, m.platform, m.nudges, m.shed, m.webhooks, m.webhookTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Shed counts work the background pool refused or dropped.
func (m *Metrics) Shed(task, reason string) {
	if m == nil {
		return
	}
	m.shed.WithLabelValues(task, reason).Inc()
}

// Handler serves the metrics for /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry exposes the registry, for tests that read a metric back.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Turn counts one audit operation.
func (m *Metrics) Turn(platform, event string) {
	if m != nil {
		m.turns.WithLabelValues(platform, event).Inc()
	}
}

// Completion counts one completed audit.
func (m *Metrics) Completion(platform, verdict string) {
	if m != nil {
		m.completions.WithLabelValues(platform, verdict).Inc()
	}
}

// StoreError counts one failed Redis operation.
func (m *Metrics) StoreError(platform string) {
	if m != nil {
		m.storeErrors.WithLabelValues(platform).Inc()
	}
}

// PlatformCall counts one call to a platform API: outcome is ok, retried
// or failed.
func (m *Metrics) PlatformCall(platform, call, outcome string) {
	if m != nil {
		m.platform.WithLabelValues(platform, call, outcome).Inc()
	}
}

// Nudge counts one nudge delivery outcome.
func (m *Metrics) Nudge(kind, outcome string) {
	if m != nil {
		m.nudges.WithLabelValues(kind, outcome).Inc()
	}
}

// Webhook counts one outgoing webhook delivery attempt's outcome; took,
// when positive, is how long its request took.
func (m *Metrics) Webhook(endpoint, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(endpoint, outcome).Inc()
	if took > 0 {
		m.webhookTime.WithLabelValues(endpoint).Observe(took.Seconds())
	}
}

type ctxKey struct{}

// Logger returns the request's logger (with its request ID), or fallback.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// WithLogger puts a logger in a context, for work that outlives a request.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// Middleware gives every request an ID (kept from X-Request-Id when it is
// sane), a logger that carries it, and a latency observation under route,
// the pattern the mux matched, so that paths with IDs do not explode the
// label set. next must be the *http.ServeMux itself (or a handler that
// passes it the request unchanged): the pattern is read back from the
// request handed to next.
//
// It runs on every request, so it does no work a request may not need: the
// ID is added to a log line only when one is written (see idHandler), and
// the request's own debug line is built only when debug is on.
func Middleware(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			id = newID()
		}
		w.Header()["X-Request-Id"] = []string{id}
		l := slog.New(&idHandler{inner: log.Handler(), id: id})
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		// The mux records the pattern it matched on the request it is
		// given, which is this copy, not r.
		inner := r.WithContext(background.WithArrival(WithLogger(r.Context(), l), start))
		func() {
			// A bug must not cost the user more than this one request.
			defer func() {
				if p := recover(); p != nil {
					l.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
					if !sw.wrote {
						http.Error(sw, "internal error", http.StatusInternalServerError)
					}
				}
			}()
			next.ServeHTTP(sw, inner)
		}()
		route := inner.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		if m != nil {
			m.requests.WithLabelValues(route, codeLabel(sw.code)).Observe(d.Seconds())
		}
		level := slog.LevelDebug
		if sw.code >= 500 {
			level = slog.LevelWarn
		}
		if l.Enabled(r.Context(), level) {
			l.Log(r.Context(), level, "http request", "method", r.Method, "route", route, "status", sw.code, "duration_ms", float64(d.Microseconds())/1000)
		}
	})
}

// idHandler adds the request ID to the records it handles. slog's own
// Logger.With would format the ID into a new handler on every request,
// whether or not anything is ever logged; this defers that to the first
// line written. A With or WithGroup on it is deferred the same way (the
// adapters add an attribute or two to the request's logger on every
// request, and the JSON handler formatted them at once: 1% of the bot's
// CPU at warn level, where nothing is written): the handler they describe
// is built, once, when its first record arrives.
type idHandler struct {
	inner slog.Handler
	id    string
	ops   []handlerOp // after the ID, in order

	once  sync.Once
	built slog.Handler
}

// handlerOp is a deferred WithAttrs (attrs) or WithGroup (group).
type handlerOp struct {
	attrs []slog.Attr
	group string
}

func (h *idHandler) attr() slog.Attr { return slog.String("request_id", h.id) }

func (h *idHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *idHandler) Handle(ctx context.Context, r slog.Record) error {
	if len(h.ops) > 0 {
		return h.handler().Handle(ctx, r)
	}
	// The ID goes first, where Logger.With would have put it.
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.attr())
	r.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	return h.inner.Handle(ctx, out)
}

// handler is inner with the ID and the deferred operations applied.
func (h *idHandler) handler() slog.Handler {
	h.once.Do(func() {
		b := h.inner.WithAttrs([]slog.Attr{h.attr()})
		for _, op := range h.ops {
			if op.attrs != nil {
				b = b.WithAttrs(op.attrs)
			} else {
				b = b.WithGroup(op.group)
			}
		}
		h.built = b
	})
	return h.built
}

func (h *idHandler) with(op handlerOp) *idHandler {
	return &idHandler{inner: h.inner, id: h.id, ops: append(slices.Clip(h.ops), op)}
}

func (h *idHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	return h.with(handlerOp{attrs: as})
}

func (h *idHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(handlerOp{group: name})
}

// codeLabels holds the status label of every code, so that observing a
// request allocates no string.
var codeLabels = func() (t [600]string) {
	for i := 100; i < len(t); i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func codeLabel(code int) string {
	if code >= 100 && code < len(codeLabels) {
		return codeLabels[code]
	}
	return strconv.Itoa(code)
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
