package teams

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/wirejson"
)

// The ids of the inputs itfit's cards carry.
const (
	// optionsInput is the id of the multi-select input; Teams returns its
	// value under this name, comma-separated.
	optionsInput = "options"
	// managerInput is the id of the people picker on the result card; Teams
	// returns the chosen person's Microsoft Entra object ID under it.
	managerInput = "manager"
)

// SubmitData is what a button sends back as the activity's value. User is
// the ID of the person the card was for, so that someone else pressing it
// can be told to start their own; Pos and Total only label the card when it
// is updated. None of it decides whose session is touched. Client and Conv
// name the client on a manager's Invite button; the flows act on them only
// for the manager that client's nudges go to.
type SubmitData struct {
	Action   string              `json:"itfit"`
	Question advisor.QuestionID  `json:"question,omitempty"`
	Rev      int64               `json:"rev,omitempty"`
	Option   advisor.OptionID    `json:"option,omitempty"`
	User     conversation.UserID `json:"user"`
	// UID is the owner's other ID, their Teams from.id beside the Entra
	// object ID in User, so that a submit that arrives with either ID is
	// known to be the owner's.
	UID   string `json:"uid,omitempty"`
	Pos   int    `json:"pos,omitempty"`
	Total int    `json:"total,omitempty"`

	Client conversation.UserID         `json:"client,omitempty"`
	Conv   conversation.ConversationID `json:"conv,omitempty"`
	// Lang is the language a language button switches to; In the one the
	// card was shown in, so the press is answered in it.
	Lang locale.Lang `json:"lang,omitempty"`
	In   locale.Lang `json:"in,omitempty"`

	// The desk: which page a button is on or goes to, and an export's
	// format.
	Sort   string `json:"sort,omitempty"`
	Page   string `json:"page,omitempty"`
	Format string `json:"format,omitempty"`
}

// newCard is a top-level card as itfit sends them: full width in Teams.
func newCard(body []adaptivecard.Element, actions []adaptivecard.Action) *adaptivecard.Card {
	c := adaptivecard.New(body, actions)
	c.MSTeams = &adaptivecard.MSTeams{Width: "Full"}
	return c
}

func text(s string) adaptivecard.Element {
	return adaptivecard.Element{Type: "TextBlock", Text: s, Wrap: true}
}

func heading(s string) adaptivecard.Element {
	return adaptivecard.Element{Type: "TextBlock", Text: s, Weight: "Bolder", Wrap: true, Spacing: "Medium"}
}

// md spells a text in the markdown Teams renders in a TextBlock: dates in
// a long form, people by name, commands in bold.
func md(t chat.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case chat.Strong:
			if s.S != "" {
				b.WriteString("**" + s.S + "**")
			}
		case chat.Date:
			b.WriteString(s.S) // the date in the message's language
		case chat.Person:
			b.WriteString(s.S)
		case chat.Command:
			if s.S != "" {
				b.WriteString("**" + s.S + "**")
			}
		case chat.Link:
			b.WriteString("[" + s.S + "](" + s.S + ")")
		default:
			b.WriteString(s.S)
		}
	}
	return b.String()
}

// asText is a message that is only words (a note, the help) as the
// markdown of a text reply, which Teams shows better than a card; false
// for anything with buttons, facts, tables or columns.
func asText(m chat.Message) (string, bool) {
	if len(m.Actions) > 0 || m.Ask != nil {
		return "", false
	}
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	for _, n := range m.Notes {
		add(md(n))
	}
	if m.Title != "" {
		add("**" + m.Title + "**")
	}
	add(md(m.Lead))
	for _, s := range m.Sections {
		if len(s.Facts) > 0 || s.Table != nil || len(s.Columns) > 0 {
			return "", false
		}
		if s.Title != "" {
			add("**" + s.Title + "**")
		}
		add(md(s.Text))
		for i, it := range s.Items {
			bullet := "- "
			if s.Numbered {
				bullet = strconv.Itoa(i+1) + ". "
			}
			add(bullet + md(it))
		}
	}
	add(md(m.Footer))
	return strings.Join(parts, "\n\n"), len(parts) > 0
}

