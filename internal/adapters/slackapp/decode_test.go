package slackapp

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// questionPayload is a block_actions payload as Slack sends it for a click
// on a question: the message clicked echoed whole, blocks and all.
func questionPayload(tb testing.TB) []byte {
	tb.Helper()
	golden, err := os.ReadFile("testdata/question_multi_group.golden.json")
	if err != nil {
		tb.Fatal(err)
	}
	var msg struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(golden, &msg); err != nil {
		tb.Fatal(err)
	}
	payload := map[string]any{
		"type": "block_actions", "api_app_id": "A1", "token": "gIkuvaNzQIHg97ATvDxqgjtO", "trigger_id": "1.2.3",
		"user":       map[string]any{"id": "U1", "username": "ann", "name": "ann", "team_id": "T1"},
		"team":       map[string]any{"id": "T1", "domain": "acme"},
		"enterprise": nil, "is_enterprise_install": false,
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "D1", "is_ephemeral": false},
		"channel":   map[string]any{"id": "D1", "name": "directmessage"},
		"message":   map[string]any{"type": "message", "user": "U0BOT", "ts": "1700000000.000001", "text": msg.Text, "blocks": msg.Blocks},
		"state": map[string]any{"values": map[string]any{
			blockChoices: map[string]any{actCheck: map[string]any{"type": "checkboxes", "selected_options": []any{
				map[string]any{"text": map[string]any{"type": "plain_text", "text": "Laptops"}, "value": "laptops"},
			}}},
		}},
		"response_url": "https://hooks.slack.com/actions/T1/1/x",
		"actions": []any{map[string]any{"action_id": "itfit_continue", "block_id": "itfit_nav", "value": "7:skills:3:9",
			"type": "button", "action_ts": "1700000001.000000", "text": map[string]any{"type": "plain_text", "text": "Continue"}}},
	}
	b, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeInteraction decodes what json.Unmarshal decodes, and refuses what
// it refuses, whatever the input.
func FuzzDecodeInteraction(f *testing.F) {
	f.Add(questionPayload(f))
	for _, s := range []string{
		`{}`, ` { } `, `null`, `[]`, `"x"`, `{"type":"block_actions"}`, `{"TYPE":"shortcut","Callback_ID":"x"}`,
		`{"type":"a","type":"b"}`, `{"user":{"id":"U1"},"user":{"team_id":"T1"}}`, `{"\u0074ype":"block_actions"}`,
		`{"message":{"blocks":[1,2,{"a":[true,false,null,-0.5e+3]}]},"type":"x"}`, `{"message":[01]}`, `{"message":"\x01"}`,
		`{"message":tru}`, `{"message":1.}`, `{"message":-}`, `{"message":"\u12"}`, `{"message":"\q"}`, `{"a":1,}`,
		`{"a":1} x`, `{"a" 1}`, `{"actions":[{"action_id":5}]}`, `{"state":{"values":{"b":{"a":{"selected_options":[{"value":"v"}]}}}}}`,
		`{"message":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"message":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`, `{"ſtate":{}}`, "{\"type\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got interaction
		werr := json.Unmarshal(data, &want)
		gerr := decodeInteraction(data, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, decodeInteraction %v", data, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q:\n encoding/json     %+v\n decodeInteraction %+v", data, want, got)
		}
	})
}

func TestDecodeInteractionReadsAQuestionClick(t *testing.T) {
	var p interaction
	if err := decodeInteraction(questionPayload(t), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "block_actions" || p.User.ID != "U1" || p.Team.ID != "T1" || p.Channel.ID != "D1" ||
		p.Container.MessageTS != "1700000000.000001" || len(p.Actions) != 1 || p.Actions[0].Value != "7:skills:3:9" ||
		p.State.Values[blockChoices][actCheck].SelectedOptions[0].Value != "laptops" || p.ResponseURL == "" {
		t.Fatalf("decoded %+v", p)
	}
}

// go test -run '^$' -bench DecodeInteraction -benchmem ./internal/adapters/slackapp
func BenchmarkDecodeInteraction(b *testing.B) {
	payload := questionPayload(b)
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var p interaction
			if err := json.Unmarshal(payload, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("members", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var p interaction
			if err := decodeInteraction(payload, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
