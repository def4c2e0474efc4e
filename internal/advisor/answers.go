package advisor

import (
	"errors"
	"fmt"
	"slices"
)

// Answer is the choice made for one question.
type Answer struct {
	Question QuestionID
	Options  []OptionID
}

// Answers are the choices made so far, in the order they were asked.
type Answers []Answer

// Get returns the options chosen for a question, or nil if it is unanswered.
func (as Answers) Get(q QuestionID) []OptionID {
	for i := range as {
		if as[i].Question == q {
			return as[i].Options
		}
	}
	return nil
}

// Holds reports whether the condition is met by these answers.
func (c Condition) Holds(as Answers) bool {
	chosen := as.Get(c.Question)
	if chosen == nil {
		return false
	}
	if len(c.AnyOf) > 0 {
		for _, o := range chosen {
			if slices.Contains(c.AnyOf, o) {
				return true
			}
		}
		return false
	}
	for _, o := range chosen {
		if slices.Contains(c.NoneOf, o) {
			return false
		}
	}
	return true
}

// Asked reports whether the question is asked, given the answers so far.
func (a *Audit) Asked(q *Question, as Answers) bool {
	return q.AskIf == nil || q.AskIf.Holds(as)
}

// Next returns the next question to ask, or false when the audit is done.
func (a *Audit) Next(as Answers) (*Question, bool) {
	for i := range a.Questions {
		q := &a.Questions[i]
		if as.Get(q.ID) == nil && a.Asked(q, as) {
			return q, true
		}
	}
	return nil, false
}

// Progress returns the position of the next question (1-based) and the
// number of questions this user will be asked in all, as far as the answers
// so far tell. Questions whose condition cannot be settled yet count.
func (a *Audit) Progress(as Answers) (position, total int) {
	for i := range a.Questions {
		q := &a.Questions[i]
		if as.Get(q.ID) != nil {
			position++
			total++
			continue
		}
		if q.AskIf == nil || as.Get(q.AskIf.Question) == nil || q.AskIf.Holds(as) {
			total++
		}
	}
	return position + 1, total
}

// Errors returned by CheckAnswer. Each is safe to show a user.
var (
	ErrUnknownQuestion = errors.New("that question is not part of this audit")
	ErrUnknownOption   = errors.New("that is not one of the options")
	ErrNoOption        = errors.New("please choose at least one option")
	ErrOneOption       = errors.New("please choose just one option")
	ErrExclusive       = errors.New("that option cannot be combined with others")
	ErrDuplicateOption = errors.New("an option was chosen twice")
)

// ExclusiveError is ErrExclusive naming the option that cannot be
// combined with others.
type ExclusiveError struct {
	Option OptionID
	Label  string
}

func (e *ExclusiveError) Error() string {
	return fmt.Sprintf("%v: %q", ErrExclusive, e.Label)
}

func (e *ExclusiveError) Unwrap() error { return ErrExclusive }

// CheckAnswer validates options against a question, independent of where
// the user is in the audit. It returns the options in the audit's order so
// that equal answers have one spelling.
func (a *Audit) CheckAnswer(qid QuestionID, opts []OptionID) ([]OptionID, error) {
	q, ok := a.Question(qid)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownQuestion, qid)
	}
	if len(opts) == 0 {
		return nil, ErrNoOption
	}
	if q.Kind == Single && len(opts) > 1 {
		return nil, ErrOneOption
	}
	idx := a.options[qid]
	seen := make([]bool, len(q.Options))
	for _, o := range opts {
		i, ok := idx[o]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownOption, o)
		}
		if seen[i] {
			return nil, ErrDuplicateOption
		}
		seen[i] = true
		if q.Options[i].Exclusive && len(opts) > 1 {
			return nil, &ExclusiveError{Option: q.Options[i].ID, Label: q.Options[i].Label}
		}
	}
	out := make([]OptionID, 0, len(opts))
	for i, s := range seen {
		if s {
			out = append(out, q.Options[i].ID)
		}
	}
	return out, nil
}

// Labels returns the labels of the chosen options, for echoing an answer.
func (q *Question) Labels(opts []OptionID) []string {
	out := make([]string, 0, len(opts))
	for _, id := range opts {
		if o, ok := q.Option(id); ok {
			out = append(out, o.Label)
		}
	}
	return out
}
