package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/webhooks"
)

const e2eSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo="

// hookReceiver is a provider's endpoint: it verifies each delivery with
// the Standard Webhooks Go library (timestamp included, on the wall clock)
// and the body against schema/v1.json.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	errs   []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(webhooks.SchemaV1))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("v1.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("v1.json")
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(e2eSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &hookReceiver{}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := wh.Verify(body, req.Header); err != nil {
			r.errs = append(r.errs, "signature: "+err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err := schema.Validate(v); err != nil {
			r.errs = append(r.errs, "schema: "+err.Error())
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.bodies = append(r.bodies, m)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) got() ([]map[string]any, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...), append([]string(nil), r.errs...)
}

// TestServeSendsWebhooks: `bot serve` with ITFIT_WEBHOOKS, driven through
// Slack's real endpoints: finishing the audit sends audit.completed with
// the result (the workspace has an assigned manager), forget sends
// user.forgotten, each signed and matching the schema; the metric counts
// them.
func TestServeSendsWebhooks(t *testing.T) {
	const team, user = "TWEBHOOKE2E", "UWEBHOOK1"
	redisURL, rdb := serveRedis(t, team)
	t.Cleanup(func() {
		ks, _ := rdb.Keys(context.Background(), `itfit:webhooks:\{schedule\}:sent:e2etest*`).Result()
		if len(ks) > 0 {
			rdb.Del(context.Background(), ks...)
		}
	})
	recv := newHookReceiver(t)
	api := newWebAPIFake(t)
	cfg := serveSlackCfg(t, redisURL, api)
	cfg.AccountManagers = "slack:" + team + "=UMGR"
	cfg.Webhooks = fmt.Sprintf(`[{"name":"e2etest","url":%q,"secrets":[%q],"events":["audit.completed","user.forgotten"],"allow_private":true}]`,
		recv.srv.URL+"/hooks/itfit", e2eSecret)
	// The receiver's certificate is httptest's, which this test binary
	// trusts as a root (logsecrets_test.go's init): serve uses the system's
	// trust store, as in production.
	b := startServed(t, cfg)

	if code, _ := postSlash(t, b.base, team, user, ""); code != http.StatusOK {
		t.Fatal("/itfit")
	}
	m := api.next(t)
	for range 20 {
		if questionNo(m) == 0 {
			break
		}
		clickFirstAnswer(t, b.base, team, user, m)
		m = api.next(t)
	}
	if questionNo(m) != 0 {
		t.Fatalf("the audit did not finish: %q", m.Text)
	}
	waitUntil(t, "audit.completed at the receiver", func() bool { bs, _ := recv.got(); return len(bs) >= 1 })

	code, body := postSlash(t, b.base, team, user, "forget")
	var ack struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(body), &ack); code != http.StatusOK || err != nil {
		t.Fatalf("forget: %d %s", code, body)
	}
	var erase map[string]any
	for _, bl := range ack.Blocks {
		els, _ := bl["elements"].([]any)
		for _, e := range els {
			if el, _ := e.(map[string]any); el["action_id"] == "itfit_forget" {
				erase = map[string]any{"action_id": el["action_id"], "value": el["value"], "type": "button"}
			}
		}
	}
	if erase == nil {
		t.Fatalf("no erase button in %s", body)
	}
	if code, _ := postSigned(t, b.base, "/slack/interactions", "application/x-www-form-urlencoded",
		blockActions(t, team, user, postedMsg{Channel: "C1", TS: "1700000000.999998"}, erase, nil), faultSecret); code != http.StatusOK {
		t.Fatal("erase")
	}
	waitUntil(t, "user.forgotten at the receiver", func() bool { bs, _ := recv.got(); return len(bs) >= 2 })

	bodies, errs := recv.got()
	for _, e := range errs {
		t.Error(e)
	}
	if len(bodies) != 2 || bodies[0]["type"] != "audit.completed" || bodies[1]["type"] != "user.forgotten" {
		t.Fatalf("received %v", bodies)
	}
	d, _ := bodies[0]["data"].(map[string]any)
	u, _ := d["user"].(map[string]any)
	if d["disclosure"] != "full" || d["result"] == nil || u["id"] != user || d["workspace"] != team {
		t.Errorf("audit.completed data: %v", d)
	}
	waitForSeries(t, b.base, `itfit_webhook_deliveries_total{endpoint="e2etest",outcome="delivered"} 2`)
	if logs := b.logs.String(); strings.Contains(logs, "/hooks/itfit") || strings.Contains(logs, strings.TrimPrefix(e2eSecret, "whsec_")) {
		t.Errorf("the log holds the endpoint's path or secret")
	}
}

// TestWebhooksCommandListsReplaysAndDrops: a delivery that ran out of
// attempts is listed by `bot webhooks list`, sent again by `replay`
// (the same webhook-id), and `drop` of a key that is not there says so.
func TestWebhooksCommandListsReplaysAndDrops(t *testing.T) {
	const team = "TWEBHOOKCLI"
	redisURL, rdb := serveRedis(t, team)
	bctx := context.Background()
	t.Cleanup(func() {
		ks, _ := rdb.Keys(bctx, `itfit:webhooks:\{schedule\}:sent:clitest*`).Result()
		rdb.Del(bctx, append(ks, "itfit:{webhooks}:dead")...)
	})
	var mu sync.Mutex
	status := http.StatusInternalServerError
	var ids []string
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
		w.WriteHeader(status)
	}))
	defer recv.Close()
	conf := fmt.Sprintf(`[{"name":"clitest","url":%q,"secrets":[%q],"events":["audit.completed"],"max_attempts":1,"allow_private":true}]`, recv.URL, e2eSecret)
	t.Setenv("REDIS_URL", redisURL)
	t.Setenv("ITFIT_WEBHOOKS", conf)
	eps, err := webhooks.Parse(conf)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.New(rdb, eps, webhooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(until func() bool) {
		t.Helper()
		wctx, cancel := context.WithCancel(bctx)
		done := make(chan error, 1)
		go func() { done <- svc.Worker(rdb, webhooks.WorkerConfig{}).Run(wctx) }()
		waitUntil(t, "the delivery", until)
		cancel()
		<-done
	}
	u := conversation.UserKey{Platform: conversation.Slack, Workspace: team, User: "UCLI"}
	a := advisor.Default()
	rec := a.Recommend(nil, time.Now())
	svc.Completed(bctx, u, "", conversation.Reply{Event: conversation.Completed, Result: &rec})
	deliver(func() bool { d, _ := svc.DeadLetters(bctx, 1); return len(d) == 1 })

	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(bctx, append([]string{"webhooks"}, args...), nil, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := cli("list")
	key := "clitest/" + ids[0]
	if err != nil || !strings.Contains(out, key) || !strings.Contains(out, "audit.completed") || !strings.Contains(out, "slack:"+team+":UCLI") || !strings.Contains(out, "HTTP 500") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	mu.Lock()
	status = http.StatusNoContent
	mu.Unlock()
	if out, err := cli("replay", key); err != nil || !strings.Contains(out, "replayed "+key) {
		t.Fatalf("replay: %v %s", err, out)
	}
	deliver(func() bool { mu.Lock(); defer mu.Unlock(); return len(ids) == 2 })
	if ids[1] != ids[0] {
		t.Errorf("the replay has webhook-id %s, want %s", ids[1], ids[0])
	}
	if out, err := cli("list"); err != nil || !strings.Contains(out, "no dead letters") {
		t.Errorf("list after replay: %v %s", err, out)
	}
	if out, err := cli("drop", key); err == nil || !strings.Contains(err.Error(), "no such dead letter") {
		t.Errorf("drop of a replayed letter: %v %s", err, out)
	}
	if _, err := cli("replay"); err == nil {
		t.Error("replay without a key was accepted")
	}
}
