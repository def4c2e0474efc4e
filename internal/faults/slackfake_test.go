package faults_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slackFake is Slack's Web API as the bot uses it, over HTTP/2 (TLS, as
// slack.com) or plain HTTP/1.1. Each bot process is given its own path
// (SLACK_API_URL .../<replica>/api/), so the fake knows who called. A
// chat.postMessage is acted on (recorded, shown in conversations.history,
// handed to the user whose DM it is) when it has been read in full, before
// any misbehaviour a rule asks for: a 500 or a timeout is then an answer
// lost after Slack posted, as in issue 15.
type slackFake struct {
	t      *testing.T
	srv    *httptest.Server
	h2     bool
	caFile string

	mu     sync.Mutex
	users  map[string]*simUser // by DM channel
	posts  map[string][]fakePost
	protos map[int]int
	calls  map[string]int
	held   map[string]int // replica -> nudge posts recorded and not yet answered
	rule   func(c fakeCall) fakeAnswer
	seq    atomic.Int64
}

// fakeCall is what a rule sees of a call.
type fakeCall struct {
	Replica, Method string
	Channel, User   string // the DM or channel, the user opened a DM with
	Nudge           bool   // a chat.postMessage tagged as a scheduled nudge
}

// fakeAnswer is how the fake answers a call; the zero value is at once, ok.
type fakeAnswer struct {
	Refuse     bool          // act on nothing (a 429, a refusal)
	Status     int           // answer this HTTP status instead of ok
	RetryAfter string        // with Status 429
	Delay      time.Duration // answer only this long after acting (or when the caller gives up)
}

// fakePost is a message the fake posted.
type fakePost struct {
	TS, Channel, Text string
	Blocks            []fBlock
	Occurrence        string // the itfit_nudge metadata's occurrence, if any
	At                time.Time
	Replica           string
}

type fBlock struct {
	Type     string     `json:"type"`
	BlockID  string     `json:"block_id"`
	Elements []fElement `json:"elements"`
}

type fElement struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
	Options  []struct {
		Value string `json:"value"`
	} `json:"options"`
}

