package slackapp

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func golden(t *testing.T, name string, m Message) {
	t.Helper()
	got, err := json.MarshalIndent(map[string]any{"text": m.Text, "blocks": m.Blocks}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
	checkLimits(t, name, got)
}

var done = chattest.Done

// Every view of the chat layer, rendered as Block Kit, matches its golden
// file and stays within Block Kit's limits.
func TestGoldenMessages(t *testing.T) {
	for _, s := range chattest.AllSamples() {
		golden(t, s.Name, Render(s.Msg))
	}
}

// The longest card an audit file can produce still fits Block Kit.
func TestLongestCardStaysWithinBlockKitLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("<&> é", n/5+1)[:n] }
	many := func(k, n int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = long(n)
		}
		return out
	}
	var cs []advisor.Contribution
	var matrix []advisor.Responsibility
	var cmp []advisor.ComparisonRow
	var scope []advisor.ScopeItem
	var shifts []advisor.Shift
	for range 60 {
		cs = append(cs, advisor.Contribution{Reason: long(500), Weight: 10})
		matrix = append(matrix, advisor.Responsibility{Name: long(200), Owner: advisor.OwnerShared})
		cmp = append(cmp, advisor.ComparisonRow{Dimension: long(400), CoManaged: long(3000), FullyManaged: long(3000)})
		scope = append(scope, advisor.ScopeItem{Name: long(200), Owner: advisor.OwnerShared, Because: many(3, 300)})
		shifts = append(shifts, advisor.Shift{Prompt: long(250), Labels: many(10, 75), Clauses: many(2, 300)})
	}
	r := advisor.Recommendation{
		AuditVersion: long(32), VerdictName: long(400), Summary: long(4000), Strength: advisor.Close,
		Flip: &advisor.Flip{ToName: long(400), Changes: shifts}, Note: long(4000), Reasons: cs, Counterpoints: cs,
		Scope: scope, TeamKeeps: many(60, 300), Matrix: matrix, Comparison: cmp,
		NextSteps: many(60, 500), CompletedAt: done, RevisitOn: done.AddDate(1, 0, 0),
	}
	v := chattest.Views()
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}}}
	m := v.Card(r, nil, who)
	m.Notes = append(m.Notes, chat.Text{{S: long(4000)}})
	b, err := json.Marshal(map[string]any{"text": Render(m).Text, "blocks": Render(m).Blocks})
	if err != nil {
		t.Fatal(err)
	}
	checkLimits(t, "longest card", b)
	// Whatever had to give, the card can still be acted on.
	bs := Render(m).Blocks
	var types []string
	for _, b := range bs {
		types = append(types, string(b.BlockType()))
	}
	if bs[len(bs)-2].BlockType() != slack.MBTAction || bs[len(bs)-1].BlockType() != slack.MBTContext {
		t.Errorf("the longest card lost its actions or its footer: %v", types)
	}
	// More sections than Block Kit takes: the last that do not fit are
	// counted, the actions and footer stay.
	m.Sections = nil
	for i := range 70 {
		m.Sections = append(m.Sections, chat.Section{Title: fmt.Sprint("s", i), Items: []chat.Text{{{S: "x"}}}})
	}
	bs = Render(m).Blocks
	last, _ := json.Marshal(bs[len(bs)-3])
	if len(bs) != slackapi.MaxBlocks || bs[len(bs)-2].BlockType() != slack.MBTAction || !strings.Contains(string(last), "… +") {
		t.Errorf("%d blocks, ending %s then %s", len(bs), last, bs[len(bs)-2].BlockType())
	}

	q := &advisor.Question{ID: "q", Prompt: long(250), Help: long(4000), Kind: advisor.Multi}
	for i := range 10 {
		q.Options = append(q.Options, advisor.Option{ID: advisor.OptionID(strings.Repeat("o", 31) + string(rune('a'+i))), Label: long(75)})
	}
	for _, kind := range []advisor.Kind{advisor.Multi, advisor.Single} {
		q.Kind = kind
		qm := Render(v.Question(conversation.Reply{Rev: 999999999999999999, Question: q, Position: 40, Total: 40}, who))
		b, _ := json.Marshal(map[string]any{"text": qm.Text, "blocks": qm.Blocks})
		checkLimits(t, "longest question "+string(kind), b)
	}
}

