package wirejson_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/wirejson"
)

// corpus is every activity and payload fixture the adapters replay: what
// Teams and Slack send, with the tests' placeholders left in (they are
// strings like any other).
func corpus(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, glob := range []string{
		"../adapters/teams/testdata/corpus/*.json",
		"../adapters/slackapp/testdata/corpus/*.json",
		"../slackapi/testdata/*.json",
	} {
		files, err := filepath.Glob(glob)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, ".expect.json") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) < 20 {
		tb.Fatalf("only %d fixtures found", len(out))
	}
	return out
}

// same decodes data with encoding/json and with wirejson into a fresh T
// and fails unless both refuse it or both give the same value.
func same[T any](t *testing.T, data []byte) {
	t.Helper()
	var want, got T
	werr := json.Unmarshal(data, &want)
	gerr := wirejson.Unmarshal(data, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json says %v, wirejson %v", data, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q:\n encoding/json %+v\n wirejson      %+v", data, want, got)
	}
}

// FuzzUnmarshal holds wirejson.Unmarshal to encoding/json's result, on
// the types it decodes: a Teams activity, a Slack interaction, and the Bot
// Connector's answers (slackapi's FuzzAnswers has the Web API's).
func FuzzUnmarshal(f *testing.F) {
	for _, b := range corpus(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"type":"message","Type":"x","TYPE":"y"}`,
		`{"channelId":"a","channelid":"b","channelData":{"tenant":{"id":"t"}}}`,
		"{\"text\":\"\xff\xfe\",\"value\":{\"a\":\"\xc3\"}}",
		`{"value":null,"entities":null,"channelData":null}`,
		`{"timestamp":"2026-12-01T10:00:00Z","localTimestamp":"not a time"}`,
		`{"text":"\ud800\udc00\ud800"}`,
		`{"membersAdded":[{"id":"1"},{"id":2}]}`,
		`{"value":{"itfit":"answer"}} trailing`,
		`{"actions":[{"action_id":"a","selected_options":[{"value":"x"}]}],"team":{"id":"T1"}}`,
		`{"\u0074ype":"block_actions","user":{"id":"U1"}}`,
		`{"ſervice_url":"x","K":"k"}`,
		`{"ok":true,"channel":"D1","ts":"1700000000.000100","message":{"type":"message","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]}}`,
		`{"ok":false,"error":"ratelimited","response_metadata":{"messages":["a"],"warnings":["w"]}}`,
		`{"ok":true,"messages":[{"metadata":{"event_type":"itfit","event_payload":{"n":1e400,"k":[1,-0,2.5]}}}],"has_more":true,"response_metadata":{"next_cursor":"c"}}`,
		`{"id":"1:abc"}`, `{"id":"a:1","activityId":"1","serviceUrl":"https://smba.example/"}`,
		`[1,2]`, `null`, `"x"`, `{}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		same[botframework.InboundActivity](t, data)
		same[slackapi.Interaction](t, data)
		same[schema.ResourceResponse](t, data)
		same[schema.ConversationResourceResponse](t, data)
	})
}

// Every fixture decodes, and decodes as encoding/json decodes it.
func TestUnmarshalCorpus(t *testing.T) {
	for _, b := range corpus(t) {
		same[botframework.InboundActivity](t, b)
		same[slackapi.Interaction](t, b)
	}
}

// go test -run '^$' -bench Unmarshal -benchmem ./internal/wirejson
func BenchmarkUnmarshal(b *testing.B) {
	raw, err := os.ReadFile("../adapters/teams/testdata/corpus/card_submit_personal.json")
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(strings.NewReplacer("{{TIMESTAMP}}", "2026-12-01T10:00:00.123Z", "{{SERVICE_URL}}", "https://smba.trafficmanager.net/emea/",
		"{{TENANT}}", "72f988bf-86f1-41af-91ab-2d7cd011db47", "{{BOT_ID}}", "28:3b0e5f0c-1234-4a5b-9c8d-0123456789ab", "{{CARD_ID}}", "1700000000049").Replace(string(raw)))
	var probe botframework.InboundActivity
	if err := json.Unmarshal(data, &probe); err != nil {
		b.Fatal(err)
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a botframework.InboundActivity
			if err := json.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wirejson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var a botframework.InboundActivity
			if err := wirejson.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// marshalSamples are values of the types wirejson.Marshal encodes (an
// Adaptive Card, Block Kit blocks, a Teams conversation reference) with s
// and n wherever they carry text and numbers.
func marshalSamples(s string, n int64) []any {
	data := map[string]any{"itfit": "answer", "option": s, s: n, "pos": n}
	card := adaptivecard.New([]adaptivecard.Element{
		{Type: "TextBlock", Text: s, Wrap: true},
		{Type: "FactSet", Facts: []adaptivecard.Fact{{Title: s, Value: s}}},
		{Type: "Input.ChoiceSet", ID: s, Label: s, Choices: []adaptivecard.Choice{{Title: s, Value: s}}, IsMultiSelect: n%2 == 0},
		{Type: "Input.ChoiceSet", ID: "who", Choices: []adaptivecard.Choice{}, ChoicesData: &adaptivecard.DataQuery{Type: "Data.Query", Dataset: "graph.microsoft.com/users"}},
		{Type: "ColumnSet", Columns: []adaptivecard.Element{{Type: "Column", Width: s, Items: []adaptivecard.Element{{Type: "TextBlock", Text: s}}}}},
	}, []adaptivecard.Action{
		{Type: "Action.Submit", Title: s, Data: data},
		{Type: "Action.ShowCard", Title: s, Card: &adaptivecard.Card{Type: "AdaptiveCard", Body: []adaptivecard.Element{{Type: "TextBlock", Text: s}}}},
	})
	text := slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	blocks := []slack.Block{
		slack.NewSectionBlock(text, []*slack.TextBlockObject{text}, nil),
		slack.NewActionBlock(s, slack.NewButtonBlockElement(s, s, slack.NewTextBlockObject(slack.PlainTextType, s, true, false))),
		slack.NewContextBlock("", text),
		slack.NewDividerBlock(),
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, s, false, false)),
	}
	ref := conversation.TeamsReference{ServiceURL: s, ChannelID: "msteams", ConversationID: s, UserID: s, UserName: s, UpdatedAt: time.Unix(n%(1<<40), n%1e9).UTC()}
	return []any{s, n, data, card, blocks, ref}
}

// FuzzMarshal holds wirejson.Marshal to the bytes json.Marshal writes.
func FuzzMarshal(f *testing.F) {
	for _, s := range []string{"", "plain", "<b>&amp;</b>", "\u2028\u2029", "\xff\xfe", "é, ö: 日本", "\"\\/\b\f\n\r\t\x00\x1f", "`*bold*` _i_ <https://x|y>"} {
		f.Add(s, int64(0))
		f.Add(s, int64(-1<<62))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		for _, v := range marshalSamples(s, n) {
			want, werr := json.Marshal(v)
			got, gerr := wirejson.Marshal(v)
			if (werr == nil) != (gerr == nil) || !bytes.Equal(want, got) {
				t.Fatalf("%T with %q:\n encoding/json %s (%v)\n wirejson      %s (%v)", v, s, want, werr, got, gerr)
			}
		}
	})
}
