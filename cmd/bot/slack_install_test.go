package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/slackauth"
	"github.com/itfit/itfit/internal/testkit"
)

// slackCall is one Web API request the fake received, with the token it
// carried (Authorization: Bearer, or the form's token field).
type slackCall struct {
	method, token string
	form          url.Values
}

// fakeSlackCloud is Slack for a distributed itfit: oauth.v2.access (code
// exchange and token refresh) and the Web API, recording every call.
type fakeSlackCloud struct {
	srv *httptest.Server

	mu        sync.Mutex
	calls     []slackCall
	codes     map[string]string // code -> team it installs
	refreshes int
	ts        int
}

func newFakeSlackCloud(t *testing.T) *fakeSlackCloud {
	f := &fakeSlackCloud{codes: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlackCloud) serve(w http.ResponseWriter, r *http.Request) {
	parseWebAPI(r)
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	// slack-go v0.35 sends a Web API method's token in the form body; a
	// client that uses the header is read the same way.
	tok := r.PostForm.Get("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == "oauth.v2.access" {
		user, pass, ok := r.BasicAuth()
		if !ok {
			user, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if user != "cid" || pass != "csecret" {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_client"}`)
			return
		}
		if r.PostForm.Get("grant_type") == "refresh_token" {
			f.refreshes++
			team := strings.TrimPrefix(r.PostForm.Get("refresh_token"), "xoxe-refresh-")
			fmt.Fprintf(w, `{"ok":true,"access_token":"xoxb-%s-refreshed","token_type":"bot","refresh_token":"xoxe-refresh-%s","expires_in":43200,"team":{"id":%q}}`, team, team, team)
			return
		}
		team, ok := f.codes[r.PostForm.Get("code")]
		if !ok {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_code"}`)
			return
		}
		delete(f.codes, r.PostForm.Get("code"))
		fmt.Fprintf(w, `{"ok":true,"access_token":"xoxb-%s","token_type":"bot","scope":"commands,chat:write,im:write,users:read","bot_user_id":"UBOT","app_id":"A1","team":{"id":%q,"name":"Team %s"},"authed_user":{"id":"UADMIN"}}`, team, team, team)
		return
	}
	f.calls = append(f.calls, slackCall{method: method, token: tok, form: r.PostForm})
	switch method {
	case "conversations.open":
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, r.PostForm.Get("users"))
	case "chat.postMessage":
		f.ts++
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1700000000.%06d"}`, r.PostForm.Get("channel"), f.ts)
	case "users.info":
		// U404 has left: Slack answers user_not_found. Everyone else is
		// named after their ID and their workspace's token.
		u := r.PostForm.Get("user")
		if u == "U404" {
			fmt.Fprint(w, `{"ok":false,"error":"user_not_found"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"name":"handle","real_name":"Full %[1]s","tz":"Europe/Paris","profile":{"display_name":"Ana %[1]s of %[2]s","real_name":"Full %[1]s"}}}`, u, tok)
	default:
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
	}
}

func (f *fakeSlackCloud) allCalls() []slackCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackCall(nil), f.calls...)
}

func (f *fakeSlackCloud) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// distributed is `bot serve`'s Slack wiring (mountSlack) with Add to Slack
// on, over real Redis, the fake Slack and an injected revisit clock.
type distributed struct {
	t        *testing.T
	fake     *fakeSlackCloud
	srv      *httptest.Server
	bg       *background.Group
	engine   *conversation.Engine
	sched    *schedule.Store
	revisits *revisit.Service
	rdb      redistest.Backend
	store    *slackauth.Store // a second replica's view of the same installations
	now      time.Time
	mu       sync.Mutex
	teams    map[string]string // short name -> random team ID of this run
}

const distSecret = "dist-signing-secret"

