package botframework

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// referenceActivity is how encodeActivity's output is defined: encoding/json
// over schema.Activity, with the fields schema tags wrongly shadowed by
// copies tagged omitzero (encoding/json takes the shallower field of a name
// and writes it after the embedded ones).
type referenceActivity struct {
	schema.Activity
	Timestamp        time.Time                    `json:"timestamp,omitzero"`
	LocalTimestamp   time.Time                    `json:"localTimestamp,omitzero"`
	Expiration       time.Time                    `json:"expiration,omitzero"`
	From             schema.ChannelAccount        `json:"from,omitzero"`
	Recipient        schema.ChannelAccount        `json:"recipient,omitzero"`
	Conversation     schema.ConversationAccount   `json:"conversation,omitzero"`
	RelatesTo        schema.ConversationReference `json:"relatesTo,omitzero"`
	SuggestedActions schema.SuggestedActions      `json:"suggestedActions,omitzero"`
	SemanticAction   *schema.SemanticAction       `json:"semanticAction,omitempty"`
}

func referenceEncode(a schema.Activity) ([]byte, error) {
	w := referenceActivity{
		Activity: a, Timestamp: a.Timestamp, LocalTimestamp: a.LocalTimestamp, Expiration: a.Expiration,
		From: a.From, Recipient: a.Recipient, Conversation: a.Conversation, RelatesTo: a.RelatesTo,
		SuggestedActions: a.SuggestedActions,
	}
	if sa := a.SemanticAction; sa.State != "" || sa.ID != "" || len(sa.Entities) > 0 {
		w.SemanticAction = &sa
	}
	return json.Marshal(w)
}

// everyField sets every field of an activity, strings to s.
func everyField(s string) schema.Activity {
	t := time.Date(2026, 11, 28, 9, 25, 0, 123, time.FixedZone("x", 3600))
	acct := schema.ChannelAccount{ID: s, Name: s, AadObjectID: s, Role: schema.RoleTypes(s)}
	conv := schema.ConversationAccount{IsGroup: true, ConversationType: s, TenantID: s, ID: s, Name: s, AadObjectID: s, Role: schema.RoleTypes(s)}
	return schema.Activity{
		Type: schema.ActivityTypes(s), ID: s, Timestamp: t, LocalTimestamp: t, LocalTimezone: s, CallerID: s,
		ServiceURL: s, ChannelID: s, From: acct, Conversation: conv, Recipient: acct,
		TextFormat: schema.TextFormatTypes(s), AttachmentLayout: schema.AttachmentLayoutTypes(s),
		MembersAdded: []schema.ChannelAccount{acct}, MembersRemoved: []schema.ChannelAccount{acct, acct},
		ReactionsAdded: []schema.MessageReaction{{Type: schema.MessageReactionTypes(s)}}, ReactionsRemoved: []schema.MessageReaction{{}},
		TopicName: s, HistoryDisclosed: true, Locale: s, Text: s, Speak: s, InputHint: schema.InputHints(s), Summary: s,
		SuggestedActions: schema.SuggestedActions{To: []string{s}, Actions: []schema.CardAction{{Type: schema.ActionTypes(s), Title: s, Value: map[string]any{s: s}}}},
		Attachments: []schema.Attachment{
			{ContentType: s, ContentURL: s, Content: map[string]any{"type": "AdaptiveCard", s: []any{s, 1.5, true, nil}}, Name: s, ThumbnailURL: s},
			{ContentType: "application/vnd.microsoft.card.adaptive", Content: json.RawMessage(`{"a": [1, 2]}`)},
			{},
		},
		Entities: []schema.Entity{{Type: s}}, ChannelData: map[string]any{"tenant": map[string]any{"id": s}, s: 1},
		Action: s, ReplyToID: s, Label: s, ValueType: s, Value: map[string]any{"itfit": s, "rev": 3}, Name: s,
		RelatesTo: schema.ConversationReference{ActivityID: s, User: acct, Bot: acct, Conversation: conv, ChannelID: s, ServiceURL: s},
		Code:      schema.EndOfConversationCodes(s), Expiration: t, Importance: schema.ActivityImportance(s),
		DeliveryMode: schema.DeliveryModes(s), ListenFor: []string{s, s}, TextHighlights: []schema.TextHighlight{{Text: s, Occurrence: 2}},
		SemanticAction: schema.SemanticAction{State: schema.SemanticActionStates(s), ID: s, Entities: map[string]schema.Entity{s: {Type: s}}},
	}
}

