// Package chat is what itfit says and does, once for every platform.
//
// Adapters verify what a platform sends, translate it into an Input (a
// command word, or an action pressed, and who sent it), call the Service,
// and render the Outputs it returns: Block Kit for Slack, Adaptive Cards for
// Teams, plain text for a terminal. The Service owns every product rule
// (start, resume, stale and expired presses, reminders, sharing, forget) and
// this package holds every sentence the bot says; the audit file holds the
// questions and the card's content. A renderer decides how a message looks,
// never what it says.
package chat

import (
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// Kind names what a message is. Renderers use it for the identifiers a
// platform needs (Slack's block IDs) and for the few layout choices that
// differ by kind; everything a message says is in its fields.
type Kind string

const (
	KindQuestion     Kind = "question"
	KindAnswered     Kind = "answered" // a question once answered
	KindClosed       Kind = "closed"   // a question or nudge left behind (went back, started over, handled)
	KindCard         Kind = "card"     // the recommendation
	KindShared       Kind = "shared"   // a client's card as their account manager sees it
	KindNudge        Kind = "nudge"    // the yearly revisit (or a manager's invitation) to the user
	KindManagerNudge Kind = "manager"  // a client's revisit is due, to the account manager
	KindReminders    Kind = "reminders"
	KindForget       Kind = "forget" // "erase everything?" with the button that does it
	KindHelp         Kind = "help"
	KindHome         Kind = "home"
	KindNote         Kind = "note"    // a line or two of text
	KindExpired      Kind = "expired" // an audit that is gone, with a fresh start
	KindWelcome      Kind = "welcome" // the hello when itfit is added to a conversation
	KindDesk         Kind = "desk"    // an account manager's clients, a page at a time
)

// Message is one thing the bot shows. Every field is optional; a renderer
// shows what is set, in this order: notes, title, lead, sections, the
// question's choices, actions, footer.
type Message struct {
	Kind Kind
	// Key, when set, promises that every message with this key renders
	// the same apart from Rev and the actions' Owner (both per person), so
	// a renderer that encodes neither beyond Rev may keep the rendered form
	// per key and substitute the revision (see Slack's encoded-blocks cache).
	Key string
	// Rev is the revision an answer given on this message names; it
	// travels in the question's option and navigation values.
	Rev int64
	// Owner is the person a message in a shared conversation is for; group
	// renderers show it ("for Ana") so people can tell whose card is whose.
	Owner string
	// Notes are short lines of context above everything else ("Welcome
	// back: picking up where you left off").
	Notes []Text
	Title string
	Lead  Text
	// Tone colours the lead where the platform can (a verdict's strength).
	Tone     Tone
	Sections []Section
	Ask      *Ask
	Actions  []Action
	Footer   Text
	// Summary is plain text for notifications, previews and screen
	// readers: what the message says in a line.
	Summary string
}

// Tone is an emphasis a renderer may show with colour.
type Tone string

const (
	ToneNone      Tone = ""
	ToneGood      Tone = "good"
	ToneAccent    Tone = "accent"
	ToneWarning   Tone = "warning"
	ToneAttention Tone = "attention"
)

// Section is one part of a message: a heading over a paragraph, a list,
// label-value facts, a table, or columns side by side.
type Section struct {
	Title    string
	Text     Text
	Items    []Text
	Numbered bool
	Facts    []Fact
	Table    *Table
	Columns  []Section
	// Empty is what a column with no items says instead.
	Empty string
	// Divider starts a new part of the message above this section.
	Divider bool
	// Emphasis sets the section apart (a box on Teams).
	Emphasis bool
	Tone     Tone
	// Actions are buttons about this section alone (a client on a
	// manager's desk), shown under it.
	Actions []Action
}

// Fact is one label: value row (the responsibility matrix, a last result).
type Fact struct {
	Label string
	Value Text
}

// Table is a small grid with a header row (the side-by-side comparison).
type Table struct {
	Head []string
	Rows [][]string
}

// Ask is a question's choices: a button per option, or checkboxes with a
// button that submits them.
type Ask struct {
	Question *advisor.Question
	// Here is the question's value: every option's press carries it, with
	// the option.
	Here    Value
	Multi   bool
	Options []Option
	// Pick labels the checkboxes; Required is what a platform that checks
	// inputs itself says when none is ticked.
	Pick, Required string
	// Submit is the button under the checkboxes (multi-select only).
	Submit *Action
}

// Option is one answer a question offers.
type Option struct {
	ID    advisor.OptionID
	Label string
}

// Intent says what pressing an action does. Whose audit, reminders or
// data it acts on always comes from the verified sender, never from the
// action's value.
type Intent string

const (
	IntentAnswer  Intent = "answer"
	IntentBack    Intent = "back"
	IntentRestart Intent = "restart"
	IntentRemind  Intent = "remind"
	IntentShare   Intent = "share"
	IntentStart   Intent = "start"
	IntentRetake  Intent = "retake"
	IntentSnooze  Intent = "snooze"
	IntentStop    Intent = "stop"
	IntentErase   Intent = "erase" // the confirmed forget
	IntentInvite  Intent = "invite"
	// The account manager's desk: a page (Value.Sort, Value.Page), and
	// what can be done about the client a row names (Value.Client).
	IntentClients      Intent = "clients"
	IntentClientInvite Intent = "client_invite"
	IntentClientCard   Intent = "client_card"
	IntentClientSnooze Intent = "client_snooze"
	IntentExport       Intent = "export" // Value.Format: "csv" or "json"
	IntentReport       Intent = "report" // the card as a PDF
)

// Style is how prominent an action is.
type Style string

const (
	StyleDefault Style = ""
	StylePrimary Style = "primary"
	StyleDanger  Style = "danger"
)

// Action is a button (or a person picker with its send button).
type Action struct {
	Intent Intent
	Label  string
	Style  Style
	Value  Value
	// Confirm, when set, asks before the press counts (Slack's dialog,
	// Teams' shown card, the terminal's y/N).
	Confirm *Confirm
	// Pick makes the action a person picker: the press carries the person
	// chosen.
	Pick *Picker
}

// Confirm is the question asked before an action counts.
type Confirm struct {
	Title, Text, Yes, No string
}

// Picker is a people picker: choose someone, then send.
type Picker struct {
	Hint, Label, Placeholder, Required, Send string
	// WholeOrganisation is false where the platform can only search the
	// conversation's members (Teams outside a personal chat).
	WholeOrganisation bool
}

// Value is what an action carries back when pressed. It names a question
// and an option (with the message's Rev), the card's owner in a shared
// conversation, or, on a manager's Invite, the client: nothing in it is
// trusted to say whose audit is touched.
type Value struct {
	Question   advisor.QuestionID
	Option     advisor.OptionID
	Pos, Total int // where the question stood, to label the message when it is replaced
	Owner      conversation.UserID
	Client     conversation.UserKey
	ClientConv conversation.ConversationID
	// Sort and Page say which page of a manager's desk a button is on (or
	// goes to); Format is an export's.
	Sort, Page, Format string
}

// Text is a line of words, some of them emphasised, dated or naming a
// person or a command; each renderer spells those its own way (Slack's
// dates in the reader's zone, mentions, `/itfit restart`).
type Text []Span

// SpanKind says how to spell a span.
type SpanKind uint8

const (
	Plain SpanKind = iota
	Strong
	Date
	Person
	Command
	Link // S is the address, shown as itself
)

// Span is one run of a Text.
type Span struct {
	Kind SpanKind
	S    string    // the words (Plain, Strong), the command word (Command), the name (Person)
	T    time.Time // Date
	// ID and Place identify a Person: mentionable where the platform can
	// (Slack, in the person's own workspace), else named with the place.
	ID      string
	Place   string
	Mention bool
}

// Plain returns the words of a text without emphasis, for summaries and
// tests; dates in the long English form, commands as the bare word.
func (t Text) String() string {
	var b []byte
	for _, s := range t {
		switch s.Kind {
		case Date:
			b = append(b, s.T.UTC().Format(dateLayout)...)
		default:
			b = append(b, s.S...)
		}
	}
	return string(b)
}

// dateLayout is how dates read in English text.
const dateLayout = "2 January 2006"

// txt builds a Text from strings (plain), Spans and times (dates).
func txt(parts ...any) Text {
	t := make(Text, 0, len(parts))
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			if v != "" {
				t = append(t, Span{S: v})
			}
		case Span:
			t = append(t, v)
		case Text:
			t = append(t, v...)
		case time.Time:
			t = append(t, Span{Kind: Date, T: v})
		}
	}
	return t
}

func strong(s string) Span { return Span{Kind: Strong, S: s} }
