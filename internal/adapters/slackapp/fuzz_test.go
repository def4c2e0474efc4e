package slackapp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/slackapi"
)

// The fuzz targets here feed arbitrary outside input to the parsers Slack
// reaches: button values, the signature headers, and the three endpoints'
// bodies (signed correctly, so the fuzzer gets past verification and into
// the parsing). The endpoints run over the real engine on an embedded Redis
// and a Web API stub, with the post-acknowledgement work run inline so that
// a panic in it fails the fuzz run instead of being recovered and logged.

func FuzzParseChoice(f *testing.F) {
	for _, s := range []string{"7:it_staff:none", "1:it_staff", "0:a:b", "", ":", "::", "1::", "-1:a:b",
		"99999999999999999999:a:b", "1:A:b", "1:a:b:c", "1:" + strings.Repeat("a", 33) + ":b", "01:a:b", "+1:a:b", "1:a:\xff", "7:it_staff:none:1:10", "7:skills::3:9", "7:a:b:01:2"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, withOption bool) {
		c, ok := parseChoice(v, withOption)
		if !ok {
			return
		}
		// Whatever is accepted is well formed and re-encodes canonically,
		// and the canonical form parses back to the same choice.
		if c.Rev < 0 || !isID(string(c.Question)) || (withOption != (c.Option != "")) || (withOption && !isID(string(c.Option))) {
			t.Fatalf("parseChoice(%q) accepted %+v", v, c)
		}
		again, ok := parseChoice(c.String(), withOption)
		if !ok || again != c {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", v, c, c.String(), again, ok)
		}
		if len(c.String()) > 2000 { // Block Kit's limit on a button value
			t.Fatalf("value %d bytes long", len(c.String()))
		}
		// A value in the canonical five-field form with a canonical decimal
		// revision round-trips byte for byte.
		if rev := v[:strings.IndexByte(v, ':')]; strings.Count(v, ":") == 4 && rev == strconv.FormatInt(c.Rev, 10) &&
			c.String() != v && !strings.Contains(v, ":0") && !strings.Contains(v, ":+") {
			t.Fatalf("%q re-encodes as %q", v, c.String())
		}
	})
}

// inline runs background work at once, in the request, without recovering.
type inline struct{}

func (inline) TryGo(ctx context.Context, _, _ string, f func(context.Context)) error {
	f(ctx)
	return nil
}

// stubAPI is a Web API that always succeeds and counts calls.
type stubAPI struct {
	mu    sync.Mutex
	calls int
}

func (s *stubAPI) n() int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls }
func (s *stubAPI) hit()   { s.mu.Lock(); s.calls++; s.mu.Unlock() }

func (s *stubAPI) OpenConversationContext(_ context.Context, p *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error) {
	s.hit()
	ch := &slack.Channel{}
	ch.ID = "D" + strings.Join(p.Users, "")
	return ch, false, false, nil
}
func (s *stubAPI) PostMessageContext(_ context.Context, ch string, _ ...slack.MsgOption) (string, string, error) {
	s.hit()
	return ch, "1.1", nil
}
func (s *stubAPI) UpdateMessageContext(_ context.Context, ch, ts string, _ ...slack.MsgOption) (string, string, string, error) {
	s.hit()
	return ch, ts, "", nil
}
func (s *stubAPI) PostEphemeralContext(context.Context, string, string, ...slack.MsgOption) (string, error) {
	s.hit()
	return "1.1", nil
}
func (s *stubAPI) GetUserInfoContext(_ context.Context, u string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	s.hit()
	return &slack.User{ID: u}, nil
}
func (s *stubAPI) PublishViewContext(context.Context, slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	s.hit()
	return &slack.ViewResponse{}, nil
}
func (s *stubAPI) UploadFileContext(context.Context, slack.UploadFileParameters) (*slack.FileSummary, error) {
	s.hit()
	return &slack.FileSummary{}, nil
}

// fuzzApp is the three endpoints over the real engine on an embedded Redis.
type fuzzApp struct {
	mux    *http.ServeMux
	engine *conversation.Engine
	rdb    redis.UniversalClient
	prefix keys.Prefix
	api    *stubAPI
	now    time.Time
}

