package advisor

import (
	"math/bits"
	"slices"
)

// Flip is what would change a verdict: the fewest answers that, given
// differently, turn it to the other one.
//
// Only answers that leave the audit asking the same questions count: a
// question that decides whether another is asked (how many IT staff there
// are) is a fact about the business rather than a choice, and changing it
// would leave questions unanswered. Within that, Changes is exact: no
// smaller set of changed answers flips the verdict, decisive answers
// included. Among equally small sets it is the one that moves the score
// furthest (the most decisive flip), then the one that changes the earliest
// questions. Changes is empty when no such set exists.
type Flip struct {
	To      Verdict `json:"to"`
	ToName  string  `json:"to_name"`
	Score   int     `json:"score"` // the score with the changes made
	Changes []Shift `json:"changes,omitempty"`
}

// Shift is one answer given differently.
type Shift struct {
	Question QuestionID `json:"question"`
	Prompt   string     `json:"prompt"`
	From     []OptionID `json:"from"`
	To       []OptionID `json:"to"`
	// Labels are the labels of To.
	Labels []string `json:"labels"`
	// Clauses finish "If ..." in the audit's words (each option's
	// what_if, the answers it names filled in): one for a new single
	// answer, one per option added to a multiple choice. Nil when the
	// audit has no words for this change (an option without what_if, or
	// options taken away); the card then quotes the labels.
	Clauses []string `json:"clauses,omitempty"`
}

// Apply returns the answers with the flip's changes made.
func (f *Flip) Apply(as Answers) Answers {
	out := slices.Clone(as)
	for _, s := range f.Changes {
		for i := range out {
			if out[i].Question == s.Question {
				out[i].Options = slices.Clone(s.To)
			}
		}
	}
	return out
}

// candidate is one way of answering a question differently, standing for
// every answer with the same weight and the same first decisive rule met.
type candidate struct {
	weight int
	first  int // index of the first decisive rule this answer meets; len(rules) for none
	opts   []OptionID
	moved  int // options added or taken away
}

// flip finds the smallest set of answer changes that turns d's verdict.
//
// No search over combinations is needed. A decisive rule for the other
// verdict can only come to hold by changing its question's answer, and that
// one change flips the verdict alone; so if no single change flips it, a
// set of changes can flip it only through the score, with answers that
// meet no decisive rule (one that met a rule for this verdict would keep
// it). The best set of k such changes is then the k largest moves towards
// the other side, at most one per question, and the smallest k that
// crosses the line is the answer. The work is one pass over every answer
// each question could have been given: at most 40 questions of at most
// 1023 answers (10 options).
func (a *Audit) flip(as Answers, d Decision) *Flip {
	to := otherVerdict(d.Verdict)
	f := &Flip{To: to, ToName: a.Verdicts[to].Name, Score: d.Score}
	rules := a.Scoring.Decisive
	none := len(rules)
	toward := func(delta int) int { // how far a score change moves to the other side
		if d.Verdict == FullyManaged {
			return -delta
		}
		return delta
	}
	flips := func(score, first int) bool {
		if first < none {
			return rules[first].Verdict != d.Verdict
		}
		v, _ := a.verdict(score)
		return v != d.Verdict
	}

	type move struct {
		q     *Question
		cur   []OptionID
		c     candidate
		delta int // what it adds to the score
	}
	var single *move // the change that flips the verdict alone and moves furthest
	var best []move  // per question, its largest move meeting no decisive rule
	for i := range a.Questions {
		q := &a.Questions[i]
		cur := as.Get(q.ID)
		if cur == nil || a.gates[q.ID] {
			continue
		}
		curWeight := q.weight(cur)
		var top *move
		for _, c := range a.candidates(q, cur, rules, toward) {
			m := move{q: q, cur: cur, c: c, delta: c.weight - curWeight}
			if flips(d.Score+m.delta, c.first) && (single == nil || toward(m.delta) > toward(single.delta)) {
				single = &m
			}
			if c.first == none && toward(m.delta) > 0 && (top == nil || toward(m.delta) > toward(top.delta)) {
				top = &m
			}
		}
		if top != nil {
			best = append(best, *top)
		}
	}
	var chosen []move
	if single != nil {
		chosen = []move{*single}
	} else {
		// Largest moves first; equal moves keep the audit's order.
		slices.SortStableFunc(best, func(x, y move) int { return toward(y.delta) - toward(x.delta) })
		score := d.Score
		for i, m := range best {
			score += m.delta
			if flips(score, none) {
				chosen = best[:i+1]
				break
			}
		}
	}
	slices.SortFunc(chosen, func(x, y move) int { return a.Index(x.q.ID) - a.Index(y.q.ID) })
	for _, m := range chosen {
		f.Score += m.delta
		f.Changes = append(f.Changes, a.shift(m.q, m.cur, m.c.opts, as))
	}
	return f
}

