// Package parity is the contract every platform's adapter must keep: one
// table of scripted conversations (start, answers, back, restart, the card,
// reminders, sharing, invitations, forget, stale and expired presses, bad
// input) that each adapter's tests drive through its real entry point
// (signed Slack HTTP, Socket Mode, Bot Framework activities with real
// tokens, a terminal's stdin) with a Driver of their own. What the person
// sees and what Redis holds is written as a transcript, and every
// platform's transcript of a script must equal the one golden file of that
// script: the same questions in the same order, the same verdict, answers,
// scope, matrix and what would change it, the same reminders, the same
// keys. A script per situation of the domain (advisortest) also checks its
// card against the advisor and walks again with the card's change applied. A new platform gets parity
// by writing a Driver and calling Run.
package parity

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

var update = flag.Bool("parity-update", false, "rewrite the parity transcripts (internal/chat/parity/testdata)")

// Capability is something a platform offers that not every one does.
type Capability string

const (
	// Buttons: messages carry actions that can be pressed (not a terminal).
	Buttons Capability = "buttons"
	// Nudges: reminders, sharing and invitations are delivered there.
	Nudges Capability = "nudges"
	// OldMessages: earlier messages stay on screen and can be pressed again.
	OldMessages Capability = "old messages"
	// FreeText: any word is read as a command (a terminal reads option
	// numbers and a few words only).
	FreeText Capability = "free text"
	// NudgeInPlace: a nudge reaches the person in the conversation their
	// audit is in (not so for an audit in a Teams channel: nudges go to the
	// person's 1:1 chat, where a retake then begins).
	NudgeInPlace Capability = "nudges in the audit's conversation"
)

// Driver is one platform's real entry point, driven as a person would:
// it sends what the platform sends and reads back what the bot sent there.
// Every method fails the test on a transport error.
type Driver interface {
	Can(Capability) bool
	// Say sends a command as the platform does ("" is the bare command:
	// /itfit, a mention, any message, starting the terminal).
	Say(t *testing.T, word string)
	// Answer answers the question the person is at with these options
	// (ticking boxes and pressing Continue for a multi-select).
	Answer(t *testing.T, opts ...advisor.OptionID)
	// Press presses the action with this intent on the newest message that
	// offers it, confirming where the platform asks.
	Press(t *testing.T, intent chat.Intent)
	// PressStale presses the first option of the first question the person
	// was shown, again (an old card).
	PressStale(t *testing.T)
	// Share chooses the driver's account manager on the card.
	Share(t *testing.T)
	// Invite is the account manager (or, with asManager false, someone
	// else) pressing Invite on the newest manager nudge.
	Invite(t *testing.T, asManager bool)
	// Deliver lets the revisit come due and runs the scheduler.
	Deliver(t *testing.T)
	// Seen is what reached the person and their manager since the last
	// call.
	Seen(t *testing.T) Screen
	// User is the person; Store is where their state lives; Reminders is
	// what the revisit service has scheduled for them.
	User() conversation.UserKey
	Store() (redis.UniversalClient, keys.Prefix)
	Reminders(t *testing.T) []revisit.Reminder
	// Extra says whether a key (under the person's hash tag, after the
	// tag) is the platform's own (Teams' conversation references).
	Extra(key string) bool
}

// Screen is what a person was shown, read back from the platform's own
// messages.
type Screen struct {
	// Questions are the question messages posted, oldest first.
	Questions []Asked
	// Cards are the recommendation cards posted.
	Cards []Card
	// Nudges are the revisit nudges that reached the person (Due or
	// Invited).
	Nudges []string
	// Texts is every other text shown to the person: notes, and notes on
	// the messages above.
	Texts []string
	// Manager is what reached their account manager: "shared", "nudge".
	Manager []string
}

// Asked is one question message.
type Asked struct {
	ID         advisor.QuestionID
	Pos, Total int
}

