package chat

import "testing"

// A note of words alone extends the message's key, one key per wording;
// a note naming a person, a date or a command leaves the message unkeyed.
func TestNoteKey(t *testing.T) {
	const q = "q:en:skills:3:9:"
	a := noteKey(q, Text{{Kind: Plain, S: "That answer means 2 questions no longer apply."}})
	if a == "" || a == q {
		t.Fatalf("a note of words: key %q", a)
	}
	if again := noteKey(q, Text{{Kind: Plain, S: "That answer means 2 questions no longer apply."}}); again != a {
		t.Fatalf("the same note gave %q, then %q", a, again)
	}
	distinct := map[string]string{a: "plain 2"}
	for name, n := range map[string]Text{
		"plain 1":     {{Kind: Plain, S: "That answer means 1 question no longer applies."}},
		"strong":      {{Kind: Strong, S: "That answer means 2 questions no longer apply."}},
		"split":       {{Kind: Plain, S: "That answer means 2 "}, {Kind: Plain, S: "questions no longer apply."}},
		"split other": {{Kind: Plain, S: "That answer means 2 q"}, {Kind: Plain, S: "uestions no longer apply."}},
	} {
		k := noteKey(q, n)
		if k == "" {
			t.Fatalf("%s: no key", name)
		}
		if other, dup := distinct[k]; dup {
			t.Fatalf("%s and %s share the key %q", name, other, k)
		}
		distinct[k] = name
	}
	for name, n := range map[string]Text{
		"person":  {{Kind: Plain, S: "Shared with "}, {Kind: Person, S: "Ana", ID: "U1"}},
		"date":    {{Kind: Date, S: "1 March 2027"}},
		"command": {{Kind: Plain, S: "Type "}, {Kind: Command, S: "restart"}},
	} {
		if k := noteKey(q, n); k != "" {
			t.Errorf("%s: key %q, want none", name, k)
		}
	}
	if k := noteKey("", Text{{Kind: Plain, S: "words"}}); k != "" {
		t.Errorf("an unkeyed message got the key %q", k)
	}
	// A second note extends the first's key.
	if k := noteKey(a, Text{{Kind: Plain, S: "Welcome back."}}); k == a || k == "" {
		t.Errorf("two notes: key %q", k)
	}
}
