package slackapi

import (
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// Block Kit's limits (https://docs.slack.dev/reference/block-kit), in
// characters. What is rendered from operator-supplied text (the audit file)
// is clamped to these rather than trusted to fit: a message over a limit is
// refused by Slack whole.
const (
	MaxBlocks      = 50 // blocks in a message
	MaxSectionText = 3000
	MaxFieldText   = 2000 // each of a section's fields
	MaxFields      = 10   // fields in a section
	MaxHeaderText  = 150
	MaxButtonText  = 75
	MaxOptionText  = 75
	MaxPlaceholder = 150
	MaxContextText = 2000
	// A confirmation dialog's title, text, and each of its two buttons.
	MaxConfirmTitle  = 100
	MaxConfirmText   = 300
	MaxConfirmButton = 30
)

// PlainText is a plain_text object (emoji shortcodes rendered) of s
// clamped to limit characters.
func PlainText(s string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, Clamp(s, limit), true, false)
}

// MrkdwnText is a mrkdwn object of s, already escaped (Escape), clamped to
// limit characters without cutting an entity (ClampMrkdwn).
func MrkdwnText(s string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, ClampMrkdwn(s, limit), false, false)
}

// Clamp shortens s to at most limit characters, ending with an ellipsis.
func Clamp(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// ClampMrkdwn clamps text that holds escaped entities, without leaving half
// of one ("&am…") at the cut.
func ClampMrkdwn(s string, limit int) string {
	c := Clamp(s, limit)
	if c == s {
		return s
	}
	body := strings.TrimSuffix(c, "…")
	if amp := strings.LastIndexByte(body, '&'); amp >= 0 && !strings.Contains(body[amp:], ";") {
		body = body[:amp]
	}
	return body + "…"
}

// escaper escapes the three characters Slack's mrkdwn treats as control
// characters.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape escapes the three characters Slack's mrkdwn treats as control
// characters (&, <, >), so that a text from elsewhere (an audit's) can never
// form a link or a mention.
func Escape(s string) string { return escaper.Replace(s) }