// Card is a recommendation card as shown.
type Card struct {
	Verdict  advisor.Verdict
	Strength advisor.Strength
	Since    bool // it has the section on what changed since the last result
	// For and Against are the answers pointing to the verdict and the
	// other way, in order; Change is what would change the verdict; Covers
	// the items of the provider's scope; Matrix the matrix's
	// rows as "area: owner". ReadCard fills them from the card's parts.
	For, Against []string
	Change       string
	Covers       []string
	Matrix       []string
}

// Part is one titled part of a card as a platform shows it: the title
// (without its emphasis) and the lines under it, each without its bullet
// or number and with the platform's escaping undone. Lines a platform
// shows under no title of their own continue the part before.
type Part struct {
	Title string
	Lines []string
}

// ReadCard fills a card's answers, change, scope and matrix from its parts,
// read in English.
func ReadCard(c *Card, parts []Part) { ReadCardIn(locale.English, c, parts) }

// ReadCardIn is ReadCard for a card in a language: its parts are
// recognised by the headings the chat layer gives them.
func ReadCardIn(l locale.Lang, c *Card, parts []Part) {
	h := chat.Headings(l.Or(locale.English))
	for _, p := range parts {
		switch {
		case strings.HasPrefix(p.Title, h.For):
			c.For = append(c.For, p.Lines...)
		case p.Title == h.Against, p.Title == h.Decisive:
			c.Against = append(c.Against, p.Lines...)
		case p.Title == h.Change:
			c.Change = strings.Join(p.Lines, " ")
		case p.Title == h.Covers:
			c.Covers = append(c.Covers, p.Lines...)
		case p.Title == h.Matrix:
			c.Matrix = append(c.Matrix, p.Lines...)
		}
	}
}

// builtIn is the built-in audit, parsed once: parsing it is most of a
// driver's CPU when every read of what was shown parses it again.
var builtIn = sync.OnceValue(advisor.Default)

// Audit is the built-in audit in a language, for drivers reading what the
// bot showed against it. It is shared: read it, never change it.
func Audit(l locale.Lang) *advisor.Audit { return builtIn().In(l.Or(locale.English)) }

// Words are the chat layer's words in a language, for drivers that read
// what the bot sent: the catalogue's own, so a driver never spells the
// French itself.
type Words struct{ Lang locale.Lang }

// In is the words of a language.
func In(l locale.Lang) Words { return Words{Lang: l.Or(locale.English)} }

// T is a sentence in the language, by its English.
func (w Words) T(english string) string { return chat.Sentence(w.Lang, english) }

// Prefix is what a formatted sentence says before its first value
// (a title with the verdict: what it says before the verdict).
func (w Words) Prefix(format string) string {
	s := w.T(format)
	if i := strings.IndexByte(s, '%'); i >= 0 {
		return s[:i]
	}
	return s
}

// Strength is how a card words a verdict's strength.
func (w Words) Strength(s advisor.Strength) string { return chat.Strength(w.Lang, s) }

// Step is one thing the person does in a script; Expect checks what they
// saw (beyond the transcript, which records it all).
type Step struct {
	Say     *string
	Answer  []advisor.OptionID
	Press   chat.Intent
	Stale   bool
	Share   bool
	Invite  *bool // pressed by the manager (true) or by someone else
	Deliver bool
	// Expire deletes the person's audit before the step's action, as the
	// session TTL would.
	Expire bool
	// Need names the notes that must be among the texts shown: each is
	// one of Notes' labels.
	Need []string
	// Quiet: nothing at all may reach the person.
	Quiet bool
}

// Script is one scripted conversation.
type Script struct {
	Name  string
	Needs []Capability
	Steps []Step
	// Situation, when set, is what the script's first walk answers: the
	// first card must then hold what the advisor says of it (checkCards),
	// and the second, after the walk with its flip applied, the other
	// verdict.
	Situation *advisortest.Situation
}

// Run drives every script the platform can run and compares its
// transcript with the golden one. name labels the platform ("slack-http").
func Run(t *testing.T, name string, newDriver func(t *testing.T) Driver) {
	RunIn(t, name, locale.English, newDriver)
}

