package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/testkit"
)

// These tests run whole `bot serve` processes in-process on loopback ports,
// against the real Redis (through a proxy the test can cut) and a local fake
// Slack Web API, and drive them only through their HTTP endpoints. Nothing
// waits on a clock: the fake Web API reports every message on a channel and
// the tests wait for the one they expect (bounded, to fail rather than hang).

const faultSecret = "fault-signing-secret-0123456789"

// postedMsg is a chat.postMessage the bot made.
type postedMsg struct {
	Channel, TS, Text string
	Blocks            []map[string]any
}

// webAPIFake is Slack's Web API as far as the bot uses it.
type webAPIFake struct {
	srv   *httptest.Server
	posts chan postedMsg

	mu      sync.Mutex
	ts      int
	failing map[string]string // method -> Slack error to answer with
	limited map[string]int    // method -> 429s to answer first
	gate    chan struct{}     // when set, conversations.open waits for it
	calls   map[string]int
}

func newWebAPIFake(t *testing.T) *webAPIFake {
	f := &webAPIFake{posts: make(chan postedMsg, 256), failing: map[string]string{}, limited: map[string]int{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *webAPIFake) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	parseWebAPI(r)
	f.mu.Lock()
	f.calls[method]++
	gate := f.gate
	f.mu.Unlock()
	if gate != nil && method == "conversations.open" {
		<-gate
	}
	f.mu.Lock()
	if f.limited[method] > 0 {
		f.limited[method]--
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	failure := f.failing[method]
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if failure != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, failure)
		return
	}
	switch method {
	case "conversations.open":
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, r.PostForm.Get("users"))
	case "chat.postMessage":
		m := postedMsg{Channel: r.PostForm.Get("channel"), TS: ts, Text: r.PostForm.Get("text")}
		_ = json.Unmarshal([]byte(r.PostForm.Get("blocks")), &m.Blocks)
		f.posts <- m
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, m.Channel, ts)
	case "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
	case "users.info":
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"tz":"Europe/Paris"}}`, r.PostForm.Get("user"))
	case "views.publish":
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V1"}}`)
	default:
		fmt.Fprint(w, `{"ok":true}`)
	}
}

func (f *webAPIFake) set(fn func(f *webAPIFake)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

// next waits for the bot's next message; the bound only turns a hang into
// a failure.
func (f *webAPIFake) next(t *testing.T) postedMsg {
	t.Helper()
	select {
	case m := <-f.posts:
		return m
	case <-time.After(60 * time.Second):
		t.Fatal("the bot posted nothing")
		return postedMsg{}
	}
}

// servedBot is one running `bot serve`.
type servedBot struct {
	base string
	logs *testkit.Buffer
	stop func()
}

// startServed runs serve on a loopback port until stop (or the test's end).
func startServed(t *testing.T, cfg Config) *servedBot {
	t.Helper()
	cfg.DrainDelay = 0
	cfg.ShutdownTimeout = 30 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &servedBot{base: "http://" + ln.Addr().String(), logs: &testkit.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), ln)
	}()
	var once sync.Once
	b.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(b.stop)
	waitFor(t, b.base+"/healthz", http.StatusOK)
	return b
}

// serveSlackCfg is a configuration with Slack on, its Web API at the fake.
func serveSlackCfg(t *testing.T, redisURL string, api *webAPIFake) Config {
	t.Helper()
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedisURL = redisURL
	cfg.Slack = slackapp.Config{SigningSecret: faultSecret, BotToken: "xoxb-fault-test-token", APIURL: api.srv.URL + "/api"}
	return cfg
}

// serveRedis returns the test Redis's URL and a client, and deletes every
// key the test's team left behind (serve uses the production prefix).
func serveRedis(t *testing.T, team string) (string, redis.UniversalClient) {
	t.Helper()
	u := redistest.RealURL(t)
	rdb, err := redisconn.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ks, _ := rdb.Keys(context.Background(), "itfit:*"+team+"*").Result()
		if len(ks) > 0 {
			rdb.Del(context.Background(), ks...)
		}
		rdb.Close()
	})
	return u, rdb
}

