package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/botframework/bftest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/slackapi"
)

// serve builds its Microsoft clients itself, with the system's trust store,
// so that the local identity provider and connector (bftest, on httptest's
// built-in certificate) are reachable, this binary trusts that certificate
// as a root. It must happen before anything loads the system roots.
func init() {
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.StartTLS()
	der := s.Certificate().Raw
	s.Close()
	// Keep whatever roots the environment names and add the test one.
	var roots []byte
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		roots, _ = os.ReadFile(f)
	}
	roots = append(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("itfit-test-roots-%d.pem", os.Getuid()))
	if err := os.WriteFile(path, roots, 0o644); err == nil {
		os.Setenv("SSL_CERT_FILE", path)
	}
}

// TestServeLogsNoSecrets runs serve with Slack and Teams both on, with
// known secrets, and sends valid and invalid requests through every
// endpoint while the platforms also fail: the captured log holds none of
// the secrets, tokens or signatures.
func TestServeLogsNoSecrets(t *testing.T) {
	const team = "TLOGSECRETS"
	redisURL, _ := serveRedis(t, team)
	api := newWebAPIFake(t)
	bf := bftest.New(t)
	const (
		signingSecret = "logtest-signing-secret-5f2a9c"
		botToken      = "xoxb-logtest-bot-token-77aa"
		appPassword   = "logtest-app-password-~Q8r"
	)
	cfg := serveSlackCfg(t, redisURL, api)
	cfg.Slack.SigningSecret = signingSecret
	cfg.Slack.BotToken = botToken
	cfg.Teams = teams.Config{AppID: bftest.AppID, AppPassword: appPassword, OpenIDMetadataURL: bf.MetadataURL(), TokenURL: bf.TokenURL()}
	cfg.PublicURL, cfg.LinkSecret = "https://itfit.example.com", deskSecret
	b := startServed(t, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", b.logs.String())
		}
	})

	var secrets []string // every token, signature and secret sent or used
	secrets = append(secrets, signingSecret, botToken, appPassword)
	slack := func(path, ctype string, body []byte, secret string, ts int64, mutate func(h http.Header)) int {
		req, _ := http.NewRequest(http.MethodPost, b.base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		tss := strconv.FormatInt(ts, 10)
		sig := slackapi.Sign(secret, tss, body)
		secrets = append(secrets, strings.TrimPrefix(sig, "v0="))
		req.Header.Set(slackapi.HeaderTimestamp, tss)
		req.Header.Set(slackapi.HeaderSignature, sig)
		if mutate != nil {
			mutate(req.Header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().Unix()
	form := func(user, text string) []byte {
		return []byte(url.Values{"team_id": {team}, "user_id": {user}, "channel_id": {"C1"}, "text": {text}, "token": {"legacy-verification-token-zz"}}.Encode())
	}
	secrets = append(secrets, "legacy-verification-token-zz")
	form2 := "application/x-www-form-urlencoded"

	// Slack: valid, then every way to be refused, then a failing Web API.
	if code := slack("/slack/commands", form2, form(UserA, ""), signingSecret, now, nil); code != 200 {
		t.Fatalf("valid command: %d", code)
	}
	q1 := api.next(t)
	for _, tc := range []struct {
		name   string
		code   int
		secret string
		ts     int64
		mutate func(h http.Header)
		body   []byte
	}{
		{"wrong secret", 401, "not-the-secret", now, nil, form(UserA, "")},
		{"stale", 401, signingSecret, now - 3600, nil, form(UserA, "")},
		{"future", 401, signingSecret, now + 3600, nil, form(UserA, "")},
		{"tampered", 401, signingSecret, now, func(h http.Header) { h.Set(slackapi.HeaderSignature, "v0="+strings.Repeat("ab", 32)) }, form(UserA, "")},
		{"no signature", 401, signingSecret, now, func(h http.Header) { h.Del(slackapi.HeaderSignature) }, form(UserA, "")},
		{"v1 prefix", 401, signingSecret, now, func(h http.Header) { h.Set(slackapi.HeaderSignature, "v1="+strings.Repeat("cd", 32)) }, form(UserA, "")},
		{"oversized", 413, signingSecret, now, nil, append(form(UserA, ""), strings.Repeat("x", slackapp.DefaultMaxBody)...)},
	} {
		if code := slack("/slack/commands", form2, tc.body, tc.secret, tc.ts, tc.mutate); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.code)
		}
	}
	act, _ := pickFirstAnswer(t, q1)
	if code := slack("/slack/interactions", form2, blockActions(t, team, UserA, q1, act, nil), signingSecret, now, nil); code != 200 {
		t.Errorf("valid click: %d", code)
	}
	api.next(t)
	slack("/slack/events", "application/json", []byte(`{"type":"url_verification","challenge":"challenge-value-secretish","token":"legacy-verification-token-zz"}`), signingSecret, now, nil)
	slack("/slack/events", "application/json", []byte(`{"type":"event_callback","team_id":"`+team+`","event_id":"EvLOG","event":{"type":"app_home_opened","user":"`+UserA+`","channel":"D`+UserA+`","tab":"home"}}`), signingSecret, now, nil)
	api.set(func(f *webAPIFake) {
		f.failing["conversations.open"] = "invalid_auth"
		f.failing["chat.postMessage"] = "token_revoked"
		f.failing["views.publish"] = "not_authed"
	})
	slack("/slack/commands", form2, form("ULOG2", ""), signingSecret, now, nil)

	// A response_url is a credential for replies: a command and a press
	// carrying one whose host cannot be reached (no internet here) fail,
	// and the log may name the host but never the path.
	const respPath = "/commands/" + team + "/7012345678/respsecret-8d7c1f"
	secrets = append(secrets, respPath, "respsecret-8d7c1f")
	withURL := url.Values{"team_id": {team}, "user_id": {UserA}, "channel_id": {"C1"}, "text": {"status"},
		"response_url": {"https://hooks.slack.com" + respPath}}
	slack("/slack/commands", form2, []byte(withURL.Encode()), signingSecret, now, nil)
	pressURL := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": UserA, "team_id": team}, "team": map[string]any{"id": team},
		"container":    map[string]any{"type": "message", "message_ts": "1700000001.000001", "channel_id": "C1", "is_ephemeral": true},
		"channel":      map[string]any{"id": "C1"},
		"response_url": "https://hooks.slack.com/actions/" + team + "/7012345679/respsecret-8d7c1f",
		"actions":      []any{map[string]any{"action_id": "itfit_restart", "value": "restart", "type": "button"}},
	}
	raw, _ := json.Marshal(pressURL)
	slack("/slack/interactions", form2, []byte(url.Values{"payload": {string(raw)}}.Encode()), signingSecret, now, nil)
	waitForSeries(t, b.base, `itfit_platform_calls_total{call="response_url",outcome="failed",platform="slack"}`)

	// Teams: valid, forged, and a failing connector.
	// Activity IDs are claimed for 10 minutes (redeliveries have one
	// effect), so each run sends IDs of its own.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	activity := func(text string) []byte {
		a := map[string]any{
			// Each activity its own ID, as Teams gives them: a repeated ID
			// is a redelivery, which has no second effect.
			"type": "message", "id": "1-" + text + "-" + run, "serviceUrl": bf.ServiceURL(), "channelId": "msteams", "text": text,
			"from":         map[string]any{"id": "29:1log", "aadObjectId": "aad-" + team, "name": "Log Tester"},
			"recipient":    map[string]any{"id": "28:" + bftest.AppID, "name": "itfit"},
			"conversation": map[string]any{"conversationType": "personal", "tenantId": "tenant-" + team, "id": "a:" + team},
			"channelData":  map[string]any{"tenant": map[string]any{"id": "tenant-" + team}},
		}
		raw, _ := json.Marshal(a)
		return raw
	}
	teamsPost := func(body []byte, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, b.base+"/api/messages", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	valid := bf.Authorization(t, bf.ServiceURL())
	secrets = append(secrets, strings.TrimPrefix(valid, "Bearer "))
	forge := func(edit func(jwt.MapClaims)) string {
		c := bf.Claims(bf.ServiceURL())
		edit(c)
		tok := bf.Sign(t, c)
		secrets = append(secrets, tok)
		return "Bearer " + tok
	}
	if code := teamsPost(activity("hi"), valid); code != 200 {
		t.Errorf("valid activity: %d", code)
	}
	for name, auth := range map[string]string{
		"expired":      forge(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"audience":     forge(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"service url":  forge(func(c jwt.MapClaims) { c["serviceurl"] = "https://evil.example/" }),
		"no scheme":    strings.TrimPrefix(valid, "Bearer "),
		"basic":        "Basic " + "bG9nOnNlY3JldA==",
		"garbage":      "Bearer not-a-jwt-but-secret-looking-4711",
		"missing auth": "",
	} {
		if code := teamsPost(activity("hi"), auth); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	secrets = append(secrets, "bG9nOnNlY3JldA==", "not-a-jwt-but-secret-looking-4711")
	// Download links: a valid one used twice, and a forged one.
	linkRedis, err := redisconn.Open(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer linkRedis.Close()
	secret, _ := base64.StdEncoding.DecodeString(deskSecret)
	signer, err := links.New(links.Options{Secret: secret, PublicURL: cfg.PublicURL, Redis: linkRedis})
	if err != nil {
		t.Fatal(err)
	}
	link, _, _ := signer.Mint(links.Claims{Kind: links.ExportCSV, Platform: "slack", Workspace: team, Users: []conversation.UserID{UserA}})
	token := strings.TrimPrefix(link, cfg.PublicURL+"/export/")
	for _, tok := range []string{token, token, token + "x"} {
		if resp, err := http.Get(b.base + "/export/" + tok); err == nil {
			resp.Body.Close()
		}
	}
	secrets = append(secrets, deskSecret, token)
	bf.FailWith(http.StatusInternalServerError)
	teamsPost(activity("status"), valid)
	waitForSeries(t, b.base, `itfit_platform_calls_total{call="send_to_conversation",outcome="failed",platform="teams"}`)
	waitForSeries(t, b.base, `itfit_platform_calls_total{call="conversations.open",outcome="failed",platform="slack"}`)

	b.stop()
	logs := b.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds a secret or token %.12q...", s)
		}
	}
	// Bot Connector access tokens handed out by the fake, and any JWT.
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`bot-token-\d+`), regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}`), regexp.MustCompile(`xox[abp]-`), regexp.MustCompile(`v0=[0-9a-f]{64}`)} {
		if m := re.FindString(logs); m != "" {
			t.Errorf("the log holds %q", m)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line %d is not JSON: %q", i+1, line)
		}
	}
	for _, want := range []string{"slack request refused", "teams: rejected activity", "invalid_auth", "hooks.slack.com"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q: the requests did not reach what they test", want)
		}
	}
}

// UserA is the Slack user of the log test.
const UserA = "ULOGSECRET1"
