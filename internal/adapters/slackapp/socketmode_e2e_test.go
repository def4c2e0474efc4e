package slackapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackapi"
)

const testAppToken = "xapp-1-A1-1-socketmode"

// socketGuard bounds every wait on the fake Slack. It is not a timing
// assertion: a healthy run never comes near it, it only turns a hang into a
// failure that says what was being waited for.
const socketGuard = 30 * time.Second

// socketSlack is a local Slack for Socket Mode on one loopback server:
// apps.connections.open (which hands out ws://…/link), the WebSocket at
// /link, and every other Web API method served by the fakeSlack of
// harness_test.go.
type socketSlack struct {
	t     *testing.T
	srv   *httptest.Server
	api   *fakeSlack
	conns chan *socketConn

	mu     sync.Mutex
	opens  int
	dialed []string            // the raw query of each WebSocket dial
	tokens map[string][]string // Web API method -> the tokens it was called with
}

func newSocketSlack(t *testing.T) *socketSlack {
	s := &socketSlack{t: t, api: newFakeSlack(t), conns: make(chan *socketConn, 4), tokens: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", s.open)
	mux.HandleFunc("GET /link", s.link)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		// The token is a Bearer header (chat.*, JSON) or a form field
		// (slack-go's form posts): record whichever came.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			form, _ := url.ParseQuery(string(body))
			token = form.Get("token")
		}
		s.mu.Lock()
		m := strings.TrimPrefix(r.URL.Path, "/api/")
		s.tokens[m] = append(s.tokens[m], token)
		s.mu.Unlock()
		s.api.serve(w, r)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *socketSlack) open(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.opens++
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.tokens["apps.connections.open"] = append(s.tokens["apps.connections.open"], token)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if token != testAppToken {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	fmt.Fprintf(w, `{"ok":true,"url":%q}`, "ws://"+s.srv.Listener.Addr().String()+"/link")
}

// socketUpgrader accepts what slack-go dials with: the Origin it sends is
// Slack's own, not the fake's host, which gorilla refuses by default.
var socketUpgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
	return r.Header.Get("Origin") == "https://api.slack.com"
}}

func (s *socketSlack) link(w http.ResponseWriter, r *http.Request) {
	ws, err := socketUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered already
	}
	s.mu.Lock()
	s.dialed = append(s.dialed, r.URL.RawQuery)
	s.mu.Unlock()
	c := &socketConn{t: s.t, ws: ws, acks: make(chan socketAck, 256), done: make(chan struct{})}
	s.t.Cleanup(func() { _ = ws.Close() })
	go c.read()
	s.conns <- c
}

// next is the next WebSocket the client opened.
func (s *socketSlack) next() *socketConn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(socketGuard):
		s.t.Fatal("the client never opened the Socket Mode WebSocket")
		return nil
	}
}

func (s *socketSlack) counts() (opens int, dialed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens, append([]string(nil), s.dialed...)
}

func (s *socketSlack) tokensFor(method string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens[method]...)
}

// socketConn is Slack's end of one Socket Mode WebSocket.
type socketConn struct {
	t     *testing.T
	ws    *websocket.Conn
	wmu   sync.Mutex // one writer at a time (gorilla's rule)
	acks  chan socketAck
	done  chan struct{} // closed when reading fails: the client hung up
	pongs atomic.Int64  // answers to our pings
}

// socketAck is what the client writes back: {"envelope_id": …, "payload": …}.
type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	raw        string
}

func (c *socketConn) read() {
	defer close(c.done)
	c.ws.SetPongHandler(func(string) error {
		c.pongs.Add(1)
		return nil
	})
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		a := socketAck{raw: string(b)}
		if err := json.Unmarshal(b, &a); err != nil {
			a.EnvelopeID = "<malformed>"
		}
		c.acks <- a
	}
}

// send writes one Socket Mode message. Each is preceded by a WebSocket
// ping, as Slack pings its clients: slack-go reconnects when it has had no
// ping for 30 seconds.
func (c *socketConn) send(msg map[string]any) {
	c.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("itfit"), time.Now().Add(socketGuard)); err != nil {
		c.t.Fatalf("ping: %v", err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("send %s: %v", msg["type"], err)
	}
}

func (c *socketConn) hello() {
	c.send(map[string]any{
		"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "applink-test", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": "A1"},
	})
}

