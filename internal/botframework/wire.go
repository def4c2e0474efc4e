package botframework

import (
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/wirejson"
)

// encodeActivity marshals a schema.Activity for the wire.
//
// schema.Activity's JSON is wrong for sending as it stands: its time.Time and
// struct fields carry `omitempty`, which encoding/json ignores for structs, so
// an activity built in code goes out with "timestamp",
// "localTimestamp" and "expiration" set to 0001-01-01 (an activity that
// expired two thousand years ago) and with empty "from", "recipient",
// "conversation", "suggestedActions", "relatesTo" and "semanticAction"
// objects. We drop exactly those fields when they are zero and leave the
// rest, attachments included, byte for byte as encoding/json encodes them.
//
// The activity's own fields are written here rather than by reflection over
// schema.Activity's 41 fields, of which a reply sets two or three: that
// walk, and the copy of the activity it needed, were half of encoding a
// question's reply (BenchmarkEncodeActivity). Every value that is not a
// plain string (attachments and their cards, accounts, channel data, times)
// still goes through encoding/json, so it is encoded exactly as before;
// TestEncodeActivityMatchesEncodingJSON and FuzzEncodeActivity compare the
// whole output with encoding/json's over a wrapper that shadows the wrongly
// tagged fields. The order is that wrapper's: schema's fields, then the
// shadowed ones.
func encodeActivity(a schema.Activity) ([]byte, error) {
	e := objectEncoder{b: make([]byte, 0, 256)}
	e.b = append(e.b, '{')
	e.str("type", string(a.Type))
	e.str("id", a.ID)
	e.str("localTimezone", a.LocalTimezone)
	e.str("callerId", a.CallerID)
	e.str("serviceUrl", a.ServiceURL)
	e.str("channelId", a.ChannelID)
	e.str("textFormat", string(a.TextFormat))
	e.str("attachmentLayout", string(a.AttachmentLayout))
	if len(a.MembersAdded) > 0 {
		e.value("membersAdded", a.MembersAdded)
	}
	if len(a.MembersRemoved) > 0 {
		e.value("membersRemoved", a.MembersRemoved)
	}
	if len(a.ReactionsAdded) > 0 {
		e.value("reactionsAdded", a.ReactionsAdded)
	}
	if len(a.ReactionsRemoved) > 0 {
		e.value("reactionsRemoved", a.ReactionsRemoved)
	}
	e.str("topicName", a.TopicName)
	if a.HistoryDisclosed {
		e.key("historyDisclosed")
		e.b = append(e.b, "true"...)
	}
	e.str("locale", a.Locale)
	e.str("text", a.Text)
	e.str("speak", a.Speak)
	e.str("inputHint", string(a.InputHint))
	e.str("summary", a.Summary)
	if len(a.Attachments) > 0 {
		e.attachments(a.Attachments)
	}
	if len(a.Entities) > 0 {
		e.value("entities", a.Entities)
	}
	if len(a.ChannelData) > 0 {
		e.value("channelData", a.ChannelData)
	}
	e.str("action", a.Action)
	e.str("replyToId", a.ReplyToID)
	e.str("label", a.Label)
	e.str("valueType", a.ValueType)
	if len(a.Value) > 0 {
		e.value("value", a.Value)
	}
	e.str("name", a.Name)
	e.str("code", string(a.Code))
	e.str("importance", string(a.Importance))
	e.str("deliveryMode", string(a.DeliveryMode))
	if len(a.ListenFor) > 0 {
		e.value("listenFor", a.ListenFor)
	}
	if len(a.TextHighlights) > 0 {
		e.value("textHighlights", a.TextHighlights)
	}
	// The fields schema would send empty, only when set.
	if !a.Timestamp.IsZero() {
		e.value("timestamp", a.Timestamp)
	}
	if !a.LocalTimestamp.IsZero() {
		e.value("localTimestamp", a.LocalTimestamp)
	}
	if !a.Expiration.IsZero() {
		e.value("expiration", a.Expiration)
	}
	if a.From != (schema.ChannelAccount{}) {
		e.value("from", a.From)
	}
	if a.Recipient != (schema.ChannelAccount{}) {
		e.value("recipient", a.Recipient)
	}
	if a.Conversation != (schema.ConversationAccount{}) {
		e.value("conversation", a.Conversation)
	}
	if a.RelatesTo != (schema.ConversationReference{}) {
		e.value("relatesTo", a.RelatesTo)
	}
	if sa := a.SuggestedActions; sa.To != nil || sa.Actions != nil {
		e.value("suggestedActions", sa)
	}
	if sa := a.SemanticAction; sa.State != "" || sa.ID != "" || len(sa.Entities) > 0 {
		e.value("semanticAction", sa)
	}
	e.b = append(e.b, '}')
	if e.err != nil {
		return nil, fmt.Errorf("botframework: encode activity: %w", e.err)
	}
	return e.b, nil
}

