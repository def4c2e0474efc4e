package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

const noteNoReminders = "Reminders are not switched on in this deployment, so there is nothing scheduled to change."

// userMessage is what a user reads for an error: revisit's own errors are
// written for people already; everything else gets the engine's wording.
func userMessage(err error) string {
	for _, e := range []error{revisit.ErrNoResult, revisit.ErrNoManager, revisit.ErrNoReminder, revisit.ErrNoNotifier, revisit.ErrShareLimit} {
		if errors.Is(err, e) {
			s := e.Error()
			return string(s[0]-'a'+'A') + s[1:] + "."
		}
	}
	return conversation.UserMessage(err)
}

func (w who) userKey() conversation.UserKey {
	return conversation.UserKey{Platform: conversation.Slack, Workspace: w.ws, User: w.user}
}

// tellMessage is tell with blocks: the response_url when there is one, else
// the DM.
func (a *App) tellMessage(ctx context.Context, log *slog.Logger, w who, n notify, m Message) {
	if n.responseURL != "" {
		err := a.slack.respondMessage(ctx, n.responseURL, m)
		if err == nil {
			return
		}
		log.Warn("could not reply through response_url", "err", err)
	}
	dm, err := a.slack.openDM(ctx, w.ws, string(w.user))
	if err == nil {
		_, err = a.slack.post(ctx, w.ws, dm, m)
	}
	if err != nil {
		log.Error("the user could not be shown their reminders", "err", err)
	}
}

func (a *App) listReminders(ctx context.Context, log *slog.Logger, w who, n notify) {
	if a.reminders == nil {
		a.tell(ctx, log, n, noteNoReminders)
		return
	}
	rs, err := a.reminders.List(ctx, w.userKey())
	if err != nil {
		a.fail(ctx, log, n, "list reminders", err)
		return
	}
	a.tellMessage(ctx, log, w, n, RemindersMessage(rs))
}

func (a *App) snooze(ctx context.Context, log *slog.Logger, w who, n notify) {
	if a.reminders == nil {
		a.tell(ctx, log, n, noteNoReminders)
		return
	}
	due, err := a.reminders.Snooze(ctx, w.userKey())
	if err != nil {
		a.fail(ctx, log, n, "snooze", err)
		return
	}
	a.tell(ctx, log, n, "Snoozed: I'll remind you again on "+slackDate(due)+".")
}

func (a *App) stop(ctx context.Context, log *slog.Logger, w who, n notify) {
	if a.reminders == nil {
		a.tell(ctx, log, n, noteNoReminders)
		return
	}
	stopped, err := a.reminders.Stop(ctx, w.userKey())
	if err != nil {
		a.fail(ctx, log, n, "stop", err)
		return
	}
	if !stopped {
		a.tell(ctx, log, n, "You had no reminders scheduled, so there was nothing to stop.")
		return
	}
	a.tell(ctx, log, n, "Stopped: no more revisit reminders will be sent, to you or your account manager. "+
		"“Remind me in 12 months” on a card schedules one again.")
}

// forgetter is the engine's erase, used when reminders are off: forgetting
// is a right, not a feature of the reminder service.
type forgetter interface {
	Forget(ctx context.Context, u conversation.UserKey) (conversation.Erased, error)
}

// forget erases the user's data. It takes no claim on the click: a claim
// would be a key about this user, written after the erase.
func (a *App) forget(ctx context.Context, log *slog.Logger, w who, n notify) {
	var (
		er  revisit.Erased
		err error
	)
	switch f, ok := a.engine.(forgetter); {
	case a.reminders != nil:
		er, err = a.reminders.Forget(ctx, w.userKey())
	case ok:
		er.Erased, err = f.Forget(ctx, w.userKey())
	default:
		err = errors.New("forget: the engine cannot erase")
	}
	if err != nil {
		a.fail(ctx, log, n, "forget", err)
		return
	}
	log.Info("slack user forgotten", "sessions", er.Sessions, "results", er.Results, "reminders", er.Reminders, "other", er.Other)
	a.tell(ctx, log, n, erasedText(er))
}

