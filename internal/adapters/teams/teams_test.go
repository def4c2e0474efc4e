package teams_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/botframework/bftest"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/testkit"
)

const (
	tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	botID    = "28:" + bftest.AppID
	personal = "a:1Xq0personal-chat-with-ana"
	channel  = "19:general@thread.tacv2"
)

type fixture struct {
	t       *testing.T
	locale  string // what every activity says the sender's Teams is set to
	bf      *bftest.Server
	srv     *httptest.Server
	bg      *background.Group
	engine  *conversation.Engine
	handler *teams.Handler
	flows   *chat.Service
	prefix  keys.Prefix
	rb      redistest.Backend
	logs    *testkit.Buffer
	log     *slog.Logger
	seq     int

	// The account managers' desk, and ITFIT_ACCOUNT_MANAGERS (set with
	// fixtureOptions.revisits).
	desk     *portfolio.Store
	managers revisit.Directory

	// Set with fixtureOptions.revisits.
	clk   *clock
	sched *schedule.Store
	svc   *revisit.Service
}

type fakeReminders struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeReminders) Delivers(conversation.Platform) bool { return true }

func (f *fakeReminders) Remind(_ context.Context, k conversation.Key, tz string) (time.Time, error) {
	f.mu.Lock()
	f.calls = append(f.calls, string(k.User)+"|"+tz)
	f.mu.Unlock()
	return time.Date(2027, 2, 28, 9, 0, 0, 0, time.UTC), nil
}

// The rest of teams.Reminders is exercised against the real revisit
// service (revisit_test.go); this fake only records Remind.
func (f *fakeReminders) List(context.Context, conversation.UserKey) ([]revisit.Reminder, error) {
	return nil, nil
}
func (f *fakeReminders) Snooze(context.Context, conversation.UserKey) (time.Time, error) {
	return time.Time{}, revisit.ErrNoResult
}
func (f *fakeReminders) Stop(context.Context, conversation.UserKey) (bool, error) { return false, nil }
func (f *fakeReminders) Invite(context.Context, conversation.Key) error           { return revisit.ErrNoResult }
func (f *fakeReminders) Share(context.Context, conversation.Key, conversation.UserID) error {
	return revisit.ErrNoResult
}
func (f *fakeReminders) ManagerOf(context.Context, conversation.UserKey) (revisit.Manager, bool, error) {
	return revisit.Manager{}, false, nil
}

func newFixture(t *testing.T, reminders chat.Reminders) *fixture {
	t.Helper()
	return newFixtureWith(t, fixtureOptions{reminders: reminders})
}

// fixtureOptions: with revisits set, the fixture runs the real revisit
// service and scheduler on an injected clock (see revisit_test.go).
type fixtureOptions struct {
	reminders chat.Reminders
	revisits  *revisitOptions
	// tenants is teams.Options.Tenants.
	tenants []string
	// languages keeps each person's language in Redis, as cmd/bot does;
	// locale is what every activity says the sender's Teams is set to
	// (default en-GB).
	languages bool
	locale    string
}