func newDistributed(t *testing.T, managers func(team func(string) string) string) *distributed {
	t.Helper()
	rb := redistest.Real(t)
	d := &distributed{t: t, fake: newFakeSlackCloud(t), rdb: rb, now: time.Now(), teams: map[string]string{}}
	key := "k1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cfg := Config{
		PublicURL: "https://itfit.example.com", EncryptionKey: key,
		Slack:        slackapp.Config{SigningSecret: distSecret, APIURL: d.fake.srv.URL + "/api"},
		SlackInstall: slackauth.Config{ClientID: "cid", ClientSecret: "csecret", Scopes: slackauth.DefaultScopes, AuthorizeURL: d.fake.srv.URL + "/oauth/v2/authorize"},
	}
	dir := revisit.Directory{}
	if managers != nil {
		var err error
		if dir, err = revisit.ParseDirectory(managers(d.team), platformRules()); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	d.bg = background.New(log, 64, 30*time.Second)
	d.engine = conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	d.sched = schedule.NewStore(rb.Client, schedule.StoreConfig{Prefix: rb.Prefix})
	d.revisits = revisit.New(rb.Client, d.sched, d.engine, revisit.Config{Prefix: rb.Prefix, After: 30 * time.Second, Managers: dir, Platforms: platformRules(), Now: d.clock})
	mux := http.NewServeMux()
	if _, err := mountSlack(cfg, log, deps{engine: d.engine, rdb: rb.Client, metrics: obs.NewMetrics(), bg: d.bg, revisits: d.revisits}, mux); err != nil {
		t.Fatal(err)
	}
	box, err := secretbox.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	if d.store, err = slackauth.NewStore(slackauth.StoreOptions{Redis: rb.Client, Box: box, CacheTTL: -1}); err != nil {
		t.Fatal(err)
	}
	d.srv = httptest.NewServer(obs.Middleware(log, obs.NewMetrics(), mux))
	t.Cleanup(func() {
		_ = d.bg.Wait(context.Background())
		d.srv.Close()
		// The adapter and the store use the default prefix; this run's
		// team IDs are its own.
		for _, team := range d.teams {
			_, _ = d.store.Delete(context.Background(), "", team)
			n, _ := rb.Client.Keys(context.Background(), "itfit:*"+team+"*").Result()
			if len(n) > 0 {
				rb.Client.Del(context.Background(), n...)
			}
		}
	})
	return d
}

func (d *distributed) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *distributed) advance(by time.Duration) {
	d.mu.Lock()
	d.now = d.now.Add(by)
	d.mu.Unlock()
}

// team is this run's ID for a workspace, so runs on one Redis never meet.
func (d *distributed) team(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.teams[name]; ok {
		return id
	}
	id := "T" + strings.ToUpper(name) + strconv.FormatUint(rand.Uint64()%1e9, 10)
	d.teams[name] = id
	return id
}

func (d *distributed) wait() {
	d.t.Helper()
	if err := d.bg.Wait(context.Background()); err != nil {
		d.t.Fatal(err)
	}
}

// noRedirect is a browser that stops at each redirect, to read it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// startInstall follows "Add to Slack" to Slack's consent page and returns
// the state it carries and the browser's cookie.
func (d *distributed) startInstall() (state string, cookie *http.Cookie) {
	d.t.Helper()
	resp, err := noRedirect.Get(d.srv.URL + slackauth.InstallPath)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), d.fake.srv.URL+"/oauth/v2/authorize") {
		d.t.Fatalf("install = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("redirect_uri") != "https://itfit.example.com/slack/oauth/callback" || loc.Query().Get("client_id") != "cid" {
		d.t.Fatalf("authorize query = %v", loc.Query())
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		d.t.Fatalf("cookies = %v", cs)
	}
	return loc.Query().Get("state"), cs[0]
}

