package slackapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackapi"
)

const testSecret = "test-signing-secret"

// apiCall is one request the fake Web API received.
type apiCall struct {
	Method string
	Form   url.Values
	JSON   map[string]any
	// Ephemeral marks a message only its user sees (an ephemeral reply):
	// a click on it says so in its container, as Slack's does.
	Ephemeral bool
}

// blocks decodes the blocks a chat.postMessage or chat.update carried.
func (c apiCall) blocks(t *testing.T) []map[string]any {
	t.Helper()
	var bs []map[string]any
	if err := json.Unmarshal([]byte(c.Form.Get("blocks")), &bs); err != nil {
		t.Fatalf("%s blocks: %v", c.Method, err)
	}
	return bs
}

// fakeSlack is a local Slack Web API that records what the bot sends.
type fakeSlack struct {
	srv *httptest.Server

	mu        sync.Mutex
	calls     []apiCall
	ts        int
	gate      chan struct{}  // when set, every call waits for it to close
	entered   chan string    // when set, told of every call as it arrives
	limited   map[string]int // method -> how many 429s to answer first
	failing   map[string]string
	userTZ    string
	locale    string // users.info's locale
	retryWait string
	// status makes a method answer this HTTP status after it has acted
	// (a chat.postMessage is posted, and shows in the history): Slack's
	// answer lost on the way back.
	status map[string]int
	// refuse makes a method answer this HTTP status without acting.
	refuse map[string]int
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{limited: map[string]int{}, failing: map[string]string{}, status: map[string]int{}, refuse: map[string]int{}, userTZ: "Europe/Paris", retryWait: "2"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	c := apiCall{Method: method}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.NewDecoder(r.Body).Decode(&c.JSON)
		// The adapter posts chat messages as JSON: mirror the fields into
		// Form as a form post would carry them (blocks as a JSON string), so
		// tests read either kind the same way.
		c.Form = url.Values{}
		for k, v := range c.JSON {
			if str, ok := v.(string); ok {
				c.Form.Set(k, str)
			} else if b, err := json.Marshal(v); err == nil {
				c.Form.Set(k, string(b))
			}
		}
	} else {
		_ = r.ParseForm()
		c.Form = r.PostForm
		c.Form.Del("token")
	}
	f.mu.Lock()
	gate, entered := f.gate, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- method
	}
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limited[method] > 0 {
		f.limited[method]--
		w.Header().Set("Retry-After", f.retryWait)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if code := f.refuse[method]; code != 0 {
		w.WriteHeader(code)
		return
	}
	f.calls = append(f.calls, c)
	w.Header().Set("Content-Type", "application/json")
	if e := f.failing[method]; e != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, e)
		return
	}
	if code := f.status[method]; code != 0 {
		if method == "chat.postMessage" {
			f.ts++
		}
		w.WriteHeader(code)
		return
	}
	switch method {
	case "conversations.open":
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, c.Form.Get("users"))
	case "conversations.history":
		f.history(w, c.Form)
	case "chat.postMessage":
		f.ts++
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, c.Form.Get("channel"), f.ts)
	case "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, c.Form.Get("channel"), c.Form.Get("ts"))
	case "chat.postEphemeral":
		fmt.Fprint(w, `{"ok":true,"message_ts":"1700000000.999999"}`)
	case "users.info":
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"tz":%q,"locale":%q}}`, c.Form.Get("user"), f.userTZ, f.locale)
	case "views.publish":
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V1","type":"home"}}`)
	default:
		fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

// history answers conversations.history (f.mu held): the channel's posts,
// newest first, with their metadata when include_all_metadata is set; all
// on one page.
func (f *fakeSlack) history(w http.ResponseWriter, form url.Values) {
	msgs := []map[string]any{}
	for i := len(f.calls) - 1; i >= 0; i-- {
		c := f.calls[i]
		if c.Method != "chat.postMessage" || c.Form.Get("channel") != form.Get("channel") {
			continue
		}
		m := map[string]any{"type": "message", "text": c.Form.Get("text")}
		if md, ok := c.JSON["metadata"]; ok && form.Get("include_all_metadata") == "true" {
			m["metadata"] = md
		}
		msgs = append(msgs, m)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
}

func (f *fakeSlack) all(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSlack) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// sink is a response_url endpoint that records the replies sent to it.
type sink struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []map[string]any
	paths   []string // the path each reply was posted to (it names the user)
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		s.mu.Lock()
		s.replies = append(s.replies, m)
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.replies))
	for i, r := range s.replies {
		out[i], _ = r["text"].(string)
	}
	return out
}

