package botframework_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/botframework"
)

// A Teams channel conversation ID: ':', '@', ';' and '=' all appear.
const teamsConversationID = "19:abc123@thread.skype;messageid=1700000000000"

type recordedRequest struct {
	method, requestURI, auth string
	body                     map[string]any
}

// fakeConnector plays the Bot Connector service. Each request pops the next
// scripted status; when the script runs out it answers 200 with an id.
type fakeConnector struct {
	srv    *httptest.Server
	mu     sync.Mutex
	script []func(w http.ResponseWriter)
	reqs   []recordedRequest
}

func newFakeConnector(t testing.TB, script ...func(w http.ResponseWriter)) *fakeConnector {
	t.Helper()
	c := &fakeConnector{script: script}
	c.srv = newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		c.mu.Lock()
		c.reqs = append(c.reqs, recordedRequest{r.Method, r.RequestURI, r.Header.Get("Authorization"), body})
		var step func(w http.ResponseWriter)
		if len(c.script) > 0 {
			step, c.script = c.script[0], c.script[1:]
		}
		c.mu.Unlock()
		if step != nil {
			step(w)
			return
		}
		if r.URL.Path == "/amer/v3/conversations" {
			writeJSON(w, map[string]any{"id": "a:new-conversation", "activityId": "1", "serviceUrl": "https://x/"})
			return
		}
		writeJSON(w, map[string]any{"id": "activity-42"})
	}))
	return c
}

func (c *fakeConnector) serviceURL() string { return c.srv.URL + "/amer/" }

func (c *fakeConnector) requests() []recordedRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]recordedRequest(nil), c.reqs...)
}

func connectorError(code int, errCode string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":{"code":"` + errCode + `","message":"details"}}`))
	}
}

// staticTokens hands out a fixed token.
type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }

type connectorFixture struct {
	fc    *fakeConnector
	sleep *recordingSleep
	c     *botframework.Connector
}

func newConnectorFixture(t testing.TB, tokens botframework.TokenProvider, script ...func(w http.ResponseWriter)) *connectorFixture {
	t.Helper()
	f := &connectorFixture{fc: newFakeConnector(t, script...), sleep: &recordingSleep{}}
	if tokens == nil {
		tokens = staticTokens("bot-token")
	}
	c, err := botframework.NewConnector(botframework.ConnectorConfig{
		Tokens:     tokens,
		HTTPClient: f.fc.srv.Client(),
		Sleep:      f.sleep.Sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

func TestConnectorSendToConversation(t *testing.T) {
	f := newConnectorFixture(t, nil)
	act := schema.Activity{
		Type: schema.Message,
		Text: "hello",
		Attachments: []schema.Attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     map[string]any{"type": "AdaptiveCard", "actions": []any{map[string]any{"type": "Action.Submit", "data": map[string]any{}}}},
		}},
	}
	res, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), teamsConversationID, act)
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "activity-42" {
		t.Errorf("ID = %q", res.ID)
	}
	reqs := f.fc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if want := "/amer/v3/conversations/19%3Aabc123%40thread.skype%3Bmessageid%3D1700000000000/activities"; r.method != http.MethodPost || r.requestURI != want {
		t.Errorf("%s %s, want POST %s", r.method, r.requestURI, want)
	}
	if r.auth != "Bearer bot-token" {
		t.Errorf("Authorization = %q", r.auth)
	}
	// schema.Activity would send zero timestamps and empty objects; we do not.
	for _, k := range []string{"timestamp", "localTimestamp", "expiration", "from", "recipient", "conversation", "suggestedActions", "relatesTo", "semanticAction"} {
		if _, ok := r.body[k]; ok {
			t.Errorf("body has zero-valued %q: %v", k, r.body[k])
		}
	}
	if r.body["type"] != "message" || r.body["text"] != "hello" {
		t.Errorf("body = %v", r.body)
	}
	// An empty object inside a card is content, not noise: it stays.
	card := r.body["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
	if _, ok := card["actions"].([]any)[0].(map[string]any)["data"]; !ok {
		t.Errorf("card content altered: %v", card)
	}
}