// RunIn is Run with the person reading a language: newDriver makes the
// platform say so (Slack's locale, Teams' activity locale, the terminal's
// --lang), and the transcripts are that language's
// (testdata/<lang>/<script>.txt for languages but English).
func RunIn(t *testing.T, name string, l locale.Lang, newDriver func(t *testing.T) Driver) {
	ran := 0
	for _, s := range Scripts() {
		t.Run(s.Name, func(t *testing.T) {
			d := newDriver(t)
			for _, c := range s.Needs {
				if !d.Can(c) {
					t.Skipf("%s has no %s", name, c)
				}
			}
			got := transcript(t, d, s, l)
			golden(t, l, s.Name, got)
			ran++
		})
	}
	t.Logf("%s: %d parity scripts run", name, ran)
}

func word(s string) *string { return &s }
func yes() *bool            { b := true; return &b }
func no() *bool             { b := false; return &b }

// Answers walks: the answers given in the scripts, by question.
var (
	coManaged = map[advisor.QuestionID][]advisor.OptionID{
		"it_staff": {"two_three"}, "firefighting": {"nearly_all"}, "skills": {"security", "cloud"},
		"after_hours": {"team_strained"}, "projects": {"cloud_migration"}, "frameworks": {"soc2"}, "compliance": {"yes_gap"},
		"growth": {"steady"}, "distraction": {"sometimes"}, "control": {"keep"},
	}
	fullyManaged = map[advisor.QuestionID][]advisor.OptionID{
		"it_staff": {"one"}, "generalist_load": {"overwhelmed"}, "skills": {"none"}, "after_hours": {"covered"},
		"projects": {"none"}, "frameworks": {"none"}, "growth": {"outpacing"}, "distraction": {"weekly"}, "control": {"hand_off"},
	}
)

// walk answers every question from the one the person is at to the card,
// with the answers of path.
func walk(path map[advisor.QuestionID][]advisor.OptionID, from int) []Step {
	a := builtIn()
	var as advisor.Answers
	var steps []Step
	for i := 0; ; i++ {
		q, ok := a.Next(as)
		if !ok {
			return steps
		}
		opts := path[q.ID]
		as = append(as, advisor.Answer{Question: q.ID, Options: opts})
		if i >= from {
			steps = append(steps, Step{Answer: opts})
		}
	}
}

// first is the first n answers of a path.
func first(path map[advisor.QuestionID][]advisor.OptionID, n int) []Step {
	return walk(path, 0)[:n]
}

func join(parts ...[]Step) []Step { return slices.Concat(parts...) }