// envelope sends a request Slack expects acknowledged; retry > 0 marks a
// redelivery, as Slack does.
func (c *socketConn) envelope(typ, id string, payload any, retry int) {
	c.t.Helper()
	m := map[string]any{
		"envelope_id": id, "type": typ, "payload": payload,
		"accepts_response_payload": typ == "slash_commands",
	}
	if typ == "events_api" || retry > 0 {
		m["retry_attempt"] = retry
		m["retry_reason"] = ""
		if retry > 0 {
			m["retry_reason"] = "timeout"
		}
	}
	c.send(m)
}

// ack waits for the next acknowledgement and checks it is for id: the
// client handles envelopes one at a time, in order, so the acks come back
// in the order the envelopes went out.
func (c *socketConn) ack(id string) socketAck {
	c.t.Helper()
	select {
	case a := <-c.acks:
		if a.EnvelopeID != id {
			c.t.Fatalf("ack %s, want envelope_id %q", a.raw, id)
		}
		return a
	case <-c.done:
		c.t.Fatalf("the socket closed before envelope %q was acknowledged", id)
	case <-time.After(socketGuard):
		c.t.Fatalf("envelope %q never acknowledged", id)
	}
	return socketAck{}
}

// closed waits for the client to drop this connection.
func (c *socketConn) closed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(socketGuard):
		c.t.Fatal("the client kept the WebSocket open")
	}
}

// socketRun is an App in Socket Mode against socketSlack, with the
// harness's helpers (posted, clickBody, wait) over the same fakes.
type socketRun struct {
	*harness
	slack  *socketSlack
	conn   *socketConn
	cancel context.CancelFunc
	done   chan error
	syncs  int
}

func newSocketRun(t *testing.T, opts ...any) *socketRun {
	t.Helper()
	s := newSocketSlack(t)
	h := newHarness(t, append([]any{socketMode{s}, func(o *Options) {
		o.Sleep = func(context.Context, time.Duration) error { return nil }
	}}, opts...)...)
	r := &socketRun{harness: h, slack: s, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- h.app.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(socketGuard):
			t.Error("RunSocketMode did not return after its context was cancelled")
		}
		h.wait()
	})
	return r
}

// deliver sends an envelope and waits for its ack.
func (r *socketRun) deliver(typ, id string, payload any, retry int) socketAck {
	r.t.Helper()
	r.conn.envelope(typ, id, payload, retry)
	return r.conn.ack(id)
}

// settle makes sure the work of every envelope delivered so far has run.
// Interactions and events are acknowledged before their work is scheduled,
// so an ack alone does not say the work exists yet; the client handles one
// envelope at a time, so once a later envelope (a checkbox tick, which does
// nothing) is acknowledged, everything before it has been scheduled, and
// waiting for the background group then waits for all of it.
func (r *socketRun) settle() {
	r.t.Helper()
	r.syncs++
	tick := map[string]any{
		"type": "block_actions", "api_app_id": "A1",
		"user":    map[string]any{"id": "U1", "team_id": "T1"},
		"team":    map[string]any{"id": "T1"},
		"actions": []any{map[string]any{"action_id": actCheck, "block_id": blockChoices, "type": "checkboxes"}},
	}
	r.deliver("interactive", fmt.Sprintf("sync-%d", r.syncs), tick, 0)
	r.wait()
}

// clickPayload is the block_actions payload (JSON, as Socket Mode carries
// it) for answering the question in message i as answerCurrent would.
func (r *socketRun) clickPayload(i int) json.RawMessage {
	r.t.Helper()
	msg, ts := r.posted(i)
	blocks := msg.blocks(r.t)
	var form string
	if el := element(r.t, blocks, actCheck); el != nil {
		first := el["options"].([]any)[0].(map[string]any)["value"].(string)
		form = r.clickBody("U1", msg, ts, btn(r.t, blocks, actContinue), []string{first})
	} else {
		form = r.clickBody("U1", msg, ts, btn(r.t, blocks, actAnswer), nil)
	}
	v, err := url.ParseQuery(form)
	if err != nil {
		r.t.Fatal(err)
	}
	return json.RawMessage(v.Get("payload"))
}

func slashPayload(responseURL string) map[string]any {
	return map[string]any{
		"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T1", "team_domain": "acme",
		"channel_id": "C1", "channel_name": "general", "user_id": "U1", "user_name": "ann",
		"command": "/itfit", "text": "", "api_app_id": "A1", "is_enterprise_install": "false",
		"response_url": responseURL, "trigger_id": "1.2.3",
	}
}

