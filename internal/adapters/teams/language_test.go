package teams_test

import (
	"strings"
	"testing"
)

// TestTeamsSpeaksTheActivitysLanguage: Teams says the sender's language
// with every activity. A French one gets French cards; the language
// command offers both languages as buttons, and pressing English keeps the
// choice, which wins over the French Teams client from then on; Redis
// keeps both under the person's hash tag.
func TestTeamsSpeaksTheActivitysLanguage(t *testing.T) {
	f := newFixtureWith(t, fixtureOptions{languages: true})
	fr := func(a map[string]any) map[string]any {
		a["locale"] = "fr-CA"
		return a
	}
	f.post(fr(f.activity(ana, personal, "bonjour")))
	out := f.take()
	if len(out) != 1 || out[0].Card == nil || !strings.Contains(cardText(out[0].Card), "Question 1 sur 11") {
		t.Fatalf("first reply: %+v", out)
	}
	f.post(fr(f.activity(ana, personal, "aide")))
	if out = f.take(); len(out) != 1 || !strings.Contains(out[0].Text+cardText(out[0].Card), "**recommencer**") {
		t.Fatalf("aide: %+v", out)
	}

	f.post(fr(f.activity(ana, personal, "langue")))
	out = f.take()
	if len(out) != 1 || out[0].Card == nil {
		t.Fatalf("langue: %+v", out)
	}
	var english map[string]any
	for _, d := range pressData(t, out[0].Card) {
		if d["itfit"] == "language" && d["lang"] == "en" {
			english = d
		}
	}
	if english == nil {
		t.Fatalf("no English button on %s", cardText(out[0].Card))
	}
	f.post(fr(f.submit(ana, personal, out[0].ResponseID, english)))
	out = f.take()
	updates, posts := split(out)
	if len(updates) != 1 || !strings.Contains(cardText(updates[0].Card), "speaks English with you from now on") ||
		len(posts) != 1 || !strings.Contains(cardText(posts[0].Card), "Question 1 of 11") {
		t.Fatalf("after English was pressed: %+v", out)
	}
	f.post(fr(f.activity(ana, personal, "status")))
	if out = f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "Your audit is on question 1") {
		t.Fatalf("status from a French Teams client after choosing English: %+v", out)
	}
	k := f.prefix.Language("teams", tenant, ana.aad)
	if got := f.rb.Client.HGetAll(t.Context(), k).Val(); got["chosen"] != "en" || got["seen"] != "fr-CA" {
		t.Fatalf("kept %v", got)
	}
}
