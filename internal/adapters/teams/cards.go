package teams

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// CardVersion is the Adaptive Card schema version of every card. Teams
// renders up to 1.5 on desktop and web but mobile clients lag; 1.4 has all we
// use (Input.ChoiceSet labels and validation, associatedInputs).
const CardVersion = "1.4"

const (
	cardContentType = "application/vnd.microsoft.card.adaptive"
	cardSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
	// optionsInput is the id of the multi-select input; Teams returns its
	// value under this name, comma-separated.
	optionsInput = "options"
	// managerInput is the id of the people picker on the result card; Teams
	// returns the chosen person's Microsoft Entra object ID under it.
	managerInput = "manager"
)

// Card actions, carried in Action.Submit data as "itfit". They say what the
// button does; everything about whose audit it is comes from the validated
// activity, never from here.
const (
	actAnswer  = "answer"
	actBack    = "back"
	actRestart = "restart"
	actRemind  = "remind"
	actShare   = "share"
)

// Card is an Adaptive Card. One flat element type (rather than a type per
// element) keeps rendering cheap and the golden files readable; omitempty
// leaves each element with only the properties it uses.
type Card struct {
	Type string `json:"type"`
	// Schema and Version are left out of a card nested in Action.ShowCard,
	// which takes its parent's.
	Schema  string    `json:"$schema,omitempty"`
	Version string    `json:"version,omitempty"`
	Body    []Element `json:"body"`
	Actions []Action  `json:"actions,omitempty"`
	MSTeams *MSTeams  `json:"msteams,omitempty"`
}

// MSTeams holds Teams' extensions to a card.
type MSTeams struct {
	Width string `json:"width,omitempty"`
}

