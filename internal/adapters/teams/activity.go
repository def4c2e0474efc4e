package teams

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/conversation"
)

// inbound is an activity as the Bot Connector posts it. schema.Activity
// gives the shape; three of its fields are too thin for Teams and are
// shadowed here (the outer field wins in encoding/json): mention entities
// need "mentioned" and "text", channelData carries the tenant, and a card
// submit's value is decoded into SubmitData.
type inbound struct {
	schema.Activity
	Entities    []entity        `json:"entities,omitempty"`
	ChannelData channelData     `json:"channelData"`
	Value       json.RawMessage `json:"value,omitempty"`
}

type entity struct {
	Type      string                `json:"type"`
	Mentioned schema.ChannelAccount `json:"mentioned"`
	Text      string                `json:"text"`
}

type channelData struct {
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
}

// submitValue is a card submit: the button's data plus the inputs.
type submitValue struct {
	SubmitData
	Options string `json:"options"`
	Manager string `json:"manager"` // the people picker's Entra object ID
}

// refreshesReference reports whether this activity should (re)store where
// the user can be reached. A typed message does, and so do asking for a
// reminder and sharing with a manager, which is what the reference is kept
// for (a manager's chat is created through its serviceUrl); answering a
// question on a card does not: the card was sent where the reference was
// already saved, so skipping the write saves a Redis round trip per answer.
// Remind me and Share count only when pressed by the card's owner (as
// pressedByOwner): someone else's press changes nothing.
func (a *inbound) refreshesReference() bool {
	if len(a.Value) == 0 {
		return true
	}
	var v struct {
		Action string              `json:"itfit"`
		User   conversation.UserID `json:"user"`
	}
	return json.Unmarshal(a.Value, &v) == nil && (v.Action == actRemind || v.Action == actShare) &&
		v.User != "" && (v.User == a.userID() || string(v.User) == a.From.ID)
}

// Conversation types Teams sends in conversation.conversationType.
const (
	personalChat = "personal"
	groupChat    = "groupChat"
	channelChat  = "channel"
)

// group reports whether several people share the conversation, so the bot
// must be mentioned and must say whose card is whose.
func (a *inbound) group() bool {
	switch a.Conversation.ConversationType {
	case personalChat:
		return false
	case groupChat, channelChat:
		return true
	}
	return a.Conversation.IsGroup
}

// key is the audit's session key, built only from the validated activity:
// never from card data, which the sender controls. An activity whose two
// tenant fields disagree, or whose IDs are not text (invalid UTF-8 arrives
// as U+FFFD) or hold control characters, is not one Teams sends: it keys
// nothing, so no session or reference is made or moved by it.
func (a *inbound) key() (conversation.Key, bool) {
	tenant := a.ChannelData.Tenant.ID
	if tenant == "" {
		tenant = a.Conversation.TenantID
	} else if a.Conversation.TenantID != "" && a.Conversation.TenantID != tenant {
		return conversation.Key{}, false
	}
	user := a.userID()
	if !isID(tenant) || !isID(string(user)) || !isID(a.Conversation.ID) || (a.From.ID != "" && !isID(a.From.ID)) {
		return conversation.Key{}, false
	}
	return conversation.Key{
		UserKey: conversation.UserKey{
			Platform:  conversation.Teams,
			Workspace: conversation.WorkspaceID(tenant),
			User:      user,
		},
		Conversation: conversation.ConversationID(a.Conversation.ID),
	}, true
}

// isID reports whether s can be an ID Teams sent: not empty, and nothing
// that decoding repaired (U+FFFD) or that is a control character.
func isID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// userID prefers the Entra object ID, which is the same person across every
// chat, team and bot; from.id is per bot and kept only as a fallback.
func (a *inbound) userID() conversation.UserID {
	if a.From.AadObjectID != "" {
		return conversation.UserID(a.From.AadObjectID)
	}
	return conversation.UserID(a.From.ID)
}

// mentionsBot reports whether the message @mentions this bot.
func (a *inbound) mentionsBot() bool {
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned.ID != "" && e.Mentioned.ID == a.Recipient.ID {
			return true
		}
	}
	return false
}

// commandText is the message text without the bot's mention ("<at>itfit</at>
// help" reads "help"), HTML entities Teams adds, and surrounding space, in
// lower case. Any other mention is dropped too: a name is never a command.
func (a *inbound) commandText() string {
	s := a.Text
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned.ID == a.Recipient.ID && e.Text != "" {
			s = strings.ReplaceAll(s, e.Text, " ")
		}
	}
	// A mention without entity text still arrives wrapped in <at> tags.
	for {
		i := strings.Index(s, "<at>")
		if i < 0 {
			break
		}
		// Look for the close after the open: a stray "</at>" earlier in
		// the text must not stop the mentions after it being dropped.
		j := strings.Index(s[i:], "</at>")
		if j < 0 {
			break
		}
		s = s[:i] + " " + s[i+j+len("</at>"):]
	}
	s = strings.ReplaceAll(s, "&nbsp;", " ")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
