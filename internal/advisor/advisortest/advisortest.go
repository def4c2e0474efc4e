// Package advisortest holds situations drawn from the audit's domain (the
// executives itfit is for, as ../shared/AUDIT.md describes them) and an
// independent check of what would change a verdict, for the advisor's
// tests, the golden cards and the parity suite.
package advisortest

import (
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/itfit/itfit/internal/advisor"
)

// Situation is one business answering the built-in audit.
type Situation struct {
	Name string
	// Story is the situation in a line.
	Story   string
	Answers map[advisor.QuestionID][]advisor.OptionID
}

// Situations are the businesses the card must serve: every strength of
// each verdict, a tie and the decisive answer, with the gaps AUDIT.md names.
func Situations() []Situation {
	type m = map[advisor.QuestionID][]advisor.OptionID
	return []Situation{
		{"stretched_pair", "two stretched IT staff firefighting all week, no security or cloud skills, after-hours wearing them out, a Microsoft 365 migration, SOC 2 without the expertise, leadership keeping control", m{
			"it_staff": {"two_three"}, "firefighting": {"nearly_all"}, "skills": {"security", "cloud"}, "after_hours": {"team_strained"},
			"projects": {"cloud_migration"}, "frameworks": {"soc2"}, "compliance": {"yes_gap"}, "growth": {"steady"}, "distraction": {"sometimes"}, "control": {"keep"},
		}},
		{"no_it_hand_off", "no IT staff at all, IT problems every week, leadership wanting one accountable partner", m{
			"it_staff": {"none"}, "after_hours": {"not_needed"}, "projects": {"none"}, "frameworks": {"none"},
			"growth": {"steady"}, "distraction": {"weekly"}, "control": {"hand_off"},
		}},
		{"no_it_keeps_control", "no IT staff, yet leadership wants to keep control and every project is coming", m{
			"it_staff": {"none"}, "after_hours": {"nobody_need"}, "projects": {"cloud_migration", "office_move", "security_overhaul"},
			"frameworks": {"hipaa", "pipeda_phipa"}, "compliance": {"yes_gap"}, "growth": {"flat"}, "distraction": {"rarely"}, "control": {"keep"},
		}},
		{"overwhelmed_generalist", "one overwhelmed generalist, security and cloud gaps, growth outpacing hiring, no strong preference", m{
			"it_staff": {"one"}, "generalist_load": {"overwhelmed"}, "skills": {"security", "cloud"}, "after_hours": {"team_strained"},
			"projects": {"none"}, "frameworks": {"none"}, "growth": {"outpacing"}, "distraction": {"weekly"}, "control": {"unsure"},
		}},
		{"generalist_hand_off", "one overwhelmed generalist in a fast-growing firm whose leadership wants technology off its plate", m{
			"it_staff": {"one"}, "generalist_load": {"overwhelmed"}, "skills": {"none"}, "after_hours": {"covered"},
			"projects": {"none"}, "frameworks": {"none"}, "growth": {"outpacing"}, "distraction": {"weekly"}, "control": {"hand_off"},
		}},
		{"capable_team_cloud_gap", "a capable team of four or more, short only of cloud architecture for a migration", m{
			"it_staff": {"four_plus"}, "firefighting": {"little"}, "skills": {"cloud"}, "after_hours": {"covered"},
			"projects": {"cloud_migration"}, "frameworks": {"iso27001"}, "compliance": {"yes_covered"}, "growth": {"steady"}, "distraction": {"rarely"}, "control": {"unsure"},
		}},
		{"close_generalist", "one generalist who keeps up but never reaches projects, with a security gap, in a business IT rarely disturbs", m{
			"it_staff": {"one"}, "generalist_load": {"no_projects"}, "skills": {"security"}, "after_hours": {"covered"},
			"projects": {"none"}, "frameworks": {"none"}, "growth": {"steady"}, "distraction": {"rarely"}, "control": {"unsure"},
		}},
		{"tie", "one generalist on top of the work, nothing spilling over: the answers balance out", m{
			"it_staff": {"one"}, "generalist_load": {"fine"}, "skills": {"none"}, "after_hours": {"covered"},
			"projects": {"none"}, "frameworks": {"none"}, "growth": {"steady"}, "distraction": {"rarely"}, "control": {"unsure"},
		}},
		{"regulated_team", "a team of two or three, half its week on fixes, after-hours strain, HIPAA and PCI DSS without the expertise, leadership keeping control", m{
			"it_staff": {"two_three"}, "firefighting": {"half"}, "skills": {"networking"}, "after_hours": {"team_strained"},
			"projects": {"office_move", "security_overhaul"}, "frameworks": {"hipaa", "pci_dss"}, "compliance": {"yes_gap"}, "growth": {"flat"}, "distraction": {"sometimes"}, "control": {"keep"},
		}},
		{"team_leadership_hands_off", "a small team, but a business outgrowing its hiring whose leadership wants one accountable partner", m{
			"it_staff": {"two_three"}, "firefighting": {"half"}, "skills": {"none"}, "after_hours": {"covered"},
			"projects": {"none"}, "frameworks": {"gdpr"}, "compliance": {"yes_covered"}, "growth": {"outpacing"}, "distraction": {"weekly"}, "control": {"hand_off"},
		}},
		{"projects_on_a_sound_team", "a sound team of four or more with an office move and a security overhaul ahead", m{
			"it_staff": {"four_plus"}, "firefighting": {"little"}, "skills": {"none"}, "after_hours": {"covered"},
			"projects": {"office_move", "security_overhaul"}, "frameworks": {"gdpr", "soc2"}, "compliance": {"yes_covered"}, "growth": {"steady"}, "distraction": {"sometimes"}, "control": {"unsure"},
		}},
		{"every_gap", "a small team with every gap: skills, after-hours, projects, ISO 27001, SOC 2 and GDPR without the expertise", m{
			"it_staff": {"two_three"}, "firefighting": {"nearly_all"}, "skills": {"security", "cloud", "networking"}, "after_hours": {"nobody_need"},
			"projects": {"cloud_migration", "office_move", "security_overhaul"}, "frameworks": {"gdpr", "iso27001", "soc2", "other"}, "compliance": {"yes_gap"},
			"growth": {"flat"}, "distraction": {"rarely"}, "control": {"keep"},
		}},
	}
}