// Element is a body element: TextBlock, Container, ColumnSet, Column,
// FactSet, ActionSet or Input.ChoiceSet.
type Element struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Text      string `json:"text,omitempty"`
	Size      string `json:"size,omitempty"`
	Weight    string `json:"weight,omitempty"`
	Color     string `json:"color,omitempty"`
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	Wrap      bool   `json:"wrap,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	Style     string `json:"style,omitempty"`
	Width     string `json:"width,omitempty"`

	Items   []Element `json:"items,omitempty"`
	Columns []Element `json:"columns,omitempty"`
	Facts   []Fact    `json:"facts,omitempty"`
	Actions []Action  `json:"actions,omitempty"`

	Label         string   `json:"label,omitempty"`
	Placeholder   string   `json:"placeholder,omitempty"`
	IsMultiSelect bool     `json:"isMultiSelect,omitempty"`
	IsRequired    bool     `json:"isRequired,omitempty"`
	ErrorMessage  string   `json:"errorMessage,omitempty"`
	Choices       []Choice `json:"choices,omitzero"` // omitzero: a people picker's empty (non-nil) list is sent, as it must be
	// ChoicesData turns an Input.ChoiceSet into Teams' people picker.
	ChoicesData *DataQuery `json:"choices.data,omitempty"`
}

// DataQuery is Teams' dynamic source of choices: with the dataset
// "graph.microsoft.com/users" an Input.ChoiceSet becomes a people picker
// whose value is the chosen person's Microsoft Entra object ID. Teams
// resolves the search itself; the bot needs no Graph permission.
type DataQuery struct {
	Type    string `json:"type"`
	Dataset string `json:"dataset"`
}

// Fact is one row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Choice is one option of an Input.ChoiceSet.
type Choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.Submit, or an Action.ShowCard that unfolds Card.
type Action struct {
	Type  string      `json:"type"`
	Title string      `json:"title"`
	Style string      `json:"style,omitempty"`
	Data  *SubmitData `json:"data,omitempty"`
	Card  *Card       `json:"card,omitempty"`
	// AssociatedInputs "none" lets Back and Start over through without the
	// multi-select's "choose at least one" check.
	AssociatedInputs string `json:"associatedInputs,omitempty"`
}

// SubmitData is what a button sends back as the activity's value. User is
// the ID of the person the card was for, so that someone else pressing it
// can be told to start their own; Pos and Total only label the card when it
// is updated. None of it decides whose session is touched. Client and Conv
// name the client on a manager's Invite button; the handler acts on them
// only for the manager that client's nudge went to.
type SubmitData struct {
	Action   string              `json:"itfit"`
	Question advisor.QuestionID  `json:"question,omitempty"`
	Rev      int64               `json:"rev,omitempty"`
	Option   advisor.OptionID    `json:"option,omitempty"`
	User     conversation.UserID `json:"user"`
	Pos      int                 `json:"pos,omitempty"`
	Total    int                 `json:"total,omitempty"`

	Client conversation.UserID         `json:"client,omitempty"`
	Conv   conversation.ConversationID `json:"conv,omitempty"`
}

// Asker is the person a card is for. Name is shown only in group chats and
// channels, where several people may run audits side by side.
type Asker struct {
	ID    conversation.UserID
	Name  string
	Group bool
}

func newCard(body []Element, actions []Action) *Card {
	return &Card{Type: "AdaptiveCard", Schema: cardSchema, Version: CardVersion, Body: body, Actions: actions, MSTeams: &MSTeams{Width: "Full"}}
}

func text(s string) Element { return Element{Type: "TextBlock", Text: s, Wrap: true} }

func heading(s string) Element {
	return Element{Type: "TextBlock", Text: s, Weight: "Bolder", Wrap: true, Spacing: "Medium"}
}

func submit(title, style string, d SubmitData) Action {
	return Action{Type: "Action.Submit", Title: title, Style: style, Data: &d}
}

// progress reads "Question 3 of 9", with the person's name in group chats.
func progress(pos, total int, who Asker) Element {
	s := "Question " + strconv.Itoa(pos) + " of " + strconv.Itoa(total)
	if pos <= 0 || total <= 0 {
		s = "Question"
	}
	if who.Group && who.Name != "" {
		s += " · for " + who.Name
	}
	return Element{Type: "TextBlock", Text: s, Size: "Small", IsSubtle: true, Wrap: true}
}

// QuestionCard asks the question in r: a button per option for a single
// choice, a multi-select with Continue otherwise; Back (once there is
// something to go back to) and Start over.
func QuestionCard(r conversation.Reply, who Asker) *Card {
	q := r.Question
	base := SubmitData{Question: q.ID, Rev: r.Rev, User: who.ID, Pos: r.Position, Total: r.Total}
	body := make([]Element, 0, 4+len(q.Options))
	body = append(body, progress(r.Position, r.Total, who),
		Element{Type: "TextBlock", Text: q.Prompt, Size: "Medium", Weight: "Bolder", Wrap: true, Spacing: "Small"})
	if q.Help != "" {
		body = append(body, Element{Type: "TextBlock", Text: q.Help, IsSubtle: true, Wrap: true, Spacing: "Small"})
	}
	if q.Kind == advisor.Multi {
		choices := make([]Choice, len(q.Options))
		for i, o := range q.Options {
			choices[i] = Choice{Title: o.Label, Value: string(o.ID)}
		}
		d := base
		d.Action = actAnswer
		body = append(body,
			Element{Type: "Input.ChoiceSet", ID: optionsInput, Label: "Choose all that apply", Style: "expanded",
				IsMultiSelect: true, IsRequired: true, ErrorMessage: "Choose at least one option.", Choices: choices},
			Element{Type: "ActionSet", Actions: []Action{submit("Continue", "positive", d)}})
	} else {
		// One ActionSet per option stacks the buttons full width, so long
		// labels are not squeezed side by side.
		for _, o := range q.Options {
			d := base
			d.Action, d.Option = actAnswer, o.ID
			body = append(body, Element{Type: "ActionSet", Spacing: "Small", Actions: []Action{submit(o.Label, "", d)}})
		}
	}
	actions := make([]Action, 0, 2)
	if r.Position > 1 {
		d := base
		d.Action = actBack
		a := submit("Back", "", d)
		a.AssociatedInputs = "none"
		actions = append(actions, a)
	}
	restart := submit("Start over", "", SubmitData{Action: actRestart, Question: q.ID, User: who.ID, Pos: r.Position, Total: r.Total})
	restart.AssociatedInputs = "none"
	actions = append(actions, restart)
	return newCard(body, actions)
}

// ClosedCard replaces a question card once it has been dealt with: the
// question and what happened to it, with no live buttons.
func ClosedCard(pos, total int, prompt, outcome string, who Asker) *Card {
	return newCard([]Element{
		progress(pos, total, who),
		{Type: "TextBlock", Text: prompt, Weight: "Bolder", Wrap: true, Spacing: "Small"},
		{Type: "TextBlock", Text: outcome, Color: "Good", Wrap: true, Spacing: "Small"},
	}, nil)
}

// AnsweredCard is ClosedCard for an answer.
func AnsweredCard(pos, total int, e conversation.Echo, who Asker) *Card {
	return ClosedCard(pos, total, e.Question.Prompt, "✓ "+strings.Join(e.Labels, "; "), who)
}

// RecommendationCard is the result: the same content as the Slack card and
// the terminal's, with Remind me and Start over.
func RecommendationCard(r advisor.Recommendation, who Asker) *Card {
	return RetakeCard(r, nil, who)
}

// RetakeCard is RecommendationCard for a retake: since, when set, adds what
// changed since the previous result just below the verdict.
func RetakeCard(r advisor.Recommendation, since *advisor.Change, who Asker) *Card {
	body := make([]Element, 0, 32)
	title := "Your itfit recommendation"
	if who.Group && who.Name != "" {
		title = "itfit recommendation for " + who.Name
	}
	body = append(body, Element{Type: "Container", Style: "emphasis", Items: []Element{
		{Type: "TextBlock", Text: title, Size: "Small", IsSubtle: true, Wrap: true},
		{Type: "TextBlock", Text: r.VerdictName, Size: "Large", Weight: "Bolder", Wrap: true, Spacing: "None"},
		{Type: "TextBlock", Text: capitalize(r.Strength.Text()), Color: strengthColor(r.Strength), Weight: "Bolder", Wrap: true, Spacing: "None"},
		text(r.Summary),
	}})
	if since != nil {
		body = append(body, sinceLast(since, r)...)
	}
	if r.Note != "" {
		body = append(body, text(r.Note))
	}
	if r.Tipping != "" {
		body = append(body, text("It is a close call. "+r.Tipping))
	}
	body = appendList(body, "Why", contributions(r.Reasons), "• ")
	if len(r.Counterpoints) > 0 {
		body = appendList(body, "Pulling the other way", contributions(r.Counterpoints), "• ")
	}
	body = append(body, Element{Type: "ColumnSet", Spacing: "Medium", Columns: []Element{
		column("stretch", "What the provider would cover", r.ProviderCovers),
		column("stretch", "What your team keeps", r.TeamKeeps),
	}})
	if len(r.Matrix) > 0 {
		facts := make([]Fact, len(r.Matrix))
		for i, m := range r.Matrix {
			facts[i] = Fact{Title: m.Name, Value: m.Owner.Text()}
		}
		body = append(body, heading("Responsibility matrix (agree it in writing before day one)"),
			Element{Type: "FactSet", Facts: facts, Spacing: "Small"})
	}
	if len(r.Comparison) > 0 {
		body = append(body, heading("Co-managed vs fully managed"), comparisonRow("", "Co-managed", "Fully managed", true))
		for _, c := range r.Comparison {
			body = append(body, comparisonRow(c.Dimension, c.CoManaged, c.FullyManaged, false))
		}
	}
	steps := make([]string, len(r.NextSteps))
	for i, s := range r.NextSteps {
		steps[i] = strconv.Itoa(i+1) + ". " + s
	}
	body = appendList(body, "Next steps", steps, "")
	body = append(body, Element{Type: "TextBlock", Text: "Revisit this decision by " + r.RevisitOn.Format("2 January 2006") + ": teams and businesses change.",
		IsSubtle: true, Wrap: true, Spacing: "Medium", Separator: true})
	return newCard(body, []Action{
		submit("Remind me in 12 months", "positive", SubmitData{Action: actRemind, User: who.ID}),
		shareAction(who),
		submit("Start over", "", SubmitData{Action: actRestart, User: who.ID}),
	})
}

// shareAction unfolds a people picker to send the result to an account
// manager, who then also gets the yearly nudge. Teams searches the whole
// organisation only in a 1:1 chat with a bot; in group chats and channels
// it can search the conversation's members.
func shareAction(who Asker) Action {
	dataset := "graph.microsoft.com/users"
	if who.Group {
		dataset += "?scope=currentContext"
	}
	send := submit("Send my result", "positive", SubmitData{Action: actShare, User: who.ID})
	return Action{Type: "Action.ShowCard", Title: "Share with my account manager", Card: &Card{
		Type: "AdaptiveCard",
		Body: []Element{
			text("They get a copy of this result now, and a nudge when your yearly revisit is due."),
			{Type: "Input.ChoiceSet", ID: managerInput, Label: "Your account manager",
				Placeholder: "Search for a person", IsRequired: true, ErrorMessage: "Choose the person to send it to.",
				Choices: []Choice{}, ChoicesData: &DataQuery{Type: "Data.Query", Dataset: dataset}},
		},
		Actions: []Action{send},
	}}
}

func appendList(body []Element, title string, items []string, bullet string) []Element {
	if len(items) == 0 {
		return body
	}
	body = append(body, heading(title))
	for _, it := range items {
		e := text(bullet + it)
		e.Spacing = "Small"
		body = append(body, e)
	}
	return body
}

func column(width, title string, items []string) Element {
	els := make([]Element, 0, len(items)+1)
	els = append(els, Element{Type: "TextBlock", Text: title, Weight: "Bolder", Wrap: true})
	for _, it := range items {
		e := text("• " + it)
		e.Spacing = "Small"
		els = append(els, e)
	}
	if len(items) == 0 {
		els = append(els, Element{Type: "TextBlock", Text: "Nothing in particular", IsSubtle: true, Wrap: true, Spacing: "Small"})
	}
	return Element{Type: "Column", Width: width, Items: els}
}

func comparisonRow(dim, co, full string, header bool) Element {
	cell := func(width, s string, bold bool) Element {
		e := Element{Type: "TextBlock", Text: s, Wrap: true, Size: "Small"}
		if bold {
			e.Weight = "Bolder"
		}
		if s == "" {
			e.Text = " "
		}
		return Element{Type: "Column", Width: width, Items: []Element{e}}
	}
	return Element{Type: "ColumnSet", Spacing: "Small", Separator: !header, Columns: []Element{
		cell("1", dim, true), cell("2", co, header), cell("2", full, header),
	}}
}

func contributions(cs []advisor.Contribution) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Reason != "" {
			out = append(out, c.Reason)
		}
	}
	return out
}

func strengthColor(s advisor.Strength) string {
	switch s {
	case advisor.Strong:
		return "Good"
	case advisor.Moderate:
		return "Accent"
	default:
		return "Warning"
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || r < 'a' || r > 'z' {
		return s
	}
	return string(r-'a'+'A') + s[n:]
}

// attachment wraps a card for an activity.
func attachment(c *Card) schema.Attachment {
	return schema.Attachment{ContentType: cardContentType, Content: c}
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