func TestSocketModeEndToEnd(t *testing.T) {
	r := newSocketRun(t)

	// The client opens the connection with the app-level token and dials
	// the URL it was given, as given (debug_reconnects is slack-go's debug
	// mode only).
	r.conn = r.slack.next()
	if opens, dialed := r.slack.counts(); opens != 1 || len(dialed) != 1 || dialed[0] != "" {
		t.Fatalf("apps.connections.open %d times, dialed %q", opens, dialed)
	}
	if got := r.slack.tokensFor("apps.connections.open"); len(got) != 1 || got[0] != testAppToken {
		t.Fatalf("apps.connections.open token = %q", got)
	}
	r.conn.hello() // nothing to acknowledge: a wrong ack would fail the next ack check

	// /itfit: acknowledged with the ephemeral reply as the ack's payload,
	// then the first question in the DM.
	cmd := slashPayload(r.sink.srv.URL + "/commands/T1/1/x")
	a := r.deliver("slash_commands", "cmd-1", cmd, 0)
	var eph slackapi.CommandReply
	if err := json.Unmarshal(a.Payload, &eph); err != nil || eph.ResponseType != "ephemeral" || !strings.Contains(eph.Text, "direct messages") {
		t.Fatalf("/itfit ack = %s", a.raw)
	}
	r.wait() // a slash command's work is scheduled before its ack
	// The client answered the ping sent ahead of the envelope before it
	// read the envelope, so the pong came in before the ack.
	if r.conn.pongs.Load() == 0 {
		t.Fatal("the client did not answer Slack's ping")
	}
	// A redelivery of the same envelope is acknowledged again and does nothing.
	if again := r.deliver("slash_commands", "cmd-1", cmd, 1); string(again.Payload) != string(a.Payload) {
		t.Fatalf("redelivered /itfit ack = %s, first %s", again.raw, a.raw)
	}
	r.settle()
	opens := r.api.all("conversations.open")
	if len(opens) != 1 || opens[0].Form.Get("users") != "U1" {
		t.Fatalf("conversations.open = %+v", opens)
	}
	if n := len(r.api.all("chat.postMessage")); n != 1 {
		t.Fatalf("%d messages after /itfit and its redelivery, want the first question", n)
	}
	first, _ := r.posted(0)
	if first.Form.Get("channel") != "DU1" || !strings.HasPrefix(first.Form.Get("text"), "Question 1 of") {
		t.Fatalf("first message = %v", first.Form)
	}

	// Every question, clicked over the socket, up to the recommendation card.
	asked := 0
	for i := 0; ; i++ {
		msg, _ := r.posted(i)
		if header(msg.blocks(t)) != "" {
			break
		}
		if i > 40 {
			t.Fatal("no card after 40 messages")
		}
		click := r.clickPayload(i)
		if a := r.deliver("interactive", fmt.Sprintf("act-%d", i), click, 0); len(a.Payload) != 0 && string(a.Payload) != "null" {
			t.Fatalf("click ack carries a payload: %s", a.raw)
		}
		r.settle()
		asked++
		if n := len(r.api.all("chat.postMessage")); n != i+2 {
			t.Fatalf("after click %d: %d messages, want %d", i, n, i+2)
		}
		switch i {
		case 0:
			// The same click redelivered (same envelope_id, retry_attempt 1)
			// has no effect at all: not even the "earlier point" note a
			// second click over HTTP gets, since the envelope was claimed.
			posts, ups := len(r.api.all("chat.postMessage")), len(r.api.all("chat.update"))
			r.deliver("interactive", "act-0", click, 1)
			r.settle()
			if len(r.api.all("chat.postMessage")) != posts || len(r.api.all("chat.update")) != ups {
				t.Fatal("a redelivered click changed the conversation")
			}
			if notes := r.sink.texts(); len(notes) != 0 {
				t.Fatalf("a redelivered click was answered: %q", notes)
			}
		case 1:
			// Slack asks for a reconnection (it does every few hours): the
			// client opens a new connection, and the audit carries on there.
			old := r.conn
			old.send(map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "applink-test"}})
			old.closed()
			r.conn = r.slack.next()
			if opens, _ := r.slack.counts(); opens != 2 {
				t.Fatalf("apps.connections.open %d times after a disconnect, want 2", opens)
			}
			r.conn.hello()
		}
	}
	card, _ := r.posted(-1)
	if got := header(card.blocks(t)); !strings.HasPrefix(got, "Recommendation: ") {
		t.Fatalf("card header = %q", got)
	}
	if card.Form.Get("channel") != "DU1" {
		t.Fatalf("card posted in %q", card.Form.Get("channel"))
	}
	if ups := r.api.all("chat.update"); len(ups) != asked {
		t.Fatalf("%d questions answered, %d messages updated", asked, len(ups))
	}
	if res, err := r.engine.Status(t.Context(), dmKey("U1")); err != nil || res.Result == nil {
		t.Fatalf("session after the card: %+v, %v", res, err)
	}

	// An Events API event, redelivered with the same envelope and then with
	// another envelope (as after a reconnection), is handled once.
	ev := json.RawMessage(`{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev1","event_time":1,` +
		`"event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home","event_ts":"1.2"}}`)
	r.deliver("events_api", "ev-1", ev, 0)
	r.deliver("events_api", "ev-1", ev, 1)
	r.deliver("events_api", "ev-1b", ev, 2)
	// tokens_revoked for users' tokens only (itfit holds none): acknowledged,
	// nothing done. slack-go must parse every subscribed event type, or
	// the envelope is neither acknowledged nor handled.
	r.deliver("events_api", "ev-2", json.RawMessage(`{"token":"x","team_id":"T1","api_app_id":"A1","type":"event_callback","event_id":"Ev2","event_time":2,`+
		`"event":{"type":"tokens_revoked","tokens":{"oauth":["U1"]},"event_ts":"2.3"}}`), 0)
	r.settle()
	pubs := r.api.all("views.publish")
	if len(pubs) != 1 {
		t.Fatalf("%d views published for one event", len(pubs))
	}
	if pubs[0].JSON["user_id"] != "U1" || !strings.Contains(fmt.Sprint(pubs[0].JSON["view"]), "Your last result") {
		t.Fatalf("home = %v", pubs[0].JSON)
	}

	// The Web API was called with the bot token, never the app-level token.
	for _, m := range []string{"conversations.open", "chat.postMessage", "chat.update", "views.publish"} {
		got := r.slack.tokensFor(m)
		if len(got) == 0 {
			t.Fatalf("%s never called", m)
		}
		for _, tok := range got {
			if tok != "xoxb-test" {
				t.Fatalf("%s called with token %q", m, tok)
			}
		}
	}

	// Cancelling stops RunSocketMode cleanly and closes the WebSocket.
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("RunSocketMode after cancel: %v", err)
		}
		r.done <- err // for the cleanup
	case <-time.After(socketGuard):
		t.Fatal("RunSocketMode did not return after its context was cancelled")
	}
	r.conn.closed()
	select {
	case a := <-r.conn.acks:
		t.Fatalf("unexpected ack %s", a.raw)
	default:
	}
}

