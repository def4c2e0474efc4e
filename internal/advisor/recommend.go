package advisor

import (
	"slices"
	"time"
)

// Strength says how firmly the answers point to the verdict.
type Strength string

const (
	Strong   Strength = "strong"
	Moderate Strength = "moderate"
	Close    Strength = "close"
)

// Contribution is what one chosen option added to the score. Every answer's
// contribution is kept, so a caller can show exactly why the verdict fell
// where it did.
type Contribution struct {
	Question QuestionID `json:"question"`
	Option   OptionID   `json:"option"`
	Label    string     `json:"label"`
	Weight   int        `json:"weight"`
	// Reason is the option's reason with the answers it names filled in.
	Reason string `json:"reason,omitempty"`
}

// Responsibility is one row of the co-managed responsibility matrix.
type Responsibility struct {
	Area  AreaID `json:"area"`
	Name  string `json:"name"`
	Owner Owner  `json:"owner"`
}

// ScopeItem is an area the provider would take on, alone or shared, and
// the answers that put it there (their short names; none for an area that
// is the provider's by default).
type ScopeItem struct {
	Area    AreaID   `json:"area"`
	Name    string   `json:"name"`
	Owner   Owner    `json:"owner"`
	Because []string `json:"because,omitempty"`
}

// Recommendation is the platform-neutral result of an audit.
type Recommendation struct {
	AuditVersion string   `json:"audit_version"`
	Verdict      Verdict  `json:"verdict"`
	VerdictName  string   `json:"verdict_name"`
	Summary      string   `json:"summary"`
	Score        int      `json:"score"`
	Strength     Strength `json:"strength"`
	// Decisive is set when one answer settled the verdict on its own.
	Decisive bool `json:"decisive,omitempty"`
	// Note explains a tie or a decisive answer.
	Note string `json:"note,omitempty"`
	// Reasons are every answer that points to the verdict, Counterpoints
	// every answer that points the other way, strongest first.
	Reasons       []Contribution `json:"reasons"`
	Counterpoints []Contribution `json:"counterpoints,omitempty"`
	Contributions []Contribution `json:"contributions"`
	// Flip is what would change the verdict; nil when it was decisive.
	Flip *Flip `json:"flip,omitempty"`
	// Scope is what the provider would cover; TeamKeeps what stays.
	Scope       []ScopeItem      `json:"scope"`
	TeamKeeps   []string         `json:"team_keeps"`
	Matrix      []Responsibility `json:"matrix,omitempty"`
	Comparison  []ComparisonRow  `json:"comparison"`
	NextSteps   []string         `json:"next_steps"`
	CompletedAt time.Time        `json:"completed_at"`
	RevisitOn   time.Time        `json:"revisit_on"`
}

// Decision is the verdict of some answers, without the card.
type Decision struct {
	Verdict  Verdict
	Strength Strength
	Score    int
	// Decisive is the answer that settled it, if one did.
	Decisive *Decisive
}

// Decide scores the answers and applies the decisive answers: the verdict
// Recommend gives, and nothing else.
func (a *Audit) Decide(as Answers) Decision {
	var d Decision
	for _, ans := range as {
		if q, ok := a.Question(ans.Question); ok {
			d.Score += q.weight(ans.Options)
		}
	}
	d.Verdict, d.Strength = a.verdict(d.Score)
	for i := range a.Scoring.Decisive {
		if r := &a.Scoring.Decisive[i]; r.When.Holds(as) {
			d.Verdict, d.Strength, d.Decisive = r.Verdict, Strong, r
			break
		}
	}
	return d
}

// weight is what some options of a question add to the score.
func (q *Question) weight(opts []OptionID) int {
	w := 0
	for _, id := range opts {
		if o, ok := q.Option(id); ok {
			w += o.Weight
		}
	}
	return w
}

// Recommend scores the answers. completedAt is when the last answer was
// given; the revisit falls 12 calendar months later.
func (a *Audit) Recommend(as Answers, completedAt time.Time) Recommendation {
	d := a.Decide(as)
	r := Recommendation{
		AuditVersion: a.Version,
		Verdict:      d.Verdict,
		Strength:     d.Strength,
		Score:        d.Score,
		Decisive:     d.Decisive != nil,
		Comparison:   a.Comparison,
		CompletedAt:  completedAt,
		RevisitOn:    AddMonths(completedAt, 12),
	}
	r.Contributions = a.contributions(as)
	byScore, strength := a.verdict(d.Score)
	switch {
	case d.Decisive != nil && (byScore != d.Verdict || strength != Strong):
		// The note says why the answers' balance was overruled.
		r.Note = d.Decisive.Note
	case d.Decisive == nil && d.Score == 0:
		r.Note = a.Verdicts[r.Verdict].TieNote
	}
	if d.Decisive == nil {
		r.Flip = a.flip(as, d)
	}
	text := a.Verdicts[r.Verdict]
	r.VerdictName, r.Summary = text.Name, text.Summary
	r.Reasons, r.Counterpoints = splitReasons(r.Contributions, r.Verdict)
	r.Scope, r.TeamKeeps, r.Matrix = a.scope(as, r.Verdict)
	r.NextSteps = a.NextSteps[r.Verdict]
	return r
}