// callback is Slack sending the browser back with a code.
func (d *distributed) callback(state, code string, cookie *http.Cookie) (int, string) {
	d.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, d.srv.URL+slackauth.CallbackPath+"?"+url.Values{"state": {state}, "code": {code}}.Encode(), nil)
	if cookie != nil {
		// Set by hand: the cookie is Secure, and this test server is http.
		req.AddCookie(cookie)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// install runs the whole flow for a workspace.
func (d *distributed) install(name string) {
	d.t.Helper()
	team := d.team(name)
	code := "code-" + team
	d.fake.mu.Lock()
	d.fake.codes[code] = team
	d.fake.mu.Unlock()
	state, cookie := d.startInstall()
	if code, page := d.callback(state, code, cookie); code != http.StatusOK || !strings.Contains(page, "itfit is installed in Team "+team) {
		d.t.Fatalf("callback = %d %s", code, page)
	}
}

func (d *distributed) signed(path, contentType, body string) (int, string) {
	d.t.Helper()
	return postSigned(d.t, d.srv.URL, path, contentType, []byte(body), distSecret)
}

// command sends a signed /itfit from a user of a workspace; its
// response_url is not Slack's, so replies fall back to the DM.
func (d *distributed) command(team, user, text string) string {
	d.t.Helper()
	body := url.Values{"team_id": {team}, "user_id": {user}, "channel_id": {"C1"}, "command": {"/itfit"}, "text": {text},
		"response_url": {"http://127.0.0.1:1/not-slack"}}.Encode()
	code, ack := d.signed("/slack/commands", "application/x-www-form-urlencoded", body)
	if code != http.StatusOK {
		d.t.Fatalf("/itfit = %d %s", code, ack)
	}
	return ack
}

// click sends a signed block_actions payload from a user of a workspace.
func (d *distributed) click(team, user, channel, ts string, action map[string]any) {
	d.t.Helper()
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "team_id": team}, "team": map[string]any{"id": team},
		"channel": map[string]any{"id": channel}, "container": map[string]any{"type": "message", "channel_id": channel, "message_ts": ts},
		"actions": []any{action},
	}
	if channel == "" { // the App Home's Start button
		delete(p, "channel")
		p["container"] = map[string]any{"type": "view", "view_id": "V1"}
	}
	b, _ := json.Marshal(p)
	if code, out := d.signed("/slack/interactions", "application/x-www-form-urlencoded", url.Values{"payload": {string(b)}}.Encode()); code != http.StatusOK {
		d.t.Fatalf("click = %d %s", code, out)
	}
}

func (d *distributed) event(team, id string, ev map[string]any) {
	d.t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": team, "event_id": id, "event": ev})
	if code, out := d.signed("/slack/events", "application/json", string(b)); code != http.StatusOK {
		d.t.Fatalf("event = %d %s", code, out)
	}
}

// finish completes an audit on the engine, as the DM buttons would.
func (d *distributed) finish(team, user string) conversation.Key {
	d.t.Helper()
	k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(team), User: conversation.UserID(user)}, Conversation: conversation.ConversationID("D" + user)}
	r, err := d.engine.Restart(d.t.Context(), k)
	for err == nil && r.Question != nil {
		r, err = d.engine.Answer(d.t.Context(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{r.Question.Options[0].ID}})
	}
	if err != nil {
		d.t.Fatal(err)
	}
	return k
}

// deliver runs the revisit worker until nothing is due at the clock.
func (d *distributed) deliver() {
	d.t.Helper()
	ctx, cancel := context.WithCancel(d.t.Context())
	defer cancel()
	w := schedule.NewWorker(d.sched, d.revisits, schedule.WorkerConfig{Now: d.clock, Sleep: func(context.Context, time.Duration) { cancel() }, Logger: slog.New(slog.DiscardHandler)})
	if err := w.Run(ctx); err != nil {
		d.t.Fatal(err)
	}
}

// callsFor returns the Web API calls that concern a user (opening their DM
// or posting to it).
func callsFor(calls []slackCall, user string) []slackCall {
	var out []slackCall
	for _, c := range calls {
		if c.form.Get("users") == user || c.form.Get("channel") == "D"+user || c.form.Get("user") == user {
			out = append(out, c)
		}
	}
	return out
}

