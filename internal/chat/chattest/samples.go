// Package chattest holds one sample of every view the chat layer builds, in
// the situations that shape them (a clear verdict, a close call, a tie, a
// decisive answer, a retake, a shared conversation...), for each
// renderer's golden files and limit checks. Every renderer renders the same
// table, so a view added here is checked on every platform.
package chattest

import (
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/advisor/advisortest"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/revisit"
)

// Done is when every sample audit was finished.
var Done = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// Sample is one view, named for its golden file.
type Sample struct {
	Name string
	Msg  chat.Message
}

// Views are the views over the built-in audit, with nudges delivered on
// every platform.
func Views() *chat.Views {
	return chat.NewViews(advisor.Default(), func(conversation.Platform) bool { return true })
}

// Situations are audits whose verdicts cover every strength, taken from
// advisortest's table: the golden cards.
func Situations(a *advisor.Audit) map[string]advisor.Answers {
	out := map[string]advisor.Answers{}
	for name, situation := range map[string]string{
		// Issue 19's executive: a stretched team of two with every gap
		// and a wish for control.
		"comanaged": "stretched_pair",
		// One overwhelmed generalist, fast growth, a hand-off.
		"fully_managed": "generalist_hand_off",
		// Nobody in-house: decisive, whatever else was said.
		"decisive": "no_it_keeps_control",
		// A point from the line.
		"close": "close_generalist",
		// The answers balance out.
		"tie": "tie",
	} {
		as, ok := advisortest.Walk(a, advisortest.Named(situation).Answers)
		if !ok {
			panic("chattest: situation " + situation + " does not answer the audit")
		}
		out[name] = as
	}
	return out
}

