package slackapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/itfit/itfit/internal/slackapi"
)

// redirecting is a Web API that redirects every call to another server
// answering body, and the counts of calls each was asked.
func redirecting(t *testing.T, code int, body string) (apiURL string, asked, followed *atomic.Int32) {
	t.Helper()
	asked, followed = new(atomic.Int32), new(atomic.Int32)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(other.Close)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, other.URL+r.URL.Path, code)
	}))
	t.Cleanup(api.Close)
	return api.URL + "/api/", asked, followed
}

// A redirect from the Web API is its answer, not a hop: the bot token is
// not taken to another URL, and the call fails.
func TestWebAPIDoesNotFollowRedirects(t *testing.T) {
	apiURL, asked, followed := redirecting(t, http.StatusTemporaryRedirect, `{"ok":true,"channel":"D1","ts":"1.2"}`)
	c := newClient(apiURL, http.DefaultClient)
	if ts, err := c.PostEncoded(context.Background(), "T1", "D1", slackapi.Message{Text: "hi"}, []byte(`[]`)); err == nil {
		t.Errorf("posted (ts %q) through a redirect", ts)
	}
	if asked.Load() != 1 || followed.Load() != 0 {
		t.Errorf("asked the API %d times, the redirect target %d times; want 1 and 0", asked.Load(), followed.Load())
	}
}

// The calls slack-go makes (users.info here) go through DefaultHTTPClient,
// which hands a redirect back as the answer too.
func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	apiURL, asked, followed := redirecting(t, http.StatusFound, `{"ok":true,"user":{"id":"U1","locale":"fr-CA"}}`)
	c := newClient(apiURL, slackapi.DefaultHTTPClient())
	if loc, err := c.UserLocale(context.Background(), "T1", "U1"); err == nil {
		t.Errorf("read the locale (%q) through a redirect", loc)
	}
	if asked.Load() == 0 || followed.Load() != 0 {
		t.Errorf("asked the API %d times, the redirect target %d times; want at least 1 and 0", asked.Load(), followed.Load())
	}
}
