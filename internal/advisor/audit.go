// Package advisor holds the itfit audit and turns answers into a
// recommendation: co-managed or fully managed IT.
//
// It is pure: no I/O, no clock, no platform types. The audit is data (an
// embedded YAML file an operator may replace), checked when it is loaded, so
// that the rest of the program can trust every question and option ID it
// finds in it.
package advisor

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

//go:embed audit.yaml
var defaultAudit []byte

// QuestionID names a question of the audit.
type QuestionID string

// OptionID names an option within one question.
type OptionID string

// AreaID names an area of IT work (after-hours alerts, backup, ...).
type AreaID string

// Step is one of the audit's steps; the fourth, matching the model to the
// gap, is the recommendation itself.
type Step string

const (
	StepCapacity Step = "capacity"
	StepGaps     Step = "gaps"
	StepControl  Step = "control"
)

// Kind says how many options a question takes.
type Kind string

const (
	Single Kind = "single"
	Multi  Kind = "multi"
)

// Verdict is the model the answers point to.
type Verdict string

const (
	CoManaged    Verdict = "co-managed"
	FullyManaged Verdict = "fully-managed"
)

// Owner is who holds an area of work in the responsibility matrix.
type Owner string

const (
	OwnerProvider Owner = "provider"
	OwnerTeam     Owner = "team"
	OwnerShared   Owner = "shared"
)

// Audit is a validated questionnaire. Build one with Default or Parse.
type Audit struct {
	Version    string                  `json:"version"`
	Title      string                  `json:"title"`
	Intro      string                  `json:"intro"`
	Scoring    Scoring                 `json:"scoring"`
	Verdicts   map[Verdict]VerdictText `json:"verdicts"`
	Areas      []Area                  `json:"areas"`
	Questions  []Question              `json:"questions"`
	Matrix     []MatrixRule            `json:"matrix"`
	Comparison []ComparisonRow         `json:"comparison"`
	NextSteps  map[Verdict][]string    `json:"next_steps"`
	index      map[QuestionID]int      // position of each question
	options    map[QuestionID]map[OptionID]int
	// gates are the questions another question's ask_if names: changing
	// one would change what is asked.
	gates map[QuestionID]bool
}

// Scoring holds the thresholds that turn a score into a strength.
type Scoring struct {
	CloseMargin  int        `json:"close_margin"`
	StrongMargin int        `json:"strong_margin"`
	Tie          Verdict    `json:"tie"`
	Decisive     []Decisive `json:"decisive,omitempty"`
}

// Decisive is an answer that settles the verdict on its own.
type Decisive struct {
	When    Condition `json:"when"`
	Verdict Verdict   `json:"verdict"`
	Note    string    `json:"note"`
}

// Area is an area of IT work that a provider or the team can own.
type Area struct {
	ID   AreaID `json:"id"`
	Name string `json:"name"`
}

// VerdictText is the card text for one verdict.
type VerdictText struct {
	Name      string   `json:"name"`
	Summary   string   `json:"summary"`
	TieNote   string   `json:"tie_note"`
	TeamKeeps []string `json:"team_keeps"`
}

// Question is one question of the audit.
type Question struct {
	ID      QuestionID `json:"id"`
	Step    Step       `json:"step"`
	Prompt  string     `json:"prompt"`
	Help    string     `json:"help,omitempty"`
	Kind    Kind       `json:"kind"`
	Options []Option   `json:"options"`
	// AskIf, when set, asks the question only when the condition holds;
	// otherwise it is skipped (no team, no questions about the team's week).
	AskIf *Condition `json:"ask_if,omitempty"`
}

// Option is one answer a question offers.
type Option struct {
	ID    OptionID `json:"id"`
	Label string   `json:"label"`
	// Exclusive options ("none of these") cannot be combined with others.
	Exclusive bool     `json:"exclusive,omitempty"`
	Weight    int      `json:"weight"`
	Reason    string   `json:"reason,omitempty"`
	Covers    []AreaID `json:"covers,omitempty"`
	// Short names the answer inside the card's sentences (what put an
	// area in scope); the label stands in when it is unset.
	Short string `json:"short,omitempty"`
	// WhatIf finishes "If ..." when the card says what would change the
	// verdict ("leadership wanted one accountable partner").
	WhatIf string `json:"what_if,omitempty"`
}

// Condition holds when a question was answered with any of AnyOf (or with
// none of NoneOf). An unanswered question satisfies neither.
type Condition struct {
	Question QuestionID `json:"question"`
	AnyOf    []OptionID `json:"any_of,omitempty"`
	NoneOf   []OptionID `json:"none_of,omitempty"`
}