func (a *Audit) contributions(as Answers) []Contribution {
	var out []Contribution
	for i := range a.Questions {
		q := &a.Questions[i]
		for _, id := range as.Get(q.ID) {
			if o, ok := q.Option(id); ok {
				out = append(out, Contribution{Question: q.ID, Option: o.ID, Label: o.Label, Weight: o.Weight, Reason: a.fill(o.Reason, as)})
			}
		}
	}
	return out
}

func (a *Audit) verdict(score int) (Verdict, Strength) {
	v := a.Scoring.Tie
	switch {
	case score > 0:
		v = FullyManaged
	case score < 0:
		v = CoManaged
	}
	abs := max(score, -score)
	switch {
	case abs >= a.Scoring.StrongMargin:
		return v, Strong
	case abs > a.Scoring.CloseMargin:
		return v, Moderate
	default:
		return v, Close
	}
}

// leans reports whether a weight pulls towards the verdict.
func leans(weight int, v Verdict) bool {
	return (v == FullyManaged && weight > 0) || (v == CoManaged && weight < 0)
}

// splitReasons sorts every answer that moved the score by the way it
// points, strongest first; equal weights keep the order of the questions.
func splitReasons(cs []Contribution, v Verdict) (reasons, against []Contribution) {
	for _, c := range cs {
		switch {
		case c.Weight == 0:
		case leans(c.Weight, v):
			reasons = append(reasons, c)
		default:
			against = append(against, c)
		}
	}
	byStrength := func(x, y Contribution) int { return abs(y.Weight) - abs(x.Weight) }
	slices.SortStableFunc(reasons, byStrength)
	slices.SortStableFunc(against, byStrength)
	return reasons, against
}

func abs(n int) int { return max(n, -n) }

func otherVerdict(v Verdict) Verdict {
	if v == CoManaged {
		return FullyManaged
	}
	return CoManaged
}

// scope works out what the provider would cover, and why, and what the
// team keeps. With a co-managed verdict the matrix has a row for every area
// of the audit's matrix and for every other area an answer put in scope.
func (a *Audit) scope(as Answers, v Verdict) (provider []ScopeItem, team []string, matrix []Responsibility) {
	// because lists, per area, the answers that name it: the options
	// that cover it, then those whose conditions decided its owner.
	because := map[AreaID][]string{}
	note := func(ar AreaID, q *Question, o *Option) {
		s := a.fill(o.short(), as)
		if !slices.Contains(because[ar], s) {
			because[ar] = append(because[ar], s)
		}
	}
	for i := range a.Questions {
		q := &a.Questions[i]
		for _, id := range as.Get(q.ID) {
			if o, ok := q.Option(id); ok {
				for _, ar := range o.Covers {
					note(ar, q, o)
				}
			}
		}
	}
	if v == FullyManaged {
		for _, ar := range a.Areas {
			provider = append(provider, ScopeItem{Area: ar.ID, Name: ar.Name, Owner: OwnerProvider, Because: because[ar.ID]})
		}
		return provider, a.Verdicts[v].TeamKeeps, nil
	}
	rules := map[AreaID]*MatrixRule{}
	for i := range a.Matrix {
		rules[a.Matrix[i].Area] = &a.Matrix[i]
	}
	// The matrix's rows first, in its order, then the other areas in scope.
	var order []AreaID
	for _, m := range a.Matrix {
		order = append(order, m.Area)
	}
	for _, ar := range a.Areas {
		if _, ok := rules[ar.ID]; !ok && len(because[ar.ID]) > 0 {
			order = append(order, ar.ID)
		}
	}
	for _, id := range order {
		owner := OwnerProvider
		if m := rules[id]; m != nil {
			covered := len(because[id]) > 0
			held := func(cs []Condition) bool {
				any := false
				for _, c := range cs {
					if c.Holds(as) {
						any = true
						a.causes(c, as, func(q *Question, o *Option) { note(id, q, o) })
					}
				}
				return any
			}
			switch {
			case held(m.ProviderIf):
				owner = OwnerProvider
			case held(m.SharedIf) || (covered && m.Owner == OwnerTeam):
				owner = OwnerShared
			default:
				owner = m.Owner
			}
		}
		name := a.AreaName(id)
		matrix = append(matrix, Responsibility{Area: id, Name: name, Owner: owner})
		if owner == OwnerTeam {
			team = append(team, name)
			continue
		}
		provider = append(provider, ScopeItem{Area: id, Name: name, Owner: owner, Because: because[id]})
	}
	return provider, append(team, a.Verdicts[v].TeamKeeps...), matrix
}

// causes calls f with each chosen option that makes a condition hold (none
// for a none_of condition: it holds for what was not chosen).
func (a *Audit) causes(c Condition, as Answers, f func(*Question, *Option)) {
	q, ok := a.Question(c.Question)
	if !ok {
		return
	}
	for _, id := range as.Get(c.Question) {
		if o, ok := q.Option(id); ok && slices.Contains(c.AnyOf, id) {
			f(q, o)
		}
	}
}

// AddMonths adds calendar months, keeping the day of the month where it
// exists and otherwise using the month's last day: a revisit 12 months after
// 29 February falls on 28 February, not 1 March as time.AddDate would have it.
func AddMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	hh, mm, ss := t.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), hh, mm, ss, t.Nanosecond(), t.Location())
}
