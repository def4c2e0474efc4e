package advisor_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
)

// Every situation drawn from the domain gets the verdict the guide's logic
// gives it, names on its card every answer that moved the score, puts every
// area in scope in the matrix, and says what would change it: a set of
// answers that, given, really flips the verdict, and than which no smaller
// set does.
func TestSituations(t *testing.T) {
	a := advisor.Default()
	want := map[string]struct {
		v advisor.Verdict
		s advisor.Strength
	}{
		"stretched_pair":            {advisor.CoManaged, advisor.Strong},
		"no_it_hand_off":            {advisor.FullyManaged, advisor.Strong},
		"no_it_keeps_control":       {advisor.FullyManaged, advisor.Strong},
		"overwhelmed_generalist":    {advisor.FullyManaged, advisor.Moderate},
		"generalist_hand_off":       {advisor.FullyManaged, advisor.Strong},
		"capable_team_cloud_gap":    {advisor.CoManaged, advisor.Strong},
		"close_generalist":          {advisor.CoManaged, advisor.Close},
		"tie":                       {advisor.CoManaged, advisor.Close},
		"regulated_team":            {advisor.CoManaged, advisor.Strong},
		"team_leadership_hands_off": {advisor.FullyManaged, advisor.Moderate},
		"projects_on_a_sound_team":  {advisor.CoManaged, advisor.Moderate},
		"every_gap":                 {advisor.CoManaged, advisor.Strong},
	}
	sits := advisortest.Situations()
	if len(sits) < 10 || len(sits) != len(want) {
		t.Fatalf("%d situations, %d expectations", len(sits), len(want))
	}
	for _, sit := range sits {
		t.Run(sit.Name, func(t *testing.T) {
			as, ok := advisortest.Walk(a, sit.Answers)
			if !ok {
				t.Fatalf("the situation does not answer the audit as asked: %v", as)
			}
			r := a.Recommend(as, time.Now())
			if w := want[sit.Name]; r.Verdict != w.v || r.Strength != w.s {
				t.Errorf("%s, %s (score %d), want %s, %s", r.Verdict, r.Strength, r.Score, w.v, w.s)
			}
			checkCard(t, a, as, r)
		})
	}
}

// checkCard checks what every card must hold, whatever the answers.
func checkCard(t *testing.T, a *advisor.Audit, as advisor.Answers, r advisor.Recommendation) {
	t.Helper()
	// Every answer that moved the score, on its side, strongest first.
	for _, c := range r.Contributions {
		if c.Weight == 0 {
			continue
		}
		side, other := r.Reasons, r.Counterpoints
		if (c.Weight > 0) != (r.Verdict == advisor.FullyManaged) {
			side, other = other, side
		}
		if !slices.ContainsFunc(side, func(x advisor.Contribution) bool { return x.Option == c.Option && x.Question == c.Question }) ||
			slices.ContainsFunc(other, func(x advisor.Contribution) bool { return x.Option == c.Option && x.Question == c.Question }) {
			t.Errorf("%s=%s (weight %d) is not on its side of the card", c.Question, c.Option, c.Weight)
		}
		if c.Reason == "" || strings.ContainsAny(c.Reason, "{}") {
			t.Errorf("%s=%s: reason %q", c.Question, c.Option, c.Reason)
		}
	}
	for _, list := range [][]advisor.Contribution{r.Reasons, r.Counterpoints} {
		if !slices.IsSortedFunc(list, func(x, y advisor.Contribution) int { return abs(y.Weight) - abs(x.Weight) }) {
			t.Errorf("not strongest first: %+v", list)
		}
	}
	// Scope, and the matrix over it.
	inMatrix := map[advisor.AreaID]bool{}
	for _, m := range r.Matrix {
		inMatrix[m.Area] = true
	}
	for _, s := range r.Scope {
		if r.Verdict == advisor.CoManaged && !inMatrix[s.Area] {
			t.Errorf("%s is in scope but not in the matrix", s.Name)
		}
		for _, b := range s.Because {
			if b == "" || strings.ContainsAny(b, "{}") {
				t.Errorf("%s in scope because of %q", s.Name, b)
			}
		}
	}
	if r.Verdict == advisor.FullyManaged && (len(r.Scope) != len(a.Areas) || len(r.Matrix) != 0) {
		t.Errorf("fully managed: %d of %d areas in scope, %d matrix rows", len(r.Scope), len(a.Areas), len(r.Matrix))
	}
	// What would change it.
	if r.Decisive {
		if r.Flip != nil {
			t.Errorf("a decisive verdict says what would change it: %+v", r.Flip)
		}
		return
	}
	checkFlip(t, a, as, r)
}

