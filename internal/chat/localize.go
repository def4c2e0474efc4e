package chat

import (
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
)

// What the engine hands back is worded by the audit it runs on, English:
// a view in another language words it again from the IDs and answers it
// carries, with the audit in its own language. History and comparisons are
// answers, so whoever reads them reads them in their language.

// question is q as the views' audit words it.
func (v *Views) question(q *advisor.Question) *advisor.Question {
	if q == nil || v.w.lang == locale.English {
		return q
	}
	if l, ok := v.audit.Question(q.ID); ok {
		return l
	}
	return q
}

// labels are the labels of an answer's options in the views' language.
func (v *Views) echo(e conversation.Echo) (*advisor.Question, []string) {
	q := v.question(e.Question)
	if q == e.Question || e.Options == nil {
		return q, e.Labels
	}
	return q, q.Labels(e.Options)
}

// rec is a recommendation in the views' language, derived again from its
// answers.
func (v *Views) rec(r advisor.Recommendation) advisor.Recommendation {
	if v.w.lang == locale.English || r.Answers == nil {
		return r
	}
	return v.audit.Recommend(r.Answers, r.CompletedAt)
}

// change is "since last time" in the views' language.
func (v *Views) change(c *advisor.Change, now *advisor.Recommendation) *advisor.Change {
	if c == nil || v.w.lang == locale.English || c.Before == nil {
		return c
	}
	return v.audit.Compare(c.Before, c.PreviousAt, c.After, now)
}

// result is a stored result in the views' language.
func (v *Views) result(r conversation.Result) conversation.Result {
	r.Recommendation = v.rec(r.Recommendation)
	return r
}

// exclusive is an option that stands alone, named in the views' language.
func (v *Views) exclusive(ex *advisor.ExclusiveError) string {
	if v.w.lang == locale.English {
		return ex.Label
	}
	for i := range v.audit.Questions {
		q := &v.audit.Questions[i]
		if o, ok := q.Option(ex.Option); ok && o.Exclusive {
			if en, ok := v.audit.In(locale.English).Question(q.ID); ok {
				if eo, ok := en.Option(ex.Option); ok && eo.Label == ex.Label {
					return o.Label
				}
			}
		}
	}
	return ex.Label
}
