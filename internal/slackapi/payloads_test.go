package slackapi

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/wirejson"
)

// questionPayload is a block_actions payload as Slack sends it for a click
// on a question: the message clicked echoed whole, blocks and all (a
// multi-select question as the Slack adapter renders it, with one box
// ticked).
func questionPayload(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/block_actions_question.json")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// DecodeInteraction decodes what json.Unmarshal decodes, and refuses what
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
		var want, got Interaction
		werr := json.Unmarshal(data, &want)
		gerr := DecodeInteraction(data, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, DecodeInteraction %v", data, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q:\n encoding/json     %+v\n DecodeInteraction %+v", data, want, got)
		}
	})
}

func TestDecodeInteractionReadsAQuestionClick(t *testing.T) {
	var p Interaction
	if err := DecodeInteraction(questionPayload(t), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "block_actions" || p.User.ID != "U1" || p.Team.ID != "T1" || p.Channel.ID != "D1" ||
		p.Container.MessageTS != "1700000000.000001" || len(p.Actions) != 1 || p.Actions[0].Value != "7:skills:3:9" ||
		p.State.Values["itfit_choices"]["itfit_check"].SelectedOptions[0].Value != "laptops" || p.ResponseURL == "" {
		t.Fatalf("decoded %+v", p)
	}
}

// go test -run '^$' -bench DecodeInteraction -benchmem ./internal/slackapi
func BenchmarkDecodeInteraction(b *testing.B) {
	payload := questionPayload(b)
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var p Interaction
			if err := json.Unmarshal(payload, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("members", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			var p Interaction
			if err := DecodeInteraction(payload, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An interaction names its workspace and channel where the payload's type
// puts them: a shortcut's team is on its user, an org-wide install's
// enterprise on its team, a click's channel on its container.
func TestInteractionWorkspaceAndChannel(t *testing.T) {
	for _, tc := range []struct {
		payload            string
		team, ent, channel string
	}{
		{`{"team":{"id":"T1","enterprise_id":"E9"},"enterprise":{"id":"E1"},"user":{"team_id":"T2"},"channel":{"id":"C1"},"container":{"channel_id":"C2"}}`, "T1", "E1", "C1"},
		{`{"team":{"enterprise_id":"E9"},"user":{"team_id":"T2"},"container":{"channel_id":"C2"}}`, "T2", "E9", "C2"},
		{`{"user":{"id":"U1"},"container":{"type":"view"}}`, "", "", ""},
	} {
		var p Interaction
		if err := DecodeInteraction([]byte(tc.payload), &p); err != nil {
			t.Fatal(err)
		}
		if p.TeamID() != tc.team || p.EnterpriseID() != tc.ent || p.ChannelID() != tc.channel {
			t.Errorf("%s: team %q, enterprise %q, channel %q; want %q, %q, %q",
				tc.payload, p.TeamID(), p.EnterpriseID(), p.ChannelID(), tc.team, tc.ent, tc.channel)
		}
	}
}

func TestParseCommand(t *testing.T) {
	c, err := ParseCommand([]byte("token=x&team_id=T1&enterprise_id=E1&user_id=U1&channel_id=C1&command=%2Fitfit&text=help+me&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fx"))
	if err != nil {
		t.Fatal(err)
	}
	want := Command{Team: "T1", Enterprise: "E1", User: "U1", Channel: "C1", Text: "help me", ResponseURL: "https://hooks.slack.com/commands/T1/1/x"}
	if c != want || !c.Valid() {
		t.Fatalf("ParseCommand = %+v (valid %v), want %+v", c, c.Valid(), want)
	}
	if _, err := ParseCommand([]byte("team_id=%zz")); err == nil {
		t.Error("a malformed form was read")
	}
	for _, bad := range []Command{{User: "U1"}, {Team: "T1"}, {Team: "T1", User: "<!channel>"}, {Team: "T1", User: "U1", Enterprise: "e1"}} {
		if bad.Valid() {
			t.Errorf("%+v is valid", bad)
		}
	}
}

// TextAfterMention keeps what follows the first mention, with every
// mention and the punctuation after it spaced out.
func TestTextAfterMention(t *testing.T) {
	for text, want := range map[string]string{
		"<@U123>":                       "",
		"<@U123>: help":                 "help",
		"<@UBOT|itfit>:  Status":        "Status",
		"hey <@U123|itfit>, status":     "status",
		"hey <@U123> restart <@U456>!":  "restart",
		"<@UBOT> <!channel> frobnicate": "<!channel> frobnicate",
		"no mention at all":             "no mention at all",
		"<@u123> lower case":            "<@u123> lower case",
	} {
		if got := strings.Join(strings.Fields(TextAfterMention(text)), " "); got != want {
			t.Errorf("TextAfterMention(%q) = %q, want %q", text, got, want)
		}
	}
}

// The Web API's answers, as the client decodes them (wirejson), decode
// as encoding/json decodes them, whatever the input.
func FuzzAnswers(f *testing.F) {
	for _, s := range []string{
		`{"ok":true,"channel":"D1","ts":"1700000000.000100","message":{"type":"message","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]}}`,
		`{"ok":false,"error":"ratelimited","response_metadata":{"messages":["a"],"warnings":["w"]}}`,
		`{"ok":true,"messages":[{"metadata":{"event_type":"itfit","event_payload":{"n":1e400,"k":[1,-0,2.5]}}}],"has_more":true,"response_metadata":{"next_cursor":"c"}}`,
		`{"ok":"yes"}`, `{"ts":1}`, `null`, `[]`, `{"OK":true,"TS":"1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAnswer[chatResponse](t, data)
		sameAnswer[historyResponse](t, data)
	})
}

func sameAnswer[T any](t *testing.T, data []byte) {
	t.Helper()
	var want, got T
	werr := json.Unmarshal(data, &want)
	gerr := wirejson.Unmarshal(data, &got)
	if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%q:\n encoding/json %+v (%v)\n wirejson      %+v (%v)", data, want, werr, got, gerr)
	}
}