func checkFlip(t *testing.T, a *advisor.Audit, as advisor.Answers, r advisor.Recommendation) {
	t.Helper()
	if r.Flip == nil {
		t.Fatal("no flip on a verdict that was not decisive")
	}
	fewest, ok := advisortest.FewestFlips(a, as)
	if len(r.Flip.Changes) != fewest || ok != (len(r.Flip.Changes) > 0) {
		t.Fatalf("the flip changes %d answers; the fewest that flip the verdict are %d (%v): %+v", len(r.Flip.Changes), fewest, ok, r.Flip.Changes)
	}
	if !ok {
		return
	}
	applied := r.Flip.Apply(as)
	again, walked := advisortest.Walk(a, advisortest.AsMap(applied))
	if !walked || !slices.EqualFunc(again, applied, func(x, y advisor.Answer) bool { return x.Question == y.Question && slices.Equal(x.Options, y.Options) }) {
		t.Fatalf("the changed answers are not asked the same way: %v", applied)
	}
	d := a.Decide(applied)
	if d.Verdict != r.Flip.To || d.Verdict == r.Verdict || d.Score != r.Flip.Score {
		t.Errorf("applied, the flip gives %s (score %d); it says %s (score %d)", d.Verdict, d.Score, r.Flip.To, r.Flip.Score)
	}
	for _, s := range r.Flip.Changes {
		if len(s.Labels) != len(s.To) || s.Prompt == "" {
			t.Errorf("shift %+v", s)
		}
	}
}

// The built-in audit has words for every change the card may name.
func TestEveryFlipOfTheBuiltInAuditIsWorded(t *testing.T) {
	a := advisor.Default()
	for _, sit := range advisortest.Situations() {
		as, _ := advisortest.Walk(a, sit.Answers)
		r := a.Recommend(as, time.Now())
		if r.Flip == nil {
			continue
		}
		for _, s := range r.Flip.Changes {
			if len(s.Clauses) == 0 {
				t.Errorf("%s: no words for %s → %v", sit.Name, s.Question, s.To)
			}
			for _, c := range s.Clauses {
				if c == "" || strings.ContainsAny(c, "{}") {
					t.Errorf("%s: clause %q", sit.Name, c)
				}
			}
		}
	}
	// The example of issue 19: a team that leadership wants to keep,
	// which only a change of heart and of circumstances would tip.
	as, _ := advisortest.Walk(a, advisortest.Named("stretched_pair").Answers)
	var clauses []string
	for _, s := range a.Recommend(as, time.Now()).Flip.Changes {
		clauses = append(clauses, s.Clauses...)
	}
	if !slices.Contains(clauses, "leadership wanted one accountable partner and only to approve direction") ||
		!slices.Contains(clauses, "the business grew faster than you can hire IT staff") {
		t.Errorf("clauses %q", clauses)
	}
}

// The flip is exact on answers nobody chose by hand, against trying every
// combination: on the built-in audit, and on one with decisive answers on
// questions the flip may change, options pulling both ways within one
// multiple choice, and a tie that goes to fully managed.
func TestFlipIsExactOnRandomAnswers(t *testing.T) {
	audits := map[string]*advisor.Audit{"built in": advisor.Default()}
	tricky, err := advisor.Parse("tricky.yaml", []byte(trickyAudit))
	if err != nil {
		t.Fatal(err)
	}
	audits["tricky"] = tricky
	for name, a := range audits {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(19, 17))
			flipped, decisive := 0, 0
			for i := range 1000 {
				as := advisortest.Random(a, rng)
				r := a.Recommend(as, time.Now())
				t.Run(fmt.Sprint(i), func(t *testing.T) { checkCard(t, a, as, r) })
				if r.Decisive {
					decisive++
				} else if r.Flip != nil && len(r.Flip.Changes) > 0 {
					flipped++
				}
			}
			if flipped < 100 || decisive == 0 {
				t.Errorf("only %d flips and %d decisive verdicts in 1000: the sample proves little", flipped, decisive)
			}
		})
	}
}

