package advisor

import (
	"fmt"
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
	Reason   string     `json:"reason,omitempty"`
}

// Responsibility is one row of the co-managed responsibility matrix.
type Responsibility struct {
	Area  AreaID `json:"area"`
	Name  string `json:"name"`
	Owner Owner  `json:"owner"`
}

// Recommendation is the platform-neutral result of an audit.
type Recommendation struct {
	AuditVersion string   `json:"audit_version"`
	Verdict      Verdict  `json:"verdict"`
	VerdictName  string   `json:"verdict_name"`
	Summary      string   `json:"summary"`
	Score        int      `json:"score"`
	Strength     Strength `json:"strength"`
	// Tipping names, on a close call, the answer that would tip the verdict.
	Tipping string `json:"tipping,omitempty"`
	// Note explains a tie or a decisive answer.
	Note           string           `json:"note,omitempty"`
	Reasons        []Contribution   `json:"reasons"`
	Counterpoints  []Contribution   `json:"counterpoints,omitempty"`
	Contributions  []Contribution   `json:"contributions"`
	ProviderCovers []string         `json:"provider_covers"`
	TeamKeeps      []string         `json:"team_keeps"`
	Matrix         []Responsibility `json:"matrix,omitempty"`
	Comparison     []ComparisonRow  `json:"comparison"`
	NextSteps      []string         `json:"next_steps"`
	CompletedAt    time.Time        `json:"completed_at"`
	RevisitOn      time.Time        `json:"revisit_on"`
}

// maxReasons keeps the card readable; the full list is in Contributions.
const (
	maxReasons       = 4
	maxCounterpoints = 2
)

// Recommend scores the answers. completedAt is when the last answer was
// given; the revisit falls 12 calendar months later.
func (a *Audit) Recommend(as Answers, completedAt time.Time) Recommendation {
	r := Recommendation{
		AuditVersion: a.Version,
		Comparison:   a.Comparison,
		CompletedAt:  completedAt,
		RevisitOn:    AddMonths(completedAt, 12),
	}
	r.Contributions = a.contributions(as)
	for _, c := range r.Contributions {
		r.Score += c.Weight
	}
	r.Verdict, r.Strength = a.verdict(r.Score)
	if r.Score == 0 {
		r.Note = a.Verdicts[r.Verdict].TieNote
	}
	decided := false
	for _, d := range a.Scoring.Decisive {
		if d.When.Holds(as) {
			decided = true
			if d.Verdict != r.Verdict || r.Strength != Strong {
				r.Note = d.Note
			}
			r.Verdict, r.Strength = d.Verdict, Strong
			break
		}
	}
	if r.Strength == Close && !decided {
		r.Tipping = a.tipping(as, r.Score, r.Verdict)
	}
	text := a.Verdicts[r.Verdict]
	r.VerdictName, r.Summary = text.Name, text.Summary
	r.Reasons, r.Counterpoints = splitReasons(r.Contributions, r.Verdict)
	if decided {
		// A decisive answer makes the other pulls moot (with no team, a
		// team's after-hours strain argues for nothing); the note explains.
		r.Counterpoints = nil
	}
	r.ProviderCovers, r.TeamKeeps, r.Matrix = a.scope(as, r.Verdict)
	r.NextSteps = a.NextSteps[r.Verdict]
	return r
}