// signedUsed is every (timestamp, body) postSigned has signed: the same
// body signed at the same second is the same signature, a replay.
var (
	signedMu   sync.Mutex
	signedUsed = map[string]bool{}
)

// signedAt is the latest second of the window at which body has not been
// signed yet. (Counting posts back from now collided whenever a second
// passed between two posts of one body: the same /itfit before and after
// an install, refused as a replay.)
func signedAt(body []byte) string {
	signedMu.Lock()
	defer signedMu.Unlock()
	now := time.Now().Unix()
	for off := int64(0); off < 240; off++ {
		k := strconv.FormatInt(now-off, 10) + "\x00" + string(body)
		if !signedUsed[k] {
			signedUsed[k] = true
			return strconv.FormatInt(now-off, 10)
		}
	}
	return strconv.FormatInt(now, 10)
}

// postSigned sends body to path with a valid Slack signature.
func postSigned(t *testing.T, base, path, ctype string, body []byte, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	// Slack signs each delivery as it sends it, so no two of its requests
	// share a signature (one that does is a replay, and refused): each post
	// here is signed at its own second of the window.
	ts := signedAt(body)
	req.Header.Set(slackapi.HeaderTimestamp, ts)
	req.Header.Set(slackapi.HeaderSignature, slackapi.Sign(secret, ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postSlash(t *testing.T, base, team, user, text string) (int, string) {
	t.Helper()
	// No response_url: serve only posts to Slack's own hosts, and a test
	// must not reach the internet; notes go to the DM instead.
	form := url.Values{"team_id": {team}, "user_id": {user}, "channel_id": {"C1"}, "command": {"/itfit"}, "text": {text}}
	return postSigned(t, base, "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), faultSecret)
}

// clickFirstAnswer clicks the first option of the question in m (ticking the
// first box and pressing Continue on a multi-select) through base.
func clickFirstAnswer(t *testing.T, base, team, user string, m postedMsg) {
	t.Helper()
	act, checked := pickFirstAnswer(t, m)
	if code, body := postSigned(t, base, "/slack/interactions", "application/x-www-form-urlencoded", blockActions(t, team, user, m, act, checked), faultSecret); code != http.StatusOK {
		t.Fatalf("click: %d %s", code, body)
	}
}

func pickFirstAnswer(t *testing.T, m postedMsg) (map[string]any, []string) {
	t.Helper()
	var checks []string
	var answer, cont map[string]any
	for _, b := range m.Blocks {
		els, _ := b["elements"].([]any)
		if acc, ok := b["accessory"].(map[string]any); ok {
			els = append(els, acc)
		}
		for _, e := range els {
			el, _ := e.(map[string]any)
			id, _ := el["action_id"].(string)
			switch {
			case strings.HasPrefix(id, "itfit_answer:") && answer == nil:
				answer = el
			case id == "itfit_continue":
				cont = el
			case id == "itfit_check":
				for _, o := range el["options"].([]any) {
					checks = append(checks, o.(map[string]any)["value"].(string))
				}
			}
		}
	}
	switch {
	case cont != nil && len(checks) > 0:
		return map[string]any{"action_id": cont["action_id"], "value": cont["value"], "type": "button"}, checks[:1]
	case answer != nil:
		return map[string]any{"action_id": answer["action_id"], "value": answer["value"], "type": "button"}, nil
	}
	t.Fatalf("no answer button in %q", m.Text)
	return nil, nil
}

func blockActions(t *testing.T, team, user string, m postedMsg, act map[string]any, checked []string) []byte {
	t.Helper()
	sel := []map[string]any{}
	for _, c := range checked {
		sel = append(sel, map[string]any{"value": c})
	}
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "team_id": team}, "team": map[string]any{"id": team},
		"container": map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel},
		"channel":   map[string]any{"id": m.Channel},
		"state":     map[string]any{"values": map[string]any{"itfit_choices": map[string]any{"itfit_check": map[string]any{"selected_options": sel}}}},
		"actions":   []any{act},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

// questionNo reads "Question 3 of 10" from a question message; 0 otherwise.
func questionNo(m postedMsg) int {
	var n, total int
	if _, err := fmt.Sscanf(m.Text, "Question %d of %d", &n, &total); err != nil {
		return 0
	}
	return n
}

// TestServeRedisGoesAwayMidAudit cuts Redis between two answers: the click
// is still acknowledged, the user is told the service is temporarily
// unavailable and their answers are safe, /readyz fails; once Redis is back
// /readyz passes and the same click goes through from the same question.
func TestServeRedisGoesAwayMidAudit(t *testing.T) {
	const team, user = "TFAULTREDIS", "UFAULT1"
	redisURL, rdb := serveRedis(t, team)
	ru, _ := url.Parse(redisURL)
	proxy := redistest.NewProxy(t, ru.Host)
	ru.Host = proxy.Addr()
	q := ru.Query()
	q.Set("dial_timeout", "300ms")
	q.Set("max_retries", "-1")
	ru.RawQuery = q.Encode()

	api := newWebAPIFake(t)
	b := startServed(t, serveSlackCfg(t, ru.String(), api))
	waitFor(t, b.base+"/readyz", http.StatusOK)

	if code, _ := postSlash(t, b.base, team, user, ""); code != http.StatusOK {
		t.Fatalf("/itfit: %d", code)
	}
	q1 := api.next(t)
	clickFirstAnswer(t, b.base, team, user, q1)
	q2 := api.next(t)
	if questionNo(q2) != 2 {
		t.Fatalf("after one answer: %q", q2.Text)
	}
	before := dumpSlackUser(t, rdb, team, user)

	proxy.Cut()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", b.logs.String())
		}
	})
	clickFirstAnswer(t, b.base, team, user, q2) // acknowledged: answerFirst checks the 200
	note := api.next(t)
	if !strings.Contains(note.Text, "temporarily unavailable") || !strings.Contains(note.Text, "answers so far are safe") || note.Channel != q2.Channel {
		t.Fatalf("with Redis gone the user was told %q in %s", note.Text, note.Channel)
	}
	// /readyz caches its PING for a second, so it may say ready a moment longer.
	waitFor(t, b.base+"/readyz", http.StatusServiceUnavailable)
	if code, body := postSlash(t, b.base, team, user, "status"); code != http.StatusOK {
		t.Errorf("/itfit status with Redis gone: %d %s", code, body)
	}
	if n := api.next(t); !strings.Contains(n.Text, "temporarily unavailable") {
		t.Errorf("status with Redis gone: %q", n.Text)
	}

	proxy.Restore()
	waitFor(t, b.base+"/readyz", http.StatusOK)
	if after := dumpSlackUser(t, rdb, team, user); !sameDump(before, after) {
		t.Fatalf("Redis state changed while it was away:\n%v\n%v", before, after)
	}
	clickFirstAnswer(t, b.base, team, user, q2)
	q3 := api.next(t)
	if questionNo(q3) != 3 {
		t.Fatalf("after Redis returned the same click gave %q, want question 3", q3.Text)
	}
	if !strings.Contains(b.logs.String(), "storage unavailable") {
		t.Errorf("the failure is not in the log")
	}
}