func TestSocketModeRefusedAppToken(t *testing.T) {
	rb := redistest.Real(t)
	s := newSocketSlack(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bg := background.New(log, 4, 30*time.Second)
	eng := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	app, err := New(Config{AppToken: "xapp-1-wrong", BotToken: "xoxb-test", APIURL: s.srv.URL + "/api"},
		Options{Flows: newFlows(t, eng, rb.Client, rb.Prefix), Redis: rb.Client, Prefix: rb.Prefix, Background: bg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.RunSocketMode(t.Context()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
			t.Fatalf("RunSocketMode with a refused token = %v", err)
		}
	case <-time.After(socketGuard):
		t.Fatal("RunSocketMode kept going with a refused app-level token")
	}
	if opens, dialed := s.counts(); opens != 1 || len(dialed) != 0 {
		t.Fatalf("apps.connections.open %d times, %d dials", opens, len(dialed))
	}
}

// TestSocketModeEnvelopeSlackGoCannotType: an envelope whose payload
// slack-go cannot type (an event of a kind it does not know) is still
// acknowledged, so Slack does not redeliver it forever, and the session
// is untouched.
func TestSocketModeEnvelopeSlackGoCannotType(t *testing.T) {
	r := newSocketRun(t)
	r.conn = r.slack.next()
	r.conn.hello()
	odd := map[string]any{
		"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev-odd",
		"event": map[string]any{"type": "a_kind_no_library_knows", "user": map[string]any{"nested": []any{1, "x"}}},
	}
	a := r.deliver("events_api", "odd-1", odd, 0)
	if a.EnvelopeID != "odd-1" {
		t.Fatalf("ack = %s", a.raw)
	}
	r.settle()
	st, err := r.engine.Status(context.Background(), conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}, Conversation: "DU1"})
	if err != nil || st.Event != conversation.NoSession {
		t.Fatalf("an unknown event started something: %+v %v", st, err)
	}
}