// retake starts a fresh audit in the user's DM from a nudge; a double
// click starts it once.
func (a *App) retake(ctx context.Context, log *slog.Logger, w who, m msgRef, n notify) {
	id := "retake:" + m.channel + ":" + m.ts
	first, err := a.claim(ctx, w, id)
	if err != nil {
		a.fail(ctx, log, n, "retake", fmt.Errorf("claim retake: %w", errors.Join(conversation.ErrUnavailable, err)))
		return
	}
	if !first {
		log.Info("retake clicked twice; the first click counts")
		return
	}
	a.startInDM(ctx, log, w, true, n)
}

// isManagerClick says whether a click comes from the client's account
// manager: the manager user themself, or anyone in the manager channel
// (the account team) when the manager is a channel and the click is there.
func isManagerClick(m revisit.Manager, w who, channel string) bool {
	if m.Platform != conversation.Slack || m.Workspace != w.ws {
		return false
	}
	return m.Target == string(w.user) || (channel != "" && m.Target == channel)
}

// inviteValue is the Invite button's value: the client's workspace and
// user, "T1/U1" ("E1:T1/U1" on Grid), since the manager may click it in
// another workspace (the provider's) than the client's.
func inviteValue(client conversation.UserKey) string {
	return string(client.Workspace) + "/" + string(client.User)
}

// parseInvite reads an Invite value. A bare user ID is from a nudge sent
// before values named the workspace: it meant the clicker's own.
func parseInvite(value string, clicker who) (who, bool) {
	ws, user, ok := strings.Cut(value, "/")
	if !ok {
		ws, user = string(clicker.ws), value
	}
	if !isWorkspaceID(ws) || !isSlackID(user) || (user[0] != 'U' && user[0] != 'W') {
		return who{}, false
	}
	return who{ws: conversation.WorkspaceID(ws), user: conversation.UserID(user)}, true
}

// isWorkspaceID matches what workspace() makes of Slack's IDs: "T…" or
// "E…:T…".
func isWorkspaceID(s string) bool {
	ent, team, grid := strings.Cut(s, ":")
	if !grid {
		return isSlackID(s)
	}
	return isSlackID(ent) && isSlackID(team)
}

// invite sends a client the manager's invitation to retake. The button's
// value names the client (workspace and user), and anyone can craft one; so
// the clicker, whose user and workspace come from the verified payload, must
// be that client's account manager, or nothing is sent.
func (a *App) invite(ctx context.Context, log *slog.Logger, w who, m msgRef, value string, n notify) {
	if a.reminders == nil {
		a.tell(ctx, log, n, noteNoReminders)
		return
	}
	client, ok := parseInvite(value, w)
	if !ok {
		log.Warn("slack invite with a malformed value refused", "len", len(value))
		a.tell(ctx, log, n, "That button is not one itfit recognises, so it changed nothing.")
		return
	}
	user := string(client.user)
	mgr, ok, err := a.reminders.ManagerOf(ctx, client.userKey())
	if err != nil {
		a.fail(ctx, log, n, "invite", err)
		return
	}
	if !ok || !isManagerClick(mgr, w, m.channel) {
		log.Warn("slack invite refused: the clicker is not the client's account manager", "client_workspace", client.ws)
		a.tell(ctx, log, n, "Only "+mention(user)+"'s account manager can invite them to retake, so nothing was sent.")
		return
	}
	// One invitation per nudge message, however many in the account team
	// click it. The claim lives under the client's tag, so forget sweeps it.
	claim := "invite:" + m.channel + ":" + m.ts
	first, err := a.claim(ctx, client, claim)
	if err != nil {
		a.fail(ctx, log, n, "invite", fmt.Errorf("claim invite: %w", errors.Join(conversation.ErrUnavailable, err)))
		return
	}
	if !first {
		a.tell(ctx, log, n, mention(user)+" was already invited from this message.")
		return
	}
	if err := a.reminders.Invite(ctx, client.key("")); err != nil {
		a.release(context.WithoutCancel(ctx), client, claim)
		if errors.Is(err, revisit.ErrNoResult) {
			log.Info("slack invite: the client has no result any more")
			a.tell(ctx, log, n, mention(user)+" has no itfit result any more, so there is nothing to retake; nothing was sent.")
			return
		}
		a.fail(ctx, log, n, "invite", err)
		return
	}
	a.tell(ctx, log, n, "Sent: "+mention(user)+" is invited to retake the audit.")
}