// harness runs the real HTTP handlers over the real chat layer and engine
// on real Redis, talking to the fake Web API.
type harness struct {
	t       *testing.T
	app     *App
	flows   *chat.Service
	srv     *httptest.Server
	api     *fakeSlack
	sink    *sink
	bg      *background.Group
	engine  *conversation.Engine
	claims  *conversation.Claims
	erasers *erasure.Registry
	rdb     redis.UniversalClient
	prefix  keys.Prefix
	metrics *obs.Metrics
	now     time.Time

	mu     sync.Mutex
	sleeps []time.Duration
	sent   atomic.Int64 // signed requests posted, to sign each at its own second
}

var testNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// withReminders gives the harness's chat layer reminders built on its
// engine, Redis and prefix (and may register more erasers).
type withReminders func(h *harness) chat.Reminders

// withLanguages keeps each person's language in Redis, with Slack's
// users.info as the chat layer's detector, as cmd/bot wires it; the fake
// Web API says the locale given.
type withLanguages struct{ locale string }

// socketMode builds the harness's app for Socket Mode against a
// socketSlack (whose fake Web API the harness then reads) instead of the
// signed Request URLs.
type socketMode struct{ slack *socketSlack }

// newHarness builds the harness; opts are func(*Options) tweaks of the
// adapter's options, a withReminders, or a socketMode.
func newHarness(t *testing.T, opts ...any) *harness {
	t.Helper()
	rb := redistest.Real(t)
	var socket *socketSlack
	for _, o := range opts {
		if s, ok := o.(socketMode); ok {
			socket = s.slack
		}
	}
	api := newFakeSlack(t)
	if socket != nil {
		api = socket.api
	}
	h := &harness{t: t, api: api, sink: newSink(t), now: testNow, metrics: obs.NewMetrics(), rdb: rb.Client, prefix: rb.Prefix}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := func() time.Time { return h.now }
	h.engine = conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix, Now: func() time.Time { return testNow }})
	h.claims = conversation.NewClaims(rb.Client, rb.Prefix, 0, clock)
	h.erasers = &erasure.Registry{}
	h.bg = background.New(log, 64, 30*time.Second)
	var reminders chat.Reminders
	for _, o := range opts {
		if f, ok := o.(withReminders); ok {
			reminders = f(h)
		}
	}
	h.erasers.Register("sessions", erasure.Sessions(h.engine))
	h.erasers.Register("claims", erasure.Other(h.claims))
	var langs *conversation.Languages
	for _, o := range opts {
		if l, ok := o.(withLanguages); ok {
			langs = conversation.NewLanguages(rb.Client, rb.Prefix, 0)
			h.erasers.Register("languages", erasure.Other(langs))
			h.api.locale = l.locale
		}
	}
	co := chat.Options{Engine: h.engine, Reminders: reminders, Eraser: h.erasers, Claims: h.claims, Log: log, Now: clock}
	if langs != nil {
		co.Languages = langs
	}
	flows, err := chat.New(co)
	if err != nil {
		t.Fatal(err)
	}
	h.flows = flows
	o := Options{
		Flows: flows, Redis: rb.Client, Prefix: rb.Prefix, Background: h.bg, Metrics: h.metrics, Log: log,
		Now: clock,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return nil
		},
		AllowResponseURL: func(u *url.URL) bool { return u.Host == strings.TrimPrefix(h.sink.srv.URL, "http://") },
	}
	if ws, ok := reminders.(Workspaces); ok {
		o.Workspaces = ws
	}
	for _, f := range opts {
		if f, ok := f.(func(*Options)); ok {
			f(&o)
		}
	}
	cfg := Config{SigningSecret: testSecret, BotToken: "xoxb-test", APIURL: h.api.srv.URL + "/api"}
	if socket != nil {
		// No signing secret: Socket Mode needs none.
		cfg = Config{AppToken: testAppToken, BotToken: "xoxb-test", APIURL: socket.srv.URL + "/api"}
	}
	app, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	h.app = app
	if langs != nil {
		flows.Detect(conversation.Slack, app.Locale)
	}
	mux := http.NewServeMux()
	app.Mount(mux)
	h.srv = httptest.NewServer(obs.Middleware(log, h.metrics, mux))
	t.Cleanup(func() {
		h.wait()
		h.srv.Close()
	})
	return h
}

