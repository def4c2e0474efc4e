package slackauth_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/slackauth"
	"github.com/itfit/itfit/internal/testkit"
)

// tokenSource is the interface the Slack adapter will declare; both
// providers must satisfy it.
type tokenSource interface {
	TokenFor(ctx context.Context, enterprise, team string) (string, error)
}

var (
	_ tokenSource = (*slackauth.Store)(nil)
	_ tokenSource = slackauth.Static{}
)

const (
	clientID     = "1234.5678"
	clientSecret = "client-secret-3f9a1c77be"
	publicURL    = "https://itfit.example.com"
)

// clock is the injected time that judges token and state expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeSlack is a local oauth.v2.access: codes map to canned answers, and
// refreshes are counted and answered by refresh.
type fakeSlack struct {
	srv       *httptest.Server
	mu        sync.Mutex
	codes     map[string]string
	exchanges []url.Values
	refreshes atomic.Int32
	forms     []url.Values
	refresh   func(n int32, form url.Values) string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{codes: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/oauth.v2.access" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") == "refresh_token" {
			n := f.refreshes.Add(1)
			f.mu.Lock()
			f.forms = append(f.forms, r.PostForm)
			answer := f.refresh
			f.mu.Unlock()
			// Widen the window in which other callers find the token due;
			// the assertions do not depend on it.
			time.Sleep(20 * time.Millisecond)
			if answer == nil {
				io.WriteString(w, `{"ok":false,"error":"invalid_refresh_token"}`)
				return
			}
			io.WriteString(w, answer(n, r.PostForm))
			return
		}
		f.mu.Lock()
		f.exchanges = append(f.exchanges, r.PostForm)
		body, ok := f.codes[r.PostForm.Get("code")]
		f.mu.Unlock()
		if !ok {
			body = `{"ok":false,"error":"invalid_code"}`
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) exchangeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.exchanges)
}

type env struct {
	rdb    redis.UniversalClient
	prefix keys.Prefix
	key    string // ITFIT_ENCRYPTION_KEY
	box    *secretbox.Box
	slack  *fakeSlack
	logs   *testkit.Buffer
	log    *slog.Logger
	clock  *clock
	store  *slackauth.Store
	inst   *slackauth.Installer
	mux    *http.ServeMux
	cfg    slackauth.Config
}

func newKey(t *testing.T, id string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	b := redistest.Real(t)
	key := newKey(t, "k1")
	box, err := secretbox.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.Buffer{}
	e := &env{
		rdb: b.Client, prefix: b.Prefix, key: key, box: box, slack: newFakeSlack(t), logs: logs,
		log:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	e.store = e.newStore(t)
	e.cfg = slackauth.Config{
		ClientID: clientID, ClientSecret: clientSecret, Scopes: slackauth.DefaultScopes,
		AuthorizeURL: "https://slack.test/oauth/v2/authorize",
		PublicURL:    publicURL, EncryptionKey: key, APIURL: e.slack.apiURL(),
	}
	e.inst, err = slackauth.NewInstaller(e.cfg, slackauth.InstallerOptions{
		Store: e.store, Redis: e.rdb, Prefix: e.prefix, Log: e.log, Now: e.clock.Now,
		HTTPClient: e.slack.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mux = http.NewServeMux()
	e.inst.Mount(e.mux)
	return e
}

// newStore is another replica: its own process memory, the same Redis.
func (e *env) newStore(t *testing.T) *slackauth.Store {
	t.Helper()
	s, err := slackauth.NewStore(slackauth.StoreOptions{
		Redis: e.rdb, Prefix: e.prefix, Box: e.box, Log: e.log, Now: e.clock.Now,
		ClientID: clientID, ClientSecret: clientSecret, APIURL: e.slack.apiURL(),
		HTTPClient: e.slack.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) get(t *testing.T, target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, publicURL+target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

// startInstall runs GET /slack/install and returns the state Slack would
// echo back and the browser's cookie.
func (e *env) startInstall(t *testing.T) (string, *http.Cookie) {
	t.Helper()
	rec := e.get(t, slackauth.InstallPath)
	if rec.Code != http.StatusFound {
		t.Fatalf("install: status %d, want 302: %s", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("install set %d cookies, want 1", len(cookies))
	}
	return loc.Query().Get("state"), cookies[0]
}

func callbackURL(q url.Values) string { return slackauth.CallbackPath + "?" + q.Encode() }

// installAnswer is oauth.v2.access's answer for a workspace install.
func installAnswer(enterprise, team, teamName, token, refresh string, expiresIn int) string {
	ent := `null`
	if enterprise != "" {
		ent = `{"id":"` + enterprise + `","name":"Grid Org"}`
	}
	rot := ""
	if refresh != "" {
		rot = `,"refresh_token":"` + refresh + `","expires_in":` + itoa(expiresIn)
	}
	return `{"ok":true,"access_token":"` + token + `","token_type":"bot","scope":"commands,chat:write,im:write,users:read",` +
		`"bot_user_id":"UBOT","app_id":"A0APP","team":{"id":"` + team + `","name":` + jsonString(teamName) + `},` +
		`"enterprise":` + ent + `,"is_enterprise_install":false,"authed_user":{"id":"UINSTALLER"}` + rot + `}`
}
