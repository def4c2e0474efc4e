package teams_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

var completedAt = time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)

// answersLeaning walks the audit choosing, at every question, the option
// that leans furthest one way (weight sign), so the verdict is predictable.
func answersLeaning(t testing.TB, a *advisor.Audit, sign int) advisor.Answers {
	t.Helper()
	var as advisor.Answers
	for {
		q, ok := a.Next(as)
		if !ok {
			return as
		}
		best := q.Options[0]
		for _, o := range q.Options[1:] {
			if o.Weight*sign > best.Weight*sign {
				best = o
			}
		}
		as = append(as, advisor.Answer{Question: q.ID, Options: []advisor.OptionID{best.ID}})
	}
}

func questionReply(t testing.TB, a *advisor.Audit, kind advisor.Kind) conversation.Reply {
	t.Helper()
	var as advisor.Answers
	for {
		q, ok := a.Next(as)
		if !ok {
			t.Fatalf("the audit has no %s question", kind)
		}
		if q.Kind == kind && len(as) > 0 {
			pos, total := a.Progress(as)
			return conversation.Reply{Event: conversation.Advanced, Rev: 7, Question: q, Position: pos, Total: total}
		}
		as = append(as, advisor.Answer{Question: q.ID, Options: []advisor.OptionID{q.Options[len(q.Options)-1].ID}})
	}
}

// goldenCards is every view of the chat layer as an Adaptive Card.
func goldenCards(t testing.TB) map[string]*adaptivecard.Card {
	t.Helper()
	out := map[string]*adaptivecard.Card{}
	for _, s := range chattest.AllSamples() {
		out[s.Name] = teams.Render(s.Msg)
	}
	return out
}

func TestCardsGolden(t *testing.T) {
	for name, c := range goldenCards(t) {
		t.Run(name, func(t *testing.T) { golden(t, name, c) })
	}
}

func TestQuestionCardsShape(t *testing.T) {
	cards := goldenCards(t)
	single, multi := cards["question_single"], cards["question_multi_group"]
	s, _ := json.Marshal(single)
	if !strings.Contains(string(s), `"Question `) || strings.Contains(string(s), "Input.ChoiceSet") {
		t.Errorf("single-choice card: want progress and buttons, no input: %s", s)
	}
	var buttons int
	for _, e := range single.Body {
		if e.Type == "ActionSet" {
			for _, a := range e.Actions {
				if d := submitOf(a); d == nil || d.Action != "answer" || d.Option == "" || d.User != "U1" || d.Rev != 3 {
					t.Errorf("option button data = %+v", a.Data)
				}
				buttons++
			}
		}
	}
	if buttons < 2 {
		t.Errorf("single-choice card has %d option buttons", buttons)
	}
	titles := func(c *adaptivecard.Card) []string {
		var out []string
		for _, a := range c.Actions {
			out = append(out, a.Title)
		}
		return out
	}
	if got := strings.Join(titles(single), ","); got != "Start over" {
		t.Errorf("single card actions = %s", got)
	}
	m, _ := json.Marshal(multi)
	for _, want := range []string{`"isMultiSelect":true`, `"style":"expanded"`, `"title":"Continue"`, `for Ana Lima`, `"associatedInputs":"none"`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("multi card lacks %s: %s", want, m)
		}
	}
	a, _ := json.Marshal(cards["answered"])
	if strings.Contains(string(a), "Action.") {
		t.Errorf("answered card still has buttons: %s", a)
	}
}

