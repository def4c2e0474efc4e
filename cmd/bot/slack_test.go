package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

func TestMountSlackOffWithoutSettings(t *testing.T) {
	mux := http.NewServeMux()
	ws, err := mountSlack(Config{}, slog.New(slog.DiscardHandler), deps{}, mux)
	if err != nil || ws != nil {
		t.Fatalf("mountSlack = %v, %v", ws, err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader("")))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/slack/commands answered %d with Slack off", rec.Code)
	}
}

func TestMountSlackHalfConfiguredNamesWhatIsMissing(t *testing.T) {
	_, err := mountSlack(Config{Slack: slackapp.Config{BotToken: "xoxb-1"}}, slog.New(slog.DiscardHandler), deps{}, http.NewServeMux())
	if err == nil || !strings.Contains(err.Error(), "SLACK_SIGNING_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

// TestMountSlackEndToEnd wires Slack from configuration alone (SLACK_API_URL
// pointing at a local fake Web API) and sends a signed /itfit through the
// mux that serve uses.
func TestMountSlackEndToEnd(t *testing.T) {
	rb := redistest.Real(t)
	var mu sync.Mutex
	var calls []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parseWebAPI(r)
		mu.Lock()
		calls = append(calls, strings.TrimPrefix(r.URL.Path, "/api/")+" "+r.PostForm.Get("channel")+r.PostForm.Get("users"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/conversations.open":
			fmt.Fprint(w, `{"ok":true,"channel":{"id":"DU1"}}`)
		default:
			fmt.Fprint(w, `{"ok":true,"channel":"DU1","ts":"1.1"}`)
		}
	}))
	defer api.Close()

	const secret = "mount-secret"
	cfg := Config{Slack: slackapp.Config{SigningSecret: secret, BotToken: "xoxb-test", APIURL: api.URL + "/api"}}
	log := slog.New(slog.DiscardHandler)
	metrics := obs.NewMetrics()
	bg := background.New(log, 8, 30*time.Second)
	d := deps{
		engine:  conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix}),
		rdb:     rb.Client,
		metrics: metrics,
		bg:      bg,
	}
	mux := http.NewServeMux()
	workers, err := mountSlack(cfg, log, d, mux)
	if err != nil || len(workers) != 0 {
		t.Fatalf("mountSlack = %v, %v", workers, err)
	}
	srv := httptest.NewServer(obs.Middleware(log, metrics, mux))
	defer srv.Close()

	body := url.Values{"team_id": {"T1"}, "user_id": {"U1"}, "channel_id": {"C1"}, "command": {"/itfit"}, "text": {""},
		"response_url": {"https://hooks.slack.com/commands/T1/1/x"}}.Encode()
	code, ack := postSigned(t, srv.URL, "/slack/commands", "application/x-www-form-urlencoded", []byte(body), secret)
	if code != http.StatusOK || !strings.Contains(ack, "direct messages") {
		t.Fatalf("ack = %d %s", code, ack)
	}
	if err := bg.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// users.info once: the person's locale, for the language they read.
	if len(calls) != 3 || calls[0] != "conversations.open U1" || calls[1] != "users.info " || calls[2] != "chat.postMessage DU1" {
		t.Fatalf("Web API calls = %q", calls)
	}
}

func TestMountSlackSocketModeIsAWorker(t *testing.T) {
	rb := redistest.Embedded(t)
	cfg := Config{Slack: slackapp.Config{AppToken: "xapp-1", BotToken: "xoxb-1"}}
	log := slog.New(slog.DiscardHandler)
	d := deps{engine: conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix}), rdb: rb.Client, bg: background.New(log, 1, time.Second)}
	mux := http.NewServeMux()
	ws, err := mountSlack(cfg, log, d, mux)
	if err != nil || len(ws) != 1 || ws[0].name != "slack socket mode" {
		t.Fatalf("mountSlack = %v, %v", ws, err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader("{}")))
	if rec.Code != http.StatusNotFound {
		t.Errorf("with no signing secret /slack/events answered %d; nothing could verify it", rec.Code)
	}
}

// TestMountSlackWiresRevisits checks that mountSlack hands the revisit
// service to the adapter (so /itfit reminders answers from it) and
// registers the Slack notifier on it (so a nudge reaches the Web API).
func TestMountSlackWiresRevisits(t *testing.T) {
	rb := redistest.Real(t)
	var mu sync.Mutex
	var posts []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parseWebAPI(r)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/conversations.open" {
			fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, r.PostForm.Get("users"))
			return
		}
		if r.URL.Path == "/api/users.info" {
			fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"locale":"en-US"}}`, r.PostForm.Get("user"))
			return
		}
		mu.Lock()
		posts = append(posts, r.PostForm.Get("channel")+" "+r.PostForm.Get("text"))
		mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"channel":"DU1","ts":"1.1"}`)
	}))
	defer api.Close()

	const secret = "mount-secret"
	cfg := Config{Slack: slackapp.Config{SigningSecret: secret, BotToken: "xoxb-test", APIURL: api.URL + "/api"}}
	log := slog.New(slog.DiscardHandler)
	bg := background.New(log, 8, 30*time.Second)
	engine := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	sched := schedule.NewStore(rb.Client, schedule.StoreConfig{Prefix: rb.Prefix})
	revisits := revisit.New(rb.Client, sched, engine, revisit.Config{Prefix: rb.Prefix, After: time.Second})
	mux := http.NewServeMux()
	if _, err := mountSlack(cfg, log, deps{engine: engine, rdb: rb.Client, metrics: obs.NewMetrics(), bg: bg, revisits: revisits}, mux); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A response_url that is not Slack's is refused without a request, so
	// the list falls back to the DM, on the fake.
	body := url.Values{"team_id": {"T1"}, "user_id": {"U1"}, "channel_id": {"C1"}, "command": {"/itfit"}, "text": {"reminders"},
		"response_url": {"http://127.0.0.1:1/not-slack"}}.Encode()
	if code, _ := postSigned(t, srv.URL, "/slack/commands", "application/x-www-form-urlencoded", []byte(body), secret); code != http.StatusOK {
		t.Fatalf("/itfit reminders answered %d", code)
	}
	if err := bg.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Finish an audit directly on the engine, then invite: the invitation
	// goes out through the notifier mountSlack registered.
	k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}, Conversation: "DU1"}
	r, err := engine.Start(t.Context(), k)
	for err == nil && r.Question != nil {
		r, err = engine.Answer(t.Context(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{r.Question.Options[0].ID}})
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := revisits.Invite(t.Context(), k); err != nil {
		t.Fatalf("invite through the Slack notifier: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 2 || !strings.Contains(posts[0], "no reminders scheduled") || !strings.HasPrefix(posts[1], "DU1 Your account manager invited you") {
		t.Fatalf("posts = %q", posts)
	}
}