// candidates are the other answers a question could have been given that
// matter to the flip: for each first decisive rule an answer could meet
// (none included), the one moving furthest towards the other side (gain
// says how far a change of weight goes), then the one changing fewest
// options, then the earliest. Answers are sets of options as bits, so
// trying all of a question's 1023 answers allocates nothing.
func (a *Audit) candidates(q *Question, cur []OptionID, rules []Decisive, gain func(int) int) []candidate {
	n := len(q.Options)
	var curSet, exclusive uint
	var weight [10]int
	for i, o := range q.Options {
		weight[i] = o.Weight
		if o.Exclusive {
			exclusive |= 1 << i
		}
		if slices.Contains(cur, o.ID) {
			curSet |= 1 << i
		}
	}
	// The decisive rules about this question, as sets of options.
	type rule struct {
		index       int
		anyOf, none uint
	}
	var mine []rule
	for i, r := range rules {
		if r.When.Question != q.ID {
			continue
		}
		m := rule{index: i}
		for j, o := range q.Options {
			if slices.Contains(r.When.AnyOf, o.ID) {
				m.anyOf |= 1 << j
			}
			if slices.Contains(r.When.NoneOf, o.ID) {
				m.none |= 1 << j
			}
		}
		mine = append(mine, m)
	}
	first := func(set uint) int {
		for _, r := range mine {
			if (r.anyOf != 0 && set&r.anyOf != 0) || (r.anyOf == 0 && set&r.none == 0) {
				return r.index
			}
		}
		return len(rules)
	}
	curWeight := q.weight(cur)
	type best struct {
		ok     bool
		set    uint
		weight int
		moved  int
	}
	byFirst := make([]best, len(rules)+1) // by the first rule met; the last for none
	try := func(set uint, w int) {
		if set == curSet {
			return
		}
		f, moved := first(set), bits.OnesCount(set^curSet)
		if w == curWeight && f == len(rules) {
			return // changes nothing that counts
		}
		b := byFirst[f]
		if !b.ok || gain(w-curWeight) > gain(b.weight-curWeight) ||
			(gain(w-curWeight) == gain(b.weight-curWeight) && moved < b.moved) {
			byFirst[f] = best{true, set, w, moved}
		}
	}
	if q.Kind == Single {
		for i := range n {
			try(1<<i, weight[i])
		}
	} else {
		var sum [1 << 10]int
		for set := uint(1); set < 1<<n; set++ {
			low := bits.TrailingZeros(set)
			sum[set] = sum[set&(set-1)] + weight[low]
			if set&exclusive == 0 || bits.OnesCount(set) == 1 {
				try(set, sum[set])
			}
		}
	}
	var out []candidate
	for f, b := range byFirst {
		if !b.ok {
			continue
		}
		c := candidate{weight: b.weight, first: f, moved: b.moved}
		for i, o := range q.Options {
			if b.set&(1<<i) != 0 {
				c.opts = append(c.opts, o.ID)
			}
		}
		out = append(out, c)
	}
	return out
}

// shift words one change in the audit's words where it has them.
func (a *Audit) shift(q *Question, from, to []OptionID, as Answers) Shift {
	s := Shift{Question: q.ID, Prompt: q.Prompt, From: from, To: to, Labels: q.Labels(to)}
	// The texts name other answers; those stay as they were, since the
	// questions they belong to decide what is asked and never change here.
	clause := func(id OptionID) (string, bool) {
		o, _ := q.Option(id)
		return a.fill(o.WhatIf, as), o.WhatIf != ""
	}
	var added []OptionID
	for _, id := range to {
		if !slices.Contains(from, id) {
			added = append(added, id)
		}
	}
	// Taking away an exclusive option ("None planned") goes without
	// saying when others are added.
	removed := false
	for _, id := range from {
		o, _ := q.Option(id)
		removed = removed || (!slices.Contains(to, id) && !o.Exclusive)
	}
	if o, _ := q.Option(to[0]); q.Kind == Multi && removed && !(len(to) == 1 && o.Exclusive) {
		return s
	}
	for _, id := range added {
		c, ok := clause(id)
		if !ok {
			s.Clauses = nil
			return s
		}
		s.Clauses = append(s.Clauses, c)
	}
	return s
}
