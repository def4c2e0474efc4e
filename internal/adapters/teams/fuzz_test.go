package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/wirejson"
)

// Seeds shaped like what Teams sends: personal message, channel mention,
// card submit, conversation update, and broken variants.
var activitySeeds = []string{
	`{"type":"message","id":"1","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana","name":"Ana Ruiz","aadObjectId":"aad-ana"},"recipient":{"id":"28:bot","name":"itfit"},"conversation":{"conversationType":"personal","tenantId":"t1","id":"a:1"},"channelData":{"tenant":{"id":"t1"}},"text":"hi"}`,
	`{"type":"message","id":"2","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana","aadObjectId":"aad-ana"},"recipient":{"id":"28:bot"},"conversation":{"isGroup":true,"conversationType":"channel","tenantId":"t1","id":"19:c@thread.tacv2"},"channelData":{"tenant":{"id":"t1"}},"text":"<at>itfit</at> restart","entities":[{"type":"mention","text":"<at>itfit</at>","mentioned":{"id":"28:bot","name":"itfit"}}]}`,
	`{"type":"message","id":"3","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana","aadObjectId":"aad-ana"},"recipient":{"id":"28:bot"},"conversation":{"conversationType":"personal","tenantId":"t1","id":"a:1"},"channelData":{"tenant":{"id":"t1"}},"replyToId":"sent-1","value":{"itfit":"answer","question":"it_staff","rev":1,"option":"none","user":"aad-ana","pos":1,"total":10}}`,
	`{"type":"message","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana","aadObjectId":"aad-ana"},"recipient":{"id":"28:bot"},"conversation":{"conversationType":"personal","tenantId":"t1","id":"a:1"},"value":{"itfit":"answer","question":"skills","rev":2,"options":"security,,cloud,zzz","user":"aad-ana"}}`,
	`{"type":"message","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana","aadObjectId":"aad-ana"},"recipient":{"id":"28:bot"},"conversation":{"conversationType":"personal","tenantId":"t1","id":"a:1"},"value":{"itfit":"answer","question":"it_staff","rev":1,"option":"none","user":"aad-victim"}}`,
	`{"type":"conversationUpdate","serviceUrl":"https://smba.example/","channelId":"msteams","from":{"id":"29:1ana"},"recipient":{"id":"28:bot"},"conversation":{"id":"a:1","tenantId":"t1"},"membersAdded":[{"id":"28:bot"}]}`,
	`{"type":"message","text":"</at> <at>Bob</at> restart","from":{"id":"x"},"recipient":{"id":"28:bot"}}`,
	`{"type":"message","text":"<at>itfit</at>&nbsp;HELP\u00a0","entities":[{"type":"mention","text":"","mentioned":{"id":"28:bot"}}],"recipient":{"id":"28:bot"}}`,
	`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute"}}}`,
	`{"type":"message","value":null,"text":"\xff\xfe"}`,
	`{"type":"message","entities":"not an array"}`,
	`[1,2,3]`,
	`{"type":"message","value":` + strings.Repeat("[", 3000) + `}`,
}

// FuzzActivity decodes arbitrary JSON as an inbound activity and checks the
// rules the adapter builds on: the session key comes only from the
// activity's own tenant, sender and conversation (never from card data), and
// the command text has no mention markup, no outer space, no upper case.
func FuzzActivity(f *testing.F) {
	for _, s := range activitySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var a inbound
		if json.Unmarshal(body, &a) != nil {
			return
		}
		k, ok := a.key()
		if ok {
			tenant := a.ChannelData.Tenant.ID
			if tenant == "" {
				tenant = a.Conversation.TenantID
			}
			user := a.From.AadObjectID
			if user == "" {
				user = a.From.ID
			}
			if k.Platform != conversation.Teams || string(k.Workspace) != tenant || string(k.User) != user ||
				string(k.Conversation) != a.Conversation.ID || tenant == "" || user == "" || k.Conversation == "" {
				t.Fatalf("key %+v from activity %+v", k, a)
			}
			// Card data cannot move the key: the same activity with any
			// other value has the same key.
			b := a
			b.Value = json.RawMessage(`{"itfit":"answer","user":"aad-victim","tenant":"t-victim","conv":"a:victim"}`)
			if k2, _ := b.key(); k2 != k {
				t.Fatalf("the card value moved the key: %+v -> %+v", k, k2)
			}
		}
		cmd := a.commandText()
		if cmd != strings.ToLower(cmd) {
			t.Fatalf("command %q is not lower case", cmd)
		}
		if cmd != strings.Join(strings.Fields(cmd), " ") {
			t.Fatalf("command %q has stray space", cmd)
		}
		// Teams writes mention tags in lower case; text in other cases
		// ("<At>", which Teams would have escaped) is not a mention.
		exact := strings.Count(a.Text, "<at>") == strings.Count(strings.ToLower(a.Text), "<at>") &&
			strings.Count(a.Text, "</at>") == strings.Count(strings.ToLower(a.Text), "</at>")
		if i := strings.Index(cmd, "<at>"); exact && i >= 0 && strings.Contains(cmd[i:], "</at>") {
			t.Fatalf("command %q from text %q still holds a mention", cmd, a.Text)
		}
		if strings.Contains(cmd, "&nbsp;") && strings.Count(a.Text, "&nbsp;") == strings.Count(strings.ToLower(a.Text), "&nbsp;") {
			t.Fatalf("command %q holds &nbsp;", cmd)
		}
		var v submitValue
		if json.Unmarshal(a.Value, &v) == nil {
			for _, o := range splitOptions(v.Options) {
				if o == "" || strings.Contains(string(o), ",") {
					t.Fatalf("splitOptions(%q) gave %q", v.Options, o)
				}
			}
		}
	})
}