// TestServeRestartAndReplicas takes one audit through three bot processes
// on one Redis: two replicas take alternate clicks, one is stopped mid-audit
// and a new one takes its place. Every question is asked once, in order,
// and the audit ends with the card.
func TestServeRestartAndReplicas(t *testing.T) {
	const team, user = "TFAULTREPLICA", "UFAULT2"
	redisURL, _ := serveRedis(t, team)
	api := newWebAPIFake(t)
	cfg := serveSlackCfg(t, redisURL, api)
	a, b := startServed(t, cfg), startServed(t, cfg)

	if code, _ := postSlash(t, a.base, team, user, ""); code != http.StatusOK {
		t.Fatal("/itfit")
	}
	m := api.next(t)
	var total int
	if _, err := fmt.Sscanf(m.Text, "Question 1 of %d", &total); err != nil {
		t.Fatalf("first message %q", m.Text)
	}
	replicas := []*servedBot{a, b}
	asked := 0
	for i := 1; i <= total; i++ {
		if questionNo(m) != i {
			// Questions asked only after some answers may be skipped.
			if questionNo(m) == 0 {
				break
			}
			if questionNo(m) < i {
				t.Fatalf("question %d asked again after %d", questionNo(m), i-1)
			}
			i = questionNo(m)
		}
		asked++
		if i == 4 {
			// The replica that would take this click is stopped ("killed")
			// and a new process starts on the same Redis.
			replicas[0].stop()
			replicas[0] = startServed(t, cfg)
		}
		clickFirstAnswer(t, replicas[i%2].base, team, user, m)
		m = api.next(t)
	}
	if asked < 5 || questionNo(m) != 0 || len(m.Blocks) == 0 || !strings.Contains(strings.ToLower(m.Text), "managed") {
		t.Fatalf("after %d questions the audit did not end with the card: %q", asked, m.Text)
	}
	select {
	case extra := <-api.posts:
		t.Fatalf("an extra message: %q", extra.Text)
	default:
	}
}