const trickyAudit = `version: "t"
title: t
intro: i
scoring:
  close_margin: 1
  strong_margin: 4
  tie: fully-managed
  decisive:
    - {when: {question: pick, any_of: [x]}, verdict: fully-managed, note: n}
    - {when: {question: many, any_of: [c]}, verdict: co-managed, note: n}
    - {when: {question: pick, any_of: [y]}, verdict: co-managed, note: n}
    - {when: {question: gate, any_of: [b]}, verdict: co-managed, note: n}
verdicts:
  co-managed: {name: C, summary: s}
  fully-managed: {name: F, summary: s}
areas: [{id: backup, name: Backup}]
comparison: [{dimension: d, co-managed: a, fully-managed: b}]
next_steps: {co-managed: [x], fully-managed: [y]}
questions:
  - id: gate
    step: capacity
    prompt: G
    kind: single
    options:
      - {id: a, label: A, weight: 1, reason: r}
      - {id: b, label: B, weight: -1, reason: r}
      - {id: c, label: C}
  - id: pick
    step: gaps
    prompt: P
    kind: single
    ask_if: {question: gate, none_of: [b]}
    options:
      - {id: w, label: W, weight: -2, reason: r}
      - {id: x, label: X}
      - {id: y, label: "Y", weight: 3, reason: r}
      - {id: z, label: Z, weight: 1, reason: r, what_if: z were so}
  - id: many
    step: gaps
    prompt: M
    kind: multi
    options:
      - {id: a, label: A, weight: 2, reason: r, what_if: a were so}
      - {id: b, label: B, weight: -3, reason: r}
      - {id: c, label: C, weight: 1, reason: r}
      - {id: d, label: D, weight: -1, reason: r}
      - {id: none, label: None, exclusive: true}
  - id: more
    step: gaps
    prompt: Mo
    kind: multi
    options:
      - {id: p, label: P, weight: 1, reason: r}
      - {id: q, label: Q, weight: 1, reason: r}
      - {id: r, label: R, weight: -2, reason: r}
  - id: last
    step: control
    prompt: L
    kind: single
    options:
      - {id: m4, label: M4, weight: -4, reason: r}
      - {id: zero, label: Zero}
      - {id: p4, label: P4, weight: 4, reason: r}
`

func abs(n int) int { return max(n, -n) }

// BenchmarkRecommend is the card of each situation, flip included.
func BenchmarkRecommend(b *testing.B) {
	a := advisor.Default()
	for _, name := range []string{"stretched_pair", "close_generalist", "no_it_hand_off"} {
		as, _ := advisortest.Walk(a, advisortest.Named(name).Answers)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = a.Recommend(as, time.Time{})
			}
		})
	}
}

// BenchmarkFlipLargestAudit is the worst an audit file allows: 40
// questions of 10 options, every one a multiple choice (1023 answers each).
func BenchmarkFlipLargestAudit(b *testing.B) {
	var y strings.Builder
	y.WriteString(strings.Split(minimalHead, "questions:")[0] + "questions:\n")
	for i := range 40 {
		fmt.Fprintf(&y, "  - id: q%d\n    step: gaps\n    prompt: P\n    kind: multi\n    options:\n", i)
		for j := range 10 {
			fmt.Fprintf(&y, "      - {id: o%d, label: L, weight: %d, reason: r, what_if: w}\n", j, (i+j)%21-10)
		}
	}
	a, err := advisor.Parse("largest.yaml", []byte(y.String()))
	if err != nil {
		b.Fatal(err)
	}
	var as advisor.Answers
	for _, q := range a.Questions {
		as = append(as, advisor.Answer{Question: q.ID, Options: []advisor.OptionID{"o0"}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := a.Recommend(as, time.Time{}); r.Flip == nil || len(r.Flip.Changes) == 0 {
			b.Fatal("no flip")
		}
	}
}