// objectEncoder appends the members of a JSON object; the first error
// sticks.
type objectEncoder struct {
	b   []byte
	n   int // members written
	err error
}

func (e *objectEncoder) key(name string) {
	if e.n > 0 {
		e.b = append(e.b, ',')
	}
	e.n++
	e.b = append(e.b, '"')
	e.b = append(e.b, name...)
	e.b = append(e.b, '"', ':')
}

// str writes a string member, left out when empty (omitempty).
func (e *objectEncoder) str(name, v string) {
	if v == "" {
		return
	}
	e.key(name)
	e.b = appendString(e.b, v)
}

// value writes a member encoded by encoding/json.
func (e *objectEncoder) value(name string, v any) {
	e.key(name)
	e.b = e.appendValue(e.b, v)
}

func (e *objectEncoder) appendValue(b []byte, v any) []byte {
	if r, ok := v.(RawJSON); ok {
		return append(b, r...)
	}
	raw, err := wirejson.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return b
	}
	return append(b, raw...)
}

// RawJSON is a value already encoded by encoding/json (so compact, and
// escaped as it escapes), for an attachment's Content: the activity
// encoder writes it as it is instead of encoding it again, and
// json.Marshal writes the same bytes.
type RawJSON []byte

// MarshalJSON returns r itself.
func (r RawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// attachments writes schema.Attachment values as encoding/json would, the
// content (the card) by encoding/json.
func (e *objectEncoder) attachments(as []schema.Attachment) {
	e.key("attachments")
	e.b = append(e.b, '[')
	for i, at := range as {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		in := objectEncoder{b: e.b}
		in.b = append(in.b, '{')
		in.str("contentType", at.ContentType)
		in.str("contentUrl", at.ContentURL)
		if at.Content != nil {
			in.key("content")
			in.b = in.appendValue(in.b, at.Content)
		}
		in.str("name", at.Name)
		in.str("thumbnailUrl", at.ThumbnailURL)
		e.b = append(in.b, '}')
		if in.err != nil && e.err == nil {
			e.err = in.err
		}
	}
	e.b = append(e.b, ']')
}

// appendString appends s as a JSON string. A string of printable ASCII
// without characters to escape (IDs, types, most text) is copied; any other
// goes through encoding/json, whose escaping (HTML-safe, U+2028 and U+2029,
// invalid UTF-8 as U+FFFD) is then the output's.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// conversationParameters mirrors schema.ConversationParameters with the
// same fix: a zero Bot or Activity is left out rather than sent empty.
type conversationParameters struct {
	IsGroup     bool                    `json:"isGroup"`
	Bot         *schema.ChannelAccount  `json:"bot,omitempty"`
	Members     []schema.ChannelAccount `json:"members,omitempty"`
	TopicName   string                  `json:"topicName,omitempty"`
	TenantID    string                  `json:"tenantId,omitempty"`
	Activity    json.RawMessage         `json:"activity,omitempty"`
	ChannelData map[string]any          `json:"channelData,omitempty"`
}

func encodeConversationParameters(p schema.ConversationParameters) ([]byte, error) {
	w := conversationParameters{
		IsGroup:     p.IsGroup,
		Members:     p.Members,
		TopicName:   p.TopicName,
		TenantID:    p.TenantID,
		ChannelData: p.ChannelData,
	}
	if p.Bot != (schema.ChannelAccount{}) {
		w.Bot = &p.Bot
	}
	if act, err := encodeActivity(p.Activity); err != nil {
		return nil, err
	} else if string(act) != "{}" {
		w.Activity = act
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("botframework: encode conversation parameters: %w", err)
	}
	return b, nil
}