// TestServeSlowAndFailingWebAPI: while the Web API hangs the command is
// still acknowledged; a 429 is retried after Retry-After; a failing call is
// counted in /metrics and logged.
func TestServeSlowAndFailingWebAPI(t *testing.T) {
	const team = "TFAULTAPI"
	redisURL, _ := serveRedis(t, team)
	api := newWebAPIFake(t)
	gate := make(chan struct{})
	api.set(func(f *webAPIFake) { f.gate = gate })
	b := startServed(t, serveSlackCfg(t, redisURL, api))

	// The ack comes back while conversations.open is still held.
	code, body := postSlash(t, b.base, team, "UFAULT3", "")
	if code != http.StatusOK || !strings.Contains(body, "direct messages") {
		t.Fatalf("ack while the Web API hangs: %d %s", code, body)
	}
	api.set(func(f *webAPIFake) { f.gate = nil; f.limited["chat.postMessage"] = 1 })
	close(gate)
	if m := api.next(t); questionNo(m) != 1 {
		t.Fatalf("after the hang and a 429: %q", m.Text)
	}
	metrics := scrapeMetrics(t, b.base)
	if !strings.Contains(metrics, `itfit_platform_calls_total{call="chat.postMessage",outcome="retried",platform="slack"} 1`) {
		t.Errorf("the 429 retry is not counted:\n%s", grepLines(metrics, "platform_calls"))
	}

	api.set(func(f *webAPIFake) { f.failing["chat.postMessage"] = "internal_error" })
	postSlash(t, b.base, team, "UFAULT4", "")
	waitForSeries(t, b.base, `itfit_platform_calls_total{call="chat.postMessage",outcome="failed",platform="slack"}`)
	if !strings.Contains(b.logs.String(), "internal_error") {
		t.Errorf("the failed call is not in the log")
	}
}

func scrapeMetrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitForSeries waits until a series appears (the failure is counted after the
// acknowledgement, in the background).
func waitForSeries(t *testing.T, base, series string) {
	t.Helper()
	for range 400 {
		if strings.Contains(scrapeMetrics(t, base), series) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no %s in /metrics", series)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// dumpSlackUser returns every key of one Slack user with its value.
func dumpSlackUser(t *testing.T, rdb redis.UniversalClient, team, user string) map[string]string {
	t.Helper()
	ks, err := rdb.Keys(context.Background(), "itfit:{slack:"+team+":"+user+"}*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return dumpRedis(t, rdb, ks)
}

// dumpRedis reads keys of every type into comparable strings.
func dumpRedis(t *testing.T, rdb redis.UniversalClient, ks []string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range ks {
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		default:
			v = typ
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

func sameDump(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
