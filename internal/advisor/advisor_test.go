package advisor_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
)

// answer builds answers from "question=opt,opt" pairs.
func answer(pairs ...string) advisor.Answers {
	var as advisor.Answers
	for _, p := range pairs {
		q, opts, _ := strings.Cut(p, "=")
		var ids []advisor.OptionID
		for _, o := range strings.Split(opts, ",") {
			ids = append(ids, advisor.OptionID(o))
		}
		as = append(as, advisor.Answer{Question: advisor.QuestionID(q), Options: ids})
	}
	return as
}

// walk answers the audit in order the way a user would, failing the test if
// an answer is given to a question that is not asked.
func walk(t *testing.T, a *advisor.Audit, pairs ...string) advisor.Answers {
	t.Helper()
	var as advisor.Answers
	for _, p := range answer(pairs...) {
		q, ok := a.Next(as)
		if !ok {
			t.Fatalf("audit finished before %s was answered", p.Question)
		}
		if q.ID != p.Question {
			t.Fatalf("next question is %s, the profile answers %s", q.ID, p.Question)
		}
		opts, err := a.CheckAnswer(p.Question, p.Options)
		if err != nil {
			t.Fatalf("answer %v: %v", p, err)
		}
		as = append(as, advisor.Answer{Question: p.Question, Options: opts})
	}
	if q, ok := a.Next(as); ok {
		t.Fatalf("profile stops before question %s", q.ID)
	}
	return as
}

func reasons(r advisor.Recommendation) []advisor.OptionID {
	var out []advisor.OptionID
	for _, c := range r.Reasons {
		out = append(out, c.Option)
	}
	return out
}

func TestProfiles(t *testing.T) {
	a := advisor.Default()
	done := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		answers     []string
		verdict     advisor.Verdict
		strength    advisor.Strength
		wantReasons []advisor.OptionID // must lead the reasons, in this order
	}{{
		name:        "two stretched staff, no security skill, needs 24/7, wants control",
		answers:     []string{"it_staff=two_three", "firefighting=nearly_all", "skills=security", "after_hours=nobody_need", "projects=none", "frameworks=none", "growth=steady", "distraction=sometimes", "control=keep"},
		verdict:     advisor.CoManaged,
		strength:    advisor.Strong,
		wantReasons: []advisor.OptionID{"two_three", "keep", "nearly_all", "security", "nobody_need"},
	}, {
		name:        "no IT and wants one accountable partner",
		answers:     []string{"it_staff=none", "after_hours=not_needed", "projects=none", "frameworks=none", "growth=steady", "distraction=weekly", "control=hand_off"},
		verdict:     advisor.FullyManaged,
		strength:    advisor.Strong,
		wantReasons: []advisor.OptionID{"none", "hand_off", "weekly"},
	}, {
		name:        "one overwhelmed generalist, scaling fast",
		answers:     []string{"it_staff=one", "generalist_load=overwhelmed", "skills=security,cloud", "after_hours=team_strained", "projects=none", "frameworks=none", "growth=outpacing", "distraction=weekly", "control=unsure"},
		verdict:     advisor.FullyManaged,
		strength:    advisor.Moderate,
		wantReasons: []advisor.OptionID{"one", "overwhelmed", "outpacing", "weekly"},
	}, {
		name:        "capable team short only of a cloud migration",
		answers:     []string{"it_staff=four_plus", "firefighting=little", "skills=none", "after_hours=covered", "projects=cloud_migration", "frameworks=soc2", "compliance=yes_covered", "growth=steady", "distraction=rarely", "control=unsure"},
		verdict:     advisor.CoManaged,
		strength:    advisor.Moderate,
		wantReasons: []advisor.OptionID{"four_plus", "cloud_migration", "rarely"},
	}, {
		name:        "close call: a coping generalist with a security gap",
		answers:     []string{"it_staff=one", "generalist_load=no_projects", "skills=security", "after_hours=covered", "projects=none", "frameworks=none", "growth=steady", "distraction=sometimes", "control=unsure"},
		verdict:     advisor.CoManaged,
		strength:    advisor.Close,
		wantReasons: []advisor.OptionID{"security", "no_projects"},
	}, {
		name:        "compliance gap and after-hours strain, team keeps control",
		answers:     []string{"it_staff=two_three", "firefighting=half", "skills=networking", "after_hours=team_strained", "projects=office_move,security_overhaul", "frameworks=hipaa,pci_dss", "compliance=yes_gap", "growth=flat", "distraction=sometimes", "control=keep"},
		verdict:     advisor.CoManaged,
		strength:    advisor.Strong,
		wantReasons: []advisor.OptionID{"two_three", "keep", "team_strained", "yes_gap"},
	}, {
		name:        "no IT but wants control: decisive, with a note",
		answers:     []string{"it_staff=none", "after_hours=nobody_need", "projects=cloud_migration,office_move,security_overhaul", "frameworks=gdpr", "compliance=yes_gap", "growth=flat", "distraction=rarely", "control=keep"},
		verdict:     advisor.FullyManaged,
		strength:    advisor.Strong,
		wantReasons: []advisor.OptionID{"none"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Recommend(walk(t, a, tt.answers...), done)
			if r.Verdict != tt.verdict || r.Strength != tt.strength {
				t.Fatalf("got %s (%s, score %d), want %s (%s)", r.Verdict, r.Strength, r.Score, tt.verdict, tt.strength)
			}
			if got := reasons(r); len(got) < len(tt.wantReasons) || !slices.Equal(got[:len(tt.wantReasons)], tt.wantReasons) {
				t.Errorf("reasons %v, want them to start with %v", got, tt.wantReasons)
			}
			if r.VerdictName == "" || len(r.NextSteps) == 0 || len(r.Comparison) != 6 || len(r.Scope) == 0 || len(r.TeamKeeps) == 0 {
				t.Errorf("card is missing parts: %+v", r)
			}
			if (tt.verdict == advisor.CoManaged) != (len(r.Matrix) > 0) {
				t.Errorf("matrix has %d rows for %s", len(r.Matrix), tt.verdict)
			}
			sum := 0
			for _, c := range r.Contributions {
				sum += c.Weight
			}
			if sum != r.Score {
				t.Errorf("contributions add to %d, score is %d", sum, r.Score)
			}
		})
	}
}