// Scripts is the table every platform runs.
func Scripts() []Script {
	start := Step{Say: word(""), Need: []string{"intro"}}
	finish := func(path map[advisor.QuestionID][]advisor.OptionID) []Step {
		return join([]Step{start}, walk(path, 0))
	}
	closeCall := map[advisor.QuestionID][]advisor.OptionID{
		"it_staff": {"one"}, "generalist_load": {"no_projects"}, "skills": {"none"}, "after_hours": {"covered"},
		"projects": {"none"}, "frameworks": {"none"}, "growth": {"steady"}, "distraction": {"sometimes"}, "control": {"unsure"},
	}
	decisive := map[advisor.QuestionID][]advisor.OptionID{
		"it_staff": {"none"}, "after_hours": {"team_strained"}, "projects": {"office_move"}, "frameworks": {"gdpr"}, "compliance": {"yes_covered"},
		"growth": {"flat"}, "distraction": {"rarely"}, "control": {"keep"},
	}
	return append([]Script{
		{Name: "audit_comanaged", Steps: finish(coManaged)},
		{Name: "audit_fully_managed", Steps: finish(fullyManaged)},
		{Name: "audit_decisive", Steps: finish(decisive)},
		{Name: "audit_close_call", Steps: finish(closeCall)},
		{Name: "multi_select_and_exclusive", Steps: join([]Step{start}, first(coManaged, 2), []Step{
			{Answer: []advisor.OptionID{"security", "none"}, Need: []string{"exclusive"}},
			{Answer: []advisor.OptionID{"none"}},
		})},
		{Name: "back", Steps: join([]Step{start}, first(coManaged, 2), []Step{
			{Press: chat.IntentBack, Need: []string{"went back"}},
			{Answer: []advisor.OptionID{"half"}},
		})},
		{Name: "back_twice", Steps: join([]Step{start}, first(coManaged, 3), []Step{
			{Press: chat.IntentBack, Need: []string{"went back"}},
			{Press: chat.IntentBack, Need: []string{"went back"}},
			{Answer: []advisor.OptionID{"little"}},
		})},
		{Name: "back_on_the_first_question", Steps: []Step{start, {Press: chat.IntentBack, Need: []string{"first question"}}}},
		{Name: "restart_command", Steps: join([]Step{start}, first(coManaged, 3), []Step{{Say: word("restart"), Need: []string{"from the start"}}})},
		{Name: "start_over_button", Needs: []Capability{Buttons}, Steps: join([]Step{start}, first(coManaged, 3), []Step{
			{Press: chat.IntentRestart, Need: []string{"started over"}},
		})},
		{Name: "resume", Steps: join([]Step{start}, first(coManaged, 2), []Step{{Say: word(""), Need: []string{"welcome back"}}})},
		{Name: "card_again", Steps: join(finish(fullyManaged), []Step{{Say: word(""), Need: []string{"your result"}}})},
		{Name: "status", Steps: join([]Step{start}, first(coManaged, 2), []Step{{Say: word("status"), Need: []string{"on question 3"}}})},
		{Name: "status_without_an_audit", Needs: []Capability{FreeText}, Steps: []Step{{Say: word("status"), Need: []string{"no audit"}}}},
		{Name: "help", Steps: []Step{start, {Say: word("help"), Need: []string{"help"}}}},
		{Name: "unknown_word", Needs: []Capability{FreeText}, Steps: []Step{{Say: word("frobnicate"), Need: []string{"unknown word"}}}},
		{Name: "bad_input", Steps: []Step{start,
			{Answer: []advisor.OptionID{"no_such_option"}, Need: []string{"not an option"}},
			{Answer: []advisor.OptionID{"two_three", "four_plus"}, Need: []string{"just one"}},
			{Answer: []advisor.OptionID{"two_three"}},
		}},
		{Name: "stale_press", Needs: []Capability{OldMessages}, Steps: join([]Step{start}, first(coManaged, 2), []Step{
			{Stale: true, Need: []string{"stale"}},
			{Stale: true, Quiet: true},
		})},
		{Name: "expired", Steps: join([]Step{start}, first(coManaged, 1), []Step{
			{Expire: true, Answer: []advisor.OptionID{"nearly_all"}, Need: []string{"expired"}},
			{Say: word("restart"), Need: []string{"from the start"}},
		})},
		{Name: "forget", Steps: join(finish(coManaged), []Step{
			{Say: word("forget"), Need: []string{"erase?"}},
			{Press: chat.IntentErase, Need: []string{"erased"}},
		})},
		{Name: "remind_snooze_stop", Needs: []Capability{Buttons, Nudges}, Steps: join(finish(coManaged), []Step{
			{Press: chat.IntentRemind, Need: []string{"reminded"}},
			{Say: word("reminders"), Need: []string{"reminders"}},
			{Press: chat.IntentSnooze, Need: []string{"snoozed"}},
			{Press: chat.IntentStop, Need: []string{"stopped"}},
		})},
		{Name: "share_and_invite", Needs: []Capability{Buttons, Nudges}, Steps: join(finish(coManaged), []Step{
			{Share: true, Need: []string{"shared"}},
			{Press: chat.IntentRemind, Need: []string{"reminded"}},
			{Deliver: true},
			{Invite: no(), Quiet: true},
			{Invite: yes()},
		})},
		{Name: "retake_from_the_nudge", Needs: []Capability{Buttons, Nudges, NudgeInPlace}, Steps: join(finish(coManaged), []Step{
			{Press: chat.IntentRemind, Need: []string{"reminded"}},
			{Deliver: true},
			{Press: chat.IntentRetake, Need: []string{"retake"}},
		}, walk(fullyManaged, 0))},
	}, situations(start)...)
}

