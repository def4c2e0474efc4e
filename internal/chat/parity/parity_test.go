package parity

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
)

// The card check passes the card the advisor describes and catches each
// way a platform could get it wrong.
func TestCardProblemsCatchTamperedCards(t *testing.T) {
	a := advisor.Default()
	sit := advisortest.Named("stretched_pair")
	as, _ := advisortest.Walk(a, sit.Answers)
	r := a.Recommend(as, time.Time{})
	flipped := a.Recommend(r.Flip.Apply(as), time.Time{})
	good := func() []Card {
		c := Card{Verdict: r.Verdict, Strength: r.Strength, Change: "If "}
		for _, x := range r.Reasons {
			c.For = append(c.For, x.Reason)
		}
		for _, x := range r.Counterpoints {
			c.Against = append(c.Against, x.Reason)
		}
		for _, s := range r.Flip.Changes {
			c.Change += strings.Join(s.Clauses, " and ") + ", "
		}
		c.Change += "this would tip to " + r.Flip.ToName + "."
		for _, s := range r.Scope {
			c.Covers = append(c.Covers, s.Name+": "+strings.Join(s.Because, "; "))
		}
		for _, m := range r.Matrix {
			c.Matrix = append(c.Matrix, m.Name+": "+string(m.Owner))
		}
		return []Card{c, {Verdict: flipped.Verdict, Strength: flipped.Strength}}
	}
	if ps := cardProblems(sit, good()); len(ps) > 0 {
		t.Fatalf("the advisor's own card: %q", ps)
	}
	for name, tamper := range map[string]func([]Card) []Card{
		"a reason left out":          func(c []Card) []Card { c[0].For = c[0].For[1:]; return c },
		"a reason on the wrong side": func(c []Card) []Card { c[0].Against, c[0].For = c[0].For[:1], c[0].For[1:]; return c },
		"an area out of the matrix": func(c []Card) []Card {
			c[0].Matrix = slices.DeleteFunc(c[0].Matrix, func(l string) bool { return strings.HasPrefix(l, "Cloud") })
			return c
		},
		"a cause left out":      func(c []Card) []Card { c[0].Covers[0] = r.Scope[0].Name; return c },
		"no change named":       func(c []Card) []Card { c[0].Change = ""; return c },
		"the flip did not flip": func(c []Card) []Card { c[1].Verdict = r.Verdict; return c },
		"no second card":        func(c []Card) []Card { return c[:1] },
	} {
		if ps := cardProblems(sit, tamper(good())); len(ps) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}