func TestTieGoesToConfiguredVerdictAndSaysSo(t *testing.T) {
	a := advisor.Default()
	// one (+3), fine (-2), no skills gap, covered, none, none, steady, rarely (-1), unsure: 0.
	as := walk(t, a, "it_staff=one", "generalist_load=fine", "skills=none", "after_hours=covered", "projects=none", "frameworks=none", "growth=steady", "distraction=rarely", "control=unsure")
	r := a.Recommend(as, time.Now())
	if r.Score != 0 || r.Verdict != advisor.CoManaged || r.Strength != advisor.Close || r.Note == "" {
		t.Fatalf("got score %d verdict %s strength %s note %q", r.Score, r.Verdict, r.Strength, r.Note)
	}
	// A tie is one point from the other side: any single answer that adds
	// a point towards fully managed tips it.
	if r.Flip == nil || len(r.Flip.Changes) != 1 || r.Flip.To != advisor.FullyManaged {
		t.Fatalf("flip %+v", r.Flip)
	}
}

func TestMatrixFollowsGaps(t *testing.T) {
	a := advisor.Default()
	as := walk(t, a, "it_staff=two_three", "firefighting=nearly_all", "skills=security", "after_hours=nobody_need", "projects=cloud_migration", "frameworks=hipaa,soc2", "compliance=yes_gap", "growth=steady", "distraction=sometimes", "control=keep")
	r := a.Recommend(as, time.Now())
	owners := map[advisor.AreaID]advisor.Owner{}
	for _, m := range r.Matrix {
		owners[m.Area] = m.Owner
	}
	want := map[advisor.AreaID]advisor.Owner{
		"after_hours": advisor.OwnerProvider, "security": advisor.OwnerProvider, "patching": advisor.OwnerProvider,
		"backup": advisor.OwnerProvider, "helpdesk": advisor.OwnerShared, "business_apps": advisor.OwnerTeam,
		"projects": advisor.OwnerShared, "strategy": advisor.OwnerTeam,
		// Named by the migration, not by a missing skill: shared.
		"cloud": advisor.OwnerShared, "compliance": advisor.OwnerProvider, "procurement": advisor.OwnerTeam,
	}
	if len(owners) != len(want) {
		t.Errorf("matrix %v", r.Matrix)
	}
	for area, owner := range want {
		if owners[area] != owner {
			t.Errorf("%s owned by %q, want %q", area, owners[area], owner)
		}
	}
	because := map[advisor.AreaID][]string{}
	for _, s := range r.Scope {
		because[s.Area] = s.Because
	}
	for area, want := range map[advisor.AreaID][]string{
		"projects":    {"your cloud or Microsoft 365 migration"},
		"cloud":       {"your cloud or Microsoft 365 migration"},
		"compliance":  {"HIPAA, SOC 2 without the expertise on staff"},
		"security":    {"no cybersecurity skills on staff"},
		"helpdesk":    {"a team that spends its week on urgent fixes"},
		"after_hours": {"nobody watching your systems after hours"},
		"patching":    nil, // the provider's by default
	} {
		if !slices.Equal(because[area], want) {
			t.Errorf("%s in scope because of %q, want %q", area, because[area], want)
		}
	}
}

