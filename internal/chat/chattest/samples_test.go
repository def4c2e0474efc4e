package chattest_test

import (
	"testing"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat/chattest"
)

// The situations really are what their names say, so the golden files
// show each strength of verdict.
func TestSituations(t *testing.T) {
	a := advisor.Default()
	want := map[string]struct {
		v advisor.Verdict
		s advisor.Strength
	}{
		"comanaged":     {advisor.CoManaged, advisor.Strong},
		"fully_managed": {advisor.FullyManaged, advisor.Strong},
		"decisive":      {advisor.FullyManaged, advisor.Strong},
		"close":         {advisor.CoManaged, advisor.Close},
		"tie":           {advisor.CoManaged, advisor.Close},
	}
	for name, as := range chattest.Situations(a) {
		r := a.Recommend(as, chattest.Done)
		if w := want[name]; r.Verdict != w.v || r.Strength != w.s {
			t.Errorf("%s: %s %s (score %d), want %s %s", name, r.Verdict, r.Strength, r.Score, w.v, w.s)
		}
		if name == "decisive" && (r.Note == "" || !r.Decisive || len(r.Counterpoints) == 0) {
			t.Errorf("decisive: no note saying why, or nothing pointing the other way: %+v", r)
		}
		if name == "tie" && r.Score != 0 {
			t.Errorf("tie: score %d", r.Score)
		}
	}
	if n := len(chattest.Samples()); n < 25 {
		t.Errorf("%d samples", n)
	}
}
