package slackapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/slackauth"
	"github.com/itfit/itfit/internal/testkit"
)

// webAPI is a fake Slack Web API: chat.postMessage answers as told, after
// reading the whole request (so when it misbehaves Slack "has acted"), and
// conversations.history serves what was posted, newest first, pageSize at a
// time.
type webAPI struct {
	t        *testing.T
	mu       sync.Mutex
	posted   []map[string]any // every chat.postMessage body read to the end
	answer   string           // how chat.postMessage answers
	history  string           // "" or a Slack error for conversations.history
	pageSize int
	protos   map[int]int
	forms    []string // conversations.history's forms
}

func (f *webAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.protos[r.ProtoMajor]++
	answer, historyErr, pageSize := f.answer, f.history, f.pageSize
	f.mu.Unlock()
	switch r.URL.Path {
	case "/api/chat.postMessage":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			f.t.Errorf("chat.postMessage body is not JSON: %v", err)
		}
		f.mu.Lock()
		f.posted = append(f.posted, m)
		f.mu.Unlock()
		switch answer {
		case "ok":
			fmt.Fprint(w, `{"ok":true,"channel":"D1","ts":"1.000001"}`)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "slow":
			<-r.Context().Done() // longer than the client waits
		case "reset":
			hj, ok := w.(http.Hijacker)
			if !ok { // HTTP/2: abort the stream instead
				panic(http.ErrAbortHandler)
			}
			c, _, _ := hj.Hijack()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		case "429":
			w.Header().Set("Retry-After", "20")
			w.WriteHeader(http.StatusTooManyRequests)
		case "400":
			w.WriteHeader(http.StatusBadRequest)
		case "refused":
			fmt.Fprint(w, `{"ok":false,"error":"invalid_blocks"}`)
		}
	case "/api/conversations.history":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			f.t.Error(err)
		}
		r.Form = form
		f.mu.Lock()
		f.forms = append(f.forms, r.Form.Encode())
		f.mu.Unlock()
		if historyErr != "" {
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, historyErr)
			return
		}
		f.serveHistory(w, r, pageSize)
	default:
		http.NotFound(w, r)
	}
}

