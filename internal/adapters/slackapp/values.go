package slackapp

import (
	"strconv"
	"strings"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/slackapi"
)

// Action IDs. An answer button's action_id ends with the option ID so that
// it is unique within its message, as Slack requires.
const (
	actAnswer    = "itfit_answer:" // + option ID
	actCheck     = "itfit_check"   // the multi-select checkboxes; a click on them alone does nothing
	actContinue  = "itfit_continue"
	actBack      = "itfit_back"
	actRestart   = "itfit_restart"
	actRemind    = "itfit_remind"
	actShare     = "itfit_share"
	actHomeStart = "itfit_home_start" // a fresh start: the Home tab, an expired audit
	actRetake    = "itfit_retake"
	actSnooze    = "itfit_snooze"
	actStop      = "itfit_stop"
	actForget    = "itfit_forget" // the forget confirmation's yes
	actInvite    = "itfit_invite"
	actLanguage  = "itfit_language:" // + the language, one button each
	actReport    = "itfit_report"    // the card's PDF
	// The desk: a page (one button per order and direction, so that each
	// action_id is unique in its block), an export per format, and a
	// client's row.
	actClients      = "itfit_clients" // + ":" + order + ":" + direction
	actExport       = "itfit_export"  // + ":" + format
	actClientInvite = "itfit_client_invite"
	actClientCard   = "itfit_client_card"
	actClientSnooze = "itfit_client_snooze"
	// shortcutStart is the callback_id of the global shortcut "Start an IT
	// audit" (the manifest's features.shortcuts).
	shortcutStart = "itfit_start"

	// blockChoices holds the checkboxes; Continue reads state.values[blockChoices][actCheck].
	blockChoices = "itfit_choices"
)

// intents maps action IDs (but answers, which carry the option) to what a
// press does.
var intents = map[string]chat.Intent{
	actContinue:  chat.IntentAnswer,
	actBack:      chat.IntentBack,
	actRestart:   chat.IntentRestart,
	actRemind:    chat.IntentRemind,
	actShare:     chat.IntentShare,
	actHomeStart: chat.IntentStart,
	actRetake:    chat.IntentRetake,
	actSnooze:    chat.IntentSnooze,
	actStop:      chat.IntentStop,
	actForget:    chat.IntentErase,
	actInvite:    chat.IntentInvite,
	actReport:    chat.IntentReport,

	actClientInvite: chat.IntentClientInvite,
	actClientCard:   chat.IntentClientCard,
	actClientSnooze: chat.IntentClientSnooze,
}

// actionID is an action's action_id. Continue, the multi-select's submit,
// is an answer without an option.
func actionID(a chat.Action) string {
	if a.Intent == chat.IntentLanguage {
		return actLanguage + string(a.Value.Lang)
	}
	if a.Intent == chat.IntentAnswer {
		if a.Value.Option != "" {
			return actAnswer + string(a.Value.Option)
		}
		return actContinue
	}
	switch a.Intent {
	case chat.IntentClients:
		dir := "f"
		if a.Value.Page != "" {
			dir = a.Value.Page[:1]
		}
		return actClients + ":" + a.Value.Sort + ":" + dir
	case chat.IntentExport:
		return actExport + ":" + a.Value.Format
	}
	if id, ok := actionIDs[a.Intent]; ok {
		return id
	}
	return "itfit_" + string(a.Intent)
}

// actionIDs is intents the other way round (answers aside).
var actionIDs = func() map[chat.Intent]string {
	m := make(map[chat.Intent]string, len(intents))
	for id, in := range intents {
		if in != chat.IntentAnswer {
			m[in] = id
		}
	}
	return m
}()

// A button value on a question says which question, at which revision,
// the click answers, and where the question stood:
// "7:it_staff:none:1:10" (rev, question, option or "", position, total),
// never more than about 100 bytes, as IDs are at most 32. Values from
// before positions were added ("7:it_staff:none", "7:it_staff") still
// parse. A value names no user or conversation: those always come from the
// verified payload, so a forged value can at most answer the sender's own
// audit, and the engine refuses any revision that is not current.
type choice struct {
	Rev        int64
	Question   advisor.QuestionID
	Option     advisor.OptionID
	Pos, Total int
}

func (c choice) String() string {
	return strconv.FormatInt(c.Rev, 10) + ":" + string(c.Question) + ":" + string(c.Option) + ":" +
		strconv.Itoa(c.Pos) + ":" + strconv.Itoa(c.Total)
}

// parseChoice reads a value; withOption says whether an option must be in it.
func parseChoice(v string, withOption bool) (choice, bool) {
	parts := strings.Split(v, ":")
	var c choice
	switch len(parts) {
	case 2, 3, 5:
	default:
		return choice{}, false
	}
	rev, ok := parseRev(parts[0])
	if !ok || !isID(parts[1]) {
		return choice{}, false
	}
	c.Rev, c.Question = rev, advisor.QuestionID(parts[1])
	if len(parts) >= 3 && parts[2] != "" {
		if !isID(parts[2]) {
			return choice{}, false
		}
		c.Option = advisor.OptionID(parts[2])
	}
	if withOption != (c.Option != "") {
		return choice{}, false
	}
	if len(parts) == 5 {
		pos, err1 := strconv.Atoi(parts[3])
		total, err2 := strconv.Atoi(parts[4])
		if err1 != nil || err2 != nil || pos < 0 || total < 0 || pos > 99 || total > 99 {
			return choice{}, false
		}
		c.Pos, c.Total = pos, total
	}
	return c, true
}

