package webhooks_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/testkit"
	"github.com/itfit/itfit/internal/webhooks"
)

var ctx = context.Background()

// Two secrets, as during a rotation: every delivery must carry a valid
// signature for each.
const (
	secretOld = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="
	secretNew = "whsec_c2VjcmV0LW5ldy1zZWNyZXQtbmV3LXNlY3JldC1uZXctMTIz"
)

// t0 is the fake clock's start.
var t0 = time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// hit is one request the receiver got.
type hit struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Type                     string
	User                     string
	Status                   int
	At                       time.Time // the fake clock when it arrived
	Seq                      int       // arrival order
	Done                     int       // order in which its answer was written
}

// receiver is a local https endpoint. Every request is checked: both
// signatures with the specification's Go library, the timestamp against
// the fake clock, the body against schema/v1.json. answer decides what it
// answers (default 200).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *clock
	schema *jsonschema.Schema

	mu     sync.Mutex
	hits   []hit
	seq    int
	done   int
	answer func(h hit, w http.ResponseWriter) int
}

func newReceiver(t *testing.T, c *clock) *receiver {
	t.Helper()
	r := &receiver{t: t, clock: c, schema: compileSchema(t)}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(webhooks.SchemaV1))
	if err != nil {
		t.Fatalf("schema/v1.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("v1.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("v1.json")
	if err != nil {
		t.Fatalf("schema/v1.json does not compile: %v", err)
	}
	return s
}

// validate checks a body against the schema.
func validate(t testing.TB, s *jsonschema.Schema, body []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("body is not JSON: %v\n%s", err, body)
		return
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("body does not match schema/v1.json: %v\n%s", err, body)
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	h := hit{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Body: body, At: r.clock.Now()}
	var p struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &p)
	h.Type, h.User = p.Type, p.Data.User.ID
	if p.ID != h.ID {
		r.t.Errorf("body id %q differs from webhook-id %q", p.ID, h.ID)
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("got %s with Content-Type %q", req.Method, req.Header.Get("Content-Type"))
	}
	for _, sec := range []string{secretOld, secretNew} {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			r.t.Fatal(err)
		}
		// The library's Verify compares the timestamp with the wall clock;
		// these tests run on a fake one, compared below.
		if err := wh.VerifyIgnoringTimestamp(body, req.Header); err != nil {
			r.t.Errorf("delivery %s: signature for one of the secrets: %v", h.ID, err)
		}
	}
	// Signed at the attempt, on the sender's (fake) clock: not after the
	// receiver's now, and not stale.
	if ts, err := strconv.ParseInt(h.Timestamp, 10, 64); err != nil || ts > h.At.Unix() || h.At.Unix()-ts > 3600 {
		r.t.Errorf("delivery %s: webhook-timestamp %s, want the sender's clock at the attempt (now %d)", h.ID, h.Timestamp, h.At.Unix())
	}
	validate(r.t, r.schema, body)

	r.mu.Lock()
	r.seq++
	h.Seq = r.seq
	answer := r.answer
	r.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(h, w)
	}
	h.Status = status
	w.WriteHeader(status)
	r.mu.Lock()
	r.done++
	h.Done = r.done
	r.hits = append(r.hits, h)
	r.mu.Unlock()
}

func (r *receiver) setAnswer(f func(h hit, w http.ResponseWriter) int) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// accepted are the deliveries answered 2xx, in the order answered.
func (r *receiver) accepted() []hit {
	var out []hit
	for _, h := range r.got() {
		if h.Status/100 == 2 {
			out = append(out, h)
		}
	}
	return out
}

func (r *receiver) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(r.srv.Certificate())
	return p
}

// managers is a hand-written revisit.Service stand-in: who has an account
// manager.
type managers map[conversation.UserKey]revisit.Manager

func (m managers) ManagerOf(_ context.Context, u conversation.UserKey) (revisit.Manager, bool, error) {
	mg, ok := m[u]
	return mg, ok, nil
}

// history gives every user the same latest result.
type history struct{ r conversation.Result }

func (h history) History(context.Context, conversation.UserKey) ([]conversation.Result, error) {
	return []conversation.Result{h.r}, nil
}

// harness is a Service and its worker on a real Redis and a fake clock.
type harness struct {
	t       *testing.T
	rdb     redis.UniversalClient
	prefix  keys.Prefix
	clock   *clock
	recv    *receiver
	svc     *webhooks.Service
	metrics *obs.Metrics
	logs    *testkit.Buffer
	polls   atomic.Int64
	stop    func()
}