// MatrixRule gives an area its owner in a co-managed split.
type MatrixRule struct {
	Area       AreaID      `json:"area"`
	Owner      Owner       `json:"owner"`
	ProviderIf []Condition `json:"provider_if,omitempty"`
	SharedIf   []Condition `json:"shared_if,omitempty"`
}

// ComparisonRow is one line of the side-by-side comparison.
type ComparisonRow struct {
	Dimension    string `json:"dimension"`
	CoManaged    string `json:"co-managed"`
	FullyManaged string `json:"fully-managed"`
}

// ErrInvalidAudit is wrapped by every problem Parse finds.
var ErrInvalidAudit = errors.New("invalid audit")

// Embedded returns the audit built into the binary.
func Embedded() (*Audit, error) {
	return Parse("audit.yaml (embedded)", defaultAudit)
}

// Default is Embedded for tests and tools, where a broken embedded file is
// a failed build; the server and chat use Embedded and report the error.
func Default() *Audit {
	a, err := Embedded()
	if err != nil {
		panic(err)
	}
	return a
}

// Parse reads and checks an audit. name is used in error messages (usually
// the file's path) so that an operator knows where to look.
func Parse(name string, data []byte) (*Audit, error) {
	var a Audit
	if err := yaml.UnmarshalStrict(data, &a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s: %s", ErrInvalidAudit, name, typeProblem(data, te))
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidAudit, name, err)
	}
	if errs := a.check(); len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s:\n  %s", ErrInvalidAudit, name, strings.Join(errs, "\n  "))
	}
	return &a, nil
}

// typeProblem words a value of the wrong type ("weight: heavy") as the
// other problems are worded: where (the question and option, found by
// decoding them one by one), the field, what it got and what it takes.
// encoding/json's own message names the field's path but not which
// question holds it.
func typeProblem(data []byte, te *json.UnmarshalTypeError) string {
	field := te.Field
	where := ""
	if rest, ok := strings.CutPrefix(field, "questions."); ok {
		var doc struct {
			Questions []json.RawMessage `json:"questions"`
		}
		if yaml.Unmarshal(data, &doc) == nil {
			for i, raw := range doc.Questions {
				if !isTypeError(json.Unmarshal(raw, new(Question))) {
					continue
				}
				where, field = fmt.Sprintf("question %d (%s)", i+1, idOf(raw)), rest
				if opt, ok := strings.CutPrefix(rest, "options."); ok {
					var q struct {
						Options []json.RawMessage `json:"options"`
					}
					_ = json.Unmarshal(raw, &q)
					for j, o := range q.Options {
						if isTypeError(json.Unmarshal(o, new(Option))) {
							where, field = fmt.Sprintf("%s option %d (%s)", where, j+1, idOf(o)), opt
							break
						}
					}
				}
				break
			}
		}
	}
	msg := fmt.Sprintf("%s: got %s, want %s", field, gotValue(te.Value), wantType(te.Type.Kind()))
	if where != "" {
		msg = where + ": " + msg
	}
	return msg
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// idOf is the id of a question or option as written, whatever its type.
func idOf(raw json.RawMessage) string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || v.ID == nil {
		return "no id"
	}
	return fmt.Sprint(v.ID)
}

// gotValue words encoding/json's name for what it found ("string",
// "number 1.5", "array", ...).
func gotValue(v string) string {
	switch {
	case v == "string":
		return "text"
	case v == "bool":
		return "true or false"
	case v == "array":
		return "a list"
	case v == "object":
		return "a mapping (key: value)"
	case strings.HasPrefix(v, "number "):
		return "the number " + strings.TrimPrefix(v, "number ")
	case v == "number":
		return "a number"
	}
	return v
}

func wantType(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a mapping (key: value)"
	}
	return k.String()
}

// idPattern keeps IDs short and plain: they travel in button values and
// Redis hash fields, where ',', ';' and spaces would be separators.
var idPattern = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

