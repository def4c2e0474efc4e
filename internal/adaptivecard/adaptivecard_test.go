package adaptivecard_test

import (
	"encoding/json"
	"testing"

	"github.com/itfit/itfit/internal/adaptivecard"
)

// A card encodes with only the properties it uses, in the schema's field
// order: $schema and version on the top-level card only, a button's data as
// given, and a people picker's empty choices (which Teams requires).
func TestEncoding(t *testing.T) {
	picker := adaptivecard.Element{Type: "Input.ChoiceSet", ID: "manager", IsRequired: true,
		Choices: []adaptivecard.Choice{}, ChoicesData: &adaptivecard.DataQuery{Type: "Data.Query", Dataset: "graph.microsoft.com/users"}}
	c := adaptivecard.New(
		[]adaptivecard.Element{{Type: "TextBlock", Text: "Hello", Wrap: true}, {Type: "FactSet", Facts: []adaptivecard.Fact{{Title: "a", Value: "b"}}}},
		[]adaptivecard.Action{
			{Type: "Action.Submit", Title: "Go", Data: map[string]any{"k": 1}, AssociatedInputs: "none"},
			{Type: "Action.ShowCard", Title: "More", Card: &adaptivecard.Card{Type: "AdaptiveCard", Body: []adaptivecard.Element{picker}}},
		})
	c.MSTeams = &adaptivecard.MSTeams{Width: "Full"}
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"AdaptiveCard","$schema":"http://adaptivecards.io/schemas/adaptive-card.json","version":"1.4",` +
		`"body":[{"type":"TextBlock","text":"Hello","wrap":true},{"type":"FactSet","facts":[{"title":"a","value":"b"}]}],` +
		`"actions":[{"type":"Action.Submit","title":"Go","data":{"k":1},"associatedInputs":"none"},` +
		`{"type":"Action.ShowCard","title":"More","card":{"type":"AdaptiveCard","body":[{"type":"Input.ChoiceSet","id":"manager","isRequired":true,` +
		`"choices":[],"choices.data":{"type":"Data.Query","dataset":"graph.microsoft.com/users"}}]}}],"msteams":{"width":"Full"}}`
	if string(got) != want {
		t.Errorf("encoded\n %s\nwant\n %s", got, want)
	}
}
