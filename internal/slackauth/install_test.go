package slackauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackauth"
)

func itoa(n int) string { return strconv.Itoa(n) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestInstallFlow walks "Add to Slack" end to end: the redirect to Slack
// with a state and a browser cookie, the callback with Slack's code, the
// code exchange at a local oauth.v2.access, the sealed installation, the
// success page; then the same state again is refused.
func TestInstallFlow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const token, refresh = "xoxe.xoxb-1-INSTALLTOKEN", "xoxe-1-REFRESHTOKEN"
	e.slack.codes["code-1"] = installAnswer("", "T1", `Acme <Ops> & "Co"`, token, refresh, 43200)

	rec := e.get(t, slackauth.InstallPath)
	if rec.Code != http.StatusFound {
		t.Fatalf("install: status %d", rec.Code)
	}
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.cfg.AuthorizeURL {
		t.Errorf("redirect to %s, want %s", got, e.cfg.AuthorizeURL)
	}
	q := loc.Query()
	for k, want := range map[string]string{
		"client_id": clientID, "scope": slackauth.DefaultScopes, "redirect_uri": publicURL + "/slack/oauth/callback",
	} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	state := q.Get("state")
	if len(state) < 32 {
		t.Fatalf("state %q is too short to be unguessable", state)
	}
	if ks := redistest.Keys(t, e.rdb, e.prefix); len(ks) != 0 {
		t.Errorf("starting an install stored %v; the state should be stateless", ks)
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != slackauth.CallbackPath {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=%s", cookie, slackauth.CallbackPath)
	}
	if strings.Contains(state, cookie.Value) {
		t.Error("the state carries the browser's nonce itself")
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("install redirect is cacheable")
	}

	cb := e.get(t, callbackURL(url.Values{"code": {"code-1"}, "state": {state}}), cookie)
	if cb.Code != http.StatusOK {
		t.Fatalf("callback: status %d: %s", cb.Code, cb.Body)
	}
	body := cb.Body.String()
	if !strings.Contains(body, "itfit is installed in Acme &lt;Ops&gt; &amp; &#34;Co&#34;.") || !strings.Contains(body, "/itfit") {
		t.Errorf("success page does not name the (escaped) workspace:\n%s", body)
	}
	if strings.Contains(body, "<Ops>") {
		t.Error("success page has the team name unescaped")
	}

	// What the fake oauth.v2.access received.
	if len(e.slack.exchanges) != 1 {
		t.Fatalf("%d code exchanges, want 1", len(e.slack.exchanges))
	}
	form := e.slack.exchanges[0]
	for k, want := range map[string]string{
		"client_id": clientID, "client_secret": clientSecret, "code": "code-1", "redirect_uri": publicURL + "/slack/oauth/callback",
	} {
		if form.Get(k) != want {
			t.Errorf("oauth.v2.access %s = %q, want %q", k, form.Get(k), want)
		}
	}

	// Stored sealed: neither token is in Redis in the clear.
	raw := e.rdb.HGetAll(ctx, e.prefix.SlackInstallation("", "T1")).Val()
	if len(raw) == 0 {
		t.Fatal("no installation stored")
	}
	for f, v := range raw {
		if strings.Contains(v, "INSTALLTOKEN") || strings.Contains(v, "REFRESHTOKEN") {
			t.Errorf("field %s holds a token in the clear", f)
		}
	}
	inst, err := e.store.Get(ctx, "", "T1")
	if err != nil {
		t.Fatal(err)
	}
	if inst.BotToken.Reveal() != token || inst.RefreshToken.Reveal() != refresh {
		t.Error("stored tokens do not open to what Slack issued")
	}
	for f, v := range raw {
		if strings.Contains(v, "UINSTALLER") {
			t.Errorf("field %s keeps the installer's user ID, which nothing reads", f)
		}
	}
	if inst.TeamName != `Acme <Ops> & "Co"` || inst.BotUserID != "UBOT" || inst.AppID != "A0APP" || inst.Installer != "" ||
		len(inst.Scopes) != 4 || !inst.InstalledAt.Equal(e.clock.Now()) || !inst.ExpiresAt.Equal(e.clock.Now().Add(12*time.Hour)) {
		t.Errorf("installation metadata: %+v", inst)
	}
	if got, err := e.store.TokenFor(ctx, "", "T1"); err != nil || got != token {
		t.Errorf("TokenFor = %q, %v", got, err)
	}

	// The same state again (a replayed callback URL) is refused.
	again := e.get(t, callbackURL(url.Values{"code": {"code-1"}, "state": {state}}), cookie)
	if again.Code != http.StatusBadRequest || !strings.Contains(again.Body.String(), "already been used") {
		t.Errorf("replay: status %d: %s", again.Code, again.Body)
	}
	if e.slack.exchangeCount() != 1 {
		t.Error("a replayed state reached oauth.v2.access")
	}
	// The one key the install left besides the installation: the spent
	// state, which holds no nonce and expires with the state.
	for _, k := range redistest.Keys(t, e.rdb, e.prefix) {
		if k == e.prefix.SlackInstallation("", "T1") {
			continue
		}
		if strings.Contains(k, cookie.Value) || e.rdb.Get(ctx, k).Val() != "1" {
			t.Errorf("%s = %q holds more than a spent mark", k, e.rdb.Get(ctx, k).Val())
		}
		if ttl := e.rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > 10*time.Minute {
			t.Errorf("spent state %s TTL %s, want (0, 10m]", k, ttl)
		}
	}
}

// TestCallbackRefusals: every way a callback can be illegitimate ends on a
// 400 page, with nothing exchanged or stored. A state refused before it is
// known to be this browser's writes nothing to Redis; one that passed those
// checks is spent, and cannot be used again.
func TestCallbackRefusals(t *testing.T) {
	other := &http.Cookie{Name: "itfit_slack_install", Value: "another-browsers-nonce"}
	cases := []struct {
		name string
		// prepare returns the callback query and cookies to send.
		prepare func(t *testing.T, e *env) (url.Values, []*http.Cookie)
		want    string
		spent   bool // the state passed every check, and is now spent
	}{
		{"forged state", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			_, c := e.startInstall(t)
			return url.Values{"code": {"code-1"}, "state": {"forged-state-nobody-issued"}}, []*http.Cookie{c}
		}, "not valid", false},
		{"missing state", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			_, c := e.startInstall(t)
			return url.Values{"code": {"code-1"}}, []*http.Cookie{c}
		}, "not valid", false},
		{"no cookie (another browser)", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, _ := e.startInstall(t)
			return url.Values{"code": {"code-1"}, "state": {s}}, nil
		}, "another browser", false},
		{"another browser's cookie", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, _ := e.startInstall(t)
			return url.Values{"code": {"code-1"}, "state": {s}}, []*http.Cookie{other}
		}, "another browser", false},
		{"the cookie of another attempt", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, _ := e.startInstall(t)
			_, c2 := e.startInstall(t)
			return url.Values{"code": {"code-1"}, "state": {s}}, []*http.Cookie{c2}
		}, "another browser", false},
		{"expired state", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, c := e.startInstall(t)
			e.clock.Advance(10*time.Minute + time.Second)
			return url.Values{"code": {"code-1"}, "state": {s}}, []*http.Cookie{c}
		}, "expired", false},
		{"no code", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, c := e.startInstall(t)
			return url.Values{"state": {s}}, []*http.Cookie{c}
		}, "no authorisation code", true},
		{"oauth.v2.access says ok:false", func(t *testing.T, e *env) (url.Values, []*http.Cookie) {
			s, c := e.startInstall(t)
			return url.Values{"code": {"unknown-code"}, "state": {s}}, []*http.Cookie{c}
		}, "did not accept", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.slack.codes["code-1"] = installAnswer("", "T1", "Acme", "xoxb-SHOULD-NOT-BE-STORED", "", 0)
			q, cookies := tc.prepare(t, e)
			rec := e.get(t, callbackURL(q), cookies...)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), tc.want) || !strings.Contains(rec.Body.String(), slackauth.InstallPath) {
				t.Errorf("page does not say %q and offer a new start:\n%s", tc.want, rec.Body)
			}
			if tc.name != "oauth.v2.access says ok:false" && e.slack.exchangeCount() != 0 {
				t.Error("a refused callback reached oauth.v2.access")
			}
			if _, err := e.store.Get(context.Background(), "", "T1"); !errors.Is(err, slackauth.ErrNotInstalled) {
				t.Errorf("installation stored after a refused callback: %v", err)
			}
			keys := redistest.Keys(t, e.rdb, e.prefix)
			if !tc.spent {
				if len(keys) != 0 {
					t.Errorf("a refused state wrote %v", keys)
				}
				return
			}
			if len(keys) != 1 {
				t.Errorf("keys %v, want the one spent state", keys)
			}
			q.Set("code", "code-1")
			if again := e.get(t, callbackURL(q), cookies...); again.Code != http.StatusBadRequest || !strings.Contains(again.Body.String(), "already been used") {
				t.Errorf("the state again: %d %s", again.Code, again.Body)
			}
			if e.slack.exchangeCount() > 1 {
				t.Error("a spent state reached oauth.v2.access")
			}
		})
	}
}