// Every card the built-in audit gives, for the situations of the domain
// and for answers nobody chose by hand, fits Block Kit whole: every answer
// that moved the score is on it, nothing is collapsed.
func TestEveryCardOfTheBuiltInAuditFitsWhole(t *testing.T) {
	a := advisor.Default()
	v := chattest.Views()
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}}}
	var all []advisor.Answers
	for _, s := range advisortest.Situations() {
		as, _ := advisortest.Walk(a, s.Answers)
		all = append(all, as)
	}
	rng := rand.New(rand.NewPCG(19, 50))
	for range 200 {
		all = append(all, advisortest.Random(a, rng))
	}
	for i, as := range all {
		r := a.Recommend(as, done)
		m := Render(v.Card(r, a.Compare(all[(i+1)%len(all)], done.AddDate(-1, 0, 0), as, &r), who))
		b, err := json.Marshal(map[string]any{"text": m.Text, "blocks": m.Blocks})
		if err != nil {
			t.Fatal(err)
		}
		checkLimits(t, fmt.Sprint("card ", i), b)
		if strings.Contains(string(b), "… +") {
			t.Errorf("card %d collapsed something: %s", i, b)
		}
		for _, c := range r.Contributions {
			if c.Weight != 0 && !strings.Contains(string(b), jsonText(slackapi.Escape(c.Reason))) {
				t.Errorf("card %d lacks %q", i, c.Reason)
			}
		}
	}
}

// jsonText is s as encoding/json writes it inside a string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// checkLimits walks a rendered message and checks Block Kit's limits.
func checkLimits(t *testing.T, name string, msg []byte) {
	t.Helper()
	var m struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatal(err)
	}
	n := func(v any) int { s, _ := v.(string); return utf8.RuneCountInString(s) }
	text := func(v any) int { o, _ := v.(map[string]any); return n(o["text"]) }
	bad := func(format string, args ...any) { t.Errorf(name+": "+format, args...) }
	if len(m.Blocks) > slackapi.MaxBlocks {
		bad("%d blocks > %d", len(m.Blocks), slackapi.MaxBlocks)
	}
	if n(m.Text) > maxMessageText {
		bad("fallback text %d chars", n(m.Text))
	}
	checkElement := func(e map[string]any) {
		if n(e["action_id"]) > 255 {
			bad("action_id %d chars", n(e["action_id"]))
		}
		if n(e["value"]) > 2000 {
			bad("value %d chars", n(e["value"]))
		}
		switch e["type"] {
		case "button":
			if text(e["text"]) > slackapi.MaxButtonText {
				bad("button text %d chars", text(e["text"]))
			}
		case "checkboxes":
			opts, _ := e["options"].([]any)
			if len(opts) > 10 {
				bad("%d checkbox options", len(opts))
			}
			for _, o := range opts {
				om := o.(map[string]any)
				if text(om["text"]) > slackapi.MaxOptionText || n(om["value"]) > 150 {
					bad("checkbox option too long")
				}
			}
		case "users_select":
			if text(e["placeholder"]) > slackapi.MaxPlaceholder {
				bad("placeholder too long")
			}
		}
	}
	for _, b := range m.Blocks {
		if n(b["block_id"]) > 255 {
			bad("block_id too long")
		}
		switch b["type"] {
		case "header":
			if text(b["text"]) > slackapi.MaxHeaderText {
				bad("header %d chars", text(b["text"]))
			}
		case "section":
			if text(b["text"]) > slackapi.MaxSectionText {
				bad("section text %d chars", text(b["text"]))
			}
			fs, _ := b["fields"].([]any)
			if len(fs) > slackapi.MaxFields {
				bad("%d fields", len(fs))
			}
			for _, f := range fs {
				if text(f) > slackapi.MaxFieldText {
					bad("field %d chars", text(f))
				}
			}
			if b["text"] == nil && len(fs) == 0 {
				bad("a section needs text or fields")
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) > 25 {
				bad("%d action elements", len(els))
			}
			for _, e := range els {
				checkElement(e.(map[string]any))
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) > 10 {
				bad("%d context elements", len(els))
			}
			for _, e := range els {
				if text(e) > slackapi.MaxContextText {
					bad("context text %d chars", text(e))
				}
			}
		}
	}
}