func parseRev(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// isID matches the advisor's ID rule (lower-case letters, digits, _; 1-32).
func isID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// encodeValue is an action's button value on message m.
func encodeValue(m chat.Message, a chat.Action) string {
	if m.Lang == "" {
		return value(m, a)
	}
	// The language the message is in, after a "#" no value holds: the
	// press is answered in it without reading the person's language.
	return value(m, a) + "#" + string(m.Lang)
}

// cutLang splits a button's value from the language it was shown in.
func cutLang(v string) (string, locale.Lang) {
	if i := strings.LastIndexByte(v, '#'); i >= 0 {
		if l := locale.Lang(v[i+1:]); l.Valid() {
			return v[:i], l
		}
	}
	return v, ""
}

func value(m chat.Message, a chat.Action) string {
	v := a.Value
	switch a.Intent {
	case chat.IntentAnswer, chat.IntentBack:
		return choice{Rev: m.Rev, Question: v.Question, Option: v.Option, Pos: v.Pos, Total: v.Total}.String()
	case chat.IntentRestart:
		if v.Question == "" {
			return "card"
		}
		return choice{Rev: m.Rev, Question: v.Question, Pos: v.Pos, Total: v.Total}.String()
	case chat.IntentInvite:
		return inviteValue(v.Client)
	case chat.IntentClients:
		return v.Sort + "|" + v.Page
	case chat.IntentExport:
		return v.Sort + "|" + v.Format
	case chat.IntentClientInvite, chat.IntentClientCard, chat.IntentClientSnooze:
		// The client, then the page the row is on (to show it again).
		return inviteValue(v.Client) + "|" + v.Sort + "|" + v.Page
	}
	return string(a.Intent)
}

// inviteValue is the Invite button's value: the client's workspace and
// user, "T1/U1" ("E1:T1/U1" on Grid), since the manager may click it in
// another workspace (the provider's) than the client's.
func inviteValue(client conversation.UserKey) string {
	return string(client.Workspace) + "/" + string(client.User)
}

// parseInvite reads an Invite value. A bare user ID is from a nudge sent
// before values named the workspace: it meant the clicker's own.
func parseInvite(value string, clicker conversation.WorkspaceID) (conversation.UserKey, bool) {
	ws, user, ok := strings.Cut(value, "/")
	if !ok {
		ws, user = string(clicker), value
	}
	if !slackapi.IsWorkspaceID(ws) || !slackapi.IsID(user) || (user[0] != 'U' && user[0] != 'W') {
		return conversation.UserKey{}, false
	}
	return conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(ws), User: conversation.UserID(user)}, true
}

// act reads a pressed element into the press the flows take; Problem is
// set when the value is not one itfit rendered.
func act(a slackapi.Action, values map[string]map[string]slackapi.StateValue, clicker conversation.WorkspaceID, on string) chat.Act {
	var lang locale.Lang
	a.Value, lang = cutLang(a.Value)
	out := chat.Act{On: on, Lang: lang}
	bad := func() chat.Act {
		out.Problem = chat.Problem{Kind: chat.UnknownButton}
		return out
	}
	id := a.ActionID
	switch {
	case strings.HasPrefix(id, actAnswer):
		c, ok := parseChoice(a.Value, true)
		if !ok {
			return bad()
		}
		out.Intent, out.Rev = chat.IntentAnswer, c.Rev
		out.Value = chat.Value{Question: c.Question, Option: c.Option, Pos: c.Pos, Total: c.Total}
		return out
	case id == actContinue, id == actBack:
		c, ok := parseChoice(a.Value, false)
		if !ok {
			return bad()
		}
		out.Intent, out.Rev = intents[id], c.Rev
		out.Value = chat.Value{Question: c.Question, Pos: c.Pos, Total: c.Total}
		if id == actContinue {
			for _, o := range values[blockChoices][actCheck].SelectedOptions {
				out.Picked = append(out.Picked, advisor.OptionID(o.Value))
			}
		}
		return out
	case id == actRestart:
		out.Intent = chat.IntentRestart
		if c, ok := parseChoice(a.Value, false); ok {
			out.Rev, out.Value = c.Rev, chat.Value{Question: c.Question, Pos: c.Pos, Total: c.Total}
		}
		return out
	case id == actShare:
		out.Intent = chat.IntentShare
		if a.SelectedUser != "" {
			if !slackapi.IsID(a.SelectedUser) {
				out.Problem = chat.Problem{Kind: chat.UnknownPerson}
				return out
			}
			out.Person = conversation.UserID(a.SelectedUser)
		}
		return out
	case strings.HasPrefix(id, actLanguage):
		l := locale.Lang(strings.TrimPrefix(id, actLanguage))
		if !l.Valid() {
			return bad()
		}
		out.Intent, out.Value = chat.IntentLanguage, chat.Value{Lang: l}
		return out
	case strings.HasPrefix(id, actClients+":"):
		out.Intent = chat.IntentClients
		out.Value.Sort, out.Value.Page, _ = strings.Cut(a.Value, "|")
		return out
	case strings.HasPrefix(id, actExport+":"):
		out.Intent = chat.IntentExport
		out.Value.Sort, out.Value.Format, _ = strings.Cut(a.Value, "|")
		return out
	case id == actClientInvite, id == actClientCard, id == actClientSnooze:
		parts := strings.SplitN(a.Value, "|", 3)
		client, ok := parseInvite(parts[0], clicker)
		if !ok || len(parts) != 3 {
			return bad()
		}
		out.Intent = intents[id]
		out.Value = chat.Value{Client: client, Sort: parts[1], Page: parts[2]}
		return out
	case id == actInvite:
		client, ok := parseInvite(a.Value, clicker)
		if !ok {
			return bad()
		}
		out.Intent = chat.IntentInvite
		out.Value = chat.Value{Client: client}
		return out
	}
	if in, ok := intents[id]; ok {
		out.Intent = in
		return out
	}
	return bad()
}
