package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/botframework/bftest"
	"github.com/itfit/itfit/internal/redistest"
)

// fakeAuthTest is Slack's auth.test: ok for xoxb-good, invalid_auth for any
// other token.
func fakeAuthTest(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tok := r.PostForm.Get("token")
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != "/api/auth.test":
			fmt.Fprint(w, `{"ok":false,"error":"unknown_method"}`)
		case tok == "xoxb-good":
			fmt.Fprint(w, `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"itfit","team_id":"T0ACME","user_id":"UBOT","bot_id":"B1"}`)
		default:
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestCheckEverythingWorks: with real Redis, a Slack that knows the token
// and a Microsoft that issues tokens and keys, every line is ok.
func TestCheckEverythingWorks(t *testing.T) {
	slackSrv, bf := fakeAuthTest(t), bftest.New(t)
	cfg := Config{
		RedisURL:        redistest.RealURL(t),
		AccountManagers: "slack:T0ACME=UMGR,teams:tenant-1=29:1maria",
		Slack:           slackapp.Config{SigningSecret: "s", BotToken: "xoxb-good", APIURL: slackSrv.URL + "/api/"},
		Teams:           teams.Config{AppID: bftest.AppID, AppPassword: "secret", OpenIDMetadataURL: bf.MetadataURL(), TokenURL: bf.TokenURL()},
	}
	var out bytes.Buffer
	if err := check(context.Background(), cfg, &out, bf.Client()); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	wantLines(t, out.String(),
		"ok    audit     built in, version",
		"ok    redis     Redis ",
		`ok    slack     SLACK_BOT_TOKEN is @itfit in workspace "Acme" (T0ACME)`,
		"ok    teams     Bot Framework signing keys fetched",
		"ok    teams     MICROSOFT_APP_ID "+bftest.AppID+" and its password obtain a Bot Connector token",
		"ok    managers  2 client workspaces have an account manager",
	)
	if strings.Contains(out.String(), "FAIL") || strings.Contains(out.String(), "secret") {
		t.Fatalf("a failure or the password in the output:\n%s", out.String())
	}
}

// TestCheckNamesEachFailure: an unreachable Redis, a refused Slack token, a
// Microsoft that refuses the app and an unreadable audit file each get a
// FAIL line that says what to fix, and the command fails.
func TestCheckNamesEachFailure(t *testing.T) {
	slackSrv, bf := fakeAuthTest(t), bftest.New(t)
	cfg := Config{
		RedisURL:  "redis://127.0.0.1:1/0",
		AuditFile: t.TempDir() + "/missing.yaml",
		Slack:     slackapp.Config{SigningSecret: "s", BotToken: "xoxb-revoked", APIURL: slackSrv.URL + "/api/"},
		Teams:     teams.Config{AppID: "not-the-registered-app", AppPassword: "secret", OpenIDMetadataURL: bf.MetadataURL(), TokenURL: bf.TokenURL()},
	}
	var out bytes.Buffer
	err := check(context.Background(), cfg, &out, bf.Client())
	if !errors.Is(err, errCheckFailed) {
		t.Fatalf("check = %v, want errCheckFailed\n%s", err, out.String())
	}
	wantLines(t, out.String(),
		"FAIL  audit     ITFIT_AUDIT_FILE",
		"FAIL  redis     127.0.0.1:1",
		"FAIL  slack     auth.test with SLACK_BOT_TOKEN",
		"invalid_auth",
		"FAIL  teams     token for MICROSOFT_APP_ID not-the-registered-app",
	)
	if strings.Contains(out.String(), "xoxb-revoked") || strings.Contains(out.String(), "secret") {
		t.Fatalf("a token or password in the output:\n%s", out.String())
	}
}

// TestCheckThroughTheCommand: `bot check` with nothing configured warns
// about the embedded store, skips the platforms and succeeds.
func TestCheckThroughTheCommand(t *testing.T) {
	for _, k := range []string{"REDIS_URL", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "MICROSOFT_APP_ID", "ITFIT_ACCOUNT_MANAGERS", "ITFIT_AUDIT_FILE"} {
		t.Setenv(k, "")
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check"}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("bot check: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantLines(t, out.String(), "warn  redis     REDIS_URL is not set", "skip  slack", "skip  teams", "skip  managers")
}