// MaxCardBytes is what a card may take, as JSON, of the ~28 KB Teams
// accepts for a whole message: the rest is the activity around it. Teams
// refuses a bigger message outright.
const MaxCardBytes = 24 << 10

// Render turns a neutral message into an Adaptive Card.
func Render(m chat.Message) *adaptivecard.Card { return renderFor(m, owner{}) }

// owner is the person a card is sent to, by both of their IDs: user is the
// one their audit is keyed by (the Entra object ID), alt their Teams
// from.id. Every button of theirs carries both.
type owner struct {
	user conversation.UserID
	alt  string
}

// ownerOf is the person an activity came from, as a card's owner.
func ownerOf(user conversation.UserID, fromID string) owner {
	if fromID == string(user) {
		fromID = ""
	}
	return owner{user: user, alt: fromID}
}

// renderFor renders a card for its owner. A card over MaxCardBytes (only
// an operator's audit with very long texts can make one) is rendered again
// with fewer items per list and shorter texts until it fits; lists come
// strongest first, so the weakest items are the ones counted in a "… +N"
// line.
func renderFor(m chat.Message, o owner) *adaptivecard.Card {
	c, _ := renderSized(m, o)
	return c
}

// renderSized is renderFor, and the card's JSON when measuring it against
// MaxCardBytes encoded it (a card with sections: the verdict, the desk),
// so that the activity sends those bytes instead of encoding the card a
// second time.
func renderSized(m chat.Message, o owner) (*adaptivecard.Card, []byte) {
	c := (&cardRenderer{m: m, owner: o}).render()
	if len(m.Sections) == 0 {
		return c, nil
	}
	b := cardJSON(c)
	if len(b) <= MaxCardBytes {
		return c, b
	}
	for items := 32; items >= 1; items /= 2 {
		c = (&cardRenderer{m: m, owner: o, maxItems: items, maxText: 100 * items}).render()
		if b = cardJSON(c); len(b) <= MaxCardBytes {
			break
		}
	}
	return c, b
}

// cardJSON is c encoded; nil if it cannot be (then it is not measured, and
// the activity's encoder reports the error).
func cardJSON(c *adaptivecard.Card) []byte {
	b, err := wirejson.Marshal(c)
	if err != nil {
		return nil
	}
	return b
}

type cardRenderer struct {
	m     chat.Message
	owner owner
	body  []adaptivecard.Element
	// maxItems and maxText, when set, bound each list and each text of
	// a card that would be too big for Teams.
	maxItems, maxText int
}

// clamp shortens a text of an oversized card.
func (r *cardRenderer) clamp(s string) string {
	if r.maxText == 0 || utf8.RuneCountInString(s) <= r.maxText {
		return s
	}
	return string([]rune(s)[:r.maxText-1]) + "…"
}

// more is how many of n items an oversized card shows.
func (r *cardRenderer) more(n int) int {
	if r.maxItems == 0 {
		return n
	}
	return min(n, r.maxItems)
}

func (r *cardRenderer) moreLine(shown, n int) (adaptivecard.Element, bool) {
	if shown == n {
		return adaptivecard.Element{}, false
	}
	e := text(fmt.Sprintf("… +%d", n-shown))
	e.IsSubtle, e.Spacing = true, "Small"
	return e, true
}

func (r *cardRenderer) add(e ...adaptivecard.Element) { r.body = append(r.body, e...) }