// victim is a user whose audit no fuzzed request names, so none may change it.
var victim = conversation.Key{UserKey: userKey("TVICTIM", "UVICTIM"), Conversation: "DVICTIM"}

func newFuzzApp(f *testing.F) *fuzzApp {
	rb := redistest.Embedded(f)
	fa := &fuzzApp{rdb: rb.Client, prefix: rb.Prefix, api: &stubAPI{}, now: testNow}
	fa.engine = conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix, Now: func() time.Time { return testNow }})
	app, err := New(Config{SigningSecret: testSecret, BotToken: "xoxb-fuzz"}, Options{
		Flows: newFlows(f, fa.engine, rb.Client, rb.Prefix), Redis: rb.Client, Prefix: rb.Prefix, Background: inline{}, API: fa.api,
		Now:              func() time.Time { return testNow },
		Sleep:            func(context.Context, time.Duration) error { return nil },
		AllowResponseURL: func(*url.URL) bool { return false },
	})
	if err != nil {
		f.Fatal(err)
	}
	fa.mux = http.NewServeMux()
	app.Mount(fa.mux)
	return fa
}

// reset leaves only the victim's new audit in the store, so each input is
// checked from the same state and the checks stay cheap.
func (fa *fuzzApp) reset(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := fa.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.engine.Start(ctx, victim); err != nil {
		t.Fatal(err)
	}
}

// post signs body and serves it; it returns the status code.
func (fa *fuzzApp) post(t *testing.T, path, ctype string, body []byte) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", ctype)
	ts := strconv.FormatInt(fa.now.Unix(), 10)
	req.Header.Set(slackapi.HeaderTimestamp, ts)
	req.Header.Set(slackapi.HeaderSignature, slackapi.Sign(testSecret, ts, body))
	rec := httptest.NewRecorder()
	fa.mux.ServeHTTP(rec, req)
	switch rec.Code {
	case http.StatusOK, http.StatusBadRequest:
	default:
		t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body.String())
	}
	return rec.Code
}

// check asserts what must hold after any request: the victim's audit is
// untouched, and every session in Redis holds only real questions and
// options of the audit.
func (fa *fuzzApp) check(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	r, err := fa.engine.Status(ctx, victim)
	if err != nil || r.Rev != 1 || r.Position != 1 {
		t.Fatalf("the victim's audit changed: %+v %v", r, err)
	}
	audit := fa.engine.Audit()
	ks, err := fa.rdb.Keys(ctx, string(fa.prefix)+":*:session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		h, err := fa.rdb.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for field, v := range h {
			q, ok := strings.CutPrefix(field, "a:")
			if !ok {
				continue
			}
			var opts []advisor.OptionID
			for _, o := range strings.Split(v, ",") {
				opts = append(opts, advisor.OptionID(o))
			}
			if _, err := audit.CheckAnswer(advisor.QuestionID(q), opts); err != nil {
				t.Fatalf("session %s stores an answer the audit does not have: %s=%s (%v)", k, field, v, err)
			}
		}
	}
}

func FuzzSlashCommand(f *testing.F) {
	fa := newFuzzApp(f)
	for _, s := range []string{
		"team_id=T1&user_id=U1&channel_id=C1&command=%2Fitfit&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fx",
		"team_id=T1&user_id=U1&text=restart", "team_id=T1&user_id=U1&text=status", "team_id=T1&user_id=U1&text=help",
		"team_id=T1&user_id=U1&enterprise_id=E1&text=%E2%80%9Cunknown%22%3Cb%3E",
		"team_id=TVICTIM&user_id=UVICTIM&text=restart&channel_id=DVICTIM", // only when really the victim; see below
		"team_id=%zz", "text=%ff%fe", "team_id=T1&user_id=U1&text=" + strings.Repeat("%ff", 100), "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, _ := url.ParseQuery(body)
		if form.Get("user_id") == string(victim.User) {
			// A request really from the victim may change their audit;
			// the property is about everyone else.
			return
		}
		fa.reset(t)
		fa.post(t, "/slack/commands", "application/x-www-form-urlencoded", []byte(body))
		fa.check(t)
	})
}

