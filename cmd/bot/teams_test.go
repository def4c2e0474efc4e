package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/botframework/bftest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

func TestMountTeamsOffWithoutAppID(t *testing.T) {
	mux := http.NewServeMux()
	ws, err := mountTeams(Config{}, slog.New(slog.DiscardHandler), deps{}, mux)
	if err != nil || ws != nil {
		t.Fatalf("mountTeams = %v, %v", ws, err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader("{}")))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/api/messages answered %d with Teams off", rec.Code)
	}
}

// TestMountTeamsEndToEnd wires Teams from configuration alone (metadata and
// token URLs pointing at the local Bot Framework) and sends one signed
// activity through the mux that serve uses.
func TestMountTeamsEndToEnd(t *testing.T) {
	rb := redistest.Real(t)
	bf := bftest.New(t)
	const tenant, user = "tenant-mount-test", "aad-mount-test"
	t.Cleanup(func() { rb.Client.Del(context.Background(), keys.Default.TeamsReferences(tenant, user)) })

	cfg := Config{HistoryTTL: time.Hour, Teams: teams.Config{
		AppID: bftest.AppID, AppPassword: "app-secret", TenantID: tenant,
		OpenIDMetadataURL: bf.MetadataURL(), TokenURL: bf.TokenURL(),
	}}
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
	workers, err := mountTeamsWith(cfg, log, d, mux, bf.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workers {
		if err := w.run(context.Background()); err != nil {
			t.Fatalf("worker %s: %v", w.name, err)
		}
	}
	srv := httptest.NewServer(obs.Middleware(log, metrics, mux))
	defer srv.Close()

	activity, _ := json.Marshal(map[string]any{
		"type": "message", "id": "1", "channelId": "msteams", "serviceUrl": bf.ServiceURL(), "text": "hi",
		"from":         map[string]any{"id": "29:1x", "name": "Ana", "aadObjectId": user},
		"recipient":    map[string]any{"id": "28:" + bftest.AppID, "name": "itfit"},
		"conversation": map[string]any{"conversationType": "personal", "tenantId": tenant, "id": "a:1mount"},
		"channelData":  map[string]any{"tenant": map[string]any{"id": tenant}},
	})
	post := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/messages", bytes.NewReader(activity))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := bg.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized || len(bf.Requests()) != 0 {
		t.Fatalf("unsigned: %d, %d sends", code, len(bf.Requests()))
	}
	if code := post(bf.Authorization(t, bf.ServiceURL())); code != http.StatusOK {
		t.Fatalf("signed: %d", code)
	}
	reqs := bf.Requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "Question 1 of") || reqs[0].Auth != "Bearer bot-token-1" {
		t.Fatalf("connector saw %+v", reqs)
	}
	if got := platformCalls(t, metrics, "send_to_conversation", "ok"); got != 1 {
		t.Errorf("itfit_platform_calls_total{teams,send_to_conversation,ok} = %v", got)
	}
}

