package botframework

import (
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/schema"
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
// rest, attachments included, byte for byte as schema encodes them.
func encodeActivity(a schema.Activity) ([]byte, error) {
	fields, err := activityFields(a)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("botframework: encode activity: %w", err)
	}
	return b, nil
}

func activityFields(a schema.Activity) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("botframework: encode activity: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("botframework: encode activity: %w", err)
	}
	zero := map[string]bool{
		"timestamp":        a.Timestamp.IsZero(),
		"localTimestamp":   a.LocalTimestamp.IsZero(),
		"expiration":       a.Expiration.IsZero(),
		"from":             a.From == schema.ChannelAccount{},
		"recipient":        a.Recipient == schema.ChannelAccount{},
		"conversation":     a.Conversation == schema.ConversationAccount{},
		"relatesTo":        a.RelatesTo == schema.ConversationReference{},
		"suggestedActions": len(a.SuggestedActions.To) == 0 && len(a.SuggestedActions.Actions) == 0,
		"semanticAction":   a.SemanticAction.State == "" && a.SemanticAction.ID == "" && len(a.SemanticAction.Entities) == 0,
	}
	for k, isZero := range zero {
		if isZero {
			delete(m, k)
		}
	}
	return m, nil
}

// conversationParameters mirrors schema.ConversationParameters with the
// same fix: a zero Bot or Activity is left out rather than sent empty.
type conversationParameters struct {
	IsGroup     bool                       `json:"isGroup"`
	Bot         *schema.ChannelAccount     `json:"bot,omitempty"`
	Members     []schema.ChannelAccount    `json:"members,omitempty"`
	TopicName   string                     `json:"topicName,omitempty"`
	TenantID    string                     `json:"tenantId,omitempty"`
	Activity    map[string]json.RawMessage `json:"activity,omitempty"`
	ChannelData map[string]any             `json:"channelData,omitempty"`
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
	if act, err := activityFields(p.Activity); err != nil {
		return nil, err
	} else if len(act) > 0 {
		w.Activity = act
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("botframework: encode conversation parameters: %w", err)
	}
	return b, nil
}