// TestAddToSlackThenAuditWithThatWorkspacesToken installs a workspace
// through /slack/install and the callback against the local
// oauth.v2.access (a replayed, a forged and a cookieless state refused),
// then runs /itfit and an answer there: every Web API call carries the
// token that installation stored.
func TestAddToSlackThenAuditWithThatWorkspacesToken(t *testing.T) {
	d := newDistributed(t, nil)
	a := d.team("a")

	// Before the install: a polite note with the link, no Web API call.
	if ack := d.command(a, "U1", ""); !strings.Contains(ack, "isn't installed in this workspace") || !strings.Contains(ack, "https://itfit.example.com/slack/install") {
		t.Fatalf("ack before install = %s", ack)
	}
	d.wait()
	if n := len(d.fake.allCalls()); n != 0 {
		t.Fatalf("%d Web API calls for a workspace without an installation", n)
	}

	d.fake.codes["code-a"] = a
	state, cookie := d.startInstall()
	if code, _ := d.callback("forged-state", "code-a", cookie); code != http.StatusBadRequest {
		t.Fatalf("forged state: %d", code)
	}
	other, _ := d.startInstall()
	if code, _ := d.callback(other, "code-a", nil); code != http.StatusBadRequest {
		t.Fatalf("state without its browser's cookie: %d", code)
	}
	if code, page := d.callback(state, "code-a", cookie); code != http.StatusOK || !strings.Contains(page, "itfit is installed") {
		t.Fatalf("callback = %d %s", code, page)
	}
	d.fake.codes["code-a2"] = a
	if code, _ := d.callback(state, "code-a2", cookie); code != http.StatusBadRequest {
		t.Fatalf("replayed state: %d", code)
	}
	if in, err := d.store.Get(t.Context(), "", a); err != nil || in.BotToken.Reveal() != "xoxb-"+a {
		t.Fatalf("stored installation = %v, %v", in, err)
	}

	if ack := d.command(a, "U1", ""); !strings.Contains(ack, "direct messages") {
		t.Fatalf("ack = %s", ack)
	}
	d.wait()
	calls := d.fake.allCalls()
	// users.info once, for the person's locale.
	if len(calls) != 3 || calls[0].method != "conversations.open" || calls[1].method != "users.info" || calls[2].method != "chat.postMessage" {
		t.Fatalf("calls = %+v", calls)
	}
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(calls[2].form.Get("blocks")), &blocks)
	answer := firstAnswerButton(t, blocks)
	d.click(a, "U1", "DU1", "1700000000.000001", answer)
	d.wait()
	calls = d.fake.allCalls()
	// The next question first, then the answered one loses its buttons;
	// no second users.info: the locale is kept.
	if len(calls) != 5 || calls[3].method != "chat.postMessage" || calls[4].method != "chat.update" {
		t.Fatalf("after the answer, calls = %+v", calls)
	}
	for _, c := range calls {
		if c.token != "xoxb-"+a {
			t.Errorf("%s carried token %q, want the installation's", c.method, c.token)
		}
	}
}

// firstAnswer is the first answer button of a question message.
func firstAnswerButton(t *testing.T, blocks []map[string]any) map[string]any {
	t.Helper()
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			m, _ := e.(map[string]any)
			if id, _ := m["action_id"].(string); strings.HasPrefix(id, "itfit_answer:") {
				return map[string]any{"action_id": id, "value": m["value"], "type": "button"}
			}
		}
	}
	t.Fatalf("no answer button in %v", blocks)
	return nil
}

// TestTwoWorkspacesNeverCross: the same user ID in two installed
// workspaces. Each request acts with its own workspace's token and data
// only, and uninstalling one leaves the other's token and nudges alone.
func TestTwoWorkspacesNeverCross(t *testing.T) {
	d := newDistributed(t, nil)
	a, b := d.team("a"), d.team("b")
	d.install("a")
	d.install("b")

	d.command(b, "U1", "")
	d.wait()
	kb := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(b), User: "U1"}, Conversation: "DU1"}
	before, err := d.engine.Status(t.Context(), kb)
	if err != nil || before.Question == nil {
		t.Fatalf("B's audit = %+v, %v", before, err)
	}
	n := len(d.fake.allCalls())

	// A's U1 starts, then answers with a button of B's message: it can
	// only ever reach A's own audit, with A's token.
	d.command(a, "U1", "")
	d.wait()
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(d.fake.allCalls()[n+2].form.Get("blocks")), &blocks) // after conversations.open and users.info
	d.click(a, "U1", "DU1", "1700000000.000002", firstAnswerButton(t, blocks))
	d.wait()
	for _, c := range d.fake.allCalls()[n:] {
		if c.token != "xoxb-"+a {
			t.Errorf("a request from A made %s with %q", c.method, c.token)
		}
	}
	after, err := d.engine.Status(t.Context(), kb)
	if err != nil || after.Rev != before.Rev || after.Position != before.Position {
		t.Fatalf("B's audit moved: %+v -> %+v (%v)", before, after, err)
	}

	// Nudges: each user's goes out with its own workspace's token.
	for _, team := range []string{a, b} {
		k := d.finish(team, "U2")
		if _, err := d.revisits.Remind(t.Context(), k, ""); err != nil {
			t.Fatal(err)
		}
	}
	n = len(d.fake.allCalls())
	d.advance(time.Minute)
	d.deliver()
	nudges := d.fake.allCalls()[n:]
	if len(nudges) != 4 {
		t.Fatalf("nudge calls = %+v", nudges)
	}
	tokens := map[string]int{}
	for _, c := range nudges {
		tokens[c.token]++
	}
	if tokens["xoxb-"+a] != 2 || tokens["xoxb-"+b] != 2 {
		t.Fatalf("nudge tokens = %v", tokens)
	}
}

