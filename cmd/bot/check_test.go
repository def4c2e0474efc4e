package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// countingListener counts the connections made to it.
func countingListener(t *testing.T) (addr string, count func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() int { return int(n.Load()) }
}

// TestCheckConfigOnlyTouchesNoNetwork: `bot check --config-only` with
// Redis, Slack and Teams configured at listeners that count connections
// reports each setting, fails on the ones that are wrong, and connects to
// none of them.
func TestCheckConfigOnlyTouchesNoNetwork(t *testing.T) {
	addr, conns := countingListener(t)
	base := "http://" + addr
	good := map[string]string{
		"REDIS_URL":                     "redis://" + addr + "/0",
		"SLACK_SIGNING_SECRET":          "s",
		"SLACK_BOT_TOKEN":               "xoxb-good",
		"SLACK_API_URL":                 base + "/api/",
		"MICROSOFT_APP_ID":              "app-1",
		"MICROSOFT_APP_PASSWORD":        "secret",
		"MICROSOFT_OPENID_METADATA_URL": base + "/metadata",
		"MICROSOFT_TOKEN_URL":           base + "/token",
		"ITFIT_ACCOUNT_MANAGERS":        "slack:T0ACME=UMGR",
	}
	audit := filepath.Join(t.TempDir(), "audit.yaml")
	if err := os.WriteFile(audit, []byte("version: 1\nquestions: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
		want    []string
	}{
		{"everything set", nil, false, []string{
			"ok    audit     built in",
			"ok    redis     REDIS_URL names a single node at " + addr + " (not dialled: --config-only)",
			"ok    slack     SLACK_BOT_TOKEN is set for one workspace (auth.test not called: --config-only)",
			"ok    teams     MICROSOFT_APP_ID app-1 and its password are set (Microsoft not asked: --config-only)",
			"ok    managers  1 client workspaces",
		}},
		{"a bad audit file and Redis URL", map[string]string{"ITFIT_AUDIT_FILE": audit, "REDIS_URL": "redis://" + addr + "/zero"}, true, []string{
			"FAIL  audit     invalid audit: " + audit,
			"FAIL  redis     REDIS_URL redis://" + addr + "/zero",
		}},
		{"Add to Slack", map[string]string{
			"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs",
			"ITFIT_PUBLIC_URL": "https://itfit.example.com", "ITFIT_ENCRYPTION_KEY": "k1:" + strings.Repeat("A", 43) + "=",
		}, false, []string{"ok    slack     Add to Slack at https://itfit.example.com/slack/install"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range good {
				t.Setenv(k, v)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"check", "--config-only"}, nil, &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("bot check --config-only = %v, want error %v\n%s%s", err, tt.wantErr, out.String(), errOut.String())
			}
			wantLines(t, out.String(), tt.want...)
			if strings.Contains(out.String(), "secret") || strings.Contains(out.String(), "xoxb-good") {
				t.Errorf("a secret in the output:\n%s", out.String())
			}
			if n := conns(); n != 0 {
				t.Fatalf("%d connections to the configured services, want none", n)
			}
		})
	}
}

// TestCheckTakesOnlyConfigOnly: any other argument is a usage error, not a
// full check that reaches the network.
func TestCheckTakesOnlyConfigOnly(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"check", "--offline"}, nil, io.Discard, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), "--config-only") {
		t.Fatalf("bot check --offline = %v, %q; want a usage error naming --config-only", err, errOut.String())
	}
}
