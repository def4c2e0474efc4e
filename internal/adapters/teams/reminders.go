package teams

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// pressedByOwner reports whether the card a button sits on was for the
// person pressing it. Cards name their person by the ID the bot knew them
// by: the Entra object ID for a user's own cards, and for an account
// manager's the Teams user ID that ITFIT_ACCOUNT_MANAGERS gave; both IDs of
// the presser come from the validated activity.
func (t *turnCtx) pressedByOwner(owner conversation.UserID) bool {
	return owner != "" && (owner == t.k.User || owner == conversation.UserID(t.a.From.ID))
}

// remindersOn says so honestly when this deployment has no revisits.
func (t *turnCtx) remindersOn(ctx context.Context) bool {
	if t.h.reminders != nil {
		return true
	}
	t.send(ctx, textActivity("Reminders are not switched on in this deployment yet. "+
		"Put the revisit date from your card in your calendar, or send me **restart** any time to take the audit again."))
	return false
}

// listReminders answers "reminders": what is scheduled, with Snooze and
// Stop.
func (t *turnCtx) listReminders(ctx context.Context) {
	if !t.remindersOn(ctx) {
		return
	}
	list, err := t.h.reminders.List(ctx, t.k.UserKey)
	if err != nil {
		t.log.Error("teams: list reminders", "err", err)
		t.send(ctx, textActivity("I couldn't look up your reminders just now; please try again in a minute."))
		return
	}
	if len(list) == 0 {
		t.send(ctx, textActivity("You have no reminders scheduled. Finish the audit and press **Remind me in 12 months** on your result to get one."))
		return
	}
	t.send(ctx, cardActivity(RemindersCard(list, t.who)))
}

// retake starts a fresh audit from a nudge; its result card will say what
// changed since last time.
func (t *turnCtx) retake(ctx context.Context) {
	r, err := t.h.engine.Restart(ctx, t.k)
	if err != nil {
		t.engineError(ctx, err)
		return
	}
	t.closeCard(ctx, ReminderClosedCard("Retaking the audit.", t.who))
	t.present(ctx, r, "Here is the audit again: at the end I'll show you what changed since last time.")
}

func (t *turnCtx) snooze(ctx context.Context) {
	if !t.remindersOn(ctx) {
		return
	}
	due, err := t.h.reminders.Snooze(ctx, t.k.UserKey)
	switch {
	case errors.Is(err, revisit.ErrNoResult):
		t.send(ctx, textActivity("There is nothing to snooze: I hold no result of yours. Send me any message to take the audit."))
		return
	case err != nil:
		t.log.Error("teams: snooze reminder", "err", err)
		t.send(ctx, textActivity("I couldn't snooze the reminder just now; please press the button again in a minute."))
		return
	}
	t.settle(ctx, "Snoozed: I'll remind you again on "+due.UTC().Format(dateFormat)+".")
}

func (t *turnCtx) stop(ctx context.Context) {
	if !t.remindersOn(ctx) {
		return
	}
	stopped, err := t.h.reminders.Stop(ctx, t.k.UserKey)
	if err != nil {
		t.log.Error("teams: stop reminders", "err", err)
		t.send(ctx, textActivity("I couldn't stop the reminders just now; please press the button again in a minute."))
		return
	}
	msg := "Stopped: I won't remind you about this result, and your account manager won't be nudged about it."
	if !stopped {
		msg = "There were no reminders left to stop."
	}
	t.settle(ctx, msg)
}

// settle shows the outcome of a reminder button on the card that carried
// it, so it cannot be pressed again; without a card to update it says so
// in a message.
func (t *turnCtx) settle(ctx context.Context, outcome string) {
	if t.a.ReplyToID == "" {
		t.send(ctx, textActivity(outcome))
		return
	}
	t.closeCard(ctx, ReminderClosedCard(outcome, t.who))
}