// TestCallbackAccessDenied: the user pressed Cancel at Slack.
func TestCallbackAccessDenied(t *testing.T) {
	e := newEnv(t)
	s, c := e.startInstall(t)
	rec := e.get(t, callbackURL(url.Values{"error": {"access_denied"}, "state": {s}}), c)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "You cancelled the installation") {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	if e.slack.exchangeCount() != 0 {
		t.Error("a cancelled install reached oauth.v2.access")
	}
	if n := len(redistest.Keys(t, e.rdb, e.prefix)); n != 0 {
		t.Errorf("%d keys left after a cancelled install", n)
	}
	// Words an attacker puts in error= are not shown.
	rec = e.get(t, callbackURL(url.Values{"error": {"Call 555-0100 for support"}}))
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "555") {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}

// TestOrgWideInstall: an Enterprise Grid org-wide install is keyed by the
// enterprise alone and serves every workspace of the org that has no
// install of its own.
func TestOrgWideInstall(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.slack.codes["org"] = `{"ok":true,"access_token":"xoxb-ORG","token_type":"bot","app_id":"A0APP","bot_user_id":"UBOT",` +
		`"team":null,"enterprise":{"id":"E1","name":"Grid Org"},"is_enterprise_install":true,"authed_user":{"id":"UADMIN"}}`
	s, c := e.startInstall(t)
	rec := e.get(t, callbackURL(url.Values{"code": {"org"}, "state": {s}}), c)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "installed in Grid Org") {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// The page named the org; the record keeps neither its name nor who installed.
	if raw := e.rdb.HGet(ctx, e.prefix.SlackInstallation("E1", ""), "rec").Val(); raw == "" || strings.Contains(raw, "Grid Org") || strings.Contains(raw, "UADMIN") {
		t.Errorf("org-wide record = %s", raw)
	}
	if got, err := e.store.TokenFor(ctx, "E1", "T7"); err != nil || got != "xoxb-ORG" {
		t.Errorf("TokenFor(E1, T7) = %q, %v; want the org-wide token", got, err)
	}
	if _, err := e.store.TokenFor(ctx, "E2", "T7"); !errors.Is(err, slackauth.ErrNotInstalled) {
		t.Errorf("another enterprise: %v, want ErrNotInstalled", err)
	}
	deleted, err := e.store.Delete(ctx, "E1", "")
	if err != nil || !deleted.OrgWide || deleted.ID() != "E1:" {
		t.Errorf("Delete org-wide = %+v, %v", deleted, err)
	}
	if _, err := e.store.TokenFor(ctx, "E1", "T7"); !errors.Is(err, slackauth.ErrNotInstalled) {
		t.Errorf("after uninstall: %v, want ErrNotInstalled", err)
	}
}
