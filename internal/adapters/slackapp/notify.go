package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/slackauth"
)

// Notifier delivers revisit nudges in Slack, each with the token of the
// workspace it is delivered in: the client's for their own nudge, the
// manager's (possibly the provider's workspace) for a manager's nudge or a
// shared card. Unlike the interactive paths it never waits out a 429 but
// hands Slack's Retry-After to the scheduler.
type Notifier struct {
	slack *client
	log   *slog.Logger
}

var _ revisit.Notifier = (*Notifier)(nil)

// Notifier returns the adapter's revisit notifier, for
// revisit.Service.Register(conversation.Slack, …).
func (a *App) Notifier() *Notifier {
	return &Notifier{slack: a.slack.forNudges(), log: a.log}
}

// goneErrors are Slack's answers that mean the recipient or the bot is gone
// for good, so a retry would only fail again. missing_scope is not among
// them: an operator fixes it by reinstalling, and the scheduler's retries
// (then its dead letters) keep the nudge until then.
var goneErrors = map[string]bool{
	"account_inactive":        true, // the bot's token belongs to a deactivated user or workspace
	"invalid_auth":            true,
	"token_revoked":           true,
	"not_authed":              true,
	"team_access_not_granted": true,
	"user_not_found":          true,
	"user_disabled":           true,
	"cannot_dm_bot":           true,
	"channel_not_found":       true,
	"not_in_channel":          true,
	"is_archived":             true,
	"restricted_action":       true,
}

// nudgeErr maps a Web API failure onto what the scheduler understands.
func nudgeErr(what string, err error) error {
	if errors.Is(err, slackauth.ErrNotInstalled) {
		// Uninstalled since it was scheduled: nothing can reach it there.
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrGone)
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return schedule.RetryAfter(max(rl.RetryAfter, time.Second), fmt.Errorf("%s: %w", what, err))
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && goneErrors[se.Err] {
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrGone)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// NudgeUser sends the user's reminder (or their manager's invitation) to
// their DM with the bot, opened afresh: a snoozed nudge knows no channel.
func (n *Notifier) NudgeUser(ctx context.Context, to conversation.Key, last conversation.Result, why revisit.Reason) error {
	if !isSlackID(string(to.User)) {
		return fmt.Errorf("slack nudge to a malformed user ID: %w", schedule.ErrGone)
	}
	dm, err := n.slack.openDM(ctx, to.Workspace, string(to.User))
	if err != nil {
		return nudgeErr("open the user's DM", err)
	}
	if _, err := n.slack.post(ctx, to.Workspace, dm, NudgeMessage(last, why)); err != nil {
		return nudgeErr("post the user's nudge", err)
	}
	return nil
}

// NudgeManager tells the manager (a user, in a DM, or a channel) that the
// client's revisit is due, with the Invite button.
func (n *Notifier) NudgeManager(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	return n.toManager(ctx, m, "manager nudge", ManagerNudgeMessage(client.UserKey, n.clientLabel(ctx, m, client.UserKey), last))
}

// ShareResult sends the client's card to the manager now.
func (n *Notifier) ShareResult(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	return n.toManager(ctx, m, "shared card", SharedCardMessage(n.clientLabel(ctx, m, client.UserKey), last))
}

// clientLabel is how a manager's message names the client, as mrkdwn. In
// the client's own workspace that is a mention. A manager in another
// workspace (the provider's) would see a mention of a user Slack cannot
// resolve there, so the client is named in words: their Slack name, read
// with the client workspace's token, and the workspace's name from its
// installation. A lookup that fails degrades to IDs; it never holds up the
// nudge.
func (n *Notifier) clientLabel(ctx context.Context, m revisit.Manager, client conversation.UserKey) string {
	if m.Workspace == client.Workspace || !isSlackID(string(client.User)) || !isWorkspaceID(string(client.Workspace)) {
		return mention(string(client.User))
	}
	place := "workspace " + string(client.Workspace)
	if ins := n.slack.apis.installs; ins != nil {
		ent, team := splitWorkspace(client.Workspace)
		in, err := ins.Get(ctx, ent, team)
		switch {
		case err != nil:
			n.log.Warn("could not name the client's workspace for their manager", "workspace", client.Workspace, "err", err)
		case in.TeamName != "":
			place = "*" + esc(clamp(in.TeamName, 100)) + "*"
		}
	}
	name, err := n.slack.userName(ctx, client.Workspace, string(client.User))
	if err != nil {
		n.log.Warn("could not name the client for their manager", "workspace", client.Workspace, "user", client.User, "err", err)
		return "a client in " + place + " (Slack user " + string(client.User) + ")"
	}
	return "*" + esc(clamp(name, 100)) + "* (" + place + ")"
}

func (n *Notifier) toManager(ctx context.Context, m revisit.Manager, what string, msg Message) error {
	if m.Platform != conversation.Slack || !isSlackID(m.Target) || !isWorkspaceID(string(m.Workspace)) {
		return fmt.Errorf("slack %s to %q: not a Slack user or channel: %w", what, m.Target, schedule.ErrGone)
	}
	channel := m.Target
	if c := m.Target[0]; c == 'U' || c == 'W' {
		dm, err := n.slack.openDM(ctx, m.Workspace, m.Target)
		if err != nil {
			return nudgeErr("open the manager's DM", err)
		}
		channel = dm
	}
	if _, err := n.slack.post(ctx, m.Workspace, channel, msg); err != nil {
		return nudgeErr("post the "+what, err)
	}
	return nil
}
