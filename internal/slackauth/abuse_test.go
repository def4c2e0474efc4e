package slackauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackauth"
)

// TestInstallFloodStoresNothing is the attack of issue 16: 2,000 requests
// to GET /slack/install over real HTTP, then 2,000 callbacks with states
// nobody issued, and with real states but no cookie or another browser's.
// Before, each install left a 10-minute key in the Redis the installations
// live in (2,000 keys); the state is now stateless, and a callback writes
// only once a state has passed every check. Target: under 50 keys.
func TestInstallFloodStoresNothing(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.mux)
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(target string, c *http.Cookie) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+target, nil)
		if c != nil {
			req.AddCookie(c)
		}
		resp, err := noRedirect.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}

	const n = 2000
	states := make([]string, n)
	cookies := make([]*http.Cookie, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp, err := get(slackauth.InstallPath, nil)
			if err != nil || resp.StatusCode != http.StatusFound {
				t.Errorf("install %d: %v %v", i, resp, err)
				return
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			states[i], cookies[i] = loc.Query().Get("state"), resp.Cookies()[0]
		})
	}
	wg.Wait()
	afterInstalls := len(redistest.Keys(t, e.rdb, e.prefix))

	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var q url.Values
			var c *http.Cookie
			switch i % 4 {
			case 0: // a state nobody issued, with a real cookie
				q, c = url.Values{"code": {"x"}, "state": {strings.Repeat("A", len(states[i]))}}, cookies[i]
			case 1: // a real state, no cookie
				q = url.Values{"code": {"x"}, "state": {states[i]}}
			case 2: // a real state, another browser's cookie
				q, c = url.Values{"code": {"x"}, "state": {states[i]}}, cookies[(i+1)%n]
			case 3: // a real state, its cookie, but the user cancelled
				q, c = url.Values{"error": {"access_denied"}, "state": {states[i]}}, cookies[i]
			}
			if _, err := get(slackauth.CallbackPath+"?"+q.Encode(), c); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	keys := redistest.Keys(t, e.rdb, e.prefix)
	t.Logf("%d installs: %d keys; then %d forged or cookieless callbacks: %d keys", n, afterInstalls, n, len(keys))
	if len(keys) >= 50 {
		t.Fatalf("%d keys after the flood (%d after the installs alone), want under 50", len(keys), afterInstalls)
	}
	if e.slack.exchangeCount() != 0 {
		t.Fatalf("%d code exchanges from refused callbacks", e.slack.exchangeCount())
	}

	// The attempts themselves still work: any of them finishes, once.
	e.slack.codes["code-1"] = installAnswer("", "T1", "Acme", "xoxb-FLOOD", "", 0)
	q := url.Values{"code": {"code-1"}, "state": {states[7]}}
	if resp, _ := get(slackauth.CallbackPath+"?"+q.Encode(), cookies[7]); resp.StatusCode != http.StatusOK {
		t.Fatalf("a genuine callback after the flood: %d", resp.StatusCode)
	}
	if resp, _ := get(slackauth.CallbackPath+"?"+q.Encode(), cookies[7]); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the same state again: %d", resp.StatusCode)
	}
}