func TestChoiceValuesRoundTrip(t *testing.T) {
	for _, c := range []choice{
		{Rev: 12, Question: "it_staff", Option: "two_three", Pos: 1, Total: 10},
		{Rev: 3, Question: "skills", Pos: 3, Total: 9},
	} {
		if got, ok := parseChoice(c.String(), c.Option != ""); !ok || got != c {
			t.Fatalf("parse(%q) = %+v %v", c.String(), got, ok)
		}
	}
	// Values of buttons rendered before positions were added.
	if got, ok := parseChoice("7:it_staff:none", true); !ok || got != (choice{Rev: 7, Question: "it_staff", Option: "none"}) {
		t.Fatalf("old answer value: %+v %v", got, ok)
	}
	if got, ok := parseChoice("7:skills", false); !ok || got != (choice{Rev: 7, Question: "skills"}) {
		t.Fatalf("old continue value: %+v %v", got, ok)
	}
	for _, v := range []string{"", "1", "-1:a:b", "1:A:b", "1:a:b:c", "1:a", "x:a:b", "1:a:" + strings.Repeat("b", 33), "1:a:b:1", "1:a:b:x:2", "1:a:b:-1:2", "1:a:b:1:2:3"} {
		if _, ok := parseChoice(v, true); ok {
			t.Errorf("parseChoice(%q) accepted", v)
		}
	}
}

func TestMrkdwnIsEscapedAndClampedSafely(t *testing.T) {
	if got := slackapi.ClampMrkdwn(slackapi.Escape(strings.Repeat("&", 10)), 12); strings.Contains(got, "&am…") || utf8.RuneCountInString(got) > 12 {
		t.Fatalf("clamp cut an entity: %q", got)
	}
	m := Render(chat.Message{Kind: chat.KindNote, Lead: chat.Text{{S: "<!channel> <@U1> & co"}}})
	b, _ := json.Marshal(m.Blocks)
	if text := testkit.JSONStrings(t, b); strings.Contains(text, "<!channel>") || strings.Contains(text, "<@U1>") || !strings.Contains(text, "&lt;!channel&gt; &lt;@U1&gt; &amp; co") {
		t.Fatalf("mentions not escaped: %s", text)
	}
}

func TestMentionsOnlyEverNameAnID(t *testing.T) {
	for in, want := range map[string]string{"U1": "<@U1>", "W2": "<@W2>", "C3": "<#C3>", "<!channel>": "someone", "u1": "someone", "": "someone"} {
		if got := mention(in); got != want {
			t.Errorf("mention(%q) = %q, want %q", in, got, want)
		}
	}
	// A person who is not mentionable is named, escaped.
	if got := person(chat.Span{Kind: chat.Person, ID: "<!here>", Mention: true, S: "<b>Ana</b>"}); got != "*&lt;b&gt;Ana&lt;/b&gt;*" {
		t.Errorf("person = %q", got)
	}
}

func BenchmarkRenderQuestion(b *testing.B) {
	a := advisor.Default()
	q, _ := a.Question("skills")
	r := conversation.Reply{Rev: 3, Question: q, Position: 3, Total: 9}
	v := chattest.Views()
	b.ReportAllocs()
	for b.Loop() {
		m := Render(v.Question(r, chat.Who{}))
		if _, err := json.Marshal(m.Blocks); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderCard(b *testing.B) {
	a := advisor.Default()
	rec := a.Recommend(chattest.Situations(a)["comanaged"], done)
	v := chattest.Views()
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}}}
	b.ReportAllocs()
	for b.Loop() {
		m := Render(v.Card(rec, nil, who))
		if _, err := json.Marshal(m.Blocks); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = time.Second
