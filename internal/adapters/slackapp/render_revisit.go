package slackapp

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// maxChangedAnswers keeps "Since last time" to a glance; the card below it
// has the whole picture.
const maxChangedAnswers = 8

// sinceLast words what changed between a retake and the result before it.
func sinceLast(c *advisor.Change, now advisor.Recommendation) string {
	var b strings.Builder
	b.WriteString("*Since last time* (" + slackDate(c.PreviousAt) + ")\n")
	if c.VerdictMoved {
		b.WriteString(":twisted_rightwards_arrows: *The verdict moved:* it was *" + esc(c.PreviousVerdictName) +
			"* (" + c.PreviousStrength.Text() + "), it is now *" + esc(now.VerdictName) + "* (" + now.Strength.Text() + ").")
	} else {
		b.WriteString(":heavy_equals_sign: *Same verdict:* *" + esc(now.VerdictName) + "*, " + now.Strength.Text())
		if c.PreviousStrength != now.Strength {
			b.WriteString(" (it was " + c.PreviousStrength.Text() + ")")
		}
		b.WriteString(".")
	}
	if len(c.Answers) == 0 {
		b.WriteString("\nYou answered every question as before.")
		return b.String()
	}
	b.WriteString("\n*Answers that changed*")
	for i, a := range c.Answers {
		if i == maxChangedAnswers {
			fmt.Fprintf(&b, "\n…and %d more", len(c.Answers)-maxChangedAnswers)
			break
		}
		b.WriteString("\n• " + esc(clamp(a.Prompt, 150)) + ": " + labelList(a.Before, "not asked") + " → " + labelList(a.After, "not asked"))
	}
	return b.String()
}

func labelList(ls []string, none string) string {
	if len(ls) == 0 {
		return "_" + none + "_"
	}
	return esc(clamp(strings.Join(ls, ", "), 150))
}

// userMention renders a Slack user or channel ID as a mention; anything
// that is not a plain ID is refused, so a stored value cannot become a
// broadcast (<!channel>) or a link.
func mention(id string) string {
	if !isSlackID(id) {
		return "someone"
	}
	if strings.HasPrefix(id, "C") || strings.HasPrefix(id, "G") {
		return "<#" + id + ">"
	}
	return "<@" + id + ">"
}

func lastLine(last conversation.Result) string {
	r := last.Recommendation
	return "On " + slackDate(last.CompletedAt) + " the audit concluded *" + esc(r.VerdictName) + "*, " + r.Strength.Text() + "."
}

func stopButton() *slack.ButtonBlockElement {
	b := button(actStop, "stop", "Stop")
	b.Confirm = slack.NewConfirmationBlockObject(
		plain("Stop reminders?", 100),
		plain("No more revisit reminders will be sent to you, or nudges to your account manager. Your last result stays.", 300),
		plain("Stop them", 30),
		plain("Keep them", 30),
	)
	return b
}

// NudgeMessage is the user's revisit reminder (or their account manager's
// invitation): what they concluded and when, with Retake, Snooze and Stop.
func NudgeMessage(last conversation.Result, why revisit.Reason) Message {
	title, intro := "Time to revisit your IT decision", "It has been a while since your itfit audit."
	if why == revisit.Invited {
		title, intro = "Your account manager invited you to retake the audit", "Your account manager would like to check the decision with you."
	}
	text := intro + " " + lastLine(last) + "\nTeams and businesses change: a retake takes two minutes and shows what moved."
	return Message{
		Text: clamp(title+": last time the audit concluded "+last.Recommendation.VerdictName+".", maxMessageText),
		Blocks: []slack.Block{
			slack.NewHeaderBlock(plain(title, maxHeaderText)),
			slack.NewSectionBlock(mrkdwn(text, maxSectionText), nil, nil),
			slack.NewActionBlock("itfit_nudge",
				button(actRetake, "retake", "Retake the audit").WithStyle(slack.StylePrimary),
				button(actSnooze, "1m", "Snooze 1 month"),
				stopButton(),
			),
		},
	}
}