// situations are a script per situation of the domain: the audit walked
// to its card, then again from the start with the card's "what would
// change this" applied, to the other verdict.
func situations(start Step) []Script {
	a := builtIn()
	var out []Script
	for _, sit := range advisortest.Situations() {
		as, ok := advisortest.Walk(a, sit.Answers)
		if !ok {
			panic("parity: situation " + sit.Name + " does not answer the audit")
		}
		steps := join([]Step{start}, walk(sit.Answers, 0))
		if r := a.Recommend(as, time.Time{}); r.Flip != nil && len(r.Flip.Changes) > 0 {
			steps = join(steps, []Step{{Say: word("restart"), Need: []string{"from the start"}}}, walk(advisortest.AsMap(r.Flip.Apply(as)), 0))
		}
		out = append(out, Script{Name: "situation_" + sit.Name, Steps: steps, Situation: &sit})
	}
	return out
}

// labels are the notes among texts, sorted, once each.
func labels(texts []string, l locale.Lang) []string {
	var out []string
	table := notesIn(l)
	for _, s := range texts {
		s = strings.ReplaceAll(s, "\u00a0", " ")
		for _, n := range table {
			if strings.Contains(s, n.phrase) && !slices.Contains(out, n.label) {
				out = append(out, n.label)
			}
		}
	}
	sort.Strings(out)
	return out
}

// transcript runs a script and writes what happened, step by step, in
// platform-neutral words.
func transcript(t *testing.T, d Driver, s Script, l locale.Lang) string {
	t.Helper()
	var b strings.Builder
	ctx := context.Background()
	rdb, prefix := d.Store()
	u := d.User()
	var cards []Card
	defer func() {
		if s.Situation != nil && !t.Failed() {
			checkCards(t, *s.Situation, cards, l)
		}
	}()
	for i, st := range s.Steps {
		if st.Expire {
			pattern := prefix.UserPattern(string(u.Platform), string(u.Workspace), string(u.User))
			ks, err := rdb.Keys(ctx, pattern).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				if strings.Contains(k, ":session:") {
					rdb.Del(ctx, k)
				}
			}
		}
		var what string
		switch {
		case st.Say != nil:
			what = fmt.Sprintf("say %q", *st.Say)
			d.Say(t, *st.Say)
		case st.Answer != nil:
			what = fmt.Sprintf("answer %v", st.Answer)
			d.Answer(t, st.Answer...)
		case st.Press != "":
			what = "press " + string(st.Press)
			d.Press(t, st.Press)
		case st.Stale:
			what = "press an old card"
			d.PressStale(t)
		case st.Share:
			what = "share with the account manager"
			d.Share(t)
		case st.Invite != nil:
			what = "invite pressed by the manager"
			if !*st.Invite {
				what = "invite pressed by someone else"
			}
			d.Invite(t, *st.Invite)
		case st.Deliver:
			what = "the revisit comes due"
			d.Deliver(t)
		}
		sc := d.Seen(t)
		got := labels(sc.Texts, l)
		for _, want := range st.Need {
			if !slices.Contains(got, want) {
				t.Errorf("step %d (%s): the person was not told %q; they saw %q", i+1, what, want, sc.Texts)
			}
		}
		if st.Quiet && (len(sc.Texts) > 0 || len(sc.Questions) > 0 || len(sc.Cards) > 0) {
			t.Errorf("step %d (%s): want nothing, got %+v", i+1, what, sc)
		}
		fmt.Fprintf(&b, "%d. %s\n", i+1, what)
		for _, q := range sc.Questions {
			fmt.Fprintf(&b, "   question %s (%d of %d)\n", q.ID, q.Pos, q.Total)
		}
		for _, c := range sc.Cards {
			cards = append(cards, c)
			fmt.Fprintf(&b, "   card %s, %s; since last time %v\n", c.Verdict, c.Strength, c.Since)
			for _, l := range c.For {
				fmt.Fprintf(&b, "     for: %s\n", l)
			}
			for _, l := range c.Against {
				fmt.Fprintf(&b, "     against: %s\n", l)
			}
			if c.Change != "" {
				fmt.Fprintf(&b, "     what would change it: %s\n", c.Change)
			}
			for _, l := range c.Covers {
				fmt.Fprintf(&b, "     provider: %s\n", l)
			}
			for _, l := range c.Matrix {
				fmt.Fprintf(&b, "     matrix: %s\n", l)
			}
		}
		for _, n := range sc.Nudges {
			fmt.Fprintf(&b, "   nudge %s\n", n)
		}
		for _, m := range sc.Manager {
			fmt.Fprintf(&b, "   to the account manager: %s\n", m)
		}
		// Notes the platform adds of its own ("the audit continues in your
		// DM" on Slack) are not part of the contract.
		var told []string
		for _, l := range got {
			if l != "dm" && l != "intro" && l != "fewer" {
				told = append(told, l)
			}
		}
		if len(told) > 0 {
			fmt.Fprintf(&b, "   told: %s\n", strings.Join(told, ", "))
		}
	}
	// What is stored at the end, and what is scheduled.
	fmt.Fprintf(&b, "stored:\n")
	for _, k := range userKeys(t, rdb, prefix, u) {
		if d.Extra(k) {
			continue
		}
		fmt.Fprintf(&b, "   %s\n", k)
	}
	for _, r := range d.Reminders(t) {
		fmt.Fprintf(&b, "   reminder %s\n", r.Kind)
	}
	return b.String()
}