// A text naming another answer reads that answer; a text naming what
// might not be answered is refused when the audit is loaded.
func TestTextsNameOtherAnswers(t *testing.T) {
	a := advisor.Default()
	as := walk(t, a, "it_staff=four_plus", "firefighting=little", "skills=none", "after_hours=covered", "projects=none", "frameworks=hipaa,pipeda_phipa", "compliance=yes_gap", "growth=steady", "distraction=sometimes", "control=keep")
	r := a.Recommend(as, time.Now())
	var got []string
	for _, c := range r.Reasons {
		got = append(got, c.Reason)
	}
	if !slices.Contains(got, "Meeting HIPAA, PIPEDA or PHIPA demands expertise nobody on your staff has.") {
		t.Errorf("reasons %q", got)
	}

	const q2 = "  - {id: q2, step: gaps, prompt: P, kind: single, %s options: [{id: a, label: A, weight: 1, reason: \"%s\"}, {id: b, label: B}]}\n"
	const q1 = "  - {id: q1, step: gaps, prompt: P, kind: single, %s options: [{id: a, label: A}, {id: b, label: B}]}\n"
	tests := []struct{ name, questions, want string }{
		{"unknown", fmt.Sprintf(q1, "") + fmt.Sprintf(q2, "", "r {q9}"), "names {q9}, which is not a question"},
		{"later", fmt.Sprintf(q1, "") + fmt.Sprintf(q2, "", "r {q2}"), "names {q2}, which is not an earlier question"},
		{"open", fmt.Sprintf(q1, "") + fmt.Sprintf(q2, "", "r {q1"), "has a { without its }"},
		{"sometimes asked", fmt.Sprintf(q1, "") + "  - {id: q3, step: gaps, prompt: P, kind: single, ask_if: {question: q1, any_of: [a]}, options: [{id: a, label: A}, {id: b, label: B}]}\n" +
			strings.Replace(fmt.Sprintf(q2, "", "r {q3}"), "q2", "q4", 1), "names {q3}, which is not always asked before this question"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := advisor.Parse("custom.yaml", []byte(minimalHead+tt.questions))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	ok := fmt.Sprintf(q1, "") + fmt.Sprintf(q2, "ask_if: {question: q1, any_of: [a]},", "r {q1}")
	if _, err := advisor.Parse("custom.yaml", []byte(minimalHead+ok)); err != nil {
		t.Fatalf("a text naming the question this one depends on: %v", err)
	}
}

func TestSkipLogic(t *testing.T) {
	a := advisor.Default()
	as := answer("it_staff=none")
	q, _ := a.Next(as)
	if q.ID != "after_hours" {
		t.Fatalf("with no IT staff the next question is %s; the team questions should be skipped", q.ID)
	}
	pos, total := a.Progress(as)
	if pos != 2 || total != 8 {
		t.Errorf("progress %d of %d, want 2 of 8", pos, total)
	}
	pos, total = a.Progress(nil)
	if pos != 1 || total != 11 {
		t.Errorf("progress before any answer %d of %d, want 1 of 11 (unsettled questions count)", pos, total)
	}
	pos, total = a.Progress(answer("it_staff=two_three"))
	if pos != 2 || total != 10 {
		t.Errorf("progress %d of %d, want 2 of 10", pos, total)
	}
}

func TestCheckAnswer(t *testing.T) {
	a := advisor.Default()
	tests := []struct {
		q    advisor.QuestionID
		opts []advisor.OptionID
		want error
	}{
		{"nope", []advisor.OptionID{"x"}, advisor.ErrUnknownQuestion},
		{"it_staff", nil, advisor.ErrNoOption},
		{"it_staff", []advisor.OptionID{"one", "none"}, advisor.ErrOneOption},
		{"it_staff", []advisor.OptionID{"seven"}, advisor.ErrUnknownOption},
		{"skills", []advisor.OptionID{"security", "none"}, advisor.ErrExclusive},
		{"skills", []advisor.OptionID{"cloud", "cloud"}, advisor.ErrDuplicateOption},
		{"skills", []advisor.OptionID{"cloud", "security"}, nil},
	}
	for _, tt := range tests {
		got, err := a.CheckAnswer(tt.q, tt.opts)
		if !errors.Is(err, tt.want) {
			t.Errorf("CheckAnswer(%s, %v) error %v, want %v", tt.q, tt.opts, err, tt.want)
		}
		if err == nil && !slices.Equal(got, []advisor.OptionID{"security", "cloud"}) {
			t.Errorf("options come back in audit order, got %v", got)
		}
	}
}

func TestAddMonths(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2028-02-29", "2029-02-28"},
		{"2027-01-31", "2028-01-31"},
		{"2026-12-15", "2027-12-15"},
		{"2024-02-29", "2025-02-28"},
	}
	for _, tt := range tests {
		from, _ := time.Parse(time.DateOnly, tt.from)
		if got := advisor.AddMonths(from, 12).Format(time.DateOnly); got != tt.want {
			t.Errorf("12 months after %s = %s, want %s", tt.from, got, tt.want)
		}
	}
	from, _ := time.Parse(time.DateOnly, "2027-01-31")
	if got := advisor.AddMonths(from, 1).Format(time.DateOnly); got != "2027-02-28" {
		t.Errorf("a month after 31 January = %s", got)
	}
}

func TestRecommendationRevisit(t *testing.T) {
	a := advisor.Default()
	leap := time.Date(2028, 2, 29, 9, 30, 0, 0, time.UTC)
	r := a.Recommend(answer("it_staff=none"), leap)
	if got := r.RevisitOn.Format(time.RFC3339); got != "2029-02-28T09:30:00Z" {
		t.Fatalf("revisit on %s", got)
	}
}

// minimalHead is a valid audit up to its questions, for parse tests.
const minimalHead = `version: "1"
title: t
intro: i
scoring: {close_margin: 1, strong_margin: 4, tie: co-managed}
verdicts:
  co-managed: {name: C, summary: s}
  fully-managed: {name: F, summary: s}
areas: [{id: backup, name: Backup}]
comparison: [{dimension: d, co-managed: a, fully-managed: b}]
next_steps: {co-managed: [x], fully-managed: [y]}
questions:
`

func TestParseReportsFileQuestionAndProblem(t *testing.T) {
	tests := []struct {
		name, questions string
		want            []string
	}{
		{"unknown field", "  - {id: q1, step: gaps, prompt: P, kind: single, colour: red, options: [{id: a, label: A}, {id: b, label: B}]}\n", []string{"custom.yaml", "colour"}},
		{"bad kind", "  - {id: q1, step: gaps, prompt: P, kind: many, options: [{id: a, label: A}, {id: b, label: B}]}\n", []string{"custom.yaml", "question 1 (q1)", `kind "many"`}},
		{"condition forward", "  - {id: q1, step: gaps, prompt: P, kind: single, ask_if: {question: q2, any_of: [a]}, options: [{id: a, label: A}, {id: b, label: B}]}\n  - {id: q2, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n", []string{"question 1 (q1) ask_if", "earlier question"}},
		{"weight without reason", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A, weight: 2}, {id: b, label: B}]}\n", []string{"option 1 (a)", "needs a reason"}},
		{"unknown area", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A, covers: [moon]}, {id: b, label: B}]}\n", []string{`unknown area "moon"`}},
		{"duplicate option", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: a, label: B}]}\n", []string{"option 2 (a)", "used twice"}},
		{"bad id", "  - {id: Q-1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n", []string{"question 1 (Q-1)", "lower-case"}},
		{"text weight", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n  - {id: q2, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B, weight: heavy, reason: r}]}\n",
			[]string{"custom.yaml: question 2 (q2) option 2 (b): weight: got text, want a whole number"}},
		{"fractional weight", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A, weight: 1.5, reason: r}, {id: b, label: B}]}\n",
			[]string{"question 1 (q1) option 1 (a): weight: got the number 1.5, want a whole number"}},
		{"list prompt", "  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n  - {id: q2, step: gaps, prompt: [P], kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n",
			[]string{"question 2 (q2): prompt: got a list, want text"}},
		{"options not a list", "  - {id: q1, step: gaps, prompt: P, kind: single, options: {a: A}}\n", []string{"question 1 (q1): options: got a mapping (key: value), want a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := advisor.Parse("custom.yaml", []byte(minimalHead+tt.questions))
			if !errors.Is(err, advisor.ErrInvalidAudit) {
				t.Fatalf("error %v, want ErrInvalidAudit", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	head := strings.Replace(minimalHead, "close_margin: 1", "close_margin: one", 1)
	if _, err := advisor.Parse("custom.yaml", []byte(head+"  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n")); err == nil ||
		!strings.Contains(err.Error(), "custom.yaml: scoring.close_margin: got text, want a whole number") {
		t.Errorf("a text margin: %v", err)
	}
	if _, err := advisor.Parse("ok.yaml", []byte(minimalHead+"  - {id: q1, step: gaps, prompt: P, kind: single, options: [{id: a, label: A}, {id: b, label: B}]}\n")); err != nil {
		t.Fatalf("a minimal valid audit is refused: %v", err)
	}
}

func TestBareYAMLBooleanLabelIsRefused(t *testing.T) {
	in := minimalHead + `  - id: q1
    step: gaps
    prompt: P
    kind: single
    options:
      - {id: a, label: Yes}
      - {id: b, label: B}
`
	_, err := advisor.Parse("custom.yaml", []byte(in))
	if err == nil || !strings.Contains(err.Error(), "quote the label") {
		t.Fatalf("a bare Yes label: %v", err)
	}
}
