package advisor

import (
	"slices"
	"time"
)

// Change is what moved between two audits of the same user: a retake shows
// it on the new card.
type Change struct {
	PreviousAt          time.Time
	PreviousVerdict     Verdict
	PreviousVerdictName string
	PreviousStrength    Strength
	// VerdictMoved is set when the verdict itself changed.
	VerdictMoved bool
	ScoreBefore  int
	ScoreAfter   int
	Answers      []AnswerChange
}

// AnswerChange is one question answered differently (or asked only once).
type AnswerChange struct {
	Question QuestionID
	Prompt   string
	Before   []string // labels; empty when not asked before
	After    []string // labels; empty when not asked now
	// BeforeOptions and AfterOptions are the same answers as option IDs,
	// for machines (outgoing webhooks) rather than people.
	BeforeOptions []OptionID
	AfterOptions  []OptionID
}

// Compare describes how the answers after (whose recommendation is now)
// differ from those before.
func (a *Audit) Compare(before Answers, beforeAt time.Time, after Answers, now *Recommendation) *Change {
	was := a.Recommend(before, beforeAt)
	c := &Change{
		PreviousAt:          beforeAt,
		PreviousVerdict:     was.Verdict,
		PreviousVerdictName: was.VerdictName,
		PreviousStrength:    was.Strength,
		VerdictMoved:        was.Verdict != now.Verdict,
		ScoreBefore:         was.Score,
		ScoreAfter:          now.Score,
	}
	for i := range a.Questions {
		q := &a.Questions[i]
		b, n := before.Get(q.ID), after.Get(q.ID)
		if slices.Equal(b, n) {
			continue
		}
		c.Answers = append(c.Answers, AnswerChange{Question: q.ID, Prompt: q.Prompt, Before: q.Labels(b), After: q.Labels(n), BeforeOptions: b, AfterOptions: n})
	}
	return c
}