// Named returns the situation with this name; it panics on a name that is
// not in the table (a typo in a test).
func Named(name string) Situation {
	for _, s := range Situations() {
		if s.Name == name {
			return s
		}
	}
	panic("advisortest: no situation " + name)
}

// Walk answers the audit in order with the situation's answers, as a person
// would: only the questions asked, each checked. ok is false when the
// situation lacks an answer the audit asks, or gives one it does not.
func Walk(a *advisor.Audit, answers map[advisor.QuestionID][]advisor.OptionID) (as advisor.Answers, ok bool) {
	used := 0
	for {
		q, more := a.Next(as)
		if !more {
			return as, used == len(answers)
		}
		opts, given := answers[q.ID]
		if !given {
			return as, false
		}
		opts, err := a.CheckAnswer(q.ID, opts)
		if err != nil {
			return as, false
		}
		as = append(as, advisor.Answer{Question: q.ID, Options: opts})
		used++
	}
}

// AsMap is answers as a situation holds them.
func AsMap(as advisor.Answers) map[advisor.QuestionID][]advisor.OptionID {
	out := make(map[advisor.QuestionID][]advisor.OptionID, len(as))
	for _, a := range as {
		out[a.Question] = a.Options
	}
	return out
}

// FewestFlips is the smallest number of answers that, given differently,
// change the verdict of as, found by trying every combination of every
// valid answer to every question that decides no other question's asking
// (the same rule the advisor's Flip follows) and deciding each with
// Audit.Decide. It is the slow, obvious way, to check the advisor's search.
// ok is false when no combination flips the verdict.
func FewestFlips(a *advisor.Audit, as advisor.Answers) (n int, ok bool) {
	gates := map[advisor.QuestionID]bool{}
	for _, q := range a.Questions {
		if q.AskIf != nil {
			gates[q.AskIf.Question] = true
		}
	}
	was := a.Decide(as).Verdict
	type choices struct {
		at   int
		alts [][]advisor.OptionID // alts[0] is the answer given
	}
	var cs []choices
	for i, ans := range as {
		q, _ := a.Question(ans.Question)
		if gates[q.ID] {
			continue
		}
		cs = append(cs, choices{at: i, alts: append([][]advisor.OptionID{ans.Options}, Alternatives(q, ans.Options)...)})
	}
	try := slices.Clone(as)
	best := -1
	var walk func(k, changed int)
	walk = func(k, changed int) {
		if best >= 0 && changed >= best {
			return
		}
		if k == len(cs) {
			if changed > 0 && a.Decide(try).Verdict != was {
				best = changed
			}
			return
		}
		c := cs[k]
		for j, alt := range c.alts {
			try[c.at] = advisor.Answer{Question: as[c.at].Question, Options: alt}
			walk(k+1, changed+min(j, 1))
		}
		try[c.at] = as[c.at]
	}
	walk(0, 0)
	return best, best >= 0
}

// Alternatives are every valid answer to q other than given: each other
// option of a single choice, every other allowed set of a multiple one.
func Alternatives(q *advisor.Question, given []advisor.OptionID) [][]advisor.OptionID {
	var out [][]advisor.OptionID
	for set := uint(1); set < 1<<len(q.Options); set++ {
		var opts []advisor.OptionID
		exclusive := false
		for i, o := range q.Options {
			if set&(1<<i) != 0 {
				opts = append(opts, o.ID)
				exclusive = exclusive || o.Exclusive
			}
		}
		n := bits.OnesCount(set)
		if (q.Kind == advisor.Single && n != 1) || (exclusive && n != 1) || slices.Equal(opts, given) {
			continue
		}
		out = append(out, opts)
	}
	return out
}

// Random walks the audit choosing at random among every valid answer to
// each question asked.
func Random(a *advisor.Audit, rng *rand.Rand) advisor.Answers {
	var as advisor.Answers
	for {
		q, ok := a.Next(as)
		if !ok {
			return as
		}
		alts := Alternatives(q, nil)
		as = append(as, advisor.Answer{Question: q.ID, Options: alts[rng.IntN(len(alts))]})
	}
}
