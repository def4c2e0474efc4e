package botframework

import (
	"encoding/json"
	"fmt"
	"time"

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
	b, err := json.Marshal(wire(a))
	if err != nil {
		return nil, fmt.Errorf("botframework: encode activity: %w", err)
	}
	return b, nil
}

// wireActivity is schema.Activity with the fields schema encodes wrongly
// shadowed by copies tagged omitzero (encoding/json takes the shallower
// field of a name). One Marshal, where the first version encoded, decoded
// into a map and encoded again: that round trip was a quarter of the bot's
// CPU under load.
type wireActivity struct {
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

func wire(a schema.Activity) wireActivity {
	w := wireActivity{
		Activity:         a,
		Timestamp:        a.Timestamp,
		LocalTimestamp:   a.LocalTimestamp,
		Expiration:       a.Expiration,
		From:             a.From,
		Recipient:        a.Recipient,
		Conversation:     a.Conversation,
		RelatesTo:        a.RelatesTo,
		SuggestedActions: a.SuggestedActions,
	}
	if sa := a.SemanticAction; sa.State != "" || sa.ID != "" || len(sa.Entities) > 0 {
		w.SemanticAction = &sa
	}
	return w
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