// newFlows is the chat layer over an engine, with forget erasing its
// sessions and claims.
func newFlows(t testing.TB, e *conversation.Engine, rdb redis.UniversalClient, p keys.Prefix) *chat.Service {
	t.Helper()
	claims := conversation.NewClaims(rdb, p, 0, func() time.Time { return testNow })
	reg := &erasure.Registry{}
	reg.Register("sessions", erasure.Sessions(e))
	reg.Register("claims", erasure.Other(claims))
	s, err := chat.New(chat.Options{Engine: e, Eraser: reg, Claims: claims, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wait lets every background task finish.
func (h *harness) wait() {
	h.t.Helper()
	if err := h.bg.Wait(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) post(path, contentType string, body []byte, hdr http.Header) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	// Slack signs each delivery when it sends it, so no two of its requests
	// share a signature (a copy that does is a replay, and refused): each
	// post here is signed at its own second of the window.
	ts := strconv.FormatInt(h.now.Unix()-h.sent.Add(1)%240, 10)
	req.Header.Set(slackapi.HeaderTimestamp, ts)
	req.Header.Set(slackapi.HeaderSignature, slackapi.Sign(testSecret, ts, body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// command sends /itfit as Slack does: a signed form.
func (h *harness) command(user, text string) (int, string) {
	form := url.Values{
		"token": {"gIkuvaNzQIHg97ATvDxqgjtO"}, "team_id": {"T1"}, "team_domain": {"acme"},
		"channel_id": {"C1"}, "channel_name": {"general"}, "user_id": {user}, "user_name": {"ann"},
		"command": {"/itfit"}, "text": {text}, "api_app_id": {"A1"}, "is_enterprise_install": {"false"},
		"response_url": {h.sink.srv.URL + "/commands/T1/" + user + "/x"}, "trigger_id": {"1.2.3"},
	}
	return h.post("/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
}

// click sends a block_actions payload for a button or select on a message
// the bot posted, with the checkbox state Slack would include.
func (h *harness) click(user string, msg apiCall, msgTS string, act map[string]any, checked []string) int {
	h.t.Helper()
	code, _ := h.post("/slack/interactions", "application/x-www-form-urlencoded", []byte(h.clickBody(user, msg, msgTS, act, checked)), nil)
	return code
}

func (h *harness) clickBody(user string, msg apiCall, msgTS string, act map[string]any, checked []string) string {
	channel := msg.Form.Get("channel")
	sel := []map[string]any{}
	for _, c := range checked {
		sel = append(sel, map[string]any{"text": map[string]any{"type": "plain_text", "text": c}, "value": c})
	}
	a := map[string]any{"block_id": "b", "action_ts": "1700000001.000000"}
	for k, v := range act {
		a[k] = v
	}
	payload := map[string]any{
		"type": "block_actions", "api_app_id": "A1", "token": "gIkuvaNzQIHg97ATvDxqgjtO", "trigger_id": "1.2.3",
		"user":       map[string]any{"id": user, "username": "ann", "name": "ann", "team_id": "T1"},
		"team":       map[string]any{"id": "T1", "domain": "acme"},
		"enterprise": nil, "is_enterprise_install": false,
		"container": map[string]any{"type": "message", "message_ts": msgTS, "channel_id": channel, "is_ephemeral": msg.Ephemeral},
		"channel":   map[string]any{"id": channel, "name": "directmessage"},
		"message":   map[string]any{"type": "message", "ts": msgTS, "text": msg.Form.Get("text"), "blocks": json.RawMessage(msg.Form.Get("blocks"))},
		"state": map[string]any{"values": map[string]any{
			blockChoices: map[string]any{actCheck: map[string]any{"type": "checkboxes", "selected_options": sel}},
		}},
		"response_url": h.sink.srv.URL + "/actions/T1/" + user + "/x",
		"actions":      []any{a},
	}
	if msgTS == "" { // a button on the App Home tab: a view, no channel
		payload["container"] = map[string]any{"type": "view", "view_id": "V1"}
		payload["view"] = map[string]any{"id": "V1", "type": "home"}
		delete(payload, "channel")
		delete(payload, "message")
		delete(payload, "response_url")
	}
	b, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

// posted returns the i-th chat.postMessage and the ts the fake gave it.
func (h *harness) posted(i int) (apiCall, string) {
	h.t.Helper()
	ps := h.api.all("chat.postMessage")
	if i < 0 {
		i += len(ps)
	}
	if i < 0 || i >= len(ps) {
		h.t.Fatalf("want chat.postMessage #%d, have %d", i, len(ps))
	}
	// The fake numbers messages in the order it received them.
	return ps[i], fmt.Sprintf("1700000000.%06d", i+1)
}

// element finds a block element by action_id (or its prefix) in a message.
func element(t *testing.T, blocks []map[string]any, prefix string) map[string]any {
	t.Helper()
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if id, _ := m["action_id"].(string); strings.HasPrefix(id, prefix) {
				return m
			}
		}
	}
	return nil
}

func btn(t *testing.T, blocks []map[string]any, prefix string) map[string]any {
	t.Helper()
	e := element(t, blocks, prefix)
	if e == nil {
		t.Fatalf("no element %q in %v", prefix, blocks)
	}
	return map[string]any{"action_id": e["action_id"], "value": e["value"], "type": e["type"]}
}
