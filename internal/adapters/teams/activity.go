package teams

import (
	"strings"
	"unicode/utf8"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/wirejson"
)

// inbound is an activity as the Bot Connector posts it; a card submit's
// value is decoded into SubmitData.
type inbound botframework.InboundActivity

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
func (a *inbound) refreshesReference(k conversation.Key) bool {
	if len(a.Value) == 0 {
		return true
	}
	var v struct {
		Action string              `json:"itfit"`
		User   conversation.UserID `json:"user"`
		UID    string              `json:"uid"`
	}
	return wirejson.Unmarshal(a.Value, &v) == nil && (v.Action == string(chat.IntentRemind) || v.Action == string(chat.IntentShare)) &&
		((v.User != "" && (v.User == k.User || string(v.User) == a.From.ID)) || (v.UID != "" && v.UID == a.From.ID))
}

// Conversation types Teams sends in conversation.conversationType.
const (
	personalChat = conversation.TeamsPersonal
	groupChat    = "groupChat"
	channelChat  = conversation.TeamsChannel
)

// convType is the conversation's type: conversation.conversationType when
// Teams sends it, else read from the conversation ID's shape and
// channelData (some clients, and older activities, leave the type out): a
// channel's conversation carries ";messageid=" or channelData names the
// channel or team, a team channel's ID ends "@thread.tacv2" (or, older,
// "@thread.skype"), a group chat's "@thread.v2"; a personal chat is "a:..."
// or "8:orgid:...". What none of that settles falls back on isGroup.
func (a *inbound) convType() string {
	switch t := a.Conversation.ConversationType; t {
	case personalChat, groupChat, channelChat:
		return t
	}
	id := a.Conversation.ID
	cd := a.ChannelData
	switch {
	case strings.Contains(id, conversation.TeamsThreadMark), cd.Channel != nil && cd.Channel.ID != "", cd.Team != nil && cd.Team.ID != "",
		strings.HasSuffix(id, "@thread.tacv2"), strings.HasSuffix(id, "@thread.skype"):
		return channelChat
	case strings.HasPrefix(id, "19:"):
		return groupChat
	case strings.HasPrefix(id, "a:"), strings.HasPrefix(id, "8:orgid:"), strings.HasPrefix(id, "29:"):
		return personalChat
	}
	if a.Conversation.IsGroup {
		return groupChat
	}
	return personalChat
}

// group reports whether several people share the conversation, so the bot
// must be mentioned and must say whose card is whose.
func (a *inbound) group() bool { return a.convType() != personalChat }

// sessionConversation is the conversation an audit lives in: the chat, or
// in a channel the channel itself, without the thread. A person has one
// audit per channel, whichever thread they mention itfit in; replies still
// go to the thread they wrote in (Conversation.ID, in full).
func (a *inbound) sessionConversation() string {
	if a.convType() == channelChat {
		return conversation.TeamsChannelOf(a.Conversation.ID)
	}
	return a.Conversation.ID
}

// fromBot reports whether the activity was written by a bot (Teams bot IDs
// start "28:"), this one included: bots are never answered.
func (a *inbound) fromBot() bool {
	return strings.HasPrefix(a.From.ID, "28:") || (a.From.ID != "" && a.From.ID == a.Recipient.ID)
}

// botAdded reports whether a conversationUpdate adds this bot, and
// botRemoved whether it removes it.
func (a *inbound) botAdded() bool   { return hasMember(a.MembersAdded, a.Recipient.ID) }
func (a *inbound) botRemoved() bool { return hasMember(a.MembersRemoved, a.Recipient.ID) }

