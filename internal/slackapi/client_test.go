package slackapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/itfit/itfit/internal/slackapi"
)

// A redirect from the Web API is its answer, not a hop: the bot token is
// not taken to another URL, and the call fails.
func TestWebAPIDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		_, _ = w.Write([]byte(`{"ok":true,"channel":"D1","ts":"1.2"}`))
	}))
	t.Cleanup(other.Close)
	var asked atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(api.Close)
	c := newClient(api.URL+"/api/", api.Client())
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
	var followed atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		_, _ = w.Write([]byte(`{"ok":true,"user":{"id":"U1","locale":"fr-CA"}}`))
	}))
	t.Cleanup(other.Close)
	var asked atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(api.Close)
	c := newClient(api.URL+"/api/", slackapi.DefaultHTTPClient())
	if loc, err := c.UserLocale(context.Background(), "T1", "U1"); err == nil {
		t.Errorf("read the locale (%q) through a redirect", loc)
	}
	if asked.Load() == 0 || followed.Load() != 0 {
		t.Errorf("asked the API %d times, the redirect target %d times; want at least 1 and 0", asked.Load(), followed.Load())
	}
}