func (a *Audit) check() []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if strings.TrimSpace(a.Version) == "" {
		bad("version: must be set (it is stored with every answer)")
	} else if len(a.Version) > 32 || strings.ContainsAny(a.Version, "|,;") {
		bad("version %q: at most 32 characters, without | , or ;", a.Version)
	}
	if a.Scoring.CloseMargin < 0 || a.Scoring.StrongMargin <= a.Scoring.CloseMargin {
		bad("scoring: need 0 <= close_margin < strong_margin (have %d and %d)", a.Scoring.CloseMargin, a.Scoring.StrongMargin)
	}
	if a.Scoring.Tie != CoManaged && a.Scoring.Tie != FullyManaged {
		bad("scoring.tie %q: must be %q or %q", a.Scoring.Tie, CoManaged, FullyManaged)
	}
	for _, v := range []Verdict{CoManaged, FullyManaged} {
		t, ok := a.Verdicts[v]
		if !ok || t.Name == "" || t.Summary == "" {
			bad("verdicts.%s: needs a name and a summary", v)
		}
		if len(a.NextSteps[v]) == 0 {
			bad("next_steps.%s: needs at least one step", v)
		}
	}
	if len(a.Verdicts) != 2 || len(a.NextSteps) != 2 {
		bad("verdicts and next_steps: only %q and %q are known", CoManaged, FullyManaged)
	}
	areas := make(map[AreaID]bool, len(a.Areas))
	for i, ar := range a.Areas {
		if !idPattern.MatchString(string(ar.ID)) || ar.Name == "" || areas[ar.ID] {
			bad("area %d (%s): IDs are unique lower-case letters, digits and _; each needs a name", i+1, ar.ID)
		}
		areas[ar.ID] = true
	}
	if len(a.Questions) == 0 {
		bad("questions: there are none")
	}
	if len(a.Questions) > 40 {
		bad("questions: %d is more than the 40 an audit may ask", len(a.Questions))
	}

	a.index = make(map[QuestionID]int, len(a.Questions))
	a.options = make(map[QuestionID]map[OptionID]int, len(a.Questions))
	for i, q := range a.Questions {
		where := fmt.Sprintf("question %d (%s)", i+1, q.ID)
		if !idPattern.MatchString(string(q.ID)) {
			bad("%s: id must be 1-32 lower-case letters, digits or _", where)
		}
		if _, dup := a.index[q.ID]; dup {
			bad("%s: the id is used twice", where)
		}
		a.index[q.ID] = i
		switch q.Step {
		case StepCapacity, StepGaps, StepControl:
		default:
			bad("%s: step %q is not one of capacity, gaps, control", where, q.Step)
		}
		if strings.TrimSpace(q.Prompt) == "" || len(q.Prompt) > 250 {
			bad("%s: prompt must be 1-250 characters", where)
		}
		if q.Kind != Single && q.Kind != Multi {
			bad("%s: kind %q is not single or multi", where, q.Kind)
		}
		if len(q.Options) < 2 || len(q.Options) > 10 {
			bad("%s: needs 2 to 10 options, has %d", where, len(q.Options))
		}
		opts := make(map[OptionID]int, len(q.Options))
		for j, o := range q.Options {
			ow := fmt.Sprintf("%s option %d (%s)", where, j+1, o.ID)
			if !idPattern.MatchString(string(o.ID)) {
				bad("%s: id must be 1-32 lower-case letters, digits or _", ow)
			}
			if _, dup := opts[o.ID]; dup {
				bad("%s: the id is used twice", ow)
			}
			opts[o.ID] = j
			if strings.TrimSpace(o.Label) == "" || len(o.Label) > 75 {
				bad("%s: label must be 1-75 characters (a Slack button holds 75)", ow)
			}
			if o.Label == "true" || o.Label == "false" {
				// YAML reads a bare No, Yes, On or Off as a boolean.
				bad("%s: label %q looks like a YAML boolean; quote the label (label: \"No\")", ow, o.Label)
			}
			if o.Exclusive && q.Kind != Multi {
				bad("%s: only multi-select options can be exclusive", ow)
			}
			if o.Weight != 0 && o.Reason == "" {
				bad("%s: an option with a weight needs a reason to show", ow)
			}
			if o.Weight < -10 || o.Weight > 10 {
				bad("%s: weight %d is outside -10..10", ow, o.Weight)
			}
			for _, c := range o.Covers {
				if !areas[c] {
					bad("%s: covers unknown area %q", ow, c)
				}
			}
			for _, f := range []struct{ name, text string }{{"reason", o.Reason}, {"short", o.Short}, {"what_if", o.WhatIf}} {
				if len(f.text) > 300 {
					bad("%s: %s is longer than 300 characters", ow, f.name)
				}
			}
		}
		a.options[q.ID] = opts
	}
	// A text may name the answer to an earlier question that is sure to
	// have been answered: one always asked, or the one deciding whether
	// this question is asked.
	for i, q := range a.Questions {
		for j, o := range q.Options {
			ow := fmt.Sprintf("question %d (%s) option %d (%s)", i+1, q.ID, j+1, o.ID)
			for _, f := range []struct{ name, text string }{{"reason", o.Reason}, {"short", o.Short}, {"what_if", o.WhatIf}} {
				refs, ok := references(f.text)
				if !ok {
					bad("%s: %s has a { without its }", ow, f.name)
				}
				for _, ref := range refs {
					k, known := a.index[ref]
					switch {
					case !known:
						bad("%s: %s names {%s}, which is not a question", ow, f.name, ref)
					case k >= i:
						bad("%s: %s names {%s}, which is not an earlier question", ow, f.name, ref)
					case a.Questions[k].AskIf != nil && (q.AskIf == nil || q.AskIf.Question != ref):
						bad("%s: %s names {%s}, which is not always asked before this question", ow, f.name, ref)
					}
				}
			}
		}
	}
	// Conditions may only look back: a question's fate is settled by the
	// answers before it, which keeps "the next question" well defined.
	checkCond := func(where string, c Condition, before int) {
		i, ok := a.index[c.Question]
		if !ok {
			bad("%s: condition names unknown question %q", where, c.Question)
			return
		}
		if i >= before {
			bad("%s: condition must name an earlier question, not %q", where, c.Question)
		}
		if (len(c.AnyOf) == 0) == (len(c.NoneOf) == 0) {
			bad("%s: condition needs exactly one of any_of or none_of", where)
		}
		for _, o := range append(append([]OptionID{}, c.AnyOf...), c.NoneOf...) {
			if _, ok := a.options[c.Question][o]; !ok {
				bad("%s: condition names unknown option %q of %q", where, o, c.Question)
			}
		}
	}
	a.gates = map[QuestionID]bool{}
	for i, q := range a.Questions {
		if q.AskIf != nil {
			checkCond(fmt.Sprintf("question %d (%s) ask_if", i+1, q.ID), *q.AskIf, i)
			a.gates[q.AskIf.Question] = true
		}
	}
	for i, m := range a.Matrix {
		where := fmt.Sprintf("matrix row %d (%s)", i+1, m.Area)
		if !areas[m.Area] {
			bad("%s: unknown area", where)
		}
		switch m.Owner {
		case OwnerProvider, OwnerTeam, OwnerShared:
		default:
			bad("%s: owner %q is not provider, team or shared", where, m.Owner)
		}
		for _, c := range append(append([]Condition{}, m.ProviderIf...), m.SharedIf...) {
			checkCond(where, c, len(a.Questions))
		}
	}
	for i, d := range a.Scoring.Decisive {
		where := fmt.Sprintf("scoring.decisive %d", i+1)
		checkCond(where, d.When, len(a.Questions))
		if d.Verdict != CoManaged && d.Verdict != FullyManaged {
			bad("%s: verdict %q is not %q or %q", where, d.Verdict, CoManaged, FullyManaged)
		}
	}
	if len(a.Comparison) == 0 {
		bad("comparison: needs at least one row")
	}
	return errs
}