// TestUninstallForgetsTheWorkspace: app_uninstalled removes the
// installation and every scheduled nudge of that workspace (user and
// manager), leaves another workspace's, and a later /itfit gets the "not
// installed" note without any Web API call.
func TestUninstallForgetsTheWorkspace(t *testing.T) {
	d := newDistributed(t, func(team func(string) string) string {
		return "slack:" + team("a") + "=UMGR," + "slack:" + team("b") + "=UMGRB"
	})
	a, b := d.team("a"), d.team("b")
	d.install("a")
	d.install("b")
	for _, team := range []string{a, b} {
		for _, u := range []string{"U1", "U2"} {
			if _, err := d.revisits.Remind(t.Context(), d.finish(team, u), ""); err != nil {
				t.Fatal(err)
			}
		}
	}

	d.event(a, "Ev1", map[string]any{"type": "app_uninstalled"})
	d.wait()
	if n := d.rdb.Client.Exists(t.Context(), keys.Default.SlackInstallation("", a)).Val(); n != 0 {
		t.Fatal("A's installation is still in Redis")
	}
	if _, err := d.store.Get(t.Context(), "", b); err != nil {
		t.Fatalf("B's installation: %v", err)
	}
	for _, id := range []string{"user/slack/" + a + "/U1", "manager/slack/" + a + "/U1", "user/slack/" + a + "/U2", "manager/slack/" + a + "/U2"} {
		if _, err := d.sched.Get(t.Context(), id); err != schedule.ErrNotFound {
			t.Errorf("%s after uninstall: %v", id, err)
		}
	}
	if rs, err := d.revisits.List(t.Context(), conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(b), User: "U1"}); err != nil || len(rs) != 2 {
		t.Fatalf("B's nudges = %v, %v", rs, err)
	}

	n := len(d.fake.allCalls())
	if ack := d.command(a, "U1", ""); !strings.Contains(ack, "isn't installed in this workspace") {
		t.Fatalf("ack after uninstall = %s", ack)
	}
	d.event(a, "Ev2", map[string]any{"type": "app_home_opened", "user": "U1", "tab": "home"})
	d.wait()
	if calls := d.fake.allCalls()[n:]; len(calls) != 0 {
		t.Fatalf("Web API calls for an uninstalled workspace: %+v", calls)
	}
	// A redelivered uninstall is harmless.
	d.event(a, "Ev1", map[string]any{"type": "app_uninstalled"})
	// tokens_revoked naming user tokens only is not an uninstall.
	d.event(b, "Ev3", map[string]any{"type": "tokens_revoked", "tokens": map[string]any{"oauth": []string{"U1"}}})
	d.wait()
	if _, err := d.store.Get(t.Context(), "", b); err != nil {
		t.Fatalf("B's installation after a user-token revocation: %v", err)
	}
	d.event(b, "Ev4", map[string]any{"type": "tokens_revoked", "tokens": map[string]any{"bot": []string{"UBOT"}}})
	d.wait()
	if _, err := d.store.Get(t.Context(), "", b); err != slackauth.ErrNotInstalled {
		t.Fatalf("B's installation after its bot token was revoked: %v", err)
	}
}