type setup struct {
	endpoints []webhooks.Endpoint // default: one, "crm", every event, at recv
	managers  managers
	backend   *redistest.Backend
	noWorker  bool
	// roots verifies the receivers' certificates; default the local
	// receiver's.
	roots *x509.CertPool
	// start is the fake clock's start; default t0.
	start time.Time
	// concurrency of the worker; default 1, so that a poll of the worker
	// means no delivery is in flight (see settle).
	concurrency int
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	b := s.backend
	if b == nil {
		real := redistest.Real(t)
		b = &real
	}
	start := t0
	if !s.start.IsZero() {
		start = s.start
	}
	h := &harness{t: t, rdb: b.Client, prefix: b.Prefix, clock: &clock{now: start}, metrics: obs.NewMetrics(), logs: &testkit.Buffer{}}
	h.recv = newReceiver(t, h.clock)
	eps := s.endpoints
	if eps == nil {
		eps = []webhooks.Endpoint{h.endpoint("crm")}
	}
	for i := range eps {
		if eps[i].URL == "" {
			eps[i].URL = h.recv.srv.URL + "/hooks/itfit"
		}
	}
	if s.managers == nil {
		s.managers = managers{}
	}
	if s.roots == nil {
		s.roots = h.recv.roots()
	}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := webhooks.New(b.Client, eps, webhooks.Options{
		Prefix: b.Prefix, Now: h.clock.Now, Logger: log, Metrics: h.metrics,
		Managers: s.managers, History: history{r: result(t, +1, t0.Add(-time.Hour))}, RootCAs: s.roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	if !s.noWorker {
		h.startWorker(max(s.concurrency, 1))
	}
	return h
}

// endpoint is an endpoint taking every event, both secrets, loopback
// allowed (the receiver is on 127.0.0.1).
func (h *harness) endpoint(name string) webhooks.Endpoint {
	return webhooks.Endpoint{Name: name, Secrets: []string{secretOld, secretNew}, Events: webhooks.Types,
		Timeout: 2 * time.Second, MaxAttempts: webhooks.DefaultMaxAttempts, AllowPrivate: true}
}

func (h *harness) startWorker(concurrency int) {
	w := h.svc.Worker(h.rdb, webhooks.WorkerConfig{
		Now: h.clock.Now, Concurrency: concurrency,
		// One poll is a round of claims; the pause keeps the loop from
		// spinning and asserts nothing about time.
		Sleep: func(ctx context.Context, _ time.Duration) {
			h.polls.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
		},
		Heartbeat: 5 * time.Millisecond,
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(runCtx)
	}()
	h.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			h.t.Error("webhook worker did not stop")
		}
	}
	h.t.Cleanup(h.stop)
}

// settle lets the worker finish n more rounds of claims. With one
// delivery slot, the worker pauses (a round) only when its slot is free and
// nothing is due: two rounds mean that whatever was due has been sent and
// settled.
func (h *harness) settle(n int64) {
	h.t.Helper()
	target := h.polls.Load() + n
	waitFor(h.t, "worker polls", func() bool { return h.polls.Load() >= target })
}

// until advances the fake clock by step between rounds until cond holds,
// for at most limit of fake time.
func (h *harness) until(what string, step, limit time.Duration, cond func() bool) {
	h.t.Helper()
	start := h.clock.Now()
	for !cond() {
		if h.clock.Now().Sub(start) > limit {
			h.t.Fatalf("%s: not after %s of fake time; the receiver got %s", what, limit, summary(h.recv.got()))
		}
		h.settle(3)
		if cond() {
			return
		}
		h.clock.Advance(step)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what) // a hang guard, not a timing assertion
		}
		time.Sleep(time.Millisecond)
	}
}

func summary(hs []hit) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "\n  #%d %s %s user=%s → %d", h.Seq, h.ID, h.Type, h.User, h.Status)
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

// user is a person on Slack.
func user(id string) conversation.UserKey {
	return conversation.UserKey{Platform: conversation.Slack, Workspace: "T0CLIENT", User: conversation.UserID(id)}
}

// answers walks the default audit, picking in each question the option
// that pulls hardest towards fully managed (lean > 0) or co-managed.
func answers(t testing.TB, lean int) advisor.Answers {
	t.Helper()
	a := advisor.Default()
	var as advisor.Answers
	for q, ok := a.Next(as); ok; q, ok = a.Next(as) {
		best := q.Options[0]
		for _, o := range q.Options {
			if o.Weight*lean > best.Weight*lean && !o.Exclusive {
				best = o
			}
		}
		as = append(as, advisor.Answer{Question: q.ID, Options: []advisor.OptionID{best.ID}})
		if len(as) > 50 {
			t.Fatal("the audit does not end")
		}
	}
	return as
}

func result(t testing.TB, lean int, at time.Time) conversation.Result {
	a := advisor.Default()
	as := answers(t, lean)
	return conversation.Result{CompletedAt: at, AuditVersion: a.Version, Answers: as, Recommendation: a.Recommend(as, at)}
}

// completion is the reply of an audit completed at the fake clock's now;
// with retake, a retake whose verdict moved from the other lean.
func (h *harness) completion(lean int, retake bool) conversation.Reply {
	return completion(h.t, lean, retake, h.clock.Now())
}

func completion(tb testing.TB, lean int, retake bool, now time.Time) conversation.Reply {
	a := advisor.Default()
	as := answers(tb, lean)
	rec := a.Recommend(as, now)
	r := conversation.Reply{Event: conversation.Completed, Result: &rec, Answers: as}
	if retake {
		before := answers(tb, -lean)
		r.SinceLast = a.Compare(before, now.Add(-365*24*time.Hour), as, &rec)
	}
	return r
}

// types are the event types of hits.
func types(hs []hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Type
	}
	return out
}