func newSlackFake(t *testing.T, h2 bool) *slackFake {
	t.Helper()
	f := &slackFake{t: t, h2: h2, users: map[string]*simUser{}, posts: map[string][]fakePost{},
		protos: map[int]int{}, calls: map[string]int{}, held: map[string]int{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if h2 {
		f.srv.EnableHTTP2 = true
		f.srv.StartTLS()
		f.caFile = filepath.Join(t.TempDir(), "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
		if err := os.WriteFile(f.caFile, pemBytes, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

// env is what a bot process needs to use the fake as replica.
func (f *slackFake) env(replica string) []string {
	env := []string{
		"SLACK_API_URL=" + f.srv.URL + "/" + replica + "/api/",
		"SLACK_SIGNING_SECRET=" + signingSecret,
		"SLACK_BOT_TOKEN=xoxb-faults",
	}
	if f.caFile != "" {
		env = append(env, "SSL_CERT_FILE="+f.caFile)
	}
	return env
}

func (f *slackFake) setRule(r func(fakeCall) fakeAnswer) {
	f.mu.Lock()
	f.rule = r
	f.mu.Unlock()
}

func (f *slackFake) addUser(u *simUser) {
	f.mu.Lock()
	f.users[u.dm] = u
	f.mu.Unlock()
}

// chatBody is the part of a chat.postMessage the fake reads.
type chatBody struct {
	Channel  string   `json:"channel"`
	TS       string   `json:"ts"`
	Text     string   `json:"text"`
	Blocks   []fBlock `json:"blocks"`
	Metadata struct {
		EventType string         `json:"event_type"`
		Payload   map[string]any `json:"event_payload"`
	} `json:"metadata"`
}

func (f *slackFake) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[1] != "api" {
		http.NotFound(w, r)
		return
	}
	replica, method := parts[0], parts[2]
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var body chatBody
	var form url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &body); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
	} else if form, err = url.ParseQuery(string(raw)); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	call := fakeCall{Replica: replica, Method: method, Channel: body.Channel, User: form.Get("users")}
	if call.Channel == "" {
		call.Channel = form.Get("channel")
	}
	occurrence := ""
	if body.Metadata.EventType == "itfit_nudge" {
		occurrence, _ = body.Metadata.Payload["occurrence"].(string)
		call.Nudge = occurrence != ""
	}

	f.mu.Lock()
	f.protos[r.ProtoMajor]++
	f.calls[method]++
	rule := f.rule
	f.mu.Unlock()
	var ans fakeAnswer
	if rule != nil {
		ans = rule(call)
	}
	if ans.Refuse {
		wait(r, ans.Delay)
		if ans.RetryAfter != "" {
			w.Header().Set("Retry-After", ans.RetryAfter)
		}
		w.WriteHeader(max(ans.Status, http.StatusTooManyRequests))
		return
	}

	w.Header().Set("Content-Type", "application/json")
	var reply string
	switch method {
	case "conversations.open":
		reply = `{"ok":true,"no_op":true,"already_open":true,"channel":{"id":"D` + call.User + `"}}`
	case "chat.postMessage":
		p := f.post(replica, body, occurrence)
		reply = `{"ok":true,"channel":"` + body.Channel + `","ts":"` + p.TS + `"}`
	case "chat.update":
		reply = `{"ok":true,"channel":"` + body.Channel + `","ts":"` + body.TS + `","text":""}`
	case "chat.postEphemeral":
		reply = `{"ok":true,"message_ts":"1.000001"}`
	case "users.info":
		reply = `{"ok":true,"user":{"id":"` + form.Get("user") + `","tz":"Europe/London"}}`
	case "views.publish":
		reply = `{"ok":true,"view":{"id":"VFAULT"}}`
	case "conversations.history":
		reply = f.history(form)
	default:
		reply = `{"ok":false,"error":"unknown_method"}`
	}
	if ans.Delay > 0 {
		if call.Nudge {
			f.mu.Lock()
			f.held[replica]++
			f.mu.Unlock()
		}
		wait(r, ans.Delay)
		if call.Nudge {
			f.mu.Lock()
			f.held[replica]--
			f.mu.Unlock()
		}
	}
	if ans.Status != 0 {
		w.WriteHeader(ans.Status)
		return
	}
	io.WriteString(w, reply)
}

// wait sleeps d, or until the caller gives up.
func wait(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// post records a message and hands it to the user whose DM it is in.
func (f *slackFake) post(replica string, b chatBody, occurrence string) fakePost {
	now := time.Now()
	n := f.seq.Add(1)
	p := fakePost{TS: fmt.Sprintf("%d.%06d", now.Unix(), n%1_000_000), Channel: b.Channel, Text: b.Text,
		Blocks: b.Blocks, Occurrence: occurrence, At: now, Replica: replica}
	f.mu.Lock()
	f.posts[b.Channel] = append(f.posts[b.Channel], p)
	u := f.users[b.Channel]
	f.mu.Unlock()
	if u != nil {
		u.deliver(p)
	}
	return p
}

// history answers conversations.history: the channel's messages at or
// after oldest, newest first, limit a page, with their metadata when
// include_all_metadata is set; the cursor is an offset.
func (f *slackFake) history(form url.Values) string {
	oldest := parseTS(form.Get("oldest"))
	limit, _ := strconv.Atoi(form.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	start, _ := strconv.Atoi(form.Get("cursor"))
	f.mu.Lock()
	var msgs []map[string]any
	ps := f.posts[form.Get("channel")]
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].At.Before(oldest) {
			continue
		}
		m := map[string]any{"type": "message", "ts": ps[i].TS, "text": ps[i].Text}
		if ps[i].Occurrence != "" && form.Get("include_all_metadata") == "true" {
			m["metadata"] = map[string]any{"event_type": "itfit_nudge", "event_payload": map[string]any{"occurrence": ps[i].Occurrence}}
		}
		msgs = append(msgs, m)
	}
	f.mu.Unlock()
	start = min(start, len(msgs))
	end := min(start+limit, len(msgs))
	resp := map[string]any{"ok": true, "messages": msgs[start:end], "has_more": end < len(msgs)}
	if end < len(msgs) {
		resp["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	b, _ := json.Marshal(resp)
	return string(b)
}

func parseTS(s string) time.Time {
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(n, us*1000)
}

// nudges counts the nudge messages by occurrence: each must be 1.
func (f *slackFake) nudges() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, ps := range f.posts {
		for _, p := range ps {
			if p.Occurrence != "" {
				out[p.Occurrence]++
			}
		}
	}
	return out
}

// postsIn returns the messages posted in a channel, oldest first.
func (f *slackFake) postsIn(channel string) []fakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePost(nil), f.posts[channel]...)
}

func (f *slackFake) heldBy(replica string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[replica]
}

func (f *slackFake) protocols() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]int{}
	for k, v := range f.protos {
		out[k] = v
	}
	return out
}

// checkProto fails the test unless every call came over HTTP/1.1: the
// bot's Web API client (outbound.H1) speaks it whatever the fake offers,
// HTTP/2 included, which is measured to cost less per call.
func (f *slackFake) checkProto(t *testing.T) {
	t.Helper()
	const want = 1
	ps := f.protocols()
	var seen []string
	for k, v := range ps {
		seen = append(seen, fmt.Sprintf("HTTP/%d: %d", k, v))
	}
	sort.Strings(seen)
	if len(ps) != 1 || ps[want] == 0 {
		t.Errorf("the bot called the fake over %v, want HTTP/%d only", seen, want)
	}
}
