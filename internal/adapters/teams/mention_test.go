package teams_test

import (
	"strings"
	"testing"
)

// TestMentionWordsWithPunctuation: in a channel, the word after "@itfit"
// is read without the punctuation people put after a mention, and without
// what comes before it, as in Slack: "@itfit: help", "@itfit, status",
// "hey @itfit restart". A word itfit does not know starts the audit with a
// one-line hint, not the help.
func TestMentionWordsWithPunctuation(t *testing.T) {
	f := newFixture(t, nil)
	thread := channel + ";messageid=1700000000600"
	for _, c := range []struct{ rest, want, not string }{
		{": help", "Everyone here gets their own audit", "I don't know"},
		{", status", "You have no audit in progress", "I don't know"},
		{" - restart", "Question 1 of", "I don't know"},
		{"; frobnicate!", "I don't know “frobnicate!”", "Everyone here gets their own audit"},
	} {
		t.Run(c.rest, func(t *testing.T) {
			a := f.mention(ana, thread, "")
			a["text"] = "hey <at>itfit</at>" + c.rest
			f.post(a)
			out := f.take()
			if len(out) != 1 {
				t.Fatalf("sent %v", out)
			}
			text := out[0].Text + string(out[0].Body)
			if !strings.Contains(text, c.want) || strings.Contains(text, c.not) {
				t.Errorf("%q: got %s, want %q and not %q", a["text"], out[0], c.want, c.not)
			}
		})
	}
}
