package advisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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

// TestBuiltInAuditInFrench: the built-in audit reads in French wherever it
// has words; IDs, weights and conditions are the English audit's.
func TestBuiltInAuditInFrench(t *testing.T) {
	en := Default()
	fr := en.In(locale.French)
	if fr == en || fr.In(locale.English) != en || en.In("de") != en {
		t.Fatal("In does not give each language's audit")
	}
	// Words that are the same in both languages (names of frameworks).
	same := map[string]bool{"HIPAA": true, "PCI DSS": true, "ISO 27001": true, "SOC 2": true, "": true}
	var walk func(path string, a, b reflect.Value)
	walk = func(path string, a, b reflect.Value) {
		switch a.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !a.IsNil() {
				walk(path, a.Elem(), b.Elem())
			}
		case reflect.Struct:
			for i := range a.NumField() {
				if f := a.Type().Field(i); f.IsExported() {
					walk(path+"."+f.Name, a.Field(i), b.Field(i))
				}
			}
		case reflect.Slice:
			if a.Len() != b.Len() {
				t.Errorf("%s: %d in English, %d in French", path, a.Len(), b.Len())
				return
			}
			for i := range a.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i))
			}
		case reflect.Map:
			for _, k := range a.MapKeys() {
				walk(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), b.MapIndex(k))
			}
		case reflect.String:
			x, y := a.String(), b.String()
			if a.Type() != reflect.TypeOf("") || strings.HasSuffix(path, ".Version") {
				if x != y { // IDs, kinds, verdicts: one for every language
					t.Errorf("%s: %q in English, %q in French", path, x, y)
				}
				return
			}
			if x == y && !same[x] {
				t.Errorf("%s is the same in French: %q", path, x)
			}
		default:
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				t.Errorf("%s: %v in English, %v in French", path, a.Interface(), b.Interface())
			}
		}
	}
	walk("audit", reflect.ValueOf(*en), reflect.ValueOf(*fr))

	as := Answers{{Question: "it_staff", Options: []OptionID{"none"}}}
	r := fr.Recommend(as, time.Date(2027, 12, 1, 0, 0, 0, 0, time.UTC))
	if r.VerdictName != "TI entièrement gérées" || r.Verdict != FullyManaged || len(r.Reasons) == 0 ||
		!strings.HasPrefix(r.Reasons[0].Reason, "Il n'y a pas d'équipe TI interne") {
		t.Fatalf("French recommendation: %s %q %+v", r.Verdict, r.VerdictName, r.Reasons)
	}
}

// TestOperatorsFileMissingATranslation: an operator's file with a text in
// English only, or a French text left empty, is refused at start-up,
// naming the file, where the text is and the language.
func TestOperatorsFileMissingATranslation(t *testing.T) {
	y := string(defaultAudit)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"a text without its French", "          fr-CA: Une personne polyvalente\n", "",
			"my-audit.yaml:\n  question it_staff, option one, label: no fr-CA text"},
		{"an empty French", "          fr-CA: Une personne polyvalente\n", "          fr-CA: \"\"\n",
			"question it_staff, option one, label: the fr-CA text is empty"},
		{"English only", "    prompt:\n      en: How many people work on IT inside your company today?\n      fr-CA: Combien de personnes travaillent aux TI dans votre entreprise aujourd'hui?\n",
			"    prompt: How many people work on IT inside your company today?\n",
			`question it_staff, prompt: "How many people work on IT inside your …" is in one language`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(y, tc.old) {
				t.Fatalf("the built-in audit has no %q", tc.old)
			}
			_, err := Parse("my-audit.yaml", []byte(strings.Replace(y, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidAudit) {
				t.Fatalf("Parse: %v\nwant %q", err, tc.want)
			}
		})
	}
}
