package botframework

import (
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// BenchmarkEncodeActivity encodes a reply carrying an Adaptive Card, as
// every question the bot sends does.
func BenchmarkEncodeActivity(b *testing.B) {
	card := map[string]any{"type": "AdaptiveCard", "version": "1.4", "body": []any{
		map[string]any{"type": "TextBlock", "text": "Question 3 of 9", "isSubtle": true},
		map[string]any{"type": "TextBlock", "text": "Which of these skills does nobody on your staff really cover today?", "wrap": true},
	}, "actions": []any{map[string]any{"type": "Action.Submit", "title": "Back", "data": map[string]any{"itfit": "back", "rev": 3}}}}
	a := schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeActivity(a); err != nil {
			b.Fatal(err)
		}
	}
}