func (r *cardRenderer) render() *adaptivecard.Card {
	m := r.m
	for _, n := range m.Notes {
		r.add(adaptivecard.Element{Type: "TextBlock", Text: r.clamp(md(n)), Wrap: true, IsSubtle: true})
	}
	switch m.Kind {
	case chat.KindQuestion:
		r.add(r.small(md(m.Footer)))
		r.add(adaptivecard.Element{Type: "TextBlock", Text: m.Title, Size: "Medium", Weight: "Bolder", Wrap: true, Spacing: "Small"})
		if len(m.Lead) > 0 {
			r.add(adaptivecard.Element{Type: "TextBlock", Text: md(m.Lead), IsSubtle: true, Wrap: true, Spacing: "Small"})
		}
	case chat.KindAnswered, chat.KindClosed:
		if len(m.Footer) > 0 || m.Owner != "" {
			r.add(r.small(md(m.Footer)))
		}
		if m.Title != "" {
			r.add(adaptivecard.Element{Type: "TextBlock", Text: m.Title, Weight: "Bolder", Wrap: true, Spacing: "Small"})
		}
		lead := md(m.Lead)
		if m.Kind == chat.KindAnswered {
			lead = "✓ " + lead
		}
		r.add(adaptivecard.Element{Type: "TextBlock", Text: lead, Color: "Good", Wrap: true, Spacing: "Small"})
		return newCard(r.body, nil)
	case chat.KindCard, chat.KindShared:
		r.add(adaptivecard.Element{Type: "Container", Style: "emphasis", Items: []adaptivecard.Element{
			{Type: "TextBlock", Text: r.clamp(m.Title), Size: "Large", Weight: "Bolder", Wrap: true},
			{Type: "TextBlock", Text: r.clamp(md(m.Lead)), Color: toneColor(m.Tone), Wrap: true, Spacing: "Small"},
		}})
	default:
		if m.Title != "" {
			title := m.Title
			if m.Owner != "" {
				title += " · for " + m.Owner
			}
			r.add(adaptivecard.Element{Type: "TextBlock", Text: title, Size: "Medium", Weight: "Bolder", Wrap: true})
		}
		if len(m.Lead) > 0 {
			r.add(text(md(m.Lead)))
		}
	}
	for _, s := range m.Sections {
		r.section(s)
	}
	if m.Ask != nil {
		r.ask(m.Ask)
	}
	var actions []adaptivecard.Action
	for _, a := range m.Actions {
		actions = append(actions, r.action(a))
	}
	if len(m.Footer) > 0 && m.Kind != chat.KindQuestion {
		r.add(adaptivecard.Element{Type: "TextBlock", Text: r.clamp(md(m.Footer)), IsSubtle: true, Wrap: true, Spacing: "Medium", Separator: true})
	}
	return newCard(r.body, actions)
}

// small is the subtle line over a question: its progress and, in a shared
// conversation, whose it is.
func (r *cardRenderer) small(s string) adaptivecard.Element {
	if s == "" {
		s = "itfit"
	}
	if r.m.Owner != "" {
		s += " · for " + r.m.Owner
	}
	return adaptivecard.Element{Type: "TextBlock", Text: s, Size: "Small", IsSubtle: true, Wrap: true}
}

func toneColor(t chat.Tone) string {
	switch t {
	case chat.ToneGood:
		return "Good"
	case chat.ToneAccent:
		return "Accent"
	case chat.ToneWarning:
		return "Warning"
	case chat.ToneAttention:
		return "Attention"
	}
	return ""
}

