package teams

import (
	"strings"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// Buttons of the revisit cards. Like the audit's buttons they say what to
// do; whose reminders are touched comes from the validated activity.
const (
	actRetake = "retake"
	actSnooze = "snooze"
	actStop   = "stop"
	actInvite = "invite"
)

const dateFormat = "2 January 2006"

// lastResult is the "what you concluded last time" block shared by the
// nudges and the manager's cards.
func lastResult(last conversation.Result) Element {
	r := last.Recommendation
	return Element{Type: "FactSet", Spacing: "Small", Facts: []Fact{
		{Title: "Audit taken", Value: last.CompletedAt.UTC().Format(dateFormat)},
		{Title: "Verdict", Value: r.VerdictName},
		{Title: "Strength", Value: capitalize(r.Strength.Text())},
	}}
}

// NudgeCard reminds a user of their last result: the yearly revisit, or an
// invitation from their account manager. Retake starts a fresh audit;
// Snooze and Stop manage the reminder.
func NudgeCard(last conversation.Result, why revisit.Reason, who Asker) *Card {
	title := "Time to revisit your IT decision"
	lead := "Teams and businesses change: two minutes of questions will tell you whether it still fits."
	if why == revisit.Invited {
		title = "Your account manager invited you to retake the itfit audit"
		lead = "They would like to know whether your last answer still holds: it takes two minutes."
	}
	if who.Group && who.Name != "" {
		title += " · for " + who.Name
	}
	r := last.Recommendation
	body := []Element{
		{Type: "TextBlock", Text: title, Size: "Medium", Weight: "Bolder", Wrap: true},
		text("On " + last.CompletedAt.UTC().Format(dateFormat) + " your itfit audit concluded **" + r.VerdictName + "** (" + r.Strength.Text() + ")."),
		lastResult(last),
		{Type: "TextBlock", Text: lead, Wrap: true, Spacing: "Medium"},
	}
	return newCard(body, reminderActions(who, true))
}

// reminderActions are Retake (on a nudge), Snooze 1 month and Stop.
func reminderActions(who Asker, retake bool) []Action {
	var out []Action
	if retake {
		out = append(out, submit("Retake the audit", "positive", SubmitData{Action: actRetake, User: who.ID}))
	}
	return append(out,
		submit("Snooze 1 month", "", SubmitData{Action: actSnooze, User: who.ID}),
		submit("Stop reminders", "destructive", SubmitData{Action: actStop, User: who.ID}))
}

// Client names the client a manager's card is about. Name is a display
// name already made safe by displayName.
type Client struct {
	Key  conversation.Key
	Name string
}

func (c Client) label() string {
	if c.Name != "" {
		return c.Name
	}
	return "A client"
}

// ManagerNudgeCard tells an account manager that a client's revisit is due,
// with their last result and a button that invites them to retake. The
// button names the client; the handler only acts on it for the manager this
// card was sent to (see Notifier.NudgeManager).
func ManagerNudgeCard(c Client, last conversation.Result, manager conversation.UserID) *Card {
	r := last.Recommendation
	body := []Element{
		{Type: "TextBlock", Text: "Revisit due: " + c.label() + "'s IT decision", Size: "Medium", Weight: "Bolder", Wrap: true},
		text(c.label() + " took the itfit audit a while ago and their revisit is due. Last time it concluded **" + r.VerdictName + "** (" + r.Strength.Text() + ")."),
		lastResult(last),
		text(r.Summary),
	}
	return newCard(body, []Action{
		submit("Invite them to retake", "positive", SubmitData{Action: actInvite, User: manager, Client: c.Key.User, Conv: c.Key.Conversation}),
	})
}

// SharedResultCard is a client's result, sent to their account manager at
// once when the client shares it.
func SharedResultCard(c Client, last conversation.Result) *Card {
	r := last.Recommendation
	body := []Element{
		{Type: "TextBlock", Text: c.label() + " shared their itfit result with you", Size: "Medium", Weight: "Bolder", Wrap: true},
		lastResult(last),
		text(r.Summary),
	}
	if len(r.NextSteps) > 0 {
		steps := make([]string, len(r.NextSteps))
		for i, s := range r.NextSteps {
			steps[i] = "• " + s
		}
		body = appendList(body, "Their next steps", steps, "")
	}
	return newCard(body, nil)
}

// RemindersCard lists what is scheduled for the user, with Snooze and Stop.
func RemindersCard(list []revisit.Reminder, who Asker) *Card {
	title := "Your itfit reminders"
	if who.Group && who.Name != "" {
		title += " · for " + who.Name
	}
	facts := make([]Fact, 0, len(list))
	for _, r := range list {
		switch r.Kind {
		case revisit.ForUser:
			facts = append(facts, Fact{Title: "Your revisit", Value: r.Due.UTC().Format(dateFormat)})
		case revisit.ForManager:
			facts = append(facts, Fact{Title: "Account manager nudged", Value: r.Due.UTC().Format(dateFormat)})
		}
	}
	body := []Element{
		{Type: "TextBlock", Text: title, Size: "Medium", Weight: "Bolder", Wrap: true},
		{Type: "FactSet", Facts: facts, Spacing: "Small"},
	}
	return newCard(body, reminderActions(who, false))
}

// ReminderClosedCard replaces a nudge or reminders card once a button on it
// was pressed: what happened, no live buttons.
func ReminderClosedCard(outcome string, who Asker) *Card {
	title := "itfit reminder"
	if who.Group && who.Name != "" {
		title += " · for " + who.Name
	}
	return newCard([]Element{
		{Type: "TextBlock", Text: title, Size: "Small", IsSubtle: true, Wrap: true},
		{Type: "TextBlock", Text: outcome, Color: "Good", Wrap: true, Spacing: "Small"},
	}, nil)
}

// sinceLast is the retake's "since last time" section: the previous date
// and verdict, whether the verdict moved, and the answers that changed.
func sinceLast(c *advisor.Change, now advisor.Recommendation) []Element {
	was := "**" + c.PreviousVerdictName + "** (" + c.PreviousStrength.Text() + ")"
	verdict := "Your verdict moved: last time it was " + was + ", now it is **" + now.VerdictName + "**."
	color := "Attention"
	if !c.VerdictMoved {
		verdict = "Same verdict as last time: " + was + ", now " + now.Strength.Text() + "."
		color = "Good"
	}
	items := []Element{
		{Type: "TextBlock", Text: "Since last time (" + c.PreviousAt.UTC().Format(dateFormat) + ")", Weight: "Bolder", Wrap: true},
		{Type: "TextBlock", Text: verdict, Color: color, Wrap: true, Spacing: "Small"},
	}
	if len(c.Answers) == 0 {
		items = append(items, Element{Type: "TextBlock", Text: "You answered every question as before.", IsSubtle: true, Wrap: true, Spacing: "Small"})
	}
	for _, a := range c.Answers {
		before, after := strings.Join(a.Before, "; "), strings.Join(a.After, "; ")
		if before == "" {
			before = "not asked"
		}
		if after == "" {
			after = "not asked now"
		}
		items = append(items, Element{Type: "TextBlock", Text: "• " + a.Prompt + " — " + before + " → " + after, Wrap: true, Spacing: "Small"})
	}
	return []Element{{Type: "Container", Style: "emphasis", Spacing: "Medium", Items: items}}
}