// fewest caches the advisortest oracle's answer per situation: it tries
// every combination of answers, once per test binary.
var fewest sync.Map

// checkCards checks a situation's cards against the advisor (see
// cardProblems).
func checkCards(t *testing.T, sit advisortest.Situation, cards []Card, l locale.Lang) {
	t.Helper()
	for _, p := range cardProblems(sit, cards, l) {
		t.Error(p)
	}
}

// cardProblems is what is wrong with a situation's cards: every answer
// that moved the score must be on the first card, on its side; every area
// in the provider's scope must say what put it there and (on a co-managed
// card) be in the matrix; "what would change this" must be on every card
// that was not decisive, name each change and the other verdict, change no
// more answers than the fewest that flip the verdict, and, applied in the
// second walk, have flipped it.
func cardProblems(sit advisortest.Situation, cards []Card, l locale.Lang) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	a := Audit(l)
	as, _ := advisortest.Walk(a, sit.Answers)
	r := a.Recommend(as, time.Time{})
	if len(cards) == 0 {
		return []string{"no card"}
	}
	c := cards[0]
	if c.Verdict != r.Verdict || c.Strength != r.Strength {
		bad("card %s, %s; the advisor says %s, %s", c.Verdict, c.Strength, r.Verdict, r.Strength)
	}
	for _, x := range r.Contributions {
		if x.Weight == 0 {
			continue
		}
		side := c.For
		if (x.Weight > 0) != (r.Verdict == advisor.FullyManaged) {
			side = c.Against
		}
		if !slices.Contains(side, x.Reason) {
			bad("%s=%s (weight %d): %q is not on its side of the card", x.Question, x.Option, x.Weight, x.Reason)
		}
	}
	for _, s := range r.Scope {
		i := slices.IndexFunc(c.Covers, func(l string) bool { return strings.HasPrefix(l, s.Name) })
		if i < 0 {
			bad("%s is not in what the provider would cover: %q", s.Name, c.Covers)
			continue
		}
		for _, b := range s.Because {
			if !strings.Contains(c.Covers[i], b) {
				bad("%q does not say %q put it there", c.Covers[i], b)
			}
		}
		if r.Verdict == advisor.CoManaged && !slices.ContainsFunc(c.Matrix, func(l string) bool { return strings.HasPrefix(l, s.Name+": ") }) {
			bad("%s is in scope but not in the matrix %q", s.Name, c.Matrix)
		}
	}
	if r.Decisive {
		if c.Change != "" || len(cards) != 1 {
			bad("a decisive verdict says what would change it (%q), or the script went on", c.Change)
		}
		return out
	}
	n, _ := fewest.LoadOrStore(sit.Name, sync.OnceValue(func() int { n, _ := advisortest.FewestFlips(a, as); return n }))
	if want := n.(func() int)(); len(r.Flip.Changes) != want {
		bad("the flip changes %d answers, the fewest that flip it are %d", len(r.Flip.Changes), want)
	}
	for _, s := range r.Flip.Changes {
		for _, clause := range s.Clauses {
			if !strings.Contains(c.Change, clause) {
				bad("what would change it, %q, does not say %q", c.Change, clause)
			}
		}
	}
	if !strings.Contains(c.Change, r.Flip.ToName) {
		bad("what would change it, %q, does not name %s", c.Change, r.Flip.ToName)
	}
	if len(cards) != 2 || cards[1].Verdict != r.Flip.To || cards[1].Verdict == c.Verdict {
		bad("with the flip applied the cards were %+v; want the second to be %s", cards, r.Flip.To)
	}
	return out
}

