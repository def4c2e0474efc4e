package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/slackauth"
)

// Outbox delivers the chat layer's nudges in Slack, each with the token of
// the workspace it is delivered in: the client's for their own nudge, the
// manager's (possibly the provider's workspace) for a manager's nudge or a
// shared card. Unlike the interactive paths it never waits out a 429 but
// hands Slack's Retry-After to the scheduler.
type Outbox struct {
	slack *slackapi.Client
	log   *slog.Logger
}

var _ chat.Outbox = (*Outbox)(nil)

// Outbox returns the adapter's outbox, for chat.Service.Notifier, whose
// notifier revisit.Service.Register(conversation.Slack, …) takes.
func (a *App) Outbox() *Outbox {
	return &Outbox{slack: a.slack.ForNudges(), log: a.log}
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
	if slackapi.Gone(err) {
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrGone)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ToUser sends to the user's DM with the bot, opened afresh: a snoozed
// nudge knows no channel.
func (n *Outbox) ToUser(ctx context.Context, to conversation.Key, build func(chat.Who) chat.Message) error {
	if !slackapi.IsID(string(to.User)) {
		return fmt.Errorf("slack nudge to a malformed user ID: %w", schedule.ErrGone)
	}
	dm, err := n.slack.OpenDM(ctx, to.Workspace, string(to.User))
	if err != nil {
		return nudgeErr("open the user's DM", err)
	}
	m := build(chat.Who{Key: conversation.Key{UserKey: to.UserKey, Conversation: conversation.ConversationID(dm)}, Surface: chat.SurfaceSlash})
	if _, err := n.slack.Post(ctx, to.Workspace, dm, Render(m)); err != nil {
		return nudgeErr("post the user's nudge", err)
	}
	return nil
}

// Client is how a manager's message names the client. In the client's own
// workspace that is a mention. A manager in another workspace (the
// provider's) would see a mention of a user Slack cannot resolve there, so
// the client is named: their Slack name, read with the client workspace's
// token, and the workspace's name from its installation. A lookup that
// fails degrades to IDs; it never holds up the nudge.
func (n *Outbox) Client(ctx context.Context, m revisit.Manager, client conversation.UserKey) chat.ClientInfo {
	if m.Workspace == client.Workspace || !slackapi.IsID(string(client.User)) || !slackapi.IsWorkspaceID(string(client.Workspace)) {
		return chat.ClientInfo{Mention: true}
	}
	var info chat.ClientInfo
	switch in, ok, err := n.slack.Installation(ctx, client.Workspace); {
	case err != nil:
		n.log.Warn("could not name the client's workspace for their manager", "workspace", client.Workspace, "err", err)
	case ok:
		info.Place = in.TeamName
	}
	name, err := n.slack.UserName(ctx, client.Workspace, string(client.User))
	if err != nil {
		n.log.Warn("could not name the client for their manager", "workspace", client.Workspace, "user", client.User, "err", err)
	}
	info.Name = name
	return info
}

// ToManager posts to the manager: a user in a DM, or a channel.
func (n *Outbox) ToManager(ctx context.Context, m revisit.Manager, _ conversation.Key, msg chat.Message) error {
	what := string(msg.Kind)
	if m.Platform != conversation.Slack || !slackapi.IsID(m.Target) || !slackapi.IsWorkspaceID(string(m.Workspace)) {
		return fmt.Errorf("slack %s to %q: not a Slack user or channel: %w", what, m.Target, schedule.ErrGone)
	}
	channel := m.Target
	if c := m.Target[0]; c == 'U' || c == 'W' {
		dm, err := n.slack.OpenDM(ctx, m.Workspace, m.Target)
		if err != nil {
			return nudgeErr("open the manager's DM", err)
		}
		channel = dm
	}
	if _, err := n.slack.Post(ctx, m.Workspace, channel, Render(msg)); err != nil {
		return nudgeErr("post the "+what, err)
	}
	return nil
}

var (
	_ chat.Uploader    = (*Outbox)(nil)
	_ chat.ClientNamer = (*Outbox)(nil)
)

// Upload puts a file in the person's DM with itfit (an account manager's
// export): files.getUploadURLExternal, the upload, and
// files.completeUploadExternal, which needs the files:write scope. A 429
// is handed back for the person to be told when to try again.
func (n *Outbox) Upload(ctx context.Context, to conversation.UserKey, f chat.File) error {
	dm, err := n.slack.OpenDM(ctx, to.Workspace, string(to.User))
	if err == nil {
		err = n.slack.Upload(ctx, to.Workspace, dm, f.Name, f.Title, mrk(f.Comment), f.Data)
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &chat.ThrottledError{After: rl.RetryAfter, Err: err}
	}
	return err
}

// Clients names many clients without a call per client: a mention in the
// manager's own workspace, else the client workspace's name from its
// installation (once per workspace). Users' names need users.info, one
// call each; a page of the desk asks Client for them.
func (n *Outbox) Clients(ctx context.Context, m revisit.Manager, cs []conversation.UserKey) []chat.ClientInfo {
	out := make([]chat.ClientInfo, len(cs))
	places := map[conversation.WorkspaceID]string{}
	for i, c := range cs {
		if m.Workspace == c.Workspace {
			out[i].Mention = true
			continue
		}
		place, ok := places[c.Workspace]
		if !ok {
			if in, found, err := n.slack.Installation(ctx, c.Workspace); err == nil && found {
				place = in.TeamName
			}
			places[c.Workspace] = place
		}
		out[i].Place = place
	}
	return out
}