// TestCardsAreValidAdaptiveCards checks every card against the Adaptive Card
// schema rules Teams enforces: known element and action types for the
// declared version (at most 1.4), required properties, known property
// names, enum values and unique ids. When node and the adaptivecards npm
// package are available, the official parser checks them too.
func TestCardsAreValidAdaptiveCards(t *testing.T) {
	dir := t.TempDir()
	for name, c := range goldenCards(t) {
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > teams.MaxCardBytes {
			t.Errorf("%s: %d bytes, more than Teams takes", name, len(raw))
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range validateCard(doc) {
			t.Errorf("%s: %s", name, p)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".json"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nodeCheck(t, dir)
}

// Every card the built-in audit gives, for the situations of the domain
// and for answers nobody chose by hand (each as a retake, the biggest a card
// gets), fits in a Teams message whole, and passes the same checks.
func TestEveryCardOfTheBuiltInAuditFitsWhole(t *testing.T) {
	a := advisor.Default()
	v := chattest.Views()
	var all []advisor.Answers
	for _, s := range advisortest.Situations() {
		as, _ := advisortest.Walk(a, s.Answers)
		all = append(all, as)
	}
	rng := rand.New(rand.NewPCG(19, 28))
	for range 200 {
		all = append(all, advisortest.Random(a, rng))
	}
	dir := t.TempDir()
	for i, as := range all {
		r := a.Recommend(as, completedAt)
		since := a.Compare(all[(i+1)%len(all)], completedAt.AddDate(-1, 0, 0), as, &r)
		raw, err := json.Marshal(teams.Render(v.Card(r, since, benchWho)))
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > teams.MaxCardBytes || strings.Contains(string(raw), "… +") {
			t.Errorf("card %d: %d bytes, or collapsed: %s", i, len(raw), raw)
		}
		for _, c := range r.Contributions {
			if c.Weight != 0 && !strings.Contains(string(raw), jsonText(c.Reason)) {
				t.Errorf("card %d lacks %q", i, c.Reason)
			}
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, p := range validateCard(doc) {
			t.Errorf("card %d: %s", i, p)
		}
		if i < 20 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("card%d.json", i)), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	nodeCheck(t, dir)
}

// The longest card an audit file can produce is cut down to what Teams
// takes, the weakest items counted, and stays a valid card.
func TestLongestCardFitsTeams(t *testing.T) {
	long := func(n int) string { return strings.Repeat("ab é ", n/5+1)[:n] }
	many := func(k, n int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = long(n)
		}
		return out
	}
	var r advisor.Recommendation
	for range 60 {
		r.Reasons = append(r.Reasons, advisor.Contribution{Reason: long(500), Weight: 10})
		r.Counterpoints = append(r.Counterpoints, advisor.Contribution{Reason: long(500), Weight: -10})
		r.Matrix = append(r.Matrix, advisor.Responsibility{Name: long(200), Owner: advisor.OwnerShared})
		r.Comparison = append(r.Comparison, advisor.ComparisonRow{Dimension: long(400), CoManaged: long(3000), FullyManaged: long(3000)})
		r.Scope = append(r.Scope, advisor.ScopeItem{Name: long(200), Owner: advisor.OwnerShared, Because: many(3, 300)})
	}
	r.VerdictName, r.Summary, r.Note, r.AuditVersion = long(400), long(4000), long(4000), long(32)
	r.TeamKeeps, r.NextSteps = many(60, 300), many(60, 500)
	r.Flip = &advisor.Flip{ToName: long(400), Changes: []advisor.Shift{{Prompt: long(250), Labels: many(10, 75)}}}
	r.CompletedAt, r.RevisitOn = completedAt, completedAt.AddDate(1, 0, 0)
	c := teams.Render(chattest.Views().Card(r, nil, benchWho))
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > teams.MaxCardBytes || !strings.Contains(string(raw), "… +") || len(c.Actions) != 3 {
		t.Fatalf("%d bytes (at most %d), %d actions: %.2000s", len(raw), teams.MaxCardBytes, len(c.Actions), raw)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range validateCard(doc) {
		t.Error(p)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "longest.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	nodeCheck(t, dir)
}

// jsonText is s as encoding/json writes it inside a string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestValidatorCatchesBadCards proves the structural check can fail.
func TestValidatorCatchesBadCards(t *testing.T) {
	bad := map[string]string{
		"version too new": `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"x"}]}`,
		"unknown element": `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Table","rows":[]}]}`,
		"missing text":    `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock"}]}`,
		"duplicate id":    `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Input.Text","id":"a"},{"type":"Input.Text","id":"a"}]}`,
		"unknown prop":    `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x","colour":"Good"}]}`,
		"bad enum":        `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"x","size":"huge"}]}`,
		"action no title": `{"type":"AdaptiveCard","version":"1.4","body":[],"actions":[{"type":"Action.Submit"}]}`,
		"choice no value": `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Input.ChoiceSet","id":"c","choices":[{"title":"t"}]}]}`,
		"bad picker":      `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Input.ChoiceSet","id":"c","choices":[],"choices.data":{"type":"Data.Query","dataset":"example.com/users"}}]}`,
		"bad nested card": `{"type":"AdaptiveCard","version":"1.4","body":[],"actions":[{"type":"Action.ShowCard","title":"t","card":{"type":"AdaptiveCard","body":[{"type":"TextBlock"}]}}]}`,
		"nested dup id":   `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Input.Text","id":"a"}],"actions":[{"type":"Action.ShowCard","title":"t","card":{"type":"AdaptiveCard","body":[{"type":"Input.Text","id":"a"}]}}]}`,
	}
	for name, s := range bad {
		var doc map[string]any
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatal(err)
		}
		if ps := validateCard(doc); len(ps) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// elementSpecs: for each type Teams renders, the version it arrived in, its
// required properties and every property it may have.
var elementSpecs = map[string]struct {
	since    float64
	required []string
	allowed  string
}{
	"TextBlock": {1.0, []string{"text"}, "text size weight color isSubtle wrap maxLines horizontalAlignment fontType"},
	"Container": {1.0, []string{"items"}, "items style verticalContentAlignment bleed minHeight selectAction"},
	"ColumnSet": {1.0, []string{"columns"}, "columns style bleed minHeight horizontalAlignment selectAction"},
	"Column":    {1.0, nil, "items width style verticalContentAlignment bleed minHeight selectAction"},
	"FactSet":   {1.0, []string{"facts"}, "facts"},
	"ActionSet": {1.2, []string{"actions"}, "actions"},
	"Image":     {1.0, []string{"url"}, "url altText size style width height horizontalAlignment selectAction backgroundColor"},
	// choices.data is Teams' people picker (a host extension Teams renders
	// in 1.2+ cards); its value is checked below.
	"Input.ChoiceSet": {1.0, []string{"id", "choices"}, "id choices choices.data isMultiSelect style value placeholder wrap label isRequired errorMessage"},
	"Input.Text":      {1.0, []string{"id"}, "id isMultiline maxLength placeholder style value label isRequired errorMessage regex"},
}

var commonProps = "type id spacing separator isVisible height fallback requires"

var actionSpecs = map[string]struct {
	since    float64
	required []string
	allowed  string
}{
	"Action.Submit":   {1.0, []string{"title"}, "type id title iconUrl style data associatedInputs"},
	"Action.ShowCard": {1.0, []string{"title"}, "type id title iconUrl style card"},
	"Action.OpenUrl":  {1.0, []string{"title", "url"}, "type id title iconUrl style url"},
}

// propSince lists properties newer than their element.
var propSince = map[string]float64{"label": 1.3, "isRequired": 1.3, "errorMessage": 1.3, "associatedInputs": 1.3, "regex": 1.3}

var enums = map[string]string{
	"size":    "Small Default Medium Large ExtraLarge",
	"weight":  "Lighter Default Bolder",
	"color":   "Default Dark Light Accent Good Warning Attention",
	"spacing": "None Small Default Medium Large ExtraLarge Padding",
}

func validateCard(doc map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if doc["type"] != "AdaptiveCard" {
		bad("root type = %v", doc["type"])
	}
	vs, _ := doc["version"].(string)
	version, err := strconv.ParseFloat(vs, 64)
	if err != nil || version > 1.4 || version < 1.0 {
		bad("version %q: Teams on every client renders up to 1.4", vs)
	}
	for k := range doc {
		if !slicesContains(strings.Fields("type $schema version body actions msteams fallbackText speak lang"), k) {
			bad("unknown card property %q", k)
		}
	}
	ids := map[string]bool{}
	checkID := func(m map[string]any) {
		if id, ok := m["id"].(string); ok {
			if ids[id] {
				bad("duplicate id %q", id)
			}
			ids[id] = true
		}
	}
	var element func(path string, m map[string]any)
	var action func(path string, m map[string]any)
	list := func(path string, v any, f func(string, map[string]any)) {
		items, ok := v.([]any)
		if !ok {
			bad("%s: not an array", path)
			return
		}
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				bad("%s[%d]: not an object", path, i)
				continue
			}
			f(fmt.Sprintf("%s[%d]", path, i), m)
		}
	}
	props := func(path string, m map[string]any, allowed string, since float64) {
		for k, v := range m {
			if !slicesContains(strings.Fields(allowed+" "+commonProps), k) {
				bad("%s: unknown property %q", path, k)
			}
			if v2, ok := propSince[k]; ok && v2 > version {
				bad("%s: %q needs version %.1f", path, k, v2)
			}
			if vals, ok := enums[k]; ok {
				if s, _ := v.(string); !slicesContains(strings.Fields(vals), s) {
					bad("%s: %s = %v", path, k, v)
				}
			}
		}
		if since > version {
			bad("%s: needs version %.1f", path, since)
		}
	}
	element = func(path string, m map[string]any) {
		typ, _ := m["type"].(string)
		spec, ok := elementSpecs[typ]
		if !ok {
			bad("%s: element type %q is not one Teams renders at 1.4", path, typ)
			return
		}
		for _, r := range spec.required {
			if v, ok := m[r]; !ok || v == "" {
				bad("%s: %s lacks %q", path, typ, r)
			}
		}
		props(path, m, spec.allowed, spec.since)
		checkID(m)
		switch typ {
		case "Container", "Column":
			if v, ok := m["items"]; ok {
				list(path+".items", v, element)
			}
		case "ColumnSet":
			list(path+".columns", m["columns"], func(p string, c map[string]any) {
				if c["type"] != "Column" {
					bad("%s: columns hold Column, not %v", p, c["type"])
				}
				element(p, c)
			})
		case "ActionSet":
			list(path+".actions", m["actions"], action)
		case "FactSet":
			list(path+".facts", m["facts"], func(p string, f map[string]any) {
				if _, ok := f["title"].(string); !ok {
					bad("%s: fact lacks title", p)
				}
				if _, ok := f["value"].(string); !ok {
					bad("%s: fact lacks value", p)
				}
			})
		case "Input.ChoiceSet":
			if s, ok := m["style"]; ok && s != "compact" && s != "expanded" {
				bad("%s: style %v", path, s)
			}
			if d, ok := m["choices.data"]; ok {
				dq, _ := d.(map[string]any)
				if len(dq) != 2 || dq["type"] != "Data.Query" ||
					(dq["dataset"] != "graph.microsoft.com/users" && dq["dataset"] != "graph.microsoft.com/users?scope=currentContext") {
					bad("%s: choices.data %v is not one of Teams' people picker datasets", path, d)
				}
			}
			list(path+".choices", m["choices"], func(p string, c map[string]any) {
				if t, _ := c["title"].(string); t == "" {
					bad("%s: choice lacks title", p)
				}
				if v, _ := c["value"].(string); v == "" {
					bad("%s: choice lacks value", p)
				}
			})
		}
	}
	action = func(path string, m map[string]any) {
		typ, _ := m["type"].(string)
		spec, ok := actionSpecs[typ]
		if !ok {
			bad("%s: action type %q not allowed", path, typ)
			return
		}
		for _, r := range spec.required {
			if v, _ := m[r].(string); v == "" {
				bad("%s: %s lacks %q", path, typ, r)
			}
		}
		for k := range m {
			if !slicesContains(strings.Fields(spec.allowed), k) {
				bad("%s: unknown action property %q", path, k)
			}
			if v2, ok := propSince[k]; ok && v2 > version {
				bad("%s: %q needs version %.1f", path, k, v2)
			}
		}
		if s, ok := m["style"]; ok && s != "default" && s != "positive" && s != "destructive" {
			bad("%s: style %v", path, s)
		}
		if a, ok := m["associatedInputs"]; ok && a != "auto" && a != "none" {
			bad("%s: associatedInputs %v", path, a)
		}
		checkID(m)
		if typ == "Action.ShowCard" {
			c, _ := m["card"].(map[string]any)
			if c["type"] != "AdaptiveCard" {
				bad("%s: card type = %v", path, c["type"])
			}
			for k := range c {
				if !slicesContains(strings.Fields("type body actions"), k) {
					bad("%s.card: unknown property %q", path, k)
				}
			}
			list(path+".card.body", c["body"], element)
			if v, ok := c["actions"]; ok {
				list(path+".card.actions", v, action)
			}
		}
	}
	list("body", doc["body"], element)
	if v, ok := doc["actions"]; ok {
		list("actions", v, action)
	}
	return problems
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// nodeCheck parses the cards with Microsoft's adaptivecards library when it
// is installed (npm ci --prefix testdata/acvalidate). Without node the check
// is skipped; in CI, node without the library is a failure, so the check
// cannot silently disappear.
func nodeCheck(t *testing.T, dir string) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("node not installed: skipping the adaptivecards parser check")
		return
	}
	script := filepath.Join("testdata", "acvalidate", "validate.js")
	if _, err := os.Stat(filepath.Join("testdata", "acvalidate", "node_modules", "adaptivecards")); err != nil {
		msg := "adaptivecards is not installed; run: npm ci --prefix internal/adapters/teams/testdata/acvalidate"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Log(msg + " (skipping the parser check)")
		return
	}
	out, err := exec.Command(node, script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("adaptivecards parser rejected the cards: %v\n%s", err, out)
	}
	t.Logf("adaptivecards parser: %s", bytes.TrimSpace(out))
}

var benchWho = chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-owner"}}, Name: "Ana Ruiz", Group: true}

func BenchmarkQuestionCard(b *testing.B) {
	r := questionReply(b, advisor.Default(), advisor.Single)
	v := chattest.Views()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(teams.Render(v.Question(r, benchWho))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecommendationCard(b *testing.B) {
	a := advisor.Default()
	rec := a.Recommend(answersLeaning(b, a, -1), completedAt)
	v := chattest.Views()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(teams.Render(v.Card(rec, nil, benchWho))); err != nil {
			b.Fatal(err)
		}
	}
}