// invite is an account manager's "Invite them to retake". The client is
// named by the card, which the presser could have forged, so the tenant is
// the presser's own (Teams managers are in their clients' tenant) and the
// presser must be that client's manager now.
func (t *turnCtx) invite(ctx context.Context, v SubmitData) {
	if !t.remindersOn(ctx) {
		return
	}
	if v.Client == "" {
		t.send(ctx, textActivity("I couldn't read that button."))
		return
	}
	client := conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Teams, Workspace: t.k.Workspace, User: v.Client},
		Conversation: v.Conv,
	}
	m, ok, err := t.h.reminders.ManagerOf(ctx, client.UserKey)
	ok = ok && m.Platform == conversation.Teams && m.Workspace == t.k.Workspace && t.pressedByOwner(conversation.UserID(m.Target))
	if err != nil {
		t.log.Error("teams: check invite", "err", err)
		t.send(ctx, textActivity("I couldn't send the invitation just now; please press the button again in a minute."))
		return
	}
	if !ok {
		t.log.Warn("teams: invite pressed by someone who is not the client's account manager")
		t.send(ctx, textActivity("I can only send that invitation for the account manager it was meant for."))
		return
	}
	name := "your client"
	if ref, err := t.h.refs.Load(ctx, client.UserKey); err == nil && ref.UserName != "" {
		name = ref.UserName
	}
	err = t.h.reminders.Invite(ctx, client)
	switch {
	case err == nil:
		t.settle(ctx, "Invitation sent: "+name+" has been asked to retake the audit.")
	case errors.Is(err, revisit.ErrNoResult), errors.Is(err, schedule.ErrGone):
		t.log.Info("teams: client cannot be invited", "err", err)
		t.settle(ctx, "I can't reach "+name+" any more: they may have removed itfit or asked it to forget them.")
	default:
		t.log.Error("teams: invite client", "err", err)
		t.send(ctx, textActivity("I couldn't send the invitation just now; please press the button again in a minute."))
	}
}

// forget answers "forget": everything itfit holds about the user goes, and
// they are told what.
func (t *turnCtx) forget(ctx context.Context) {
	if !t.remindersOn(ctx) {
		return
	}
	er, err := t.h.reminders.Forget(ctx, t.k.UserKey)
	if err != nil {
		t.log.Error("teams: forget user", "err", err)
		t.send(ctx, textActivity("I couldn't erase everything just now; please send **forget** again in a minute."))
		return
	}
	t.send(ctx, textActivity(forgetSummary(er)))
}

func forgetSummary(er revisit.Erased) string {
	parts := []string{
		count(er.Sessions, "audit session", "audit sessions"),
		count(er.Results, "result", "results"),
		count(er.Reminders, "scheduled reminder", "scheduled reminders"),
		count(er.Other, "other record (where to reach you, your account manager, reminders already sent)", "other records (where to reach you, your account manager, reminders already sent)"),
	}
	return "Done: I erased everything itfit held about you: " + strings.Join(parts[:3], ", ") + " and " + parts[3] +
		". Send me any message if you want to start afresh."
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// share is "Send my result" under "Share with my account manager": the
// people picker's choice gets the result now and, from then on, this user's
// yearly manager nudge. The picker's value is a Microsoft Entra object ID,
// which the connector accepts as a 1:1 chat member when itfit is installed
// for that person.
func (t *turnCtx) share(ctx context.Context, manager string) {
	if !t.remindersOn(ctx) {
		return
	}
	manager = strings.ToLower(strings.TrimSpace(manager))
	switch {
	case manager == "":
		t.send(ctx, textActivity("Choose the person to send your result to first: open **Share with my account manager** and search for them."))
		return
	case strings.Contains(manager, ","):
		t.send(ctx, textActivity("Choose just one person to send your result to."))
		return
	case !isEntraID(manager):
		t.log.Warn("teams: share: the people picker's value is not an Entra object ID")
		t.send(ctx, textActivity("I couldn't tell who you chose; please search for them again."))
		return
	case manager == strings.ToLower(string(t.k.User)):
		t.send(ctx, textActivity("That's you: choose your account manager, and I'll send them your result."))
		return
	}
	err := t.h.reminders.Share(ctx, t.k, conversation.UserID(manager))
	switch {
	case err == nil:
		t.send(ctx, textActivity("Sent: your account manager has a copy of this result. When your yearly revisit comes round "+
			"(press **Remind me in 12 months** if you haven't), they'll be nudged too."))
	case errors.Is(err, revisit.ErrNoResult):
		t.send(ctx, textActivity("There is no finished result to share yet: finish the audit first."))
	case errors.Is(err, revisit.ErrShareLimit):
		t.send(ctx, textActivity("You have shared your result as many times as a day allows, so nothing was sent; you can share it again tomorrow."))
	case errors.Is(err, schedule.ErrGone):
		// Teams refused the 1:1 chat: itfit is not installed for them.
		t.log.Info("teams: share: cannot reach the chosen manager", "err", err)
		t.send(ctx, textActivity("I couldn't reach them in Teams, so nothing was sent: itfit has to be installed for them first. "+
			"They can add it from Apps in Teams (or your Teams admin can install it for them); then share again."))
	default:
		t.log.Error("teams: share result", "err", err)
		t.send(ctx, textActivity("I couldn't share your result just now; please press **Send my result** again in a minute."))
	}
}

// isEntraID reports whether s is a Microsoft Entra object ID: a GUID in
// its 8-4-4-4-12 hexadecimal form, lower case.
func isEntraID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