func FuzzInteraction(f *testing.F) {
	fa := newFuzzApp(f)
	base := `{"type":"block_actions","user":{"id":"U1","team_id":"T1"},"team":{"id":"T1"},` +
		`"container":{"type":"message","message_ts":"1.1","channel_id":"DU1"},"channel":{"id":"DU1"},` +
		`"response_url":"https://hooks.slack.com/actions/T1/1/x","actions":[%s],` +
		`"state":{"values":{"itfit_choices":{"itfit_check":{"selected_options":[{"value":"security"},{"value":"zzz"}]}}}}}`
	for _, a := range []string{
		`{"action_id":"itfit_answer:none","value":"1:it_staff:none"}`,
		`{"action_id":"itfit_answer:none","value":"2:it_staff:none"}`,
		`{"action_id":"itfit_answer:zzz","value":"1:it_staff:zzz"}`,
		`{"action_id":"itfit_answer:x","value":"1:no_such_question:x"}`,
		`{"action_id":"itfit_continue","value":"1:skills"}`,
		`{"action_id":"itfit_back","value":"1:it_staff"}`,
		`{"action_id":"itfit_restart","value":"1:it_staff"}`,
		`{"action_id":"itfit_remind"}`,
		`{"action_id":"itfit_share","selected_user":"UVICTIM"}`,
		`{"action_id":"itfit_home_start"}`,
		`{"action_id":"itfit_check"}`,
		`{"action_id":"\u0000\ud800","value":"\u00ff"}`,
	} {
		f.Add(url.Values{"payload": {strings.Replace(base, "%s", a, 1)}}.Encode())
	}
	// The victim's IDs in places other than user.id: the payload's channel
	// and team, and in the button value.
	f.Add(url.Values{"payload": {`{"type":"block_actions","user":{"id":"U2","team_id":"TVICTIM"},"team":{"id":"TVICTIM"},` +
		`"container":{"message_ts":"1.1","channel_id":"DVICTIM"},"channel":{"id":"DVICTIM"},"actions":[{"action_id":"itfit_answer:none","value":"1:it_staff:none"}]}`}}.Encode())
	f.Add("payload=" + strings.Repeat("%5B", 2000))
	f.Add("payload=null")
	f.Add("payload=%7B%22type%22%3A%22view_submission%22%7D")
	f.Fuzz(func(t *testing.T, body string) {
		if form, err := url.ParseQuery(body); err == nil {
			var p slackapi.Interaction
			if json.Unmarshal([]byte(form.Get("payload")), &p) == nil && p.User.ID == string(victim.User) {
				return // really from the victim: theirs to change
			}
		}
		fa.reset(t)
		fa.post(t, "/slack/interactions", "application/x-www-form-urlencoded", []byte(body))
		fa.check(t)
	})
}

func FuzzEvent(f *testing.F) {
	fa := newFuzzApp(f)
	for _, s := range []string{
		`{"token":"x","challenge":"abc","type":"url_verification"}`,
		`{"team_id":"T1","type":"event_callback","event_id":"Ev1","event":{"type":"app_home_opened","user":"U1","channel":"DU1","tab":"home"}}`,
		`{"team_id":"T1","enterprise_id":"E1","type":"event_callback","event_id":"Ev2","event":{"type":"app_home_opened","user":"U1","tab":"messages"}}`,
		`{"team_id":"T1","type":"event_callback","event_id":"Ev3","event":{"type":"app_uninstalled"}}`,
		`{"team_id":"T1","type":"event_callback","event_id":"Ev4","event":{"type":"message","text":"secret","user":"U1"}}`,
		`{"team_id":"T1","type":"event_callback","event_id":"Ev5","event":"not an object"}`,
		`{"type":"app_rate_limited"}`,
		strings.Repeat("[", 5000),
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fa.reset(t)
		before := fa.api.n()
		code := fa.post(t, "/slack/events", "application/json", body)
		fa.check(t)
		// Events never start or advance an audit: at most one App Home
		// publish (and its status reads) per event.
		if code != http.StatusOK && fa.api.n() != before {
			t.Fatalf("a refused event made %d Web API calls", fa.api.n()-before)
		}
	})
}