// userKeys are the person's keys, each after their hash tag, with the
// conversation (which differs by platform) left out.
func userKeys(t *testing.T, rdb redis.UniversalClient, p keys.Prefix, u conversation.UserKey) []string {
	t.Helper()
	pattern := p.UserPattern(string(u.Platform), string(u.Workspace), string(u.User))
	tag := strings.TrimSuffix(pattern, "*")
	tag = strings.ReplaceAll(tag, `\`, "")
	var out []string
	iter := rdb.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		k := strings.TrimPrefix(iter.Val(), tag)
		if k == "claims" && onlyDeliveries(t, rdb, iter.Val()) {
			// Answers' deliveries claimed against a platform's replays and
			// redeliveries (chat.Input.Once): the platform's own, as
			// the terminal has none.
			continue
		}
		if i := strings.Index(k, "session:"); i >= 0 {
			k = k[:i] + "session:<conversation>"
		}
		out = append(out, k)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// onlyDeliveries reports whether a person's claims are all deliveries
// ("once:…"), none the flows' own.
func onlyDeliveries(t *testing.T, rdb redis.UniversalClient, key string) bool {
	t.Helper()
	members, err := rdb.ZRange(context.Background(), key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if !strings.HasPrefix(m, "once:") {
			return false
		}
	}
	return true
}

// testdata is the path of a file in testdata for a language (English at
// the top, another language in its own folder).
func testdata(l locale.Lang, name string) string {
	_, here, _, _ := runtime.Caller(0)
	if l != locale.English {
		return filepath.Join(filepath.Dir(here), "testdata", string(l), name)
	}
	return filepath.Join(filepath.Dir(here), "testdata", name)
}

// note is a label of what the chat layer says, and a phrase of its text
// in one language that every platform shows.
type note struct{ label, phrase string }

var notesByLang sync.Map // locale.Lang -> []note

// notesIn are the notes of a language, from testdata/[<lang>/]notes.tsv:
// the words are the chat layer's, so the suite keeps them as data beside
// the transcripts rather than spelling them in Go.
func notesIn(l locale.Lang) []note {
	if ns, ok := notesByLang.Load(l); ok {
		return ns.([]note)
	}
	b, err := os.ReadFile(testdata(l, "notes.tsv"))
	if err != nil {
		panic("parity: " + err.Error())
	}
	var ns []note
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, phrase, ok := strings.Cut(line, "\t")
		if !ok || label == "" || phrase == "" {
			panic("parity: notes.tsv: not a label, a tab and a phrase: " + line)
		}
		ns = append(ns, note{label, phrase})
	}
	notesByLang.Store(l, ns)
	return ns
}

// golden compares a transcript with testdata/<script>.txt, the one every
// platform must produce (-parity-update writes it).
func golden(t *testing.T, l locale.Lang, name, got string) {
	t.Helper()
	path := testdata(l, name+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -parity-update on one platform, review, commit)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the transcript every platform must produce (%s):\n--- want\n%s--- got\n%s", name, path, want, got)
	}
}
