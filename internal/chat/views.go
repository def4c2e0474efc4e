package chat

import (
	"errors"
	"strconv"
	"strings"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

// Surface is how a person talks to itfit where they are, which changes how
// the help and the hints name the commands.
type Surface uint8

const (
	// SurfaceSlash: a slash command (Slack's /itfit), the audit in a DM.
	SurfaceSlash Surface = iota
	// SurfaceChat: a private chat where any message reaches the bot
	// (Teams personal chat).
	SurfaceChat
	// SurfaceMention: a shared conversation where the bot must be
	// mentioned (Teams channels and group chats).
	SurfaceMention
	// SurfaceTerminal: typed lines, options by number.
	SurfaceTerminal
)

// Views builds every message the bot shows, in one language. Adapters get
// one from the Service (for the messages they build themselves: a
// workspace that has not installed itfit, a busy server) and renderers
// never write words of their own.
type Views struct {
	audit *advisor.Audit
	w     *tr
	// nudges says whether reminders and shares work where the message is
	// shown; without them the card offers neither.
	nudges func(conversation.Platform) bool
	// reports says whether the card offers its PDF (download links are
	// switched on).
	reports bool
}

// NewViews builds views over an audit; nudges says on which platforms
// reminders are delivered (the card offers them only there).
func NewViews(a *advisor.Audit, nudges func(conversation.Platform) bool) *Views {
	return NewViewsIn(a, nudges, locale.English)
}

// NewViewsIn is NewViews in a language (English for one itfit does not
// speak).
func NewViewsIn(a *advisor.Audit, nudges func(conversation.Platform) bool, l locale.Lang) *Views {
	return &Views{audit: a.In(l), w: words(l), nudges: nudges}
}

func (v *Views) progress(pos, total int) string {
	if pos <= 0 || total <= 0 {
		return v.w.t("Question")
	}
	return v.w.f("Question %d of %d", pos, total)
}

// Question asks the question a reply waits on: its options, Back once
// there is something to go back to, and Start over.
func (v *Views) Question(r conversation.Reply, who Who) Message {
	q := v.question(r.Question)
	w := v.w
	owner := groupOwner(who)
	here := Value{Question: q.ID, Pos: r.Position, Total: r.Total, Owner: who.Key.User}
	m := Message{
		Kind:    KindQuestion,
		Key:     "q:" + string(w.lang) + ":" + string(q.ID) + ":" + strconv.Itoa(r.Position) + ":" + strconv.Itoa(r.Total) + ":" + owner,
		Rev:     r.Rev,
		Owner:   owner,
		Title:   q.Prompt,
		Lead:    txt(q.Help),
		Summary: v.progress(r.Position, r.Total) + v.w.lang.Colon() + q.Prompt,
	}
	ask := &Ask{Question: q, Here: here, Multi: q.Kind == advisor.Multi, Options: make([]Option, len(q.Options))}
	for i, o := range q.Options {
		ask.Options[i] = Option{ID: o.ID, Label: o.Label}
	}
	footer := v.progress(r.Position, r.Total)
	switch {
	case ask.Multi && who.Surface == SurfaceTerminal:
		ask.Pick = w.t("type the numbers that apply, such as 1,3")
	case ask.Multi:
		ask.Pick = w.t("Choose all that apply")
		ask.Required = w.t("Choose at least one option.")
		ask.Submit = &Action{Intent: IntentAnswer, Label: w.t("Continue"), Style: StylePrimary, Value: here}
		footer += " · " + w.t("tick all that apply, then Continue")
	}
	m.Ask = ask
	m.Footer = txt(footer)
	if r.Position > 1 {
		m.Actions = append(m.Actions, Action{Intent: IntentBack, Label: w.t("Back"), Value: here})
	}
	m.Actions = append(m.Actions, v.startOver(here))
	return m
}

func (v *Views) startOver(here Value) Action {
	w := v.w
	return Action{Intent: IntentRestart, Label: w.t("Start over"), Value: here, Confirm: &Confirm{
		Title: w.t("Start over?"),
		Text:  w.t("Your answers so far will be dropped and the audit begins again."),
		Yes:   w.t("Start over"),
		No:    w.t("Keep going"),
	}}
}

// Answered replaces a question once it is answered: the prompt and the
// answer, nothing left to press.
func (v *Views) Answered(e conversation.Echo, pos, total int, owner string) Message {
	q, labels := v.echo(e)
	answer := strings.Join(labels, ", ")
	return Message{
		Kind:    KindAnswered,
		Key:     "a:" + string(v.w.lang) + ":" + string(e.Question.ID) + ":" + answer + ":" + strconv.Itoa(pos) + ":" + strconv.Itoa(total) + ":" + owner,
		Owner:   owner,
		Title:   q.Prompt,
		Lead:    txt(answer),
		Tone:    ToneGood,
		Footer:  txt(v.progress(pos, total)),
		Summary: q.Prompt + " " + answer,
	}
}

// closed replaces a message that was dealt with another way.
func (v *Views) closed(title, outcome string, pos, total int, owner string) Message {
	m := Message{Kind: KindClosed, Owner: owner, Title: title, Lead: txt(outcome), Tone: ToneGood, Summary: title + " " + outcome}
	if pos > 0 {
		m.Footer = txt(v.progress(pos, total))
	}
	return m
}

// Card is the recommendation: the verdict and how firmly the answers point
// there, why, what the provider would cover and the team keeps, the
// responsibility matrix, the comparison, next steps, the revisit date, and
// what can be done with it. since is set on a retake.
func (v *Views) Card(r advisor.Recommendation, since *advisor.Change, who Who) Message {
	r = v.rec(r)
	since = v.change(since, &r)
	m := v.card(r, since, who.Name, who.Group)
	w := v.w
	if v.nudges(who.Key.Platform) {
		m.Actions = append(m.Actions,
			Action{Intent: IntentRemind, Label: w.t("Remind me in 12 months"), Style: StylePrimary, Value: Value{Owner: who.Key.User}},
			Action{Intent: IntentShare, Label: w.t("Share with my account manager"), Value: Value{Owner: who.Key.User}, Pick: &Picker{
				Hint:              w.t("They get a copy of this result now, and a nudge when your yearly revisit is due."),
				Label:             w.t("Your account manager"),
				Placeholder:       w.t("Search for a person"),
				Required:          w.t("Choose the person to send it to."),
				Send:              w.t("Send my result"),
				WholeOrganisation: !who.Group,
			}},
		)
	}
	if v.reports && who.Surface != SurfaceTerminal {
		m.Actions = append(m.Actions, Action{Intent: IntentReport, Label: w.t("Download the recommendation (PDF)"), Value: Value{Owner: who.Key.User}})
	}
	m.Actions = append(m.Actions, v.startOver(Value{Owner: who.Key.User}))
	return m
}

// CardHeadings are the titles of a recommendation card's parts in one
// language. The card is built with them, and whoever reads a card back
// from what a platform shows (the parity suite) finds its parts by them
// rather than by spelling them again.
type CardHeadings struct {
	// For is what the title of the reasons pointing to the verdict says
	// before the verdict's name (and forEnd after it).
	For, forEnd string
	// Against is the reasons pointing the other way; Decisive the same
	// when one answer settles the verdict.
	Against, Decisive string
	Change            string // what would change the verdict
	Covers, Keeps     string // the provider's scope; what the team keeps
	Matrix            string // the responsibility matrix
}

// Headings are the card's headings in a language.
func Headings(l locale.Lang) CardHeadings { return words(l).headings() }

func (w *tr) headings() CardHeadings {
	before, after, _ := strings.Cut(w.t("Pointing to %s"), "%s")
	return CardHeadings{
		For: before, forEnd: after,
		Against:  w.t("Pointing the other way"),
		Decisive: w.t("Also in your answers, though the answer above settles it"),
		Change:   w.t("What would change this"),
		Covers:   w.t("What the provider would cover"),
		Keeps:    w.t("What your team keeps"),
		Matrix:   w.t("Responsibility matrix (agree it in writing before day one)"),
	}
}

func (v *Views) card(r advisor.Recommendation, since *advisor.Change, owner string, group bool) Message {
	w := v.w
	strength := w.strength(r.Strength)
	m := Message{
		Kind:    KindCard,
		Owner:   owner,
		Title:   w.f("Recommendation: %s", r.VerdictName),
		Lead:    txt(strong(r.VerdictName), w.f(" is %s. ", strength), r.Summary),
		Tone:    strengthTone(r.Strength),
		Summary: w.f("Recommendation: %s (%s). %s", r.VerdictName, strength, r.Summary),
	}
	if group && owner != "" {
		m.Title = w.f("Recommendation for %s: %s", owner, r.VerdictName)
	}
	add := func(s Section) { m.Sections = append(m.Sections, s) }
	h := w.headings()
	if since != nil {
		m.Sections = append(m.Sections, v.sinceLast(since, r)...)
	}
	if r.Note != "" {
		add(Section{Text: txt(r.Note)})
	}
	if len(r.Reasons) > 0 {
		add(Section{Title: h.For + r.VerdictName + h.forEnd, Items: reasonTexts(r.Reasons)})
	}
	if len(r.Counterpoints) > 0 {
		title := h.Against
		if r.Decisive {
			title = h.Decisive
		}
		add(Section{Title: title, Items: reasonTexts(r.Counterpoints)})
	}
	if r.Flip != nil {
		add(Section{Title: h.Change, Text: txt(v.flip(r.Flip))})
	}
	add(Section{Divider: true, Columns: []Section{
		{Title: h.Covers, Items: v.scope(r), Empty: w.t("Nothing in particular")},
		{Title: h.Keeps, Items: texts(r.TeamKeeps), Empty: w.t("Nothing in particular")},
	}})
	if len(r.Matrix) > 0 {
		facts := make([]Fact, len(r.Matrix))
		for i, row := range r.Matrix {
			facts[i] = Fact{Label: row.Name, Value: txt(strong(w.owner(row.Owner)))}
		}
		add(Section{Title: h.Matrix, Facts: facts})
	}
	if len(r.Comparison) > 0 {
		t := &Table{Head: []string{"", w.t("Co-managed"), w.t("Fully managed")}}
		for _, c := range r.Comparison {
			t.Rows = append(t.Rows, []string{c.Dimension, c.CoManaged, c.FullyManaged})
		}
		add(Section{Divider: true, Title: w.t("Co-managed vs fully managed"), Table: t})
	}
	if len(r.NextSteps) > 0 {
		add(Section{Title: w.t("Next steps"), Items: texts(r.NextSteps), Numbered: true})
	}
	m.Footer = w.s("Revisit this decision by %v: teams and businesses change. Completed %v · audit %v", r.RevisitOn, r.CompletedAt, r.AuditVersion)
	return m
}

// flip says what would change the verdict, in the audit's words for each
// answer where it has them ("If leadership wanted one accountable partner
// and ..., this would tip to Fully managed IT.").
func (v *Views) flip(f *advisor.Flip) string {
	w := v.w
	if len(f.Changes) == 0 {
		return w.f("Within the questions you were asked, no change of answers would tip this to %s.", f.ToName)
	}
	var clauses []string
	for _, s := range f.Changes {
		if len(s.Clauses) > 0 {
			clauses = append(clauses, s.Clauses...)
			continue
		}
		clauses = append(clauses, w.f("your answer to “%s” were “%s”", s.Prompt, strings.Join(s.Labels, ", ")))
	}
	return w.f("If %s, this would tip to %s.", w.and(clauses), f.ToName)
}

// scope is what the provider would cover, each area with the answers that
// put it there.
func (v *Views) scope(r advisor.Recommendation) []Text {
	w := v.w
	out := make([]Text, 0, len(r.Scope))
	for _, s := range r.Scope {
		name := s.Name
		if s.Owner == advisor.OwnerShared {
			name = w.f("%s (shared with your team)", s.Name)
		}
		switch {
		case len(s.Because) > 0:
			out = append(out, txt(w.f("%s: %s", name, strings.Join(s.Because, "; "))))
		case r.Verdict == advisor.CoManaged:
			out = append(out, txt(w.f("%s: usual in a co-managed split", name)))
		default:
			out = append(out, txt(name))
		}
	}
	return out
}

func strengthTone(s advisor.Strength) Tone {
	switch s {
	case advisor.Strong:
		return ToneGood
	case advisor.Moderate:
		return ToneAccent
	default:
		return ToneWarning
	}
}

func reasonTexts(cs []advisor.Contribution) []Text {
	out := make([]Text, 0, len(cs))
	for _, c := range cs {
		if c.Reason != "" {
			out = append(out, txt(c.Reason))
		}
	}
	return out
}

func texts(ss []string) []Text {
	out := make([]Text, len(ss))
	for i, s := range ss {
		out[i] = txt(s)
	}
	return out
}

// maxChangedAnswers keeps "Since last time" to a glance; the card below it
// has the whole picture.
const maxChangedAnswers = 8

// sinceLast says what changed between a retake and the result before it:
// whether the verdict moved, then the answers that changed.
func (v *Views) sinceLast(c *advisor.Change, now advisor.Recommendation) []Section {
	w := v.w
	s := Section{Title: w.t("Since last time"), Emphasis: true}
	was := txt(strong(c.PreviousVerdictName), " (", w.strength(c.PreviousStrength), ")")
	if c.VerdictMoved {
		s.Text = w.s("%v on %v it was %v, now it is %v (%v).", strong(w.t("The verdict moved:")), c.PreviousAt, was,
			strong(now.VerdictName), w.strength(now.Strength))
		s.Tone = ToneAttention
	} else {
		s.Text = w.s("%v on %v it was %v, now it is %v.", strong(w.t("Same verdict:")), c.PreviousAt, was, w.strength(now.Strength))
		s.Tone = ToneGood
	}
	if len(c.Answers) == 0 {
		s.Items = []Text{txt(w.t("You answered every question as before."))}
		return []Section{s}
	}
	changed := Section{Title: w.t("Answers that changed"), Emphasis: true}
	for i, a := range c.Answers {
		if i == maxChangedAnswers {
			changed.Items = append(changed.Items, txt(w.plural(len(c.Answers)-maxChangedAnswers, "…and %d more answer changed", "…and %d more answers changed")))
			break
		}
		changed.Items = append(changed.Items, txt(w.f("%s: %s", a.Prompt, v.labels(a.Before)), " → ", v.labels(a.After)))
	}
	return []Section{s, changed}
}

func (v *Views) labels(ls []string) string {
	if len(ls) == 0 {
		return v.w.t("not asked")
	}
	return strings.Join(ls, ", ")
}

// Client names a client to their account manager.
type Client struct {
	Key conversation.Key
	// Person is how the manager's platform shows them: a mention where
	// that resolves, else a name and the workspace.
	Person Span
}

// Shared is a client's card as their account manager sees it: the same
// content, under a line naming the client, without the buttons (they act on
// whoever presses them).
func (v *Views) Shared(c Client, last conversation.Result) Message {
	w := v.w
	m := v.card(v.rec(last.Recommendation), nil, "", false)
	m.Kind = KindShared
	m.Notes = append([]Text{w.s("Shared with you by %v: their itfit result of %v.", c.Person, last.CompletedAt)}, m.Notes...)
	m.Summary = w.f("Shared with you: %s", m.Summary)
	return m
}

func (v *Views) lastResult(last conversation.Result) []Fact {
	w := v.w
	r := v.rec(last.Recommendation)
	return []Fact{
		{Label: w.t("Audit taken"), Value: w.txt(last.CompletedAt)},
		{Label: w.t("Verdict"), Value: txt(r.VerdictName)},
		{Label: w.t("Strength"), Value: txt(capitalize(w.strength(r.Strength)))},
	}
}

// Nudge reminds a user of their last result: the yearly revisit, or an
// invitation from their account manager, with Retake, Snooze and Stop.
func (v *Views) Nudge(last conversation.Result, why revisit.Reason, who Who) Message {
	w := v.w
	r := v.rec(last.Recommendation)
	m := Message{
		Kind:    KindNudge,
		Owner:   groupOwner(who),
		Title:   w.t("Time to revisit your IT decision"),
		Lead:    w.s("It has been a while since your itfit audit. On %v it concluded %v, %v.", last.CompletedAt, strong(r.VerdictName), w.strength(r.Strength)),
		Summary: w.f("Time to revisit your IT decision: last time the audit concluded %s.", r.VerdictName),
	}
	if why == revisit.Invited {
		m.Title = w.t("Your account manager invited you to retake the audit")
		m.Lead = w.s("Your account manager would like to check the decision with you. On %v the audit concluded %v, %v.",
			last.CompletedAt, strong(r.VerdictName), w.strength(r.Strength))
		m.Summary = w.f("Your account manager invited you to retake the itfit audit: last time it concluded %s.", r.VerdictName)
	}
	m.Sections = []Section{
		{Facts: v.lastResult(last)},
		{Text: txt(w.t("Teams and businesses change: a retake takes two minutes and shows what moved."))},
	}
	m.Actions = []Action{
		{Intent: IntentRetake, Label: w.t("Retake the audit"), Style: StylePrimary, Value: Value{Owner: who.Key.User}},
		v.snooze(who.Key.User),
		v.stop(who.Key.User),
	}
	return m
}

func groupOwner(who Who) string {
	if who.Group {
		return who.Name
	}
	return ""
}

func (v *Views) snooze(owner conversation.UserID) Action {
	return Action{Intent: IntentSnooze, Label: v.w.t("Snooze 1 month"), Value: Value{Owner: owner}}
}

func (v *Views) stop(owner conversation.UserID) Action {
	w := v.w
	return Action{Intent: IntentStop, Label: w.t("Stop reminders"), Style: StyleDanger, Value: Value{Owner: owner}, Confirm: &Confirm{
		Title: w.t("Stop reminders?"),
		Text:  w.t("No more revisit reminders will be sent to you, or nudges to your account manager. Your last result stays."),
		Yes:   w.t("Stop them"),
		No:    w.t("Keep them"),
	}}
}

// ManagerNudge tells an account manager that a client's revisit is due,
// with their last result and a button that invites them to retake. The
// button names the client; the Service acts on it only for the manager the
// client's nudges go to.
func (v *Views) ManagerNudge(c Client, manager conversation.UserID, last conversation.Result) Message {
	w := v.w
	r := v.rec(last.Recommendation)
	facts := append([]Fact{{Label: w.t("Client"), Value: txt(c.Person)}}, v.lastResult(last)...)
	return Message{
		Kind:    KindManagerNudge,
		Title:   w.t("A client's yearly IT revisit is due"),
		Lead:    txt(w.t("A year on from their itfit audit, this client's decision is due for a revisit. Last time it concluded "), strong(r.VerdictName), ", ", w.strength(r.Strength), "."),
		Summary: w.f("A client's yearly IT revisit is due: last result %s.", r.VerdictName),
		Sections: []Section{
			{Facts: facts},
			{Text: txt(r.Summary)},
		},
		Actions: []Action{{Intent: IntentInvite, Label: w.t("Invite them to retake"), Style: StylePrimary,
			Value: Value{Owner: manager, Client: c.Key.UserKey, ClientConv: c.Key.Conversation}}},
	}
}

// Reminders lists what is scheduled for the user, with Snooze and Stop.
func (v *Views) Reminders(list []revisit.Reminder, who Who, manager func(revisit.Manager) Span) Message {
	w := v.w
	if len(list) == 0 {
		return v.note(w.t("You have no reminders scheduled. Finish the audit and press “Remind me in 12 months” on the card to get one."))
	}
	m := Message{Kind: KindReminders, Owner: groupOwner(who), Title: w.t("Your reminders"), Summary: w.t("Your reminders")}
	var s Section
	for _, r := range list {
		switch r.Kind {
		case revisit.ForUser:
			s.Items = append(s.Items, w.s("A reminder to you to revisit the decision, on %v", r.Due))
		case revisit.ForManager:
			to := txt(w.t("your account manager"))
			if r.Manager != nil && manager != nil {
				if p := manager(*r.Manager); p.S != "" || p.ID != "" {
					to = txt(to, " ", p)
				}
			}
			s.Items = append(s.Items, w.s("A nudge to %v with your last result, on %v", to, r.Due))
		}
	}
	m.Sections = []Section{s}
	m.Actions = []Action{v.snooze(who.Key.User), v.stop(who.Key.User)}
	m.Footer = txt(v.command(who.Surface, "forget"), w.t(" erases everything itfit holds about you."))
	return m
}

// ForgetConfirm asks before erasing anything: nothing goes until the
// button is pressed (and, where the platform asks, confirmed).
func (v *Views) ForgetConfirm(who Who) Message {
	w := v.w
	return Message{
		Kind:    KindForget,
		Owner:   groupOwner(who),
		Title:   w.t("Erase everything itfit holds about you?"),
		Lead:    txt(w.t("Your audit in progress, your past results, your scheduled reminders and the account manager you shared with. Nothing is erased until you press the button.")),
		Summary: w.t("Erase everything itfit holds about you?"),
		Actions: []Action{{Intent: IntentErase, Label: w.t("Yes, erase everything"), Style: StyleDanger, Value: Value{Owner: who.Key.User}, Confirm: &Confirm{
			Title: w.t("Erase everything?"),
			Text:  w.t("Your audits, results, reminders and the account manager you shared with are erased. This cannot be undone."),
			Yes:   w.t("Erase"),
			No:    w.t("Cancel"),
		}}},
	}
}

func (v *Views) erased(e erasure.Counts) string {
	w := v.w
	if e.Total() == 0 {
		return w.t("Done: itfit held nothing about you, so there was nothing to erase.")
	}
	return w.f("Done: erased %s, %s, %s and %s. itfit now holds nothing about you.",
		w.plural(e.Sessions, "%d audit session", "%d audit sessions"),
		w.plural(e.Results, "%d past result", "%d past results"),
		w.plural(e.Reminders, "%d scheduled reminder", "%d scheduled reminders"),
		w.plural(e.Other, "%d other record (where to reach you, your account manager, button records)",
			"%d other records (where to reach you, your account manager, button records)"))
}

// command names a command as the person would type it there.
func (v *Views) command(s Surface, word string) Span {
	if v.w.lang == locale.French {
		if fr, ok := frenchCommands[word]; ok {
			word = fr
		}
	}
	return Span{Kind: Command, S: word, Place: surfaceName(s)}
}

// surfaceName tells a renderer how commands are typed: "slash" (/itfit
// word), "mention" (@itfit word), "" (the word alone).
func surfaceName(s Surface) string {
	switch s {
	case SurfaceSlash:
		return "slash"
	case SurfaceMention:
		return "mention"
	}
	return ""
}

// Help says what itfit is and how to drive it where the person is.
func (v *Views) Help(who Who) Message {
	w := v.w
	c := func(word string) Span { return v.command(who.Surface, word) }
	m := Message{Kind: KindHelp, Owner: groupOwner(who), Summary: w.t("itfit help")}
	intro := w.t(" asks a few questions about your IT team, the gaps nobody owns and how much control you want to keep, then recommends co-managed or fully managed IT. It takes about two minutes.")
	switch who.Surface {
	case SurfaceSlash:
		m.Lead = txt(strong("itfit"), intro, w.t(" Your answers stay in your direct messages with itfit."))
		m.Sections = []Section{{Items: []Text{
			txt(c(""), w.t(": start the audit, or carry on where you left off")),
			txt(c("restart"), w.t(": drop your answers and begin again")),
			txt(c("status"), w.t(": where your audit stands")),
			txt(c("reminders"), w.t(": your revisit reminders, to snooze or stop them")),
			txt(c("forget"), w.t(": erase everything itfit holds about you (asks first)")),
			txt(c("language"), w.t(": choose English or French")),
			txt(c("help"), w.t(": this message")),
		}}}
	case SurfaceTerminal:
		m.Lead = txt(w.t("Answer with the number of an option; for “choose all that apply”, numbers separated by commas, such as 1,3."))
		m.Sections = []Section{{Items: []Text{
			txt(c("back"), w.t(": the previous question again")),
			txt(c("restart"), w.t(": drop your answers and begin again")),
			txt(c("status"), w.t(": where your audit stands")),
			txt(c("forget"), w.t(": erase everything itfit holds about you (asks first)")),
			txt(c("language en"), w.t(" or "), c("langue fr"), w.t(": English or French")),
			txt(c("quit"), w.t(": stop here; run the same command to carry on")),
		}}}
	default:
		how := w.t("Send me any message to start or pick up where you left off.")
		if who.Surface == SurfaceMention {
			how = w.t("Everyone here gets their own audit: mention me to start or pick up where you left off.")
		}
		m.Lead = txt(strong("itfit"), intro, " ", how)
		m.Sections = []Section{{Items: []Text{
			txt(c("restart"), w.t(": drop your answers and begin again")),
			txt(c("status"), w.t(": where your audit stands")),
			txt(c("reminders"), w.t(": your revisit reminders, to snooze or stop them")),
			txt(c("forget"), w.t(": erase everything itfit holds about you (asks first)")),
			txt(c("language"), w.t(": choose English or French")),
			txt(c("help"), w.t(": this message")),
		}}}
	}
	if v.nudges(who.Key.Platform) && who.Surface != SurfaceTerminal {
		m.Footer = txt(w.t("On the card, “Remind me in 12 months” schedules a reminder; “Share with my account manager” sends them a copy and has them nudged when your revisit is due."))
	}
	return m
}

// Welcome is the hello when itfit is added to a team or a group chat.
func (v *Views) Welcome(who Who) Message {
	w := v.w
	return Message{
		Kind:    KindWelcome,
		Lead:    txt(w.t("Hello, I'm "), strong("itfit"), w.t(": a two-minute audit that says whether co-managed or fully managed IT fits your company. Mention me to start your own; everyone here gets their own audit, and "), v.command(who.Surface, "help"), w.t(" lists what else I can do.")),
		Summary: w.t("itfit: a two-minute audit of co-managed or fully managed IT"),
	}
}

// Received is the line a platform shows at once for a press whose answer
// follows as messages (Teams' invoke response to an Action.Execute).
func (v *Views) Received() string { return v.w.t("Got it.") }

// Intro is the audit's own introduction, above the first question.
func (v *Views) intro() Text { return txt(v.audit.Intro) }

// note is a line of text as a message.
func (v *Views) note(s string) Message {
	return Message{Kind: KindNote, Lead: txt(s), Summary: s}
}

// Note is a line of text as a message, for the few notes adapters send on
// their own (see NotInstalled and Busy).
func (v *Views) noteText(t Text) Message {
	return Message{Kind: KindNote, Lead: t, Summary: t.String()}
}

// NotInstalled is the answer to a workspace that has not installed itfit;
// installURL is the Add to Slack link, "" when there is none.
func (v *Views) NotInstalled(installURL string) Message {
	w := v.w
	if installURL == "" {
		return v.note(w.t("itfit isn't installed in this workspace yet; ask whoever runs itfit for your company to add it."))
	}
	return v.noteText(txt(w.t("itfit isn't installed in this workspace yet; an admin can add it at "), Span{Kind: Link, S: installURL}, "."))
}

// Busy is what a person hears when itfit cannot take their request now.
func (v *Views) Busy() Message {
	return v.note(v.w.t("itfit is busy right now, so nothing changed. Please try again in a minute."))
}

// CardRefused is what a person reads when the platform refused to show a
// card the bot sent.
func (v *Views) CardRefused() Message {
	return v.note(v.w.t("Sorry, I couldn't show that card. Send me any message to try again."))
}

// Unreadable is the answer to a press the platform sent that itfit could
// not read.
func (v *Views) Unreadable() Message {
	return v.note(v.w.problem(Problem{Kind: UnreadableInput}))
}

// Bye is what the terminal says when the person leaves: whether their
// answers wait for them depends on the store.
// Ephemeral tells a terminal user, before the first question, that their
// answers last only as long as the process (the embedded store).
func (v *Views) Ephemeral() Message {
	return v.note(v.w.t("Using an embedded store: answers last until you quit. Set REDIS_URL to keep them."))
}

func (v *Views) Bye(kept bool) Message {
	w := v.w
	if kept {
		return v.note(w.t("Bye. Your answers are saved; run the same command to carry on."))
	}
	return v.note(w.t("Bye. These answers were kept in memory only and are now gone; set REDIS_URL to keep them for next time."))
}

// RetryPrompt asks whether to try again after a failure at the start.
func (v *Views) RetryPrompt() string {
	return v.w.t("Press Enter to try again, or type quit: ")
}

// YesNo is how a typed confirmation is asked for, and what counts as yes.
func (v *Views) YesNo() string { return v.w.t("(y/N)") }

// Affirmative reports whether a typed answer to a confirmation is yes.
func (v *Views) Affirmative(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case v.w.t("y"), v.w.t("yes"):
		return true
	}
	return false
}

