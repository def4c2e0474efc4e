package slackauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/slackauth"
)

// TestNoSecretsInLogs drives every path that logs — install success, each
// refusal, a Slack error that echoes what it was sent, refresh success and
// failure, uninstall — with one debug-level logger, then looks for every
// secret in what was written.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const (
		installToken = "xoxe.xoxb-LOGTEST-INSTALL"
		installRef   = "xoxe-1-LOGTEST-REFRESH"
		code         = "code-LOGTEST-4711"
		echoCode     = "code-LOGTEST-ECHO"
		newToken     = "xoxe.xoxb-LOGTEST-RENEWED"
		newRef       = "xoxe-1-LOGTEST-NEXT"
	)
	e.slack.codes[code] = installAnswer("E1", "T1", "Acme", installToken, installRef, 43200)
	// A misbehaving endpoint echoing the secret and the code in its error.
	e.slack.codes[echoCode] = `{"ok":false,"error":"bad ` + clientSecret + ` ` + echoCode + `"}`

	var cookies []string
	s, c := e.startInstall(t)
	cookies = append(cookies, c.Value)
	e.get(t, callbackURL(url.Values{"code": {code}, "state": {s}}), c)
	s, c = e.startInstall(t)
	cookies = append(cookies, c.Value)
	e.get(t, callbackURL(url.Values{"code": {echoCode}, "state": {s}}), c)
	e.get(t, callbackURL(url.Values{"code": {code}, "state": {s}}), c)        // replay
	e.get(t, callbackURL(url.Values{"code": {code}, "state": {"forged"}}), c) // forged
	s, _ = e.startInstall(t)
	e.get(t, callbackURL(url.Values{"code": {code}, "state": {s}})) // no cookie
	e.get(t, callbackURL(url.Values{"error": {"access_denied"}}))

	// Refresh failing with an error that echoes the refresh token, first
	// while the token still works, then after it expired.
	e.slack.refresh = func(_ int32, f url.Values) string {
		return `{"ok":false,"error":"invalid_refresh_token ` + f.Get("refresh_token") + ` ` + f.Get("client_secret") + `"}`
	}
	e.clock.Advance(12*time.Hour - 5*time.Minute)
	if _, err := e.store.TokenFor(ctx, "E1", "T1"); err != nil {
		t.Fatal(err)
	}
	e.rdb.Del(ctx, e.prefix.SlackRefreshLock("E1", "T1"))
	e.clock.Advance(10 * time.Minute)
	_, err := e.store.TokenFor(ctx, "E1", "T1")
	if err == nil {
		t.Fatal("an expired token whose refresh fails was served")
	}
	errText := err.Error()
	e.slack.refresh = func(int32, url.Values) string {
		return `{"ok":true,"access_token":"` + newToken + `","refresh_token":"` + newRef + `","expires_in":43200}`
	}
	if tok, err := e.store.TokenFor(ctx, "E1", "T1"); err != nil || tok != newToken {
		t.Fatalf("refresh: %q, %v", tok, err)
	}
	if _, err := e.store.Delete(ctx, "E1", "T1"); err != nil {
		t.Fatal(err)
	}

	logs := e.logs.String()
	for _, want := range []string{"slack app installed", "callback refused", "code exchange failed", "slack token refresh failed", "slack token refreshed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the logs; the test did not take that path", want)
		}
	}
	if !strings.Contains(logs, "bad [redacted] [redacted]") || !strings.Contains(logs, "invalid_refresh_token [redacted] [redacted]") {
		t.Error("the echoed secrets were not redacted (or not logged at all)")
	}
	secrets := append([]string{clientSecret, installToken, installRef, code, echoCode, newToken, newRef}, cookies...)
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("the logs contain %q", sec)
		}
		if strings.Contains(errText, sec) {
			t.Errorf("the refresh error contains %q", sec)
		}
	}
	if t.Failed() {
		t.Log(logs)
	}
}

func TestConfigValidate(t *testing.T) {
	key := newKey(t, "k1")
	ok := slackauth.Config{ClientID: "1.2", ClientSecret: "s", Scopes: slackauth.DefaultScopes, PublicURL: "https://itfit.example.com", EncryptionKey: key}
	cases := []struct {
		name   string
		modify func(*slackauth.Config)
		want   string // "" for valid
	}{
		{"complete", func(*slackauth.Config) {}, ""},
		{"localhost over http", func(c *slackauth.Config) { c.PublicURL = "http://localhost:3000" }, ""},
		{"nothing but the ID", func(c *slackauth.Config) { *c = slackauth.Config{ClientID: "1.2"} },
			"SLACK_CLIENT_SECRET, ITFIT_PUBLIC_URL"},
		{"no encryption key", func(c *slackauth.Config) { c.EncryptionKey = "" }, "ITFIT_ENCRYPTION_KEY"},
		{"bad encryption key", func(c *slackauth.Config) { c.EncryptionKey = "k1:short" }, "ITFIT_ENCRYPTION_KEY"},
		{"plain http", func(c *slackauth.Config) { c.PublicURL = "http://itfit.example.com" }, "https"},
		{"relative URL", func(c *slackauth.Config) { c.PublicURL = "itfit.example.com" }, "absolute URL"},
		{"no scopes", func(c *slackauth.Config) { c.Scopes = " , " }, "SLACK_SCOPES"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.modify(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one naming %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), key[3:]):
				t.Error("the error shows the key")
			}
		})
	}
	if got := ok.RedirectURL(); got != "https://itfit.example.com/slack/oauth/callback" {
		t.Errorf("RedirectURL = %s", got)
	}
	if (slackauth.Config{}).Enabled() || !(slackauth.Config{ClientSecret: "x"}).Enabled() {
		t.Error("Enabled")
	}
}