// ManagerNudgeMessage tells an account manager that a client's revisit is
// due; who names the client (mrkdwn: a mention, or words for a manager in
// another workspace). The button's value names the client's workspace and
// user, as the manager may be in another workspace (the provider's); the
// click is checked against the client's configured manager before anything
// is sent.
func ManagerNudgeMessage(client conversation.UserKey, who string, last conversation.Result) Message {
	r := last.Recommendation
	text := who + "'s yearly IT revisit is due.\nLast result: *" + esc(r.VerdictName) + "*, " + r.Strength.Text() +
		" (completed " + slackDate(last.CompletedAt) + ").\n" + esc(r.Summary)
	return Message{
		Text: clamp("A client's yearly IT revisit is due: last result "+r.VerdictName+".", maxMessageText),
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn(text, maxSectionText), nil, nil),
			slack.NewActionBlock("itfit_manager",
				button(actInvite, inviteValue(client), "Invite them to retake").WithStyle(slack.StylePrimary)),
		},
	}
}

// SharedCardMessage is a client's card as their account manager sees it:
// the same card under a line naming the client (who, as for
// ManagerNudgeMessage), without the buttons, which act on whoever clicks
// them and would mislead the manager.
func SharedCardMessage(who string, last conversation.Result) Message {
	m := cardMessage(last.Recommendation, nil, false)
	note := slack.NewContextBlock("itfit_shared", mrkdwn(":handshake: Shared with you by "+who+
		", their itfit result of "+slackDate(last.CompletedAt)+".", maxContextText))
	m.Blocks = append([]slack.Block{note}, m.Blocks...)
	m.Text = clamp("Shared with you: "+m.Text, maxMessageText)
	return m
}

// RemindersMessage lists a user's scheduled nudges with Snooze and Stop.
func RemindersMessage(rs []revisit.Reminder) Message {
	if len(rs) == 0 {
		return NoteMessage("You have no reminders scheduled. Finish the audit and press “Remind me in 12 months” on the card to get one.")
	}
	var b strings.Builder
	b.WriteString("*Your reminders*")
	for _, r := range rs {
		switch r.Kind {
		case revisit.ForUser:
			b.WriteString("\n• A reminder to you to revisit the decision, on " + slackDate(r.Due))
		case revisit.ForManager:
			to := "your account manager"
			if r.Manager != nil && r.Manager.Platform == conversation.Slack {
				to += " " + mention(r.Manager.Target)
			}
			b.WriteString("\n• A nudge to " + to + " with your last result, on " + slackDate(r.Due))
		}
	}
	return Message{
		Text: "Your reminders",
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn(b.String(), maxSectionText), nil, nil),
			slack.NewActionBlock("itfit_reminders", button(actSnooze, "1m", "Snooze 1 month"), stopButton()),
			slack.NewContextBlock("", mrkdwn("`/itfit forget` erases everything itfit holds about you.", maxContextText)),
		},
	}
}

// ForgetMessage asks for confirmation before erasing a user's data.
func ForgetMessage() Message {
	b := button(actForget, "forget", "Yes, erase everything").WithStyle(slack.StyleDanger)
	b.Confirm = slack.NewConfirmationBlockObject(
		plain("Erase everything?", 100),
		plain("Your audits, results, reminders and the account manager you shared with are erased. This cannot be undone.", 300),
		plain("Erase", 30),
		plain("Cancel", 30),
	)
	b.Confirm.Style = slack.StyleDanger
	return Message{
		Text: "Erase everything itfit holds about you?",
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn("*Erase everything itfit holds about you?*\nYour audit in progress, your past results, "+
				"your scheduled reminders and the account manager you shared with. Nothing is erased until you press the button.", maxSectionText), nil, nil),
			slack.NewActionBlock("itfit_forget", b),
		},
	}
}

// erasedText says what forget removed, in counts.
func erasedText(e revisit.Erased) string {
	total := e.Sessions + e.Results + e.Reminders + e.Other
	if total == 0 {
		return "Done: itfit held nothing about you, so there was nothing to erase."
	}
	return fmt.Sprintf("Done: erased %s, %s, %s and %s. itfit now holds nothing about you.",
		count(e.Sessions, "audit session"), count(e.Results, "past result"),
		count(e.Reminders, "scheduled reminder"), count(e.Other, "other record")+" (shared manager, button records)")
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