// Samples are every view, in the situations that shape it.
func Samples() []Sample {
	v := Views()
	a := advisor.Default()
	private := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: "sample", Workspace: "W1", User: "U1"}, Conversation: "D1"}, Surface: chat.SurfaceChat}
	group := private
	group.Group, group.Name, group.Surface = true, "Ana Lima", chat.SurfaceMention

	ask := func(id advisor.QuestionID, pos, total int) conversation.Reply {
		q, _ := a.Question(id)
		return conversation.Reply{Event: conversation.Advanced, Rev: 3, Question: q, Position: pos, Total: total}
	}
	sit := Situations(a)
	rec := func(name string) advisor.Recommendation { return a.Recommend(sit[name], Done) }
	year := Done.AddDate(-1, 0, 0)
	before := sit["fully_managed"]
	moved := a.Compare(before, year, sit["comanaged"], ptr(rec("comanaged")))
	same := a.Compare(sit["comanaged"], year, sit["comanaged"], ptr(rec("comanaged")))
	last := conversation.Result{CompletedAt: Done, AuditVersion: a.Version, Answers: sit["comanaged"], Recommendation: rec("comanaged")}
	skills, _ := a.Question("skills")
	mention := chat.Client{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}, Conversation: "D1"},
		Person: chat.Span{Kind: chat.Person, ID: "U1", Mention: true, S: "Ana Lima"}}
	named := chat.Client{Key: mention.Key, Person: chat.Span{Kind: chat.Person, ID: "U1", S: "Ana Lima", Place: "Acme Ltd"}}
	manager := revisit.Manager{Platform: conversation.Slack, Workspace: "T1", Target: "U9"}
	inProgress := ask("skills", 4, 9)
	mgr := with(private, chat.SurfaceSlash)
	mgr.Key.UserKey = conversation.UserKey{Platform: conversation.Slack, Workspace: "TPROVIDER", User: "U9"}
	previous := conversation.Result{CompletedAt: year, AuditVersion: a.Version, Answers: before, Recommendation: a.Recommend(before, year)}
	deskPage := chat.DeskPage{
		Page: portfolio.Page{Order: portfolio.ByDue, Total: 23, Before: 10, At: "n|1|1|slack:T1:U0", Prev: "p|2|1|slack:T1:U1", Next: "n|3|1|slack:T2:U2",
			Entries: []portfolio.Entry{{Client: mention.Key.UserKey, Due: Done.AddDate(1, 0, 0), Changed: Done}}},
		Clients: []chat.DeskClient{
			{Entry: portfolio.Entry{Client: mention.Key.UserKey, Due: Done.AddDate(1, 0, 0), Changed: Done}, Person: named.Person, Latest: &last, Previous: &previous},
			{Entry: portfolio.Entry{Client: conversation.UserKey{Platform: conversation.Slack, Workspace: "T2", User: "U2"}, Due: Done.AddDate(1, 1, 0), Changed: Done},
				Person: chat.Span{Kind: chat.Person, ID: "U2", S: "Bo Chen", Place: "Globex"}, Latest: &last},
		},
	}
	emptyDesk := chat.DeskPage{Page: portfolio.Page{Order: portfolio.ByChanged}}

	return []Sample{
		{"question_single", v.Question(ask("it_staff", 1, 10), private)},
		{"question_multi", v.Question(ask("skills", 3, 9), private)},
		{"question_group", v.Question(ask("after_hours", 5, 9), group)},
		{"question_multi_group", v.Question(ask("projects", 6, 9), group)},
		{"answered", v.Answered(conversation.Echo{Question: skills, Labels: skills.Labels([]advisor.OptionID{"security", "cloud"})}, 3, 9, "")},
		{"card_comanaged", v.Card(rec("comanaged"), nil, private)},
		{"card_fully_managed", v.Card(rec("fully_managed"), nil, private)},
		{"card_decisive", v.Card(rec("decisive"), nil, private)},
		{"card_close", v.Card(rec("close"), nil, private)},
		{"card_tie", v.Card(rec("tie"), nil, private)},
		{"card_since_moved", v.Card(rec("comanaged"), moved, private)},
		{"card_since_same", v.Card(rec("comanaged"), same, private)},
		{"card_group", v.Card(rec("comanaged"), nil, group)},
		{"shared", v.Shared(mention, last)},
		{"shared_named", v.Shared(named, last)},
		{"nudge_due", v.Nudge(last, revisit.Due, private)},
		{"nudge_invited", v.Nudge(last, revisit.Invited, private)},
		{"manager_nudge", v.ManagerNudge(mention, "U9", last)},
		{"manager_nudge_named", v.ManagerNudge(named, "U9", last)},
		{"reminders", v.Reminders([]revisit.Reminder{
			{Kind: revisit.ForUser, Due: Done.AddDate(1, 0, 0)},
			{Kind: revisit.ForManager, Due: Done.AddDate(1, 0, 0), Manager: &manager},
		}, private, func(m revisit.Manager) chat.Span { return chat.Span{Kind: chat.Person, ID: m.Target, Mention: true} })},
		{"reminders_none", v.Reminders(nil, private, nil)},
		{"forget", v.ForgetConfirm(private)},
		{"help_slash", v.Help(with(private, chat.SurfaceSlash))},
		{"help_chat", v.Help(private)},
		{"help_mention", v.Help(group)},
		{"help_terminal", v.Help(with(private, chat.SurfaceTerminal))},
		{"welcome", v.Welcome(group)},
		{"home_new", v.Home(nil, nil, with(private, chat.SurfaceSlash))},
		{"home_progress_last", v.Home(&inProgress, &last, with(private, chat.SurfaceSlash))},
		{"not_installed", v.NotInstalled("https://itfit.example.com/slack/install")},
		{"busy", v.Busy()},
		{"card_report", v.Reports(true).Card(rec("comanaged"), nil, private)},
		{"desk", v.Desk(deskPage, mgr)},
		{"desk_empty", v.Desk(emptyDesk, mgr)},
		{"client_card", v.ClientCard(named, last)},
	}
}

func with(w chat.Who, s chat.Surface) chat.Who {
	w.Surface = s
	return w
}

func ptr[T any](v T) *T { return &v }