// acceptAll stands in for the token check: the fuzzed activities are ones
// the Bot Connector would relay (their text and card data are what a user
// controls), so the properties are about what happens after validation.
type acceptAll struct{}

func (acceptAll) Validate(_ context.Context, _, channelID, serviceURL string) (botframework.Claims, error) {
	return botframework.Claims{ServiceURL: serviceURL, ChannelID: channelID}, nil
}

// Authentic is false, so every fuzzed body takes the path of a token not
// seen before: read by the memory-safe head reader, then decoded.
func (acceptAll) Authentic(string) bool { return false }

// countingConnector records sends; the embedded interface is nil, so a
// method this stub does not define fails the run if it is ever called.
type countingConnector struct {
	Connector
	mu    sync.Mutex
	sends []string
}

func (c *countingConnector) record(conv string) {
	c.mu.Lock()
	c.sends = append(c.sends, conv)
	c.mu.Unlock()
}

func (c *countingConnector) SendToConversation(_ context.Context, _, conv string, _ schema.Activity) (schema.ResourceResponse, error) {
	c.record(conv)
	return schema.ResourceResponse{ID: "sent"}, nil
}

func (c *countingConnector) ReplyToActivity(_ context.Context, _, conv, _ string, _ schema.Activity) (schema.ResourceResponse, error) {
	c.record(conv)
	return schema.ResourceResponse{ID: "sent"}, nil
}

func (c *countingConnector) UpdateActivity(_ context.Context, _, conv, id string, _ schema.Activity) (schema.ResourceResponse, error) {
	c.record(conv)
	return schema.ResourceResponse{ID: id}, nil
}

type inlineRunner struct{}

func (inlineRunner) TryGo(ctx context.Context, _, _ string, f func(context.Context)) error {
	f(ctx)
	return nil
}

// FuzzHandler serves arbitrary activities through POST /api/messages over
// the real engine on an embedded Redis: never a panic, never anything but
// 200/400 (501 for an invoke itfit does not handle), and a victim's audit, started before, never moves unless the
// activity really comes from the victim.
func FuzzHandler(f *testing.F) {
	rb := redistest.Embedded(f)
	engine := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	victim := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-victim"}, Conversation: "a:victim"}
	claims := conversation.NewClaims(rb.Client, rb.Prefix, 0, nil)
	erasers := &erasure.Registry{}
	erasers.Register("sessions", erasure.Sessions(engine))
	erasers.Register("claims", erasure.Other(claims))
	flows, err := chat.New(chat.Options{Engine: engine, Eraser: erasers, Claims: claims})
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Options{Flows: flows, Validator: acceptAll{}, Connector: &countingConnector{}, Redis: rb.Client, Prefix: rb.Prefix, Background: inlineRunner{}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range activitySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var a inbound
		decoded := json.Unmarshal(body, &a) == nil
		if decoded && (a.From.AadObjectID == "aad-victim" || (a.From.AadObjectID == "" && a.From.ID == "aad-victim")) {
			return // really the victim
		}
		// An invoke other than adaptiveCard/action is answered 501 at once,
		// as botbuilder answers it (invokeResponse).
		unhandledInvoke := decoded && a.Type == "invoke" && a.Name != "adaptiveCard/action"
		// Each input starts from a store holding only the victim's audit, so
		// the checks below stay cheap however long the fuzzer runs.
		ctx := context.Background()
		if err := rb.Client.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := engine.Start(ctx, victim); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body)))
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && (rec.Code != http.StatusNotImplemented || !unhandledInvoke) {
			t.Fatalf("status %d", rec.Code)
		}
		r, err := engine.Status(context.Background(), victim)
		if err != nil || r.Rev != 1 || r.Position != 1 {
			t.Fatalf("the victim's audit moved: %+v %v", r, err)
		}
		checkSessions(t, rb.Client, rb.Prefix, engine.Audit())
	})
}

// checkSessions asserts every stored answer names a real question and a
// valid choice of its options.
func checkSessions(t *testing.T, rdb redis.UniversalClient, p keys.Prefix, audit *advisor.Audit) {
	t.Helper()
	ctx := context.Background()
	ks, err := rdb.Keys(ctx, string(p)+":*:session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		h, err := rdb.HGetAll(ctx, k).Result()
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
				t.Fatalf("%s stores %s=%s, not in the audit: %v", k, field, v, err)
			}
		}
	}
}

// FuzzSubmitValue holds wirejson's decoding of a card submit's value to
// encoding/json's: the same value, the same refusals.
func FuzzSubmitValue(f *testing.F) {
	for _, s := range []string{
		`{"itfit":"answer","question":"it_staff","rev":1,"option":"none","user":"aad-ana","uid":"29:1ana","pos":1,"total":10,"in":"fr-CA"}`,
		`{"itfit":"answer","question":"skills","rev":2,"options":"security,,cloud,zzz","user":"aad-ana"}`,
		`{"itfit":"share","manager":"aad-boss","user":"aad-ana","lang":"xx-YY"}`,
		`{"itfit":"desk","sort":"due","page":"2","format":"csv","client":"aad-c","conv":"a:1"}`,
		`{"itfit":12}`, `{"rev":"1"}`, `{"pos":1e3}`, `{"in":5}`, `null`, `[]`, `{"ITFIT":"answer","User":"u"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got submitValue
		werr := json.Unmarshal(data, &want)
		gerr := wirejson.Unmarshal(data, &got)
		if (werr == nil) != (gerr == nil) || werr == nil && want != got {
			t.Fatalf("%q:\n encoding/json %+v (%v)\n wirejson      %+v (%v)", data, want, werr, got, gerr)
		}
	})
}