func platformCalls(t *testing.T, m *obs.Metrics, call, outcome string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "itfit_platform_calls_total" {
			continue
		}
		for _, mt := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == "teams" && labels["call"] == call && labels["outcome"] == outcome {
				return mt.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestMountTeamsRegistersTheNudges: with a revisit service in deps, Remind
// me pressed on Teams schedules nudges that the worker delivers through the
// notifier mountTeams registered, to the user and to the manager named by
// ITFIT_ACCOUNT_MANAGERS, on an injected clock.
func TestMountTeamsRegistersTheNudges(t *testing.T) {
	rb := redistest.Real(t)
	bf := bftest.New(t)
	const tenant, user, conv, manager = "tenant-nudge-test", "aad-nudge-test", "a:1nudge", "29:1manager"
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	cfg := Config{HistoryTTL: time.Hour, Teams: teams.Config{
		AppID: bftest.AppID, AppPassword: "app-secret", TenantID: tenant,
		OpenIDMetadataURL: bf.MetadataURL(), TokenURL: bf.TokenURL(),
	}}
	log := slog.New(slog.DiscardHandler)
	bg := background.New(log, 8, 30*time.Second)
	engine := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix, Now: clock})
	sched := schedule.NewStore(rb.Client, schedule.StoreConfig{Prefix: rb.Prefix})
	managers, err := revisit.ParseDirectory("teams:"+tenant+"="+manager, platformRules())
	if err != nil {
		t.Fatal(err)
	}
	revisits := revisit.New(rb.Client, sched, engine, revisit.Config{Prefix: rb.Prefix, After: 10 * time.Second, Managers: managers, Platforms: platformRules(), Now: clock})
	d := deps{engine: engine, rdb: rb.Client, metrics: obs.NewMetrics(), bg: bg, revisits: revisits}
	mux := http.NewServeMux()
	if _, err := mountTeamsWith(cfg, log, d, mux, bf.Client()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The audit itself is the engine's; the Teams side under test is the
	// Remind me press and the delivery.
	k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: user}, Conversation: conv}
	r, err := engine.Start(context.Background(), k)
	for err == nil && r.Question != nil {
		r, err = engine.Answer(context.Background(), k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{r.Question.Options[0].ID}})
	}
	if err != nil || r.Result == nil {
		t.Fatalf("audit: %+v %v", r, err)
	}
	activity, _ := json.Marshal(map[string]any{
		"type": "message", "id": "7", "channelId": "msteams", "serviceUrl": bf.ServiceURL(), "replyToId": "card-1",
		"value":        map[string]any{"itfit": "remind", "user": user},
		"from":         map[string]any{"id": "29:1x", "name": "Ana", "aadObjectId": user},
		"recipient":    map[string]any{"id": "28:" + bftest.AppID, "name": "itfit"},
		"conversation": map[string]any{"conversationType": "personal", "tenantId": tenant, "id": conv},
		"channelData":  map[string]any{"tenant": map[string]any{"id": tenant}},
	})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/messages", bytes.NewReader(activity))
	req.Header.Set("Authorization", bf.Authorization(t, bf.ServiceURL()))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := bg.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reqs := bf.Requests(); len(reqs) != 1 || !strings.Contains(string(reqs[0].Body), "I'll remind you on 2 March 2026") {
		t.Fatalf("remind reply: %+v", reqs)
	}
	bf.Reset()

	now = now.Add(11 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	w := schedule.NewWorker(sched, revisits, schedule.WorkerConfig{Now: clock, Sleep: func(context.Context, time.Duration) { cancel() }, Logger: log})
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var userNudges, managerNudges int
	for _, r := range bf.Requests() {
		body := string(r.Body)
		switch {
		case r.ConversationID == conv && strings.Contains(body, "Time to revisit your IT decision"):
			userNudges++
		case strings.Contains(body, "Invite them to retake"):
			managerNudges++
		}
	}
	if userNudges != 1 || managerNudges != 1 {
		t.Errorf("user nudges %d, manager nudges %d; connector saw %+v", userNudges, managerNudges, bf.Requests())
	}
}

// TestTeamsTenantsSetting: ITFIT_TEAMS_TENANTS is read as a list of tenant
// IDs for a multi-tenant bot; a single-tenant bot serves its own tenant,
// and the list may name that one only; the list without Teams is half a
// configuration; a value that is not a tenant ID is named.
func TestTeamsTenantsSetting(t *testing.T) {
	const a, b = "72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-4333-8444-555555555555"
	on := teams.Config{AppID: "app", AppPassword: "secret"}
	single := on
	single.TenantID = strings.ToUpper(a)
	for _, c := range []struct {
		name    string
		cfg     Config
		want    string
		wantErr string
	}{
		{"unset, multi-tenant", Config{Teams: on}, "", ""},
		{"list, multi-tenant", Config{Teams: on, TeamsTenants: a + ", " + strings.ToUpper(b)}, a + "," + b, ""},
		{"single-tenant", Config{Teams: single}, a, ""},
		{"single-tenant naming itself", Config{Teams: single, TeamsTenants: a}, a, ""},
		{"single-tenant naming another", Config{Teams: single, TeamsTenants: b}, "", "serves its own tenant only"},
		{"not a tenant ID", Config{Teams: on, TeamsTenants: "contoso.com"}, "", `ITFIT_TEAMS_TENANTS: got "contoso.com"`},
		{"without Teams", Config{TeamsTenants: a}, "", "MICROSOFT_APP_ID is not"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.cfg.teamsTenants()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != c.want {
				t.Fatalf("teamsTenants = %v, %v; want %q", got, err, c.want)
			}
		})
	}
	t.Setenv("MICROSOFT_APP_ID", "app")
	t.Setenv("MICROSOFT_APP_PASSWORD", "secret")
	t.Setenv("ITFIT_TEAMS_TENANTS", "not-a-guid")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "ITFIT_TEAMS_TENANTS") {
		t.Fatalf("loadConfig = %v, want the variable named", err)
	}
}