// Failure is what a person reads when something went wrong: the same
// words the flows use.
func (v *Views) Failure(err error) Message {
	text, _ := v.failure(err)
	return v.note(text)
}

// failure is the table from errors to words, with an option named in the
// views' language.
func (v *Views) failure(err error) (string, bool) {
	var ex *advisor.ExclusiveError
	if errors.As(err, &ex) {
		err = &advisor.ExclusiveError{Option: ex.Option, Label: v.exclusive(ex)}
	}
	return v.w.failure(err)
}

// Expired says an audit is gone and offers a fresh one.
func (v *Views) expired(who Who) Message {
	w := v.w
	lead := txt(w.t("That audit has expired or was never started here, so the button changed nothing."))
	if who.Surface == SurfaceTerminal {
		lead = txt(w.t("That audit has expired, so that answer changed nothing. "), v.command(who.Surface, "restart"), w.t(" begins a new one."))
	}
	return Message{
		Kind:    KindExpired,
		Owner:   groupOwner(who),
		Lead:    lead,
		Summary: w.t("That audit has expired."),
		Actions: []Action{{Intent: IntentStart, Label: w.t("Start a new audit"), Style: StylePrimary, Value: Value{Owner: who.Key.User}}},
	}
}

// Home is Slack's App Home tab: what itfit is, start or resume, and the
// last result.
func (v *Views) Home(inProgress *conversation.Reply, last *conversation.Result, who Who) Message {
	w := v.w
	m := Message{Kind: KindHome, Title: v.audit.Title, Lead: txt(v.audit.Intro), Summary: v.audit.Title}
	label, status := w.t("Start the audit"), w.t("Your answers stay in your direct messages with itfit.")
	if inProgress != nil && inProgress.Question != nil {
		label = w.t("Resume the audit")
		status = w.f("You have an audit in progress: question %d of %d.", inProgress.Position, inProgress.Total)
	}
	m.Sections = append(m.Sections, Section{Text: txt(status)})
	m.Actions = []Action{{Intent: IntentStart, Label: label, Style: StylePrimary}}
	if last == nil {
		m.Sections = append(m.Sections, Section{Divider: true, Title: w.t("Your last result"),
			Text: txt(w.t("None yet: your recommendation appears here once you finish the audit."))})
	} else {
		r := v.rec(last.Recommendation)
		m.Sections = append(m.Sections, Section{Divider: true, Title: w.t("Your last result"),
			Text: txt(strong(r.VerdictName), ", ", w.strength(r.Strength), ". ", r.Summary)},
			Section{Text: w.s("Completed %v · revisit by %v", last.CompletedAt, r.RevisitOn)})
	}
	m.Footer = txt(w.t("“Remind me in 12 months” on your card schedules a revisit reminder. "), v.command(who.Surface, "reminders"),
		w.t(" lists, snoozes or stops them; "), v.command(who.Surface, "forget"), w.t(" erases everything itfit holds about you."))
	return m
}

func (v *Views) status(r conversation.Reply, who Who) Message {
	w := v.w
	switch {
	case r.Event == conversation.NoSession:
		return v.noteText(txt(w.t("You have no audit in progress. "), v.startHint(who)))
	case r.Result != nil:
		res := v.rec(*r.Result)
		return v.noteText(txt(w.f("You finished the audit: %s, %s. ", res.VerdictName, w.strength(res.Strength)),
			v.command(who.Surface, "restart"), w.t(" takes it again.")))
	default:
		return v.noteText(txt(w.f("Your audit is on question %d of %d. ", r.Position, r.Total), v.startHint(who)))
	}
}

// startHint says how to start or carry on where the person is.
func (v *Views) startHint(who Who) Text {
	w := v.w
	switch who.Surface {
	case SurfaceSlash:
		return txt(v.command(who.Surface, ""), w.t(" starts the audit or shows where you are, in your direct messages with itfit."))
	case SurfaceMention:
		return txt(w.t("Mention me to start or see where you are."))
	case SurfaceTerminal:
		return txt(v.command(who.Surface, "restart"), w.t(" begins again."))
	default:
		return txt(w.t("Send me any message to start or see where you are."))
	}
}
