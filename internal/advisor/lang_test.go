package advisor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/locale"
)

// TestDocumentsPickEachLanguage: a text's languages become one document per
// language; everything else is the same in each.
func TestDocumentsPickEachLanguage(t *testing.T) {
	docs, problems, err := documents([]byte(`
version: "1"
title: {en: Hello, fr-CA: Bonjour}
questions:
  - id: q1
    kind: single
    prompt:
      en: How many?
      fr-CA: Combien?
    options:
      - {id: a, weight: 3, label: {en: One, fr-CA: Un}}
verdicts:
  co-managed:
    team_keeps:
      - {en: The final say, fr-CA: Le dernier mot}
    tie_note: {en: "", fr-CA: ""}
`))
	if err != nil || len(problems) > 0 {
		t.Fatalf("%v %v", err, problems)
	}
	var fr map[string]any
	if err := json.Unmarshal(docs[locale.French], &fr); err != nil {
		t.Fatal(err)
	}
	q := fr["questions"].([]any)[0].(map[string]any)
	o := q["options"].([]any)[0].(map[string]any)
	if fr["title"] != "Bonjour" || q["prompt"] != "Combien?" || o["label"] != "Un" || o["weight"] != 3.0 || q["id"] != "q1" {
		t.Fatalf("French document: %s", docs[locale.French])
	}
	if !strings.Contains(string(docs[locale.English]), `"The final say"`) {
		t.Fatalf("English document: %s", docs[locale.English])
	}
}

// TestDocumentsNameWhatIsMissing: every problem of a text names where it
// is (the question, the option, the field) and the language.
func TestDocumentsNameWhatIsMissing(t *testing.T) {
	_, problems, err := documents([]byte(`
questions:
  - id: it_staff
    prompt: How many?
    options:
      - {id: none, label: {en: Nobody}}
      - {id: one, label: {en: One, fr-CA: "  "}}
      - {id: two, label: {en: Two, fr-CA: Deux, de: Zwei}}
      - {id: many, reason: {en: "Meeting {frameworks} is hard.", fr-CA: "C'est difficile."}}
verdicts:
  co-managed: {summary: {en: Keep your team, fr-CA: Gardez votre équipe}, tie_note: {en: "", fr-CA: "Égalité"}}
version: {en: "1", fr-CA: "1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range []string{
		`question it_staff, prompt: "How many?" is in one language; give it in every one (en, fr-CA)`,
		"question it_staff, option none, label: no fr-CA text",
		"question it_staff, option one, label: the fr-CA text is empty",
		`question it_staff, option two, label: "de" is not a language itfit speaks (en, fr-CA)`,
		"question it_staff, option many, reason: the fr-CA text names [], the English [frameworks]",
		"verdicts, co-managed, tie_note: the en text is empty",
		"version: has texts in several languages, but takes none",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q among:\n%s", want, got)
		}
	}
	if len(problems) != 7 {
		t.Errorf("%d problems, want 7:\n%s", len(problems), got)
	}
}