func (r *cardRenderer) section(s chat.Section) {
	var els []adaptivecard.Element
	if s.Title != "" && s.Table == nil {
		els = append(els, heading(r.clamp(s.Title)))
	}
	if len(s.Text) > 0 {
		e := text(r.clamp(md(s.Text)))
		e.Color = toneColor(s.Tone)
		e.Spacing = "Small"
		els = append(els, e)
	}
	shown := r.more(len(s.Items))
	for i, it := range s.Items[:shown] {
		bullet := "• "
		if s.Numbered {
			bullet = strconv.Itoa(i+1) + ". "
		}
		e := text(bullet + r.clamp(md(it)))
		e.Spacing = "Small"
		els = append(els, e)
	}
	if e, ok := r.moreLine(shown, len(s.Items)); ok {
		els = append(els, e)
	}
	if len(s.Facts) > 0 {
		shown := r.more(len(s.Facts))
		facts := make([]adaptivecard.Fact, shown)
		for i, f := range s.Facts[:shown] {
			facts[i] = adaptivecard.Fact{Title: r.clamp(f.Label), Value: r.clamp(md(f.Value))}
		}
		els = append(els, adaptivecard.Element{Type: "FactSet", Facts: facts, Spacing: "Small"})
		if e, ok := r.moreLine(shown, len(s.Facts)); ok {
			els = append(els, e)
		}
	}
	if s.Table != nil {
		els = append(els, heading(r.clamp(s.Title)))
		els = append(els, r.row(s.Table.Head, true))
		shown := r.more(len(s.Table.Rows))
		for _, cells := range s.Table.Rows[:shown] {
			els = append(els, r.row(cells, false))
		}
		if e, ok := r.moreLine(shown, len(s.Table.Rows)); ok {
			els = append(els, e)
		}
	}
	if len(s.Columns) > 0 {
		cols := make([]adaptivecard.Element, len(s.Columns))
		for i, c := range s.Columns {
			items := []adaptivecard.Element{{Type: "TextBlock", Text: r.clamp(c.Title), Weight: "Bolder", Wrap: true}}
			shown := r.more(len(c.Items))
			for _, it := range c.Items[:shown] {
				e := text("• " + r.clamp(md(it)))
				e.Spacing = "Small"
				items = append(items, e)
			}
			if e, ok := r.moreLine(shown, len(c.Items)); ok {
				items = append(items, e)
			}
			if len(c.Items) == 0 && c.Empty != "" {
				items = append(items, adaptivecard.Element{Type: "TextBlock", Text: c.Empty, IsSubtle: true, Wrap: true, Spacing: "Small"})
			}
			cols[i] = adaptivecard.Element{Type: "Column", Width: "stretch", Items: items}
		}
		els = append(els, adaptivecard.Element{Type: "ColumnSet", Spacing: "Medium", Columns: cols})
	}
	if len(s.Actions) > 0 {
		as := make([]adaptivecard.Action, len(s.Actions))
		for i, a := range s.Actions {
			as[i] = r.action(a)
		}
		els = append(els, adaptivecard.Element{Type: "ActionSet", Spacing: "Small", Actions: as})
	}
	if len(els) == 0 {
		return
	}
	if s.Emphasis {
		els = []adaptivecard.Element{{Type: "Container", Style: "emphasis", Spacing: "Medium", Items: els}}
	}
	if s.Divider {
		els[0].Separator = true
	}
	r.add(els...)
}

// row is one row of a table: the first cell a label, the others wider.
func (r *cardRenderer) row(cells []string, header bool) adaptivecard.Element {
	cols := make([]adaptivecard.Element, len(cells))
	for i, c := range cells {
		c = r.clamp(c)
		e := adaptivecard.Element{Type: "TextBlock", Text: c, Wrap: true, Size: "Small"}
		if i == 0 || header {
			e.Weight = "Bolder"
		}
		if c == "" {
			e.Text = " "
		}
		width := "2"
		if i == 0 {
			width = "1"
		}
		cols[i] = adaptivecard.Element{Type: "Column", Width: width, Items: []adaptivecard.Element{e}}
	}
	return adaptivecard.Element{Type: "ColumnSet", Spacing: "Small", Separator: !header, Columns: cols}
}

// ask renders a question's options: a button per option, stacked full
// width (one ActionSet each, so long labels are not squeezed side by
// side), or a multi-select with its Continue.
func (r *cardRenderer) ask(a *chat.Ask) {
	if a.Multi {
		choices := make([]adaptivecard.Choice, len(a.Options))
		for i, o := range a.Options {
			choices[i] = adaptivecard.Choice{Title: o.Label, Value: string(o.ID)}
		}
		r.add(adaptivecard.Element{Type: "Input.ChoiceSet", ID: optionsInput, Label: a.Pick, Style: "expanded",
			IsMultiSelect: true, IsRequired: true, ErrorMessage: a.Required, Choices: choices})
		if a.Submit != nil {
			r.add(adaptivecard.Element{Type: "ActionSet", Actions: []adaptivecard.Action{r.action(*a.Submit)}})
		}
		return
	}
	for _, o := range a.Options {
		v := a.Here
		v.Option = o.ID
		r.add(adaptivecard.Element{Type: "ActionSet", Spacing: "Small", Actions: []adaptivecard.Action{r.action(chat.Action{Intent: chat.IntentAnswer, Label: o.Label, Value: v})}})
	}
}