func newFixtureWith(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	rb := redistest.Real(t)
	f := &fixture{t: t, bf: bftest.New(t), rb: rb, prefix: rb.Prefix, logs: &testkit.Buffer{}, locale: o.locale}
	if f.locale == "" {
		f.locale = "en-GB"
	}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.log = log
	var now func() time.Time
	if o.revisits != nil {
		f.clk = &clock{t: o.revisits.start}
		now = f.clk.Now
	}
	f.engine = conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix, Now: now})
	var reminders chat.Reminders
	if o.reminders != nil {
		reminders = o.reminders
	}
	if o.revisits != nil {
		f.startRevisits(*o.revisits)
		reminders = f.svc
	}
	v, err := botframework.NewValidator(botframework.ValidatorConfig{AppID: bftest.AppID, MetadataURL: f.bf.MetadataURL(), HTTPClient: f.bf.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := botframework.NewTokenSource(botframework.TokenSourceConfig{AppID: bftest.AppID, AppPassword: "app-secret", TokenURL: f.bf.TokenURL(), HTTPClient: f.bf.Client()})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := botframework.NewConnector(botframework.ConnectorConfig{Tokens: ts, HTTPClient: f.bf.Client(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.bg = background.New(log, 16, 30*time.Second)
	clock := time.Now
	if f.clk != nil {
		clock = f.clk.Now
	}
	claims := conversation.NewClaims(rb.Client, rb.Prefix, 0, clock)
	erasers := &erasure.Registry{}
	if f.svc != nil {
		erasers.Register("revisits", f.svc)
	}
	erasers.Register("sessions", erasure.Sessions(f.engine))
	erasers.Register("claims", erasure.Other(claims))
	f.desk = portfolio.New(rb.Client, rb.Prefix)
	erasers.Register("desk", erasure.Other(f.desk))
	co := chat.Options{Engine: f.engine, Reminders: reminders, Eraser: erasers, Claims: claims, Log: log, Now: clock,
		Desk: f.desk, Managers: f.managers}
	if o.languages {
		langs := conversation.NewLanguages(rb.Client, rb.Prefix, 0)
		erasers.Register("languages", erasure.Other(langs))
		co.Languages = langs
	}
	f.flows, err = chat.New(co)
	if err != nil {
		t.Fatal(err)
	}
	opts := teams.Options{
		Flows: f.flows, Validator: v, Connector: conn, Redis: rb.Client, Prefix: rb.Prefix,
		ReferenceTTL: 48 * time.Hour, Background: f.bg, Logger: log, Tenants: o.tenants,
	}
	f.handler, err = teams.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	erasers.Register("references", erasure.Other(f.handler.References()))
	if f.svc != nil {
		f.svc.Register(conversation.Teams, f.flows.Notifier(conversation.Teams, f.handler.Outbox()))
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/messages", f.handler)
	f.srv = httptest.NewServer(obs.Middleware(log, nil, mux))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		for _, secret := range []string{"app-secret", "bot-token-", "eyJ"} {
			if strings.Contains(f.logs.String(), secret) {
				t.Errorf("a secret or token reached the log:\n%s", f.logs.String())
			}
		}
	})
	return f
}

type person struct{ id, aad, name string }

var (
	ana   = person{"29:1ana", "aad-ana", "Ana Ruiz"}
	bob   = person{"29:1bob", "aad-bob", "Bob Li"}
	carol = person{"29:1carol", "aad-carol", "Carol [Admin](https://evil.example)"}
)

// activity builds a message activity as Teams sends it.
func (f *fixture) activity(from person, conv string, text string) map[string]any {
	f.seq++
	id := fmt.Sprintf("17000000000%02d", f.seq)
	a := map[string]any{
		"type": "message", "id": id,
		"timestamp": "2026-03-01T10:00:00.123Z", "localTimestamp": "2026-03-01T11:00:00.123+01:00",
		"localTimezone": "Europe/Berlin",
		"serviceUrl":    f.bf.ServiceURL(), "channelId": "msteams",
		"from":       map[string]any{"id": from.id, "name": from.name, "aadObjectId": from.aad},
		"recipient":  map[string]any{"id": botID, "name": "itfit"},
		"textFormat": "plain", "locale": f.locale,
		"entities": []any{map[string]any{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web", "timezone": "Europe/London"}},
	}
	if text != "" {
		a["text"] = text
	}
	if conv == personal {
		a["conversation"] = map[string]any{"conversationType": "personal", "tenantId": tenant, "id": personal}
		a["channelData"] = map[string]any{"tenant": map[string]any{"id": tenant}}
	} else {
		a["conversation"] = map[string]any{"isGroup": true, "conversationType": "channel", "tenantId": tenant, "id": conv}
		a["channelData"] = map[string]any{
			"teamsChannelId": channel, "teamsTeamId": "19:team@thread.tacv2",
			"channel": map[string]any{"id": channel}, "team": map[string]any{"id": "19:team@thread.tacv2"},
			"tenant": map[string]any{"id": tenant},
		}
	}
	return a
}

// mention is a channel message that @mentions the bot, as Teams sends it.
func (f *fixture) mention(from person, conv, rest string) map[string]any {
	a := f.activity(from, conv, "<at>itfit</at> "+rest)
	a["entities"] = []any{
		map[string]any{"type": "mention", "text": "<at>itfit</at>", "mentioned": map[string]any{"id": botID, "name": "itfit"}},
		map[string]any{"type": "clientInfo", "locale": "en-GB"},
	}
	return a
}

// submit is the message Teams sends when a card's Action.Submit is pressed:
// no text, the data (plus inputs) as value, replyToId naming the card.
func (f *fixture) submit(from person, conv, cardID string, value map[string]any) map[string]any {
	a := f.activity(from, conv, "")
	a["replyToId"] = cardID
	a["value"] = value
	cd := a["channelData"].(map[string]any)
	cd["source"] = map[string]any{"name": "message"}
	cd["legacy"] = map[string]any{"replyToId": "1:" + cardID}
	return a
}

// post sends an activity with a valid token and waits for the work it
// started, so every reply is at the fake connector when it returns.
func (f *fixture) post(a map[string]any) int {
	f.t.Helper()
	return f.postAuth(a, f.bf.Authorization(f.t, a["serviceUrl"].(string)))
}

func (f *fixture) postAuth(a map[string]any, auth string) int {
	f.t.Helper()
	body, err := json.Marshal(a)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.postRaw(body, auth)
}

func (f *fixture) postRaw(body []byte, auth string) int {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := f.bg.Wait(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode
}

// sent is one activity the bot sent, decoded.
type sent struct {
	bftest.Request
	Text string
	Card *adaptivecard.Card
}

func (s sent) String() string {
	if s.Card != nil {
		return fmt.Sprintf("%s %s text=%q card=%.300s", s.Method, s.Path, s.Text, cardText(s.Card))
	}
	return fmt.Sprintf("%s %s text=%q", s.Method, s.Path, s.Text)
}

func (f *fixture) take() []sent {
	f.t.Helper()
	reqs := f.bf.Requests()
	f.bf.Reset()
	out := make([]sent, 0, len(reqs))
	for _, r := range reqs {
		var a struct {
			Type        string `json:"type"`
			Text        string `json:"text"`
			Attachments []struct {
				ContentType string            `json:"contentType"`
				Content     adaptivecard.Card `json:"content"`
			} `json:"attachments"`
		}
		if err := json.Unmarshal(r.Body, &a); err != nil {
			f.t.Fatalf("bot sent invalid JSON: %v\n%s", err, r.Body)
		}
		if a.Type != "message" && r.Path != "v3/conversations" {
			f.t.Errorf("activity type %q", a.Type)
		}
		if !strings.HasPrefix(r.Auth, "Bearer bot-token-") {
			f.t.Errorf("connector call without the bot's token: %q", r.Auth)
		}
		s := sent{Request: r, Text: a.Text}
		if len(a.Attachments) == 1 {
			if a.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
				f.t.Errorf("attachment type %q", a.Attachments[0].ContentType)
			}
			c := a.Attachments[0].Content
			typeData(f.t, &c)
			s.Card = &c
		}
		out = append(out, s)
	}
	return out
}

// split sorts what the bot sent into updates of pressed cards and new
// messages, in order: the bot posts the next question before it closes the
// card pressed, so the order between the two kinds is not the point.
func split(out []sent) (updates, posts []sent) {
	for _, s := range out {
		if s.Method == http.MethodPut {
			updates = append(updates, s)
		} else {
			posts = append(posts, s)
		}
	}
	return updates, posts
}

// lastCard is the last new message with a card.
func lastCard(out []sent) (sent, bool) {
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Method == http.MethodPost && out[i].Card != nil {
			return out[i], true
		}
	}
	return sent{}, false
}

// promptOf is a question card's prompt (its medium-size bold text).
func promptOf(c *adaptivecard.Card) string {
	for _, e := range c.Body {
		if e.Type == "TextBlock" && e.Size == "Medium" {
			return e.Text
		}
	}
	return ""
}

// pressData is the data of every button on a card, those inside a shown
// card (a confirmation) included.
func pressData(t *testing.T, c *adaptivecard.Card) []map[string]any {
	t.Helper()
	var out []map[string]any
	var walk func(as []adaptivecard.Action)
	walk = func(as []adaptivecard.Action) {
		for _, a := range as {
			if a.Data != nil {
				out = append(out, toMap(t, a.Data))
			}
			if a.Card != nil {
				walk(a.Card.Actions)
			}
		}
	}
	for _, e := range c.Body {
		walk(e.Actions)
	}
	walk(c.Actions)
	return out
}

// typeData decodes the data of every button on c, a card read off the
// wire, as the SubmitData it was rendered from (the schema's Action.Data
// holds any payload), so that the card is the one Render built.
func typeData(t *testing.T, c *adaptivecard.Card) {
	t.Helper()
	var actions func(as []adaptivecard.Action)
	var elements func(es []adaptivecard.Element)
	actions = func(as []adaptivecard.Action) {
		for i := range as {
			if as[i].Data != nil {
				b, _ := json.Marshal(as[i].Data)
				d := new(teams.SubmitData)
				if err := json.Unmarshal(b, d); err != nil {
					t.Fatalf("button data is not itfit's: %v\n%s", err, b)
				}
				as[i].Data = d
			}
			if as[i].Card != nil {
				elements(as[i].Card.Body)
				actions(as[i].Card.Actions)
			}
		}
	}
	elements = func(es []adaptivecard.Element) {
		for i := range es {
			actions(es[i].Actions)
			elements(es[i].Items)
			elements(es[i].Columns)
		}
	}
	elements(c.Body)
	actions(c.Actions)
}

// submitOf is the data a button sends, nil for one that sends none.
func submitOf(a adaptivecard.Action) *teams.SubmitData {
	d, _ := a.Data.(*teams.SubmitData)
	return d
}

func cardText(c *adaptivecard.Card) string {
	b, _ := json.Marshal(c)
	return string(b)
}

func hasActions(c *adaptivecard.Card) bool { return strings.Contains(cardText(c), "Action.") }

// firstChoice reads a question card and returns the value of pressing its
// first option (a single-choice button, or Continue with the first box
// ticked).
func firstChoice(t *testing.T, c *adaptivecard.Card) map[string]any {
	t.Helper()
	for _, e := range c.Body {
		if e.Type == "ActionSet" && len(e.Actions) == 1 && submitOf(e.Actions[0]) != nil && submitOf(e.Actions[0]).Action == "answer" {
			v := toMap(t, e.Actions[0].Data)
			if e.Actions[0].Title == "Continue" {
				v["options"] = firstInputChoice(c)
			}
			return v
		}
	}
	t.Fatalf("no answer button on card: %s", cardText(c))
	return nil
}

func firstInputChoice(c *adaptivecard.Card) string {
	for _, e := range c.Body {
		if e.Type == "Input.ChoiceSet" {
			return e.Choices[0].Value
		}
	}
	return ""
}

func toMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// key is p's audit in conv: in a channel, the channel without the thread.
func key(p person, conv string) conversation.Key {
	conv, _, _ = strings.Cut(conv, ";messageid=")
	return conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: conversation.UserID(p.aad)}, Conversation: conversation.ConversationID(conv)}
}

func TestPersonalChatFromFirstQuestionToRecommendation(t *testing.T) {
	rem := &fakeReminders{}
	f := newFixture(t, rem)
	if code := f.post(f.activity(ana, personal, "hi")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	out := f.take()
	if len(out) != 1 || out[0].Method != http.MethodPost || out[0].Path != "v3/conversations/"+personal+"/activities" || out[0].Card == nil {
		t.Fatalf("first reply: %+v", out)
	}
	if !strings.Contains(cardText(out[0].Card), "Question 1 of") {
		t.Errorf("first card lacks progress: %s", cardText(out[0].Card))
	}
	card, cardID := out[0].Card, out[0].ResponseID
	questions := 1
	for !strings.Contains(cardText(card), "Remind me in 12 months") {
		if questions > 20 {
			t.Fatal("the audit never ended")
		}
		f.post(f.submit(ana, personal, cardID, firstChoice(t, card)))
		out = f.take()
		updates, posts := split(out)
		if len(updates) != 1 || len(posts) != 1 {
			t.Fatalf("after answer %d: want an update and a new card, got %d: %+v", questions, len(out), out)
		}
		upd, next := updates[0], posts[0]
		if upd.Method != http.MethodPut || upd.ActivityID != cardID || upd.Card == nil || hasActions(upd.Card) || !strings.Contains(cardText(upd.Card), "✓") {
			t.Fatalf("answered card not updated in place: %+v %s", upd.Request, cardText(upd.Card))
		}
		if next.Method != http.MethodPost || next.Card == nil {
			t.Fatalf("no next card: %+v", next)
		}
		card, cardID = next.Card, next.ResponseID
		questions++
	}
	for _, want := range []string{"Pointing to ", "What the provider would cover", "What your team keeps", "Co-managed vs fully managed", "Next steps", "Revisit this decision by", "Start over"} {
		if !strings.Contains(cardText(card), want) {
			t.Errorf("recommendation card lacks %q", want)
		}
	}
	st, err := f.engine.Status(context.Background(), key(ana, personal))
	if err != nil || st.Result == nil {
		t.Fatalf("session not done: %+v %v", st, err)
	}

	// Remind me: the lead's scheduler gets the user and the time zone.
	f.post(f.submit(ana, personal, cardID, map[string]any{"itfit": "remind", "user": ana.aad}))
	out = f.take()
	if len(out) != 1 || !strings.Contains(out[0].Text, "28 February 2027") {
		t.Fatalf("remind reply: %+v", out)
	}
	if len(rem.calls) != 1 || rem.calls[0] != "aad-ana|Europe/Berlin" {
		t.Errorf("Remind calls = %v", rem.calls)
	}

	// The conversation reference is kept for proactive messages, with a TTL.
	ref, err := f.handler.LoadReference(context.Background(), key(ana, personal).UserKey)
	if err != nil {
		t.Fatal(err)
	}
	if ref.ServiceURL != f.bf.ServiceURL() || ref.ConversationID != personal || ref.BotID != botID || ref.TenantID != tenant || ref.UserID != ana.id || ref.ChannelID != "msteams" {
		t.Errorf("reference = %+v", ref)
	}
	ttl := f.rb.Client.PTTL(context.Background(), f.prefix.TeamsReferences(tenant, ana.aad)).Val()
	if ttl <= 0 || ttl > 48*time.Hour {
		t.Errorf("reference TTL = %v", ttl)
	}
}

func TestRemindersOffSaysSoHonestly(t *testing.T) {
	f := newFixture(t, nil)
	f.post(f.submit(ana, personal, "sent-1", map[string]any{"itfit": "remind", "user": ana.aad}))
	out := f.take()
	if len(out) != 1 || !strings.Contains(out[0].Text, "not switched on") {
		t.Fatalf("reply: %+v", out)
	}
}

func TestPersonalCommands(t *testing.T) {
	f := newFixture(t, nil)
	f.post(f.activity(ana, personal, "help"))
	out := f.take()
	if len(out) != 1 || !strings.Contains(out[0].Text, "restart") || out[0].Card != nil {
		t.Fatalf("help: %+v", out)
	}
	f.post(f.activity(ana, personal, "status"))
	if out = f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "no audit in progress") {
		t.Fatalf("status without audit: %+v", out)
	}
	f.post(f.activity(ana, personal, "hello"))
	first := f.take()[0]
	f.post(f.submit(ana, personal, first.ResponseID, firstChoice(t, first.Card)))
	f.take()
	f.post(f.activity(ana, personal, "Status"))
	if out = f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "question 2 of") {
		t.Fatalf("status: %+v", out)
	}
	f.post(f.activity(ana, personal, "anything"))
	if out = f.take(); len(out) != 1 || !strings.Contains(cardText(out[0].Card), "Question 2 of") || !strings.Contains(cardText(out[0].Card), "Welcome back") ||
		!strings.Contains(cardText(out[0].Card), "I don't know “anything”") {
		t.Fatalf("resume: %+v", out)
	}
	f.post(f.activity(ana, personal, " restart "))
	if out = f.take(); len(out) != 1 || !strings.Contains(cardText(out[0].Card), "Question 1 of") {
		t.Fatalf("restart: %+v", out)
	}
}

func TestChannelMentionRepliesInThreadWithAuditPerUser(t *testing.T) {
	f := newFixture(t, nil)
	thread := channel + ";messageid=1700000000500"

	// Without a mention the bot stays out of the conversation.
	f.post(f.activity(bob, thread, "what do we think about IT?"))
	if out := f.take(); len(out) != 0 {
		t.Fatalf("replied without a mention: %+v", out)
	}

	msg := f.mention(bob, thread, "start")
	f.post(msg)
	out := f.take()
	if len(out) != 1 || out[0].Card == nil {
		t.Fatalf("reply: %+v", out)
	}
	if out[0].Path != "v3/conversations/"+thread+"/activities/"+msg["id"].(string) {
		t.Errorf("not a reply in the thread: %s", out[0].Path)
	}
	if !strings.Contains(cardText(out[0].Card), "for Bob Li") {
		t.Errorf("card does not say whose it is: %s", cardText(out[0].Card))
	}
	bobCard, bobCardID := out[0].Card, out[0].ResponseID
	before, _ := f.engine.Status(context.Background(), key(bob, thread))

	// Carol presses Bob's card: a polite note, and both sessions untouched.
	f.post(f.submit(carol, thread, bobCardID, firstChoice(t, bobCard)))
	out = f.take()
	if len(out) != 1 || out[0].Card != nil || !strings.Contains(out[0].Text, "someone else's audit") || !strings.Contains(out[0].Text, "start your own") {
		t.Fatalf("note to Carol: %+v", out)
	}
	if strings.Contains(out[0].Text, "](") || strings.Contains(out[0].Text, "[") {
		t.Errorf("Carol's display name reached the message as markdown: %q", out[0].Text)
	}
	after, _ := f.engine.Status(context.Background(), key(bob, thread))
	if after.Rev != before.Rev || after.Position != before.Position {
		t.Errorf("Bob's session changed: %+v -> %+v", before, after)
	}
	if st, _ := f.engine.Status(context.Background(), key(carol, thread)); st.Event != conversation.NoSession {
		t.Errorf("Carol got a session from Bob's card: %+v", st)
	}

	// Carol mentions the bot: her own audit, beside Bob's.
	f.post(f.mention(carol, thread, ""))
	out = f.take()
	if len(out) != 1 || !strings.Contains(cardText(out[0].Card), "Question 1 of") || !strings.Contains(cardText(out[0].Card), "for Carol Admin") {
		t.Fatalf("Carol's card: %+v", out)
	}
	// Bob answers his own card: it is updated in place in the thread.
	f.post(f.submit(bob, thread, bobCardID, firstChoice(t, bobCard)))
	out = f.take()
	if updates, _ := split(out); len(out) != 2 || len(updates) != 1 || updates[0].ConversationID != thread || updates[0].ActivityID != bobCardID {
		t.Fatalf("Bob's answer: %+v", out)
	}
	if st, _ := f.engine.Status(context.Background(), key(bob, thread)); st.Position != 2 {
		t.Errorf("Bob at question %d", st.Position)
	}
	if st, _ := f.engine.Status(context.Background(), key(carol, thread)); st.Position != 1 {
		t.Errorf("Carol at question %d", st.Position)
	}
}

func TestDoubleSubmitAdvancesOnce(t *testing.T) {
	f := newFixture(t, nil)
	f.post(f.activity(ana, personal, "hi"))
	first := f.take()[0]
	press := firstChoice(t, first.Card)

	// Two presses of the same button arrive at once (a double click, or a
	// retried delivery); the engine records one of them.
	a, b := f.submit(ana, personal, first.ResponseID, press), f.submit(ana, personal, first.ResponseID, press)
	var wg sync.WaitGroup
	for _, act := range []map[string]any{a, b} {
		body, _ := json.Marshal(act)
		auth := f.bf.Authorization(t, f.bf.ServiceURL())
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/messages", bytes.NewReader(body))
			req.Header.Set("Authorization", auth)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if err := f.bg.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The second press of the button that just advanced the audit is left
	// alone: its reply, the next question, is already on its way.
	var cards, updates, others int
	for _, s := range f.take() {
		switch {
		case s.Method == http.MethodPut:
			updates++
		case s.Card != nil:
			cards++
		default:
			others++
		}
	}
	if cards != 1 || updates != 1 || others != 0 {
		t.Errorf("cards=%d updates=%d others=%d, want 1, 1 and 0", cards, updates, others)
	}
	if st, _ := f.engine.Status(context.Background(), key(ana, personal)); st.Position != 2 {
		t.Errorf("advanced to question %d, want 2", st.Position)
	}
}

func TestBackAndStartOverButtons(t *testing.T) {
	f := newFixture(t, nil)
	f.post(f.activity(ana, personal, "hi"))
	c1 := f.take()[0]
	f.post(f.submit(ana, personal, c1.ResponseID, firstChoice(t, c1.Card)))
	c2, _ := lastCard(f.take())
	back := button(t, c2.Card, "Back")
	f.post(f.submit(ana, personal, c2.ResponseID, back))
	out := f.take()
	updates, posts := split(out)
	if len(out) != 2 || len(updates) != 1 || updates[0].ActivityID != c2.ResponseID || hasActions(updates[0].Card) ||
		!strings.Contains(cardText(posts[0].Card), "Question 1 of") || !strings.Contains(cardText(posts[0].Card), "Your earlier answer was") {
		t.Fatalf("back: %+v", out)
	}
	// Start over asks first (Teams has no dialog: the card unfolds).
	q1 := posts[0]
	restart := button(t, q1.Card, "Start over")
	f.post(f.submit(ana, personal, q1.ResponseID, restart))
	out = f.take()
	updates, posts = split(out)
	if len(out) != 2 || !strings.Contains(cardText(updates[0].Card), "started over") || !strings.Contains(cardText(posts[0].Card), "Question 1 of") {
		t.Fatalf("start over: %+v", out)
	}
}

func TestInvalidAnswerIsExplained(t *testing.T) {
	f := newFixture(t, nil)
	f.post(f.activity(ana, personal, "hi"))
	c1 := f.take()[0]
	v := firstChoice(t, c1.Card)
	v["option"] = "not-an-option"
	f.post(f.submit(ana, personal, c1.ResponseID, v))
	out := f.take()
	if len(out) != 1 || !strings.Contains(out[0].Text, "not one of the options") {
		t.Fatalf("reply: %+v", out)
	}
	if st, _ := f.engine.Status(context.Background(), key(ana, personal)); st.Position != 1 {
		t.Errorf("an invalid answer moved the audit to %d", st.Position)
	}
}

// TestAuthThroughTheEndpoint: every token failure is a 401 with nothing sent
// and nothing stored, including the cases msbotbuilder-go v0.2.5 gets wrong
// (no Bearer scheme, no exp, no serviceurl claim, array audience, another
// metadata URL, endorsements, clock skew).
func TestAuthThroughTheEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	svc := f.bf.ServiceURL()
	claims := func(change func(jwt.MapClaims)) string {
		c := f.bf.Claims(svc)
		change(c)
		return "Bearer " + f.bf.Sign(t, c)
	}
	cases := []struct {
		name   string
		auth   string
		change func(map[string]any)
	}{
		{"missing header", "", nil},
		{"no Bearer scheme", strings.TrimPrefix(f.bf.Authorization(t, svc), "Bearer "), nil},
		{"basic scheme", "Basic YTpi", nil},
		{"garbage", "Bearer not.a.jwt", nil},
		{"signed by an unpublished key", "Bearer " + bftest.SignWith(t, other, bftest.KeyID, f.bf.Claims(svc)), nil},
		{"unknown kid", "Bearer " + bftest.SignWith(t, other, "rotated-away", f.bf.Claims(svc)), nil},
		{"wrong audience", claims(func(c jwt.MapClaims) { c["aud"] = "another-bot" }), nil},
		{"array audience without us", claims(func(c jwt.MapClaims) { c["aud"] = []string{"a", "b"} }), nil},
		{"wrong issuer", claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil},
		{"expired beyond skew", claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-6 * time.Minute).Unix() }), nil},
		{"no exp", claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil},
		{"no serviceurl claim", claims(func(c jwt.MapClaims) { delete(c, "serviceurl") }), nil},
		{"serviceUrl mismatch", claims(func(c jwt.MapClaims) { c["serviceurl"] = "https://smba.trafficmanager.net/emea/" }), nil},
		{"activity serviceUrl swapped", f.bf.Authorization(t, svc), func(a map[string]any) { a["serviceUrl"] = "https://attacker.example/" }},
		{"channel not endorsed", f.bf.Authorization(t, svc), func(a map[string]any) { a["channelId"] = "slack" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := f.activity(ana, personal, "hi")
			if c.change != nil {
				c.change(a)
			}
			if code := f.postAuth(a, c.auth); code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", code)
			}
			if reqs := f.bf.Requests(); len(reqs) != 0 {
				t.Errorf("sent to the connector: %+v", reqs)
			}
			if ks := redistest.Keys(t, f.rb.Client, f.prefix); len(ks) != 0 {
				t.Errorf("stored: %v", ks)
			}
		})
	}
	// Within the 5-minute skew the same activity is accepted.
	ok := claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-4 * time.Minute).Unix() })
	if code := f.postAuth(f.activity(ana, personal, "hi"), ok); code != http.StatusOK {
		t.Errorf("token within skew: %d", code)
	}
	ok = claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", bftest.AppID} })
	if code := f.postAuth(f.activity(ana, personal, "hi"), ok); code != http.StatusOK {
		t.Errorf("array audience naming us: %d", code)
	}
}

