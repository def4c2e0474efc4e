package advisor_test

import (
	"os"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
)

// FuzzParse feeds arbitrary bytes to the audit parser: it must refuse or
// accept, never panic, and an accepted audit must be walkable to a result.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile("audit.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("version: 1\nquestions: []\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := advisor.Parse("fuzz.yaml", in)
		if err != nil {
			return
		}
		var as advisor.Answers
		for i := 0; i <= len(a.Questions); i++ {
			q, ok := a.Next(as)
			if !ok {
				break
			}
			opts, err := a.CheckAnswer(q.ID, []advisor.OptionID{q.Options[len(q.Options)-1].ID})
			if err != nil {
				t.Fatalf("the last option of %s is refused: %v", q.ID, err)
			}
			as = append(as, advisor.Answer{Question: q.ID, Options: opts})
		}
		if _, ok := a.Next(as); ok {
			t.Fatal("an accepted audit never ends")
		}
		_ = a.Recommend(as, time.Unix(0, 0))
	})
}

// FuzzCheckAnswer feeds arbitrary question and option IDs to the answer
// check: never a panic, and anything accepted is a real option.
func FuzzCheckAnswer(f *testing.F) {
	a := advisor.Default()
	f.Add("skills", "security,cloud")
	f.Add("it_staff", "none")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, q, opts string) {
		var ids []advisor.OptionID
		for _, o := range splitComma(opts) {
			ids = append(ids, advisor.OptionID(o))
		}
		got, err := a.CheckAnswer(advisor.QuestionID(q), ids)
		if err != nil {
			return
		}
		question, _ := a.Question(advisor.QuestionID(q))
		for _, o := range got {
			if _, ok := question.Option(o); !ok {
				t.Fatalf("accepted unknown option %q", o)
			}
		}
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