// action renders one action: a submit, a confirmation unfolded before the
// submit (Teams has no dialog), or a people picker with its send button.
func (r *cardRenderer) action(a chat.Action) adaptivecard.Action {
	d := r.data(a)
	submit := adaptivecard.Action{Type: "Action.Submit", Title: a.Label, Style: style(a.Style), Data: &d}
	if a.Intent != chat.IntentAnswer || r.m.Ask == nil {
		// Back, Start over and the rest go through without the
		// multi-select's "choose at least one" check.
		if r.m.Ask != nil && r.m.Ask.Multi {
			submit.AssociatedInputs = "none"
		}
	}
	switch {
	case a.Pick != nil:
		p := a.Pick
		dataset := "graph.microsoft.com/users"
		if !p.WholeOrganisation {
			dataset += "?scope=currentContext"
		}
		send := adaptivecard.Action{Type: "Action.Submit", Title: p.Send, Style: "positive", Data: &d}
		return adaptivecard.Action{Type: "Action.ShowCard", Title: a.Label, Card: &adaptivecard.Card{
			Type: "AdaptiveCard",
			Body: []adaptivecard.Element{
				text(p.Hint),
				{Type: "Input.ChoiceSet", ID: managerInput, Label: p.Label,
					Placeholder: p.Placeholder, IsRequired: true, ErrorMessage: p.Required,
					Choices: []adaptivecard.Choice{}, ChoicesData: &adaptivecard.DataQuery{Type: "Data.Query", Dataset: dataset}},
			},
			Actions: []adaptivecard.Action{send},
		}}
	case a.Confirm != nil:
		yes := submit
		yes.Title = a.Confirm.Yes
		return adaptivecard.Action{Type: "Action.ShowCard", Title: a.Label, Card: &adaptivecard.Card{
			Type:    "AdaptiveCard",
			Body:    []adaptivecard.Element{{Type: "TextBlock", Text: a.Confirm.Title, Weight: "Bolder", Wrap: true}, text(a.Confirm.Text)},
			Actions: []adaptivecard.Action{yes},
		}}
	}
	return submit
}

func style(s chat.Style) string {
	switch s {
	case chat.StylePrimary:
		return "positive"
	case chat.StyleDanger:
		return "destructive"
	}
	return ""
}

// data is what a press of a sends back.
func (r *cardRenderer) data(a chat.Action) SubmitData {
	v := a.Value
	d := SubmitData{Action: string(a.Intent), Question: v.Question, Option: v.Option, User: v.Owner, Pos: v.Pos, Total: v.Total, In: r.m.Lang}
	if o := r.owner; o.alt != "" && v.Owner != "" && v.Owner == o.user {
		d.UID = o.alt
	}
	switch a.Intent {
	case chat.IntentAnswer, chat.IntentBack:
		d.Rev = r.m.Rev
	case chat.IntentInvite:
		d.Client, d.Conv = v.Client.User, v.ClientConv
	case chat.IntentLanguage:
		d.Lang = v.Lang
	case chat.IntentClients, chat.IntentExport, chat.IntentClientInvite, chat.IntentClientCard, chat.IntentClientSnooze:
		d.Client, d.Sort, d.Page, d.Format = v.Client.User, v.Sort, v.Page, v.Format
	}
	return d
}

// cardAttachment is m's card for o, for an activity (see cardContent).
func cardAttachment(m chat.Message, o owner) schema.Attachment {
	return schema.Attachment{ContentType: adaptivecard.ContentType, Content: cardContent(m, o)}
}

// activity is a message as Teams shows it: plain words as a text reply,
// anything else as a card; the summary names it in notifications.
func activity(m chat.Message) schema.Activity { return activityFor(m, owner{}) }

// activityFor is activity for a card sent to o, whose buttons carry both
// of o's IDs.
func activityFor(m chat.Message, o owner) schema.Activity {
	if s, ok := asText(m); ok {
		return schema.Activity{Type: schema.Message, Text: s, TextFormat: schema.MARKDOWN}
	}
	return schema.Activity{Type: schema.Message, Summary: m.Summary, Attachments: []schema.Attachment{cardAttachment(m, o)}}
}

// displayName makes a Teams display name safe to show in a card or message:
// names are chosen by users, and Teams renders markdown (and some HTML), so
// a name like "[urgent](https://evil)" must not become a link.
func displayName(s string) string {
	const max = 64
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case strings.ContainsRune("[]()<>*_`~#|\\!{}", r):
			continue
		case r < ' ' || r == 0x7f:
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
