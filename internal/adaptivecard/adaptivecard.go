// Package adaptivecard is the subset of the Adaptive Cards 1.4 schema, with
// Teams' msteams extension, that itfit sends: the Adaptive Cards
// counterpart of slack-go's Block Kit types. It is wire only; what a card
// says, and the data its buttons send back, are the Teams adapter's.
//
// The schema: https://adaptivecards.io/explorer/
package adaptivecard

// Version is the Adaptive Card schema version of every card. Teams
// renders up to 1.5 on desktop and web but mobile clients lag; 1.4 has all we
// use (Input.ChoiceSet labels and validation, associatedInputs).
const Version = "1.4"

const (
	// ContentType is a card's content type as a Bot Framework attachment.
	ContentType = "application/vnd.microsoft.card.adaptive"
	// SchemaURL is the JSON schema a top-level card names in "$schema".
	SchemaURL = "http://adaptivecards.io/schemas/adaptive-card.json"
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

// New is a top-level card of Version with body and actions.
func New(body []Element, actions []Action) *Card {
	return &Card{Type: "AdaptiveCard", Schema: SchemaURL, Version: Version, Body: body, Actions: actions}
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
	Type  string `json:"type"`
	Title string `json:"title"`
	Style string `json:"style,omitempty"`
	// Data is what an Action.Submit sends back (with the card's inputs)
	// as the activity's value: the sender's own payload, encoded as JSON.
	// A card decoded from JSON holds it as encoding/json decodes into an
	// interface (a map for an object).
	Data any   `json:"data,omitempty"`
	Card *Card `json:"card,omitempty"`
	// AssociatedInputs "none" submits without the card's inputs, and so
	// without their validation (a required choice left empty).
	AssociatedInputs string `json:"associatedInputs,omitempty"`
}
