package slackapp

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/slackapi"
)

// Every refused request is refused before any work and says nothing about
// the signature it expected.
func TestEndpointsRefuseUnverifiedRequests(t *testing.T) {
	h := newHarness(t)
	body := []byte("team_id=T1&user_id=U1&text=&response_url=x")
	good := slackapi.Sign(testSecret, strconv.FormatInt(h.now.Unix(), 10), body)
	ts := strconv.FormatInt(h.now.Unix(), 10)
	for _, tc := range []struct {
		name     string
		sig, ts  string
		body     []byte
		wantCode int
	}{
		{"tampered", good, ts, []byte("team_id=T1&user_id=U2&text=&response_url=x"), http.StatusUnauthorized},
		{"stale", slackapi.Sign(testSecret, strconv.FormatInt(h.now.Unix()-301, 10), body), strconv.FormatInt(h.now.Unix()-301, 10), body, http.StatusUnauthorized},
		{"future", slackapi.Sign(testSecret, strconv.FormatInt(h.now.Unix()+301, 10), body), strconv.FormatInt(h.now.Unix()+301, 10), body, http.StatusUnauthorized},
		{"missing signature", "", ts, body, http.StatusUnauthorized},
		{"missing timestamp", good, "", body, http.StatusUnauthorized},
		{"wrong version", "v1=" + good[3:], ts, body, http.StatusUnauthorized},
		{"wrong secret", slackapi.Sign("other", ts, body), ts, body, http.StatusUnauthorized},
	} {
		for _, path := range []string{"/slack/commands", "/slack/interactions", "/slack/events"} {
			t.Run(tc.name+path, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(string(tc.body)))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tc.sig != "" {
					req.Header.Set(slackapi.HeaderSignature, tc.sig)
				}
				if tc.ts != "" {
					req.Header.Set(slackapi.HeaderTimestamp, tc.ts)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var b strings.Builder
				_, _ = io.Copy(&b, resp.Body)
				if resp.StatusCode != tc.wantCode {
					t.Fatalf("status = %d, want %d", resp.StatusCode, tc.wantCode)
				}
				correct := slackapi.Sign(testSecret, tc.ts, tc.body)
				if strings.Contains(b.String(), correct[3:]) || strings.Contains(b.String(), "v0=") {
					t.Fatalf("the refusal echoes a signature: %q", b.String())
				}
			})
		}
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d Web API calls after refused requests", n)
	}
}

func TestOversizedAndMalformedBodies(t *testing.T) {
	h := newHarness(t)
	big := []byte("text=" + strings.Repeat("a", DefaultMaxBody))
	if code, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized = %d, want 413", code)
	}
	for _, tc := range []struct{ path, ctype, body string }{
		{"/slack/commands", "application/x-www-form-urlencoded", "team_id=%zz"},
		{"/slack/commands", "application/x-www-form-urlencoded", "text=hi"},
		{"/slack/interactions", "application/x-www-form-urlencoded", "payload=%7Bnot+json"},
		{"/slack/interactions", "application/x-www-form-urlencoded", "nopayload=1"},
		{"/slack/interactions", "application/x-www-form-urlencoded", `payload={"type":"block_actions","user":{"id":"U1"},"team":{"id":"T1"},"actions":[]}`},
		{"/slack/events", "application/json", `{"type":"event_callback",`},
		{"/slack/events", "application/json", `{"type":"event_callback","team_id":"T1","event":{"type":"app_home_opened"}}`},
		{"/slack/events", "application/json", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`},
	} {
		if code, body := h.post(tc.path, tc.ctype, []byte(tc.body), nil); code != http.StatusBadRequest {
			t.Errorf("%s %q = %d %s, want 400", tc.path, tc.body, code, body)
		}
	}
	h.wait()
	if n := h.api.count(); n != 0 {
		t.Fatalf("%d Web API calls after bad requests", n)
	}
}