func hasMember(ms []schema.ChannelAccount, id string) bool {
	for _, m := range ms {
		if id != "" && m.ID == id {
			return true
		}
	}
	return false
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
		Conversation: conversation.ConversationID(a.sessionConversation()),
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
// help" reads "help"), the punctuation after a mention ("<at>itfit</at>:
// help", "hey <at>itfit</at>, status"), what comes before the first mention,
// HTML entities Teams adds, and surrounding space, in lower case. Any other
// mention is dropped too: a name is never a command.
func (a *inbound) commandText() string {
	const mark = "\x00"
	s := strings.ReplaceAll(a.Text, "&nbsp;", " ")
	for _, e := range a.Entities {
		if e.Type == "mention" && e.Mentioned.ID == a.Recipient.ID && e.Text != "" {
			s = strings.ReplaceAll(s, e.Text, mark)
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
		s = s[:i] + mark + s[i+j+len("</at>"):]
	}
	if i := strings.Index(s, mark); i >= 0 {
		s = s[i:]
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.Index(s, mark)
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = strings.TrimLeft(s[i+len(mark):], " \t\n:,;.!?-")
	}
	return strings.ToLower(strings.Join(strings.Fields(b.String()), " "))
}

// who is the person an activity comes from, as the chat layer knows them.
func (a *inbound) who(k conversation.Key) chat.Who {
	w := chat.Who{Key: k, Name: displayName(a.From.Name), Group: a.group(), Surface: chat.SurfaceChat}
	if w.Group {
		w.Surface = chat.SurfaceMention
	}
	if a.From.ID != "" && conversation.UserID(a.From.ID) != k.User {
		w.Aliases = []conversation.UserID{conversation.UserID(a.From.ID)}
	}
	return w
}

// intents are the card actions the adapter accepts, by their "itfit" data.
var intents = map[string]chat.Intent{}

func init() {
	for _, in := range []chat.Intent{chat.IntentAnswer, chat.IntentBack, chat.IntentRestart, chat.IntentRemind, chat.IntentShare,
		chat.IntentStart, chat.IntentRetake, chat.IntentSnooze, chat.IntentStop, chat.IntentErase, chat.IntentInvite,
		chat.IntentClients, chat.IntentClientInvite, chat.IntentClientCard, chat.IntentClientSnooze, chat.IntentExport, chat.IntentReport, chat.IntentLanguage} {
		intents[string(in)] = in
	}
}

// input translates a message activity: a card's submit into a press, text
// into a command word. ok is false for what the bot should not answer: a
// message in a shared conversation that does not mention it.
func (a *inbound) input(who chat.Who) (chat.Input, bool) {
	in := chat.Input{Who: who, TZ: a.LocalTimezone, Locale: a.Locale}
	if len(a.Value) > 0 && string(a.Value) != "null" {
		p := a.press(who.Key)
		in.Act = &p
		return in, true
	}
	if who.Group && !a.mentionsBot() {
		// In channels and group chats Teams only sends messages that mention
		// the bot (without RSC permissions); if one arrives anyway, stay out.
		return in, false
	}
	in.Word = a.commandText()
	return in, true
}

// press reads a card submit. Whose audit it touches is the sender's;
// the data only says which button it was, and whose card it is: the owner
// by either of their IDs (a submit may come without from.aadObjectId).
func (a *inbound) press(k conversation.Key) chat.Act {
	p := chat.Act{On: a.ReplyToID}
	var v submitValue
	if err := wirejson.Unmarshal(a.Value, &v); err != nil || v.Action == "" {
		p.Problem = chat.Problem{Kind: chat.UnknownButton}
		return p
	}
	in, ok := intents[v.Action]
	if !ok || v.User == "" {
		// Every button itfit puts on a card names whose card it is.
		p.Problem = chat.Problem{Kind: chat.UnknownButton}
		return p
	}
	p.Intent, p.Rev = in, v.Rev
	if v.In.Valid() {
		p.Lang = v.In
	}
	owner := v.User
	if v.UID != "" && v.UID == a.From.ID {
		// The card was for this sender's Teams ID: theirs, whichever ID
		// their audit is keyed by. (Writing one's own ID into a forged
		// card only ever reaches one's own audit: the key is the sender's.)
		owner = k.User
	}
	p.Value = chat.Value{Question: v.Question, Option: v.Option, Pos: v.Pos, Total: v.Total, Owner: owner, Lang: v.Lang}
	p.Picked = splitOptions(v.Options)
	p.Value.Sort, p.Value.Page, p.Value.Format = v.Sort, v.Page, v.Format
	switch in {
	case chat.IntentClientInvite, chat.IntentClientCard, chat.IntentClientSnooze:
		// A Teams manager's clients are in their tenant: the presser's own.
		if v.Client != "" {
			p.Value.Client = conversation.UserKey{Platform: conversation.Teams, Workspace: k.Workspace, User: v.Client}
		}
	case chat.IntentInvite:
		// A Teams manager is in their client's tenant: the presser's own.
		p.Value.Client = conversation.UserKey{Platform: conversation.Teams, Workspace: k.Workspace, User: v.Client}
		p.Value.ClientConv = v.Conv
	case chat.IntentShare:
		m := strings.ToLower(strings.TrimSpace(v.Manager))
		switch {
		case m == "":
		case strings.Contains(m, ","):
			p.Problem = chat.Problem{Kind: chat.SeveralPeople}
		case !isEntraID(m):
			p.Problem = chat.Problem{Kind: chat.UnknownPerson}
		default:
			p.Person = conversation.UserID(m)
		}
	}
	return p
}

func splitOptions(s string) []advisor.OptionID {
	var out []advisor.OptionID
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, advisor.OptionID(s[start:i]))
			}
			start = i + 1
		}
	}
	return out
}

// isEntraID reports whether s is a Microsoft Entra object ID: a GUID in
// its 8-4-4-4-12 hexadecimal form, lower case.
func isEntraID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