// TestExpiredTokenRefreshedOnceUnderConcurrentClicks: a rotating token that
// has expired, and twenty signed clicks at once: one oauth.v2.access
// refresh, and every Web API call carries the new token.
func TestExpiredTokenRefreshedOnceUnderConcurrentClicks(t *testing.T) {
	d := newDistributed(t, nil)
	r := d.team("r")
	err := d.store.Save(t.Context(), slackauth.Installation{
		Workspace: slackauth.Workspace{Team: r}, BotToken: slackauth.Secret("xoxb-" + r + "-old"),
		RefreshToken: slackauth.Secret("xoxe-refresh-" + r), ExpiresAt: time.Now().Add(-time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	const clicks = 20
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.click(r, fmt.Sprintf("U%d", i), "", "", map[string]any{"action_id": "itfit_home_start", "value": "start", "type": "button"})
		}()
	}
	wg.Wait()
	d.wait()
	if n := d.fake.refreshCount(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	calls := d.fake.allCalls()
	// Each of the twenty people: conversations.open, users.info (their
	// locale, once), chat.postMessage.
	if len(calls) != 3*clicks {
		t.Fatalf("%d Web API calls, want %d", len(calls), 3*clicks)
	}
	for _, c := range calls {
		if c.token != "xoxb-"+r+"-refreshed" {
			t.Fatalf("%s carried %q", c.method, c.token)
		}
	}
}

// TestManagerInTheProviderWorkspace: ITFIT_ACCOUNT_MANAGERS points client
// workspace A at UMGR in provider workspace P. The manager's nudge goes out
// with P's token; their Invite, clicked in P, reaches the client in A with
// A's token; a forged Invite naming a user of another workspace, or a
// click by someone who is not the manager, sends nothing.
func TestManagerInTheProviderWorkspace(t *testing.T) {
	d := newDistributed(t, func(team func(string) string) string {
		return "slack:" + team("a") + "=" + team("p") + "/UMGR," + "slack:" + team("b") + "=UMGRB"
	})
	a, b, p := d.team("a"), d.team("b"), d.team("p")
	d.install("a")
	d.install("b")
	d.install("p")
	for _, team := range []string{a, b} {
		if _, err := d.revisits.Remind(t.Context(), d.finish(team, "U1"), ""); err != nil {
			t.Fatal(err)
		}
	}
	d.advance(time.Minute)
	d.deliver()
	mgr := callsFor(d.fake.allCalls(), "UMGR")
	if len(mgr) != 2 || mgr[1].method != "chat.postMessage" {
		t.Fatalf("manager calls = %+v", mgr)
	}
	for _, c := range mgr {
		if c.token != "xoxb-"+p {
			t.Fatalf("manager %s carried %q, want P's token", c.method, c.token)
		}
	}
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(mgr[1].form.Get("blocks")), &blocks)
	var invite map[string]any
	for _, bl := range blocks {
		els, _ := bl["elements"].([]any)
		for _, e := range els {
			if m, _ := e.(map[string]any); m["action_id"] == "itfit_invite" {
				invite = map[string]any{"action_id": "itfit_invite", "value": m["value"], "type": "button"}
			}
		}
	}
	// The client, and the language the nudge is in.
	if invite == nil || invite["value"] != a+"/U1#en" {
		t.Fatalf("invite button = %v", invite)
	}

	invited := func(team string) int {
		n := 0
		for _, c := range callsFor(d.fake.allCalls(), "U1") {
			if c.method == "chat.postMessage" && c.token == "xoxb-"+team && strings.Contains(c.form.Get("text"), "invited you") {
				n++
			}
		}
		return n
	}
	// Forged: B's client named from P; someone else in P; UMGR clicking
	// from a workspace that is not P.
	d.click(p, "UMGR", "DUMGR", "1700000000.000009", map[string]any{"action_id": "itfit_invite", "value": b + "/U1", "type": "button"})
	d.click(p, "UOTHER", "DUOTHER", "1700000000.000009", invite)
	d.click(b, "UMGR", "DUMGR", "1700000000.000009", invite)
	d.wait()
	if invited(a)+invited(b) != 0 {
		t.Fatal("a forged or foreign Invite reached a client")
	}
	d.click(p, "UMGR", "DUMGR", "1700000000.000009", invite)
	d.wait()
	if invited(a) != 1 || invited(b) != 0 {
		t.Fatalf("invitations: A %d, B %d; want one in A", invited(a), invited(b))
	}
}

// TestManagerInTheProviderWorkspaceSeesClientsByName: a mention of a
// client's user ID means nothing in the provider's workspace, so the
// manager's nudge names the client in words (their Slack name, read with
// their own workspace's token, and the workspace's name);
// a client Slack no longer knows is named by ID, and the nudge still goes.
// A manager in the client's own workspace gets a mention.
func TestManagerInTheProviderWorkspaceSeesClientsByName(t *testing.T) {
	d := newDistributed(t, func(team func(string) string) string {
		return "slack:" + team("a") + "=" + team("p") + "/UMGR," + "slack:" + team("b") + "=UMGRB"
	})
	a, b, p := d.team("a"), d.team("b"), d.team("p")
	d.install("a")
	d.install("b")
	d.install("p")
	for _, c := range []struct{ team, user string }{{a, "U1"}, {a, "U404"}, {b, "U2"}} {
		if _, err := d.revisits.Remind(t.Context(), d.finish(c.team, c.user), ""); err != nil {
			t.Fatal(err)
		}
	}
	d.advance(time.Minute)
	d.deliver()

	var toP, toB []string
	for _, c := range d.fake.allCalls() {
		if c.method != "chat.postMessage" {
			continue
		}
		switch c.form.Get("channel") {
		case "DUMGR":
			toP = append(toP, testkit.JSONStrings(t, []byte(c.form.Get("blocks"))))
			if c.token != "xoxb-"+p {
				t.Fatalf("a nudge to the manager in P carried %q", c.token)
			}
		case "DUMGRB":
			toB = append(toB, testkit.JSONStrings(t, []byte(c.form.Get("blocks"))))
		}
	}
	if len(toP) != 2 || len(toB) != 1 {
		t.Fatalf("manager nudges: %d in P, %d in B; want 2 and 1", len(toP), len(toB))
	}
	var named, byID bool
	for _, blocks := range toP {
		if strings.Contains(blocks, "<@") {
			t.Fatalf("a nudge in the provider's workspace mentions a client ID:\n%s", blocks)
		}
		named = named || strings.Contains(blocks, "*Ana U1 of xoxb-"+a+"* (*Team "+a+"*)")
		byID = byID || strings.Contains(blocks, "*a client (Slack user U404)* (*Team "+a+"*)")
	}
	if !named || !byID {
		t.Fatalf("nudges in P do not name the clients (by name %v, by ID %v):\n%s", named, byID, strings.Join(toP, "\n"))
	}
	if !strings.Contains(toB[0], "<@U2>") {
		t.Fatalf("the manager in the client's own workspace should get a mention:\n%s", toB[0])
	}

}

// TestSlackInstallConfig: Add to Slack needs no SLACK_BOT_TOKEN, refuses one
// alongside it, and a half-set install names what is missing.
func TestSlackInstallConfig(t *testing.T) {
	key := "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	full := Config{PublicURL: "https://itfit.example.com", EncryptionKey: key,
		Slack:        slackapp.Config{SigningSecret: "s"},
		SlackInstall: slackauth.Config{ClientID: "cid", ClientSecret: "cs", Scopes: slackauth.DefaultScopes}}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"complete, no bot token", func(*Config) {}, ""},
		{"no client secret", func(c *Config) { c.SlackInstall.ClientSecret = "" }, "SLACK_CLIENT_SECRET"},
		{"no public URL", func(c *Config) { c.PublicURL = "" }, "ITFIT_PUBLIC_URL"},
		{"no encryption key", func(c *Config) { c.EncryptionKey = "" }, "ITFIT_ENCRYPTION_KEY"},
		{"no signing secret", func(c *Config) { c.Slack.SigningSecret = "" }, "SLACK_SIGNING_SECRET"},
		{"a bot token too", func(c *Config) { c.Slack.BotToken = "xoxb-1" }, "set one or the other"},
		{"single workspace", func(c *Config) { c.SlackInstall = slackauth.Config{}; c.Slack.BotToken = "xoxb-1" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := full
			tc.edit(&c)
			err := c.validateSlack()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("validateSlack = %v, want %q", err, tc.want)
			}
		})
	}
}