// serveHistory answers one page, newest first; the cursor is the index
// of the page's first message.
func (f *webAPI) serveHistory(w http.ResponseWriter, r *http.Request, pageSize int) {
	f.mu.Lock()
	var msgs []map[string]any
	for i := len(f.posted) - 1; i >= 0; i-- {
		m := map[string]any{"type": "message", "ts": fmt.Sprintf("1.%06d", i)}
		if md, ok := f.posted[i]["metadata"]; ok && r.Form.Get("include_all_metadata") == "true" {
			m["metadata"] = md
		}
		msgs = append(msgs, m)
	}
	f.mu.Unlock()
	start := 0
	fmt.Sscan(r.Form.Get("cursor"), &start)
	end := min(start+pageSize, len(msgs))
	resp := map[string]any{"ok": true, "messages": msgs[start:end], "has_more": end < len(msgs)}
	if end < len(msgs) {
		resp["response_metadata"] = map[string]any{"next_cursor": fmt.Sprint(end)}
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// fakeServer starts the fake over HTTP/1.1 or HTTP/2 (TLS) and returns a
// client for it that gives up after timeout.
func fakeServer(t *testing.T, f *webAPI, h2 bool, timeout time.Duration) (*httptest.Server, *http.Client) {
	srv := httptest.NewUnstartedServer(f)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.Timeout = timeout
	return srv, c
}

func newClient(apiURL string, hc *http.Client) *slackapi.Client {
	return slackapi.New(slackapi.Options{Tokens: slackauth.NewStatic("xoxb-test"), APIURL: apiURL, HTTPClient: hc}).ForNudges()
}

var tag = slackapi.Tag{Event: "itfit_nudge", Key: "occurrence", Value: "user/slack/T1/U1@1700000000000"}

// Every way a tagged post can fail is classified by what it says of the
// request, over HTTP/1.1 and HTTP/2: Slack refusing (429, 4xx, ok:false)
// has neither mark; a request that was written and got no clear answer is
// ErrOutcomeUnknown; one that was never written is ErrNotSent. The fake
// counts what reached it, so "unknown" is the case where Slack has acted.
// "H1" is DefaultHTTPClient's transport, outbound.H1, against the fake
// that offers HTTP/2.
func TestPostTaggedClassifiesFailures(t *testing.T) {
	for _, via := range []string{"http1", "http2", "H1"} {
		h2 := via != "http1"
		for _, tc := range []struct {
			answer  string
			want    error // nil: neither mark
			reached bool
			check   func(error) bool
		}{
			{answer: "ok", reached: true},
			{answer: "500", want: slackapi.ErrOutcomeUnknown, reached: true},
			{answer: "slow", want: slackapi.ErrOutcomeUnknown, reached: true},
			{answer: "reset", want: slackapi.ErrOutcomeUnknown, reached: true},
			{answer: "429", reached: true, check: func(err error) bool {
				var rl *slack.RateLimitedError
				return errors.As(err, &rl) && rl.RetryAfter == 20*time.Second
			}},
			{answer: "400", reached: true, check: func(err error) bool {
				var sc slack.StatusCodeError
				return errors.As(err, &sc) && sc.Code == 400
			}},
			{answer: "refused", reached: true, check: func(err error) bool {
				var se slack.SlackErrorResponse
				return errors.As(err, &se) && se.Err == "invalid_blocks"
			}},
			{answer: "closed port", want: slackapi.ErrNotSent},
		} {
			t.Run(via+"/"+tc.answer, func(t *testing.T) {
				f := &webAPI{t: t, answer: tc.answer, pageSize: 100, protos: map[int]int{}}
				srv, hc := fakeServer(t, f, h2, 300*time.Millisecond)
				if via == "H1" {
					hc.Transport = outbound.NewH1(hc.Transport)
				}
				apiURL := srv.URL + "/api/"
				if tc.answer == "closed port" {
					apiURL = "http://" + testkit.ClosedAddr(t) + "/api/"
				}
				_, err := newClient(apiURL, hc).PostTagged(context.Background(), "T1", "D1", slackapi.Message{Text: "nudge"}, tag)
				switch {
				case tc.answer == "ok" && err != nil:
					t.Fatalf("post: %v", err)
				case tc.answer != "ok" && err == nil:
					t.Fatal("post succeeded")
				}
				unknown, notSent := errors.Is(err, slackapi.ErrOutcomeUnknown), errors.Is(err, slackapi.ErrNotSent)
				switch tc.want {
				case slackapi.ErrOutcomeUnknown:
					if !unknown || notSent {
						t.Errorf("err = %v: want outcome unknown only", err)
					}
				case slackapi.ErrNotSent:
					if !notSent || unknown {
						t.Errorf("err = %v: want not sent only", err)
					}
				default:
					if unknown || notSent {
						t.Errorf("err = %v: Slack refused, want neither mark", err)
					}
				}
				if tc.check != nil && !tc.check(err) {
					t.Errorf("err = %v: not the error Slack's answer maps to", err)
				}
				f.mu.Lock()
				defer f.mu.Unlock()
				if reached := len(f.posted) == 1; reached != tc.reached {
					t.Fatalf("request reached Slack: %v, want %v", reached, tc.reached)
				}
				if !tc.reached {
					return
				}
				md, _ := f.posted[0]["metadata"].(map[string]any)
				payload, _ := md["event_payload"].(map[string]any)
				if md["event_type"] != tag.Event || payload[tag.Key] != tag.Value {
					t.Errorf("metadata = %v, want the tag", f.posted[0]["metadata"])
				}
				if want := map[bool]int{false: 1, true: 2}[via == "http2"]; f.protos[want] == 0 || len(f.protos) != 1 {
					t.Errorf("served over %v, want HTTP/%d", f.protos, want)
				}
			})
		}
	}
}

// FindTagged finds a tagged message among others, paging through the
// history newest first from since on, and says when it cannot look.
func TestFindTagged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   int // untagged messages posted before the tagged one
		after    int // and after it
		tagged   bool
		pageSize int
		history  string // Slack error for conversations.history
		found    bool
		err      error
		calls    int
	}{
		{name: "the newest message", tagged: true, pageSize: 100, found: true, calls: 1},
		{name: "behind two pages of 15", before: 3, after: 40, tagged: true, pageSize: 15, found: true, calls: 3},
		{name: "absent", before: 5, after: 5, pageSize: 15, calls: 1},
		{name: "another occurrence only", before: 1, pageSize: 100, calls: 1},
		{name: "without the scope", tagged: true, pageSize: 100, history: "missing_scope", err: slackapi.ErrNotSearchable, calls: 1},
		{name: "too long to read", tagged: true, after: 200, pageSize: 15, err: slackapi.ErrNotSearchable, calls: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &webAPI{t: t, answer: "ok", pageSize: tc.pageSize, protos: map[int]int{}}
			srv, hc := fakeServer(t, f, true, 2*time.Second)
			c := newClient(srv.URL+"/api/", hc)
			ctx := context.Background()
			post := func(n int, tg slackapi.Tag) {
				for range n {
					if _, err := c.PostTagged(ctx, "T1", "D1", slackapi.Message{Text: "x"}, tg); err != nil {
						t.Fatal(err)
					}
				}
			}
			other := slackapi.Tag{Event: tag.Event, Key: tag.Key, Value: "user/slack/T1/U1@1600000000000"}
			post(tc.before, other)
			if tc.tagged {
				post(1, tag)
			}
			post(tc.after, other)
			f.mu.Lock()
			f.history = tc.history
			f.mu.Unlock()

			since := time.UnixMilli(1700000000000).Add(-time.Minute)
			found, err := c.FindTagged(ctx, "T1", "D1", tag, since)
			if found != tc.found || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("FindTagged = %v, %v; want %v, %v", found, err, tc.found, tc.err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.forms) != tc.calls {
				t.Errorf("%d history calls, want %d", len(f.forms), tc.calls)
			}
			for _, want := range []string{"channel=D1", "include_all_metadata=true", "oldest=1699999940.000000", "inclusive=true"} {
				if !strings.Contains(f.forms[0], want) {
					t.Errorf("history form %q lacks %s", f.forms[0], want)
				}
			}
		})
	}
}