// TestEncodeActivityMatchesEncodingJSON compares encodeActivity with its
// definition on the activities the bot sends, on every field set at once,
// and on edge values: strings that need escaping, empty but non-nil
// slices and maps, one field at a time.
func TestEncodeActivityMatchesEncodingJSON(t *testing.T) {
	card := map[string]any{"type": "AdaptiveCard", "body": []any{map[string]any{"type": "TextBlock", "text": "Q <1> & \"2\""}}}
	cases := map[string]schema.Activity{
		"empty":           {},
		"text":            {Type: schema.Message, Text: "Your audit is saved.", TextFormat: schema.MARKDOWN},
		"card":            {Type: schema.Message, Attachments: []schema.Attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}},
		"update":          {Type: schema.Message, ID: "1700000000000", ReplyToID: "x", Attachments: []schema.Attachment{{Content: card}}},
		"empty non-nil":   {MembersAdded: []schema.ChannelAccount{}, Attachments: []schema.Attachment{}, ChannelData: map[string]any{}, Value: map[string]any{}, ListenFor: []string{}, SuggestedActions: schema.SuggestedActions{To: []string{}}, SemanticAction: schema.SemanticAction{Entities: map[string]schema.Entity{}}},
		"zero attachment": {Attachments: []schema.Attachment{{}}},
		"only a group":    {Conversation: schema.ConversationAccount{IsGroup: true}},
	}
	for _, s := range []string{"plain-id_1.2~", "29:1a-b@thread.skype;messageid=1", "<b>&amp;</b>", "quote \" and \\ back", "tab\tnew\nline\x00\x1f",
		"é ü 日本", "\u2028\u2029", "bad \xff\xfe utf-8", " ", "~\x7f",
		// Each character that needs care, alone in an otherwise plain string.
		"a\"b", "a\\b", "a<b", "a>b", "a&b", "a\x00b", "a\x1fb", "a\x7fb", "a\x80b", "a\u2028b", "a\u00e9b"} {
		cases["every field: "+s] = everyField(s)
	}
	// One field at a time, so that a field written out of place shows alone.
	full := everyField("x")
	for i, name := range activityFieldNames() {
		var a schema.Activity
		setField(&a, full, i)
		cases["only "+name] = a
	}
	for name, a := range cases {
		got, err := encodeActivity(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := referenceEncode(a)
		if err != nil {
			t.Fatalf("%s: reference: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestEncodeActivityErrors: what encoding/json cannot encode is an error,
// as it was.
func TestEncodeActivityErrors(t *testing.T) {
	for name, a := range map[string]schema.Activity{
		"func in channel data": {ChannelData: map[string]any{"f": func() {}}},
		"NaN in a card":        {Attachments: []schema.Attachment{{Content: map[string]any{"n": math.NaN()}}}},
		"year 10000":           {Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := referenceEncode(a); err == nil {
			t.Fatalf("%s: the reference encodes it", name)
		}
		if b, err := encodeActivity(a); err == nil || !strings.HasPrefix(err.Error(), "botframework: encode activity: json: ") {
			t.Errorf("%s: %s, %v; want encoding/json's error", name, b, err)
		}
	}
}

// FuzzEncodeActivity sets fields from fuzzed strings and compares with the
// definition.
func FuzzEncodeActivity(f *testing.F) {
	f.Add("message", "hello", "29:x", uint64(0))
	f.Add("<&>", "\xff", "\u2028", ^uint64(0))
	f.Fuzz(func(t *testing.T, a, b, c string, mask uint64) {
		full := [3]schema.Activity{everyField(a), everyField(b), everyField(c)}
		var act schema.Activity
		for i := range activityFieldNames() {
			if mask&(1<<i) != 0 {
				setField(&act, full[i%3], i)
			}
		}
		got, err := encodeActivity(act)
		want, rerr := referenceEncode(act)
		if (err == nil) != (rerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s (%v)", got, err, want, rerr)
		}
	})
}

// activityFieldNames are schema.Activity's fields, by index.
func activityFieldNames() []string {
	t := reflect.TypeFor[schema.Activity]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Name
	}
	return names
}

// setField copies field i of src into dst.
func setField(dst *schema.Activity, src schema.Activity, i int) {
	reflect.ValueOf(dst).Elem().Field(i).Set(reflect.ValueOf(src).Field(i))
}
