package botframework_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/testkit"
)

const testSecret = "s3cr3t-app-password"

// fakeTokenEndpoint answers client-credentials requests like Entra ID. Each
// request pops the next scripted answer; when the script runs out it issues
// a fresh token "token-N".
type fakeTokenEndpoint struct {
	srv    *httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	script []func(w http.ResponseWriter)
	forms  []map[string]string
}

func newFakeTokenEndpoint(t testing.TB, script ...func(w http.ResponseWriter)) *fakeTokenEndpoint {
	t.Helper()
	e := &fakeTokenEndpoint{script: script}
	e.srv = newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := e.hits.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/tenant-x/oauth2/v2.0/token" {
			http.Error(w, "wrong endpoint", http.StatusNotFound)
			return
		}
		_ = r.ParseForm()
		e.mu.Lock()
		e.forms = append(e.forms, map[string]string{
			"grant_type": r.PostForm.Get("grant_type"), "client_id": r.PostForm.Get("client_id"),
			"client_secret": r.PostForm.Get("client_secret"), "scope": r.PostForm.Get("scope"),
		})
		var step func(w http.ResponseWriter)
		if len(e.script) > 0 {
			step, e.script = e.script[0], e.script[1:]
		}
		e.mu.Unlock()
		if step != nil {
			step(w)
			return
		}
		writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": fmt.Sprintf("token-%d", n)})
	}))
	return e
}

func (e *fakeTokenEndpoint) url() string { return e.srv.URL + "/tenant-x/oauth2/v2.0/token" }