func TestBadBodies(t *testing.T) {
	f := newFixture(t, nil)
	auth := f.bf.Authorization(t, f.bf.ServiceURL())
	if code := f.postRaw([]byte(`{"type":"message",`), auth); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d", code)
	}
	big := f.activity(ana, personal, strings.Repeat("x", teams.DefaultMaxBody))
	if code := f.postAuth(big, auth); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", code)
	}
	// A valid token for an activity whose card value is not ours: a note,
	// never a state change.
	f.post(f.submit(ana, personal, "sent-9", map[string]any{"itfit": 12}))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "not one itfit recognises") {
		t.Errorf("forged value: %+v", out)
	}
	if len(f.bf.Requests()) != 0 {
		t.Error("unexpected sends")
	}
}

// TestTheActivityIsDecodedOnlyUnderAValidToken: a member of the wrong
// type is found by the whole activity's decoding, which comes after the
// token check: under a forged token only channelId and serviceUrl are read
// (401), under a valid one the activity is refused (400), the first time
// and again once the token is known (the fast decoder's path). Nothing is
// sent or stored.
func TestTheActivityIsDecodedOnlyUnderAValidToken(t *testing.T) {
	f := newFixture(t, nil)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	svc := f.bf.ServiceURL()
	bad := f.activity(ana, personal, "hi")
	bad["from"] = 5
	forged := "Bearer " + bftest.SignWith(t, other, bftest.KeyID, f.bf.Claims(svc))
	auth := f.bf.Authorization(t, svc)
	for _, c := range []struct {
		name string
		auth string
		want int
	}{
		{"forged token", forged, http.StatusUnauthorized},
		{"valid token, first sight", auth, http.StatusBadRequest},
		{"valid token, known", auth, http.StatusBadRequest},
		{"forged token again", forged, http.StatusUnauthorized},
	} {
		if code := f.postAuth(bad, c.auth); code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
	}
	if code := f.postRaw([]byte(`{"type":"message","channelId":"msteams",`), auth); code != http.StatusBadRequest {
		t.Errorf("malformed JSON under a known token: %d", code)
	}
	if reqs := f.bf.Requests(); len(reqs) != 0 {
		t.Errorf("sent to the connector: %+v", reqs)
	}
	if ks := redistest.Keys(t, f.rb.Client, f.prefix); len(ks) != 0 {
		t.Errorf("stored: %v", ks)
	}
	if code := f.post(f.activity(ana, personal, "hi")); code != http.StatusOK {
		t.Errorf("a good activity after: %d", code)
	}
}

func TestConnectorFailureIsLoggedAndCounted(t *testing.T) {
	f := newFixture(t, nil)
	f.bf.FailWith(http.StatusForbidden)
	if code := f.post(f.activity(ana, personal, "hi")); code != http.StatusOK {
		t.Fatalf("status %d: the acknowledgement must not depend on the connector", code)
	}
	if !strings.Contains(f.logs.String(), "connector call failed") {
		t.Errorf("failure not logged:\n%s", f.logs.String())
	}
}
