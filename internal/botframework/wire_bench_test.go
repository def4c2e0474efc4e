package botframework

import (
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// cardElement and typedCard are shaped like the Teams adapter's Adaptive
// Card types (structs, as every card the bot sends is).
type cardElement struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
}

type typedCard struct {
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []cardElement `json:"body"`
}

// BenchmarkEncodeActivity encodes the activities the bot sends: a text
// reply, and a reply carrying an Adaptive Card as every question does (as
// the adapter's structs, and as maps).
func BenchmarkEncodeActivity(b *testing.B) {
	const ct = "application/vnd.microsoft.card.adaptive"
	typed := &typedCard{Type: "AdaptiveCard", Version: "1.4", Body: []cardElement{
		{Type: "TextBlock", Text: "Question 3 of 9", IsSubtle: true},
		{Type: "TextBlock", Text: "Which of these skills does nobody on your staff really cover today?", Wrap: true},
	}}
	card := map[string]any{"type": "AdaptiveCard", "version": "1.4", "body": []any{
		map[string]any{"type": "TextBlock", "text": "Question 3 of 9", "isSubtle": true},
		map[string]any{"type": "TextBlock", "text": "Which of these skills does nobody on your staff really cover today?", "wrap": true},
	}, "actions": []any{map[string]any{"type": "Action.Submit", "title": "Back", "data": map[string]any{"itfit": "back", "rev": 3}}}}
	for _, tc := range []struct {
		name string
		a    schema.Activity
	}{
		{"text", schema.Activity{Type: schema.Message, Text: "Your answers so far are safe.", TextFormat: schema.MARKDOWN}},
		{"card", schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{{ContentType: ct, Content: typed}}}},
		{"map card", schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{{ContentType: ct, Content: card}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeActivity(tc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
