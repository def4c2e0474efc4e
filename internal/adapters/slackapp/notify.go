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
// before is set for the calls made before the nudge is posted (opening the
// DM), which cannot have posted it whatever their outcome.
func nudgeErr(what string, err error, before bool) error {
	var rl *slack.RateLimitedError
	switch {
	case errors.Is(err, slackauth.ErrNotInstalled):
		// Uninstalled since it was scheduled: nothing can reach it there.
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrGone)
	case errors.As(err, &rl):
		return schedule.RetryAfter(max(rl.RetryAfter, time.Second), fmt.Errorf("%s: %w", what, err))
	case slackapi.Gone(err):
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrGone)
	case before || errors.Is(err, slackapi.ErrNotSent):
		return schedule.NotSent(fmt.Errorf("%s: %w", what, err))
	case errors.Is(err, slackapi.ErrOutcomeUnknown):
		// Written, and no answer says whether Slack posted it: verified
		// (UserNudged, ManagerNudged) before any resend.
		return schedule.Ambiguous(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err) // Slack refused it
}

// nudgeTag is the metadata a scheduled nudge is posted with: its
// occurrence, which UserNudged and ManagerNudged look for.
func nudgeTag(j schedule.Job) slackapi.Tag {
	return slackapi.Tag{Event: "itfit_nudge", Key: "occurrence", Value: j.Occurrence()}
}

// historySkew is how far before a nudge's due time its history is read
// from: Slack's clock and the replicas' may differ by that much.
const historySkew = time.Minute

// post sends a nudge, tagged with its occurrence when the scheduler is
// delivering it (an Invite, sent at once, has none to tag).
func (n *Outbox) post(ctx context.Context, ws conversation.WorkspaceID, channel string, m Message) error {
	if j, ok := schedule.Delivering(ctx); ok {
		_, err := n.slack.PostTagged(ctx, ws, channel, m, nudgeTag(j))
		return err
	}
	_, err := n.slack.Post(ctx, ws, channel, m)
	return err
}

// ToUser sends to the user's DM with the bot, opened afresh: a snoozed
// nudge knows no channel.
func (n *Outbox) ToUser(ctx context.Context, to conversation.Key, build func(chat.Who) chat.Message) error {
	if !slackapi.IsID(string(to.User)) {
		return fmt.Errorf("slack nudge to a malformed user ID: %w", schedule.ErrGone)
	}
	dm, err := n.slack.OpenDM(ctx, to.Workspace, string(to.User))
	if err != nil {
		return nudgeErr("open the user's DM", err, true)
	}
	m := build(chat.Who{Key: conversation.Key{UserKey: to.UserKey, Conversation: conversation.ConversationID(dm)}, Surface: chat.SurfaceSlash})
	if err := n.post(ctx, to.Workspace, dm, Render(m)); err != nil {
		return nudgeErr("post the user's nudge", err, false)
	}
	return nil
}

var _ revisit.Verifier = (*Outbox)(nil)

// UserNudged reports whether the user's DM holds the nudge j, posted since
// its due time: the scheduler asks before it sends again a nudge whose
// earlier attempt had an unknown outcome. It needs the im:history scope;
// without it the nudge cannot be verified (schedule.ErrUnverifiable).
func (n *Outbox) UserNudged(ctx context.Context, to conversation.Key, j schedule.Job) (bool, error) {
	if !slackapi.IsID(string(to.User)) {
		return false, fmt.Errorf("slack nudge to a malformed user ID: %w", schedule.ErrUnverifiable)
	}
	dm, err := n.slack.OpenDM(ctx, to.Workspace, string(to.User))
	if err != nil {
		return false, verifyErr("open the user's DM", err)
	}
	found, err := n.slack.FindTagged(ctx, to.Workspace, dm, nudgeTag(j), j.Due.Add(-historySkew))
	return found, verifyErr("look for the user's nudge", err)
}

// ManagerNudged is UserNudged for a manager's nudge: in their DM, or in
// the account team's channel (channels:history or groups:history).
func (n *Outbox) ManagerNudged(ctx context.Context, m revisit.Manager, _ conversation.Key, j schedule.Job) (bool, error) {
	if m.Platform != conversation.Slack || !slackapi.IsID(m.Target) || !slackapi.IsWorkspaceID(string(m.Workspace)) {
		return false, fmt.Errorf("slack manager %q: %w", m.Target, schedule.ErrUnverifiable)
	}
	channel, err := n.managerChannel(ctx, m)
	if err != nil {
		return false, verifyErr("open the manager's DM", err)
	}
	found, err := n.slack.FindTagged(ctx, m.Workspace, channel, nudgeTag(j), j.Due.Add(-historySkew))
	return found, verifyErr("look for the manager's nudge", err)
}

// verifyErr maps a failed check onto what the scheduler understands: a
// history the token cannot read will not become readable by asking again.
func verifyErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, slackapi.ErrNotSearchable), errors.Is(err, slackauth.ErrNotInstalled), slackapi.Gone(err):
		return fmt.Errorf("%s: %w: %w", what, err, schedule.ErrUnverifiable)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// managerChannel is where a manager's messages go: their DM, or the
// account team's channel.
func (n *Outbox) managerChannel(ctx context.Context, m revisit.Manager) (string, error) {
	if c := m.Target[0]; c == 'U' || c == 'W' {
		return n.slack.OpenDM(ctx, m.Workspace, m.Target)
	}
	return m.Target, nil
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
	channel, err := n.managerChannel(ctx, m)
	if err != nil {
		return nudgeErr("open the manager's DM", err, true)
	}
	if err := n.post(ctx, m.Workspace, channel, Render(msg)); err != nil {
		return nudgeErr("post the "+what, err, false)
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