func TestConnectorReplyAndUpdate(t *testing.T) {
	f := newConnectorFixture(t, nil)
	ctx := context.Background()
	act := schema.Activity{Type: schema.Message, Text: "x", From: schema.ChannelAccount{ID: "28:bot"}}
	if _, err := f.c.ReplyToActivity(ctx, f.fc.serviceURL(), teamsConversationID, "1700000000000", act); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.UpdateActivity(ctx, f.fc.serviceURL(), teamsConversationID, "1700000000001", act); err != nil {
		t.Fatal(err)
	}
	reqs := f.fc.requests()
	const base = "/amer/v3/conversations/19%3Aabc123%40thread.skype%3Bmessageid%3D1700000000000/activities/"
	if r := reqs[0]; r.method != http.MethodPost || r.requestURI != base+"1700000000000" || r.body["replyToId"] != "1700000000000" {
		t.Errorf("reply: %s %s replyToId=%v", r.method, r.requestURI, r.body["replyToId"])
	}
	if r := reqs[1]; r.method != http.MethodPut || r.requestURI != base+"1700000000001" || r.body["id"] != "1700000000001" {
		t.Errorf("update: %s %s id=%v", r.method, r.requestURI, r.body["id"])
	}
	if from, ok := reqs[0].body["from"].(map[string]any); !ok || from["id"] != "28:bot" {
		t.Errorf("non-zero from dropped: %v", reqs[0].body["from"])
	}
}

func TestConnectorCreateConversation(t *testing.T) {
	f := newConnectorFixture(t, nil)
	res, err := f.c.CreateConversation(context.Background(), f.fc.serviceURL(), schema.ConversationParameters{
		Bot:      schema.ChannelAccount{ID: "28:bot"},
		Members:  []schema.ChannelAccount{{ID: "29:user"}},
		TenantID: "tenant-1",
	})
	if err != nil || res.ID != "a:new-conversation" {
		t.Fatalf("CreateConversation = %+v, %v", res, err)
	}
	r := f.fc.requests()[0]
	if r.method != http.MethodPost || r.requestURI != "/amer/v3/conversations" {
		t.Errorf("%s %s", r.method, r.requestURI)
	}
	if _, ok := r.body["activity"]; ok {
		t.Errorf("empty activity sent: %v", r.body)
	}
	if r.body["tenantId"] != "tenant-1" || r.body["bot"].(map[string]any)["id"] != "28:bot" {
		t.Errorf("body = %v", r.body)
	}
}

func TestConnectorRetries503ThenSucceeds(t *testing.T) {
	f := newConnectorFixture(t, nil, connectorError(http.StatusServiceUnavailable, "ServiceError"))
	res, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Type: schema.Message, Text: "hi"})
	if err != nil || res.ID != "activity-42" {
		t.Fatalf("= %+v, %v", res, err)
	}
	if n := len(f.fc.requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	if waits := f.sleep.Waits(); len(waits) != 1 || waits[0] <= 0 {
		t.Fatalf("waits = %v", waits)
	}
}

func TestConnectorHonoursRetryAfter(t *testing.T) {
	f := newConnectorFixture(t, nil, connectorError(http.StatusTooManyRequests, "Throttled", "Retry-After", "3"))
	if _, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if waits := f.sleep.Waits(); len(waits) != 1 || waits[0] != 3*time.Second {
		t.Fatalf("waits = %v, want [3s]", waits)
	}
}

func TestConnectorGivesUpAfterBoundedRetries(t *testing.T) {
	down := connectorError(http.StatusBadGateway, "")
	f := newConnectorFixture(t, nil, down, down, down, down, down, down)
	_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
	if !errors.Is(err, botframework.ErrTransient) || errors.Is(err, botframework.ErrForbidden) {
		t.Fatalf("err = %v, want ErrTransient", err)
	}
	if n := len(f.fc.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestConnectorTypedErrors(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{http.StatusForbidden, botframework.ErrForbidden},
		{http.StatusNotFound, botframework.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newConnectorFixture(t, nil, connectorError(tc.status, "BotNotInConversationRoster"))
			_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(err, botframework.ErrTransient) {
				t.Errorf("%d reported as transient", tc.status)
			}
			var apiErr *botframework.APIError
			if !errors.As(err, &apiErr) || apiErr.Code != "BotNotInConversationRoster" {
				t.Errorf("APIError = %#v", apiErr)
			}
			if n := len(f.fc.requests()); n != 1 {
				t.Errorf("%d requests: a %d must not be retried", n, tc.status)
			}
		})
	}
}