func (a *Audit) contributions(as Answers) []Contribution {
	var out []Contribution
	for _, ans := range as {
		q, ok := a.Question(ans.Question)
		if !ok {
			continue
		}
		for _, id := range ans.Options {
			if o, ok := q.Option(id); ok {
				out = append(out, Contribution{Question: q.ID, Option: o.ID, Label: o.Label, Weight: o.Weight, Reason: o.Reason})
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

// splitReasons picks the strongest signals for the verdict and against it;
// equal weights keep the order the questions were asked in.
func splitReasons(cs []Contribution, v Verdict) (reasons, against []Contribution) {
	for _, c := range cs {
		switch {
		case c.Weight == 0 || c.Reason == "":
		case leans(c.Weight, v):
			reasons = append(reasons, c)
		default:
			against = append(against, c)
		}
	}
	byStrength := func(x, y Contribution) int { return abs(y.Weight) - abs(x.Weight) }
	slices.SortStableFunc(reasons, byStrength)
	slices.SortStableFunc(against, byStrength)
	return reasons[:min(len(reasons), maxReasons)], against[:min(len(against), maxCounterpoints)]
}

func abs(n int) int { return max(n, -n) }

// tipping finds the single change of answer that would move the score
// furthest towards the other verdict. Only questions that no other question
// depends on are considered, so the change cannot alter what was asked.
func (a *Audit) tipping(as Answers, score int, v Verdict) string {
	gates := map[QuestionID]bool{}
	for _, q := range a.Questions {
		if q.AskIf != nil {
			gates[q.AskIf.Question] = true
		}
	}
	best, bestMove := "", 0
	for _, ans := range as {
		q, ok := a.Question(ans.Question)
		if !ok || q.Kind != Single || gates[q.ID] || len(ans.Options) != 1 {
			continue
		}
		cur, _ := q.Option(ans.Options[0])
		for _, o := range q.Options {
			move := o.Weight - cur.Weight
			if v == FullyManaged {
				move = -move
			}
			if w, _ := a.verdict(score + o.Weight - cur.Weight); w == v || move <= bestMove {
				continue
			}
			other := a.Verdicts[otherVerdict(v)].Name
			best, bestMove = fmt.Sprintf("Answering “%s” to “%s” would tip it to %s.", o.Label, q.Prompt, other), move
		}
	}
	if best == "" {
		return fmt.Sprintf("The answers sit close to the line; one more gap or a change in what leadership wants to control could tip it to %s.", a.Verdicts[otherVerdict(v)].Name)
	}
	return best
}

func otherVerdict(v Verdict) Verdict {
	if v == CoManaged {
		return FullyManaged
	}
	return CoManaged
}

// scope works out what the provider would cover and what the team keeps.
func (a *Audit) scope(as Answers, v Verdict) (provider, team []string, matrix []Responsibility) {
	keeps := a.Verdicts[v].TeamKeeps
	if v == FullyManaged {
		for _, ar := range a.Areas {
			provider = append(provider, ar.Name)
		}
		return provider, keeps, nil
	}
	named := map[AreaID]bool{}
	for _, c := range a.contributions(as) {
		q, _ := a.Question(c.Question)
		o, _ := q.Option(c.Option)
		for _, ar := range o.Covers {
			named[ar] = true
		}
	}
	inMatrix := map[AreaID]bool{}
	for _, m := range a.Matrix {
		owner := m.Owner
		if anyHolds(m.ProviderIf, as) {
			owner = OwnerProvider
		} else if anyHolds(m.SharedIf, as) {
			owner = OwnerShared
		}
		inMatrix[m.Area] = true
		name := a.AreaName(m.Area)
		matrix = append(matrix, Responsibility{Area: m.Area, Name: name, Owner: owner})
		switch owner {
		case OwnerProvider:
			provider = append(provider, name)
		case OwnerShared:
			provider = append(provider, name+" (shared with your team)")
		case OwnerTeam:
			team = append(team, name)
		}
	}
	for _, ar := range a.Areas {
		if named[ar.ID] && !inMatrix[ar.ID] {
			provider = append(provider, ar.Name)
		}
	}
	return provider, append(team, keeps...), matrix
}

func anyHolds(cs []Condition, as Answers) bool {
	for _, c := range cs {
		if c.Holds(as) {
			return true
		}
	}
	return false
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

// Text words a strength for people; every adapter uses the same words.
func (s Strength) Text() string {
	switch s {
	case Strong:
		return "a clear fit"
	case Moderate:
		return "a likely fit"
	default:
		return "a close call"
	}
}

// Text words a matrix owner for people.
func (o Owner) Text() string {
	switch o {
	case OwnerProvider:
		return "Provider"
	case OwnerShared:
		return "Shared"
	default:
		return "Your team"
	}
}