func status(code int, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"echo client_secret=` + testSecret + `","error_codes":[50196]}`))
	}
}

type tokenFixture struct {
	ep    *fakeTokenEndpoint
	clock *fakeClock
	sleep *recordingSleep
	logs  *testkit.Buffer
	ts    *botframework.TokenSource
}

func newTokenFixture(t testing.TB, script ...func(w http.ResponseWriter)) *tokenFixture {
	t.Helper()
	f := &tokenFixture{ep: newFakeTokenEndpoint(t, script...), clock: newFakeClock(), sleep: &recordingSleep{}, logs: &testkit.Buffer{}}
	ts, err := botframework.NewTokenSource(botframework.TokenSourceConfig{
		AppID:       testAppID,
		AppPassword: testSecret,
		TenantID:    "ignored-because-TokenURL-wins",
		TokenURL:    f.ep.url(),
		HTTPClient:  f.ep.srv.Client(),
		Now:         f.clock.Now,
		Sleep:       f.sleep.Sleep,
		Logger:      slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = ts
	t.Cleanup(func() {
		if strings.Contains(f.logs.String(), testSecret) || strings.Contains(f.logs.String(), "token-") {
			t.Errorf("a secret or token reached the log:\n%s", f.logs.String())
		}
	})
	return f
}

func TestTokenSourceRequestsClientCredentials(t *testing.T) {
	f := newTokenFixture(t)
	tok, err := f.ts.Token(context.Background())
	if err != nil || tok != "token-1" {
		t.Fatalf("Token() = %q, %v", tok, err)
	}
	want := map[string]string{"grant_type": "client_credentials", "client_id": testAppID, "client_secret": testSecret, "scope": "https://api.botframework.com/.default"}
	f.ep.mu.Lock()
	defer f.ep.mu.Unlock()
	for k, v := range want {
		if got := f.ep.forms[0][k]; got != v {
			t.Errorf("form %s = %q, want %q", k, got, v)
		}
	}
}

func TestTokenSourceCachesUntilShortlyBeforeExpiry(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	first, _ := f.ts.Token(ctx)
	f.clock.Advance(50 * time.Minute) // expires_in 3599s; renews 5 min early
	if tok, _ := f.ts.Token(ctx); tok != first {
		t.Fatalf("token changed within its lifetime: %q -> %q", first, tok)
	}
	if got := f.ep.hits.Load(); got != 1 {
		t.Fatalf("endpoint hit %d times, want 1", got)
	}
	f.clock.Advance(5 * time.Minute) // now inside the 5-minute renewal margin
	second, err := f.ts.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("token not renewed before expiry: %q, %v", second, err)
	}
	if got := f.ep.hits.Load(); got != 2 {
		t.Fatalf("endpoint hit %d times, want 2", got)
	}
}

func TestTokenSourceConcurrentCallersFetchOnce(t *testing.T) {
	f := newTokenFixture(t)
	var wg sync.WaitGroup
	results := make(chan string, 100)
	for range 100 {
		wg.Go(func() {
			tok, err := f.ts.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			results <- tok
		})
	}
	wg.Wait()
	close(results)
	for tok := range results {
		if tok != "token-1" {
			t.Fatalf("caller got %q, want token-1", tok)
		}
	}
	if got := f.ep.hits.Load(); got != 1 {
		t.Fatalf("endpoint hit %d times by 100 callers, want 1", got)
	}
}

func TestTokenSourceFailedFetchIsAnError(t *testing.T) {
	f := newTokenFixture(t, status(http.StatusUnauthorized))
	tok, err := f.ts.Token(context.Background())
	if tok != "" || !errors.Is(err, botframework.ErrTokenFetch) {
		t.Fatalf("Token() = %q, %v; want empty token and ErrTokenFetch", tok, err)
	}
	var apiErr *botframework.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || !strings.Contains(apiErr.Code, "AADSTS50196") {
		t.Fatalf("err = %#v, want APIError 401 with the AADSTS code", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error text carries the secret: %v", err)
	}
	if got := f.ep.hits.Load(); got != 1 {
		t.Errorf("401 retried: %d hits", got)
	}
	// The failure is not cached: the next call tries again and succeeds.
	if tok, err := f.ts.Token(context.Background()); err != nil || tok == "" {
		t.Fatalf("after failure: %q, %v", tok, err)
	}
}

func TestTokenSourceUnreachableEndpoint(t *testing.T) {
	f := newTokenFixture(t)
	f.ep.srv.Close()
	tok, err := f.ts.Token(context.Background())
	if tok != "" || !errors.Is(err, botframework.ErrTokenFetch) || !errors.Is(err, botframework.ErrTransient) {
		t.Fatalf("Token() = %q, %v; want ErrTokenFetch wrapping ErrTransient", tok, err)
	}
	if got := len(f.sleep.Waits()); got != 3 {
		t.Errorf("retried %d times, want 3 (4 attempts)", got)
	}
}

func TestTokenSourceHonoursRetryAfter(t *testing.T) {
	f := newTokenFixture(t, status(http.StatusTooManyRequests, "Retry-After", "7"))
	tok, err := f.ts.Token(context.Background())
	if err != nil || tok != "token-2" {
		t.Fatalf("Token() = %q, %v", tok, err)
	}
	if waits := f.sleep.Waits(); len(waits) != 1 || waits[0] != 7*time.Second {
		t.Fatalf("waits = %v, want [7s]", waits)
	}
}

func TestTokenSourceRetriesServerErrorsWithBackoff(t *testing.T) {
	f := newTokenFixture(t, status(http.StatusServiceUnavailable), status(http.StatusBadGateway))
	tok, err := f.ts.Token(context.Background())
	if err != nil || tok != "token-3" {
		t.Fatalf("Token() = %q, %v", tok, err)
	}
	waits := f.sleep.Waits()
	if len(waits) != 2 || waits[0] <= 0 || waits[1] <= 0 {
		t.Fatalf("waits = %v, want two positive backoffs", waits)
	}
}

func TestTokenSourceGivesUpOnLongRetryAfter(t *testing.T) {
	f := newTokenFixture(t, status(http.StatusTooManyRequests, "Retry-After", "3600"))
	_, err := f.ts.Token(context.Background())
	if !errors.Is(err, botframework.ErrTokenFetch) || !errors.Is(err, botframework.ErrTransient) {
		t.Fatalf("err = %v", err)
	}
	if len(f.sleep.Waits()) != 0 || f.ep.hits.Load() != 1 {
		t.Fatalf("retried despite an hour-long Retry-After: waits %v, hits %d", f.sleep.Waits(), f.ep.hits.Load())
	}
}

func TestTokenSourceCallerContext(t *testing.T) {
	f := newTokenFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if tok, err := f.ts.Token(ctx); err == nil || tok != "" {
		t.Fatalf("Token(cancelled) = %q, %v", tok, err)
	}
}

func TestTokenSourceInvalidate(t *testing.T) {
	f := newTokenFixture(t)
	ctx := context.Background()
	first, _ := f.ts.Token(ctx)
	f.ts.Invalidate("some-other-token")
	if tok, _ := f.ts.Token(ctx); tok != first {
		t.Fatal("Invalidate of another token dropped the cached one")
	}
	f.ts.Invalidate(first)
	if tok, _ := f.ts.Token(ctx); tok == first {
		t.Fatal("Invalidate did not drop the cached token")
	}
}

func TestTokenURLForTenant(t *testing.T) {
	if got, want := botframework.TokenURLForTenant(""), "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"; got != want {
		t.Errorf("multi-tenant URL = %q", got)
	}
	if got, want := botframework.TokenURLForTenant("contoso.onmicrosoft.com"), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"; got != want {
		t.Errorf("single-tenant URL = %q", got)
	}
	if got := botframework.TokenURLForTenant("a/b"); strings.Contains(got, "a/b") {
		t.Errorf("tenant not escaped: %q", got)
	}
}

func TestNewTokenSourceRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]botframework.TokenSourceConfig{
		"no app id":     {AppPassword: "x"},
		"no secret":     {AppID: "x"},
		"http endpoint": {AppID: "x", AppPassword: "y", TokenURL: "http://login.example/token"},
		"relative":      {AppID: "x", AppPassword: "y", TokenURL: "/token"},
	} {
		if _, err := botframework.NewTokenSource(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