// references are the question IDs a text names as {question_id}; false
// when a brace is left open.
func references(s string) ([]QuestionID, bool) {
	var out []QuestionID
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out, !strings.Contains(s, "}")
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out, false
		}
		out = append(out, QuestionID(s[i+1:i+j]))
		s = s[i+j+1:]
	}
}

// fill puts the answers a text names ({frameworks}) into it: the chosen
// options' short names, comma-separated.
func (a *Audit) fill(s string, as Answers) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		j := strings.IndexByte(s[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		if q, ok := a.Question(QuestionID(s[i+1 : i+j])); ok {
			b.WriteString(strings.Join(q.shorts(as.Get(q.ID)), ", "))
		}
		s = s[i+j+1:]
	}
}

// shorts are the short names of some options (their labels where unset).
func (q *Question) shorts(opts []OptionID) []string {
	out := make([]string, 0, len(opts))
	for _, id := range opts {
		if o, ok := q.Option(id); ok {
			out = append(out, o.short())
		}
	}
	return out
}

func (o *Option) short() string {
	if o.Short != "" {
		return o.Short
	}
	return o.Label
}

// AreaName returns the display name of an area.
func (a *Audit) AreaName(id AreaID) string {
	for _, ar := range a.Areas {
		if ar.ID == id {
			return ar.Name
		}
	}
	return string(id)
}

// Question returns the question with the given ID.
func (a *Audit) Question(id QuestionID) (*Question, bool) {
	i, ok := a.index[id]
	if !ok {
		return nil, false
	}
	return &a.Questions[i], true
}

// Option returns the option of a question by ID.
func (q *Question) Option(id OptionID) (*Option, bool) {
	for i := range q.Options {
		if q.Options[i].ID == id {
			return &q.Options[i], true
		}
	}
	return nil, false
}

// Index returns a question's position in the audit, or -1.
func (a *Audit) Index(id QuestionID) int {
	if i, ok := a.index[id]; ok {
		return i
	}
	return -1
}