func TestConnector401RefreshesTokenOnce(t *testing.T) {
	tf := newTokenFixture(t)
	f := newConnectorFixture(t, tf.ts, connectorError(http.StatusUnauthorized, ""), connectorError(http.StatusUnauthorized, ""))
	_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
	if !errors.Is(err, botframework.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	reqs := f.fc.requests()
	if len(reqs) != 2 || reqs[0].auth != "Bearer token-1" || reqs[1].auth != "Bearer token-2" {
		t.Fatalf("requests = %+v, want one retry with a fresh token", reqs)
	}
}

func TestConnectorTokenFailureSendsNothing(t *testing.T) {
	tf := newTokenFixture(t, status(http.StatusBadRequest))
	f := newConnectorFixture(t, tf.ts)
	_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
	if !errors.Is(err, botframework.ErrTokenFetch) {
		t.Fatalf("err = %v, want ErrTokenFetch", err)
	}
	if n := len(f.fc.requests()); n != 0 {
		t.Fatalf("%d requests sent without a token", n)
	}
}

func TestConnectorDoesNotMultiplyTokenRetries(t *testing.T) {
	down := status(http.StatusServiceUnavailable)
	tf := newTokenFixture(t, down, down, down, down, down, down, down, down)
	f := newConnectorFixture(t, tf.ts)
	_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
	if !errors.Is(err, botframework.ErrTokenFetch) {
		t.Fatalf("err = %v, want ErrTokenFetch", err)
	}
	if got := tf.ep.hits.Load(); got != 4 {
		t.Fatalf("token endpoint hit %d times, want 4 (the token source's own budget)", got)
	}
}

func TestConnectorRejectsUnsafeServiceURL(t *testing.T) {
	f := newConnectorFixture(t, nil)
	// A good serviceUrl first, so that the one the connector keeps is not
	// what lets the bad ones through.
	if _, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://smba.trafficmanager.net/amer/", "smba.trafficmanager.net", "", "https://user:pw@host/", "https://host/?x=1", "javascript:alert(1)"} {
		_, err := f.c.SendToConversation(context.Background(), u, "a:1", schema.Activity{Text: "hi"})
		if !errors.Is(err, botframework.ErrInvalidServiceURL) {
			t.Errorf("%q: err = %v", u, err)
		}
	}
	if _, err := f.c.ReplyToActivity(context.Background(), f.fc.serviceURL(), "a:1", "", schema.Activity{}); !errors.Is(err, botframework.ErrInvalidArgument) {
		t.Errorf("empty activity ID: %v", err)
	}
	if n := len(f.fc.requests()); n != 1 {
		t.Fatalf("%d requests sent, want the first only", n)
	}
}

// TestConnectorAlternatingServiceURLs: calls to two services in turn (a bot
// in two regions) each go to their own.
func TestConnectorAlternatingServiceURLs(t *testing.T) {
	f := newConnectorFixture(t, nil)
	amer, emea := f.fc.srv.URL+"/amer/", f.fc.srv.URL+"/emea"
	for _, u := range []string{amer, emea, emea, amer, emea} {
		if _, err := f.c.SendToConversation(context.Background(), u, "a:1", schema.Activity{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range f.fc.requests() {
		got = append(got, r.requestURI)
	}
	const tail = "/v3/conversations/a%3A1/activities"
	want := []string{"/amer" + tail, "/emea" + tail, "/emea" + tail, "/amer" + tail, "/emea" + tail}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("requests %q, want %q", got, want)
	}
}

func TestConnectorStopsRetryingWhenContextEnds(t *testing.T) {
	f := newConnectorFixture(t, nil, connectorError(http.StatusServiceUnavailable, ""), connectorError(http.StatusServiceUnavailable, ""))
	ctx, cancel := context.WithCancel(context.Background())
	f.sleep = nil
	c, _ := botframework.NewConnector(botframework.ConnectorConfig{
		Tokens:     staticTokens("t"),
		HTTPClient: f.fc.srv.Client(),
		Sleep: func(context.Context, time.Duration) error {
			cancel()
			return context.Canceled
		},
	})
	_, err := c.SendToConversation(ctx, f.fc.serviceURL(), "a:1", schema.Activity{Text: "hi"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := len(f.fc.requests()); n != 1 {
		t.Fatalf("%d requests after cancel, want 1", n)
	}
}

func TestNewConnectorNeedsTokens(t *testing.T) {
	if _, err := botframework.NewConnector(botframework.ConnectorConfig{}); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("err = %v", err)
	}
}

// A redirect from the connector is its answer, not a hop: the bearer token
// is not taken to another URL, and the send fails as a refusal.
func TestConnectorDoesNotFollowRedirects(t *testing.T) {
	var elsewhere sync.Map
	other := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Store(r.URL.Path, r.Header.Get("Authorization"))
		writeJSON(w, map[string]any{"id": "activity-elsewhere"})
	}))
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		f := newConnectorFixture(t, nil, func(w http.ResponseWriter) {
			w.Header().Set("Location", other.URL+"/stolen")
			w.WriteHeader(code)
		})
		_, err := f.c.SendToConversation(context.Background(), f.fc.serviceURL(), "a:1", schema.Activity{Type: schema.Message, Text: "hi"})
		var apiErr *botframework.APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != code {
			t.Errorf("%d: error %v, want an APIError with the status", code, err)
		}
		if n := len(f.fc.requests()); n != 1 {
			t.Errorf("%d: %d requests to the connector, want 1", code, n)
		}
	}
	elsewhere.Range(func(k, v any) bool {
		t.Errorf("the redirect was followed: %v with %q", k, v)
		return true
	})
}
