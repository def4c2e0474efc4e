package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// Outbox sends revisit nudges and shared results to Teams as proactive
// messages, through the references saved from people's own activities: a
// serviceUrl is only ever one that a validated token bound.
type Outbox struct {
	conn    Connector
	refs    *conversation.TeamsReferences
	metrics *obs.Metrics
	log     *slog.Logger
}

var _ chat.Outbox = (*Outbox)(nil)

// Outbox returns the handler's outbox, sharing its connector and reference
// store, for chat.Service.Notifier.
func (h *Handler) Outbox() *Outbox {
	return &Outbox{conn: h.conn, refs: h.refs, metrics: h.metrics, log: h.log.With("component", "teams-outbox")}
}

// ToUser sends to the user's personal chat with the bot if they have one,
// else a 1:1 chat created for it, else (a bot added only to a team the user
// cannot be messaged from) the conversation they last used, where the
// message says whose it is.
func (n *Outbox) ToUser(ctx context.Context, to conversation.Key, build func(chat.Who) chat.Message) error {
	ref, err := n.refs.Load(ctx, to.UserKey)
	if err != nil {
		return n.mapErr("nudge user", schedule.NotSent(err))
	}
	who := chat.Who{Key: to, Name: ref.UserName, Surface: chat.SurfaceChat}
	if ref.ConversationType != personalChat {
		conv, err := n.createPersonal(ctx, ref.ServiceURL, ref.BotID, ref.TenantID, ref.UserID)
		switch {
		case err == nil:
			ref.ConversationID, ref.ConversationType = conv, personalChat
		case errors.Is(err, botframework.ErrForbidden), errors.Is(err, botframework.ErrNotFound):
			// The app is not installed for the user personally; the
			// conversation where they took the audit still reaches them.
			who.Group, who.Surface = true, chat.SurfaceMention
			n.log.InfoContext(ctx, "teams: no 1:1 chat with the user; nudging in their last conversation", "err", err)
		default:
			return n.mapErr("nudge user", schedule.NotSent(err))
		}
	}
	who.Key.Conversation = conversation.ConversationID(ref.ConversationID)
	return n.mapErr("nudge user", n.send(ctx, ref, activityFor(build(who), ownerOf(to.User, ref.UserID))))
}

// Client names a client for their manager: the name Teams showed when
// they last wrote to the bot. A missing name is not worth failing over.
func (n *Outbox) Client(ctx context.Context, _ revisit.Manager, client conversation.UserKey) chat.ClientInfo {
	if ref, err := n.refs.Load(ctx, client); err == nil {
		return chat.ClientInfo{Name: ref.UserName}
	}
	return chat.ClientInfo{}
}

var _ chat.ClientNamer = (*Outbox)(nil)

// Clients names many clients at once: the names Teams showed when they
// last wrote to the bot, read in one round trip.
func (n *Outbox) Clients(ctx context.Context, _ revisit.Manager, cs []conversation.UserKey) []chat.ClientInfo {
	out := make([]chat.ClientInfo, len(cs))
	for i, name := range n.refs.Names(ctx, cs) {
		out[i].Name = name
	}
	return out
}

// ToManager sends a message to an account manager, a Teams user in the
// client's tenant.
func (n *Outbox) ToManager(ctx context.Context, m revisit.Manager, client conversation.Key, msg chat.Message) error {
	return n.mapErr(string(msg.Kind), n.toManager(ctx, m, client, activity(msg)))
}

// toManager reaches an account manager, a Teams user in the client's
// tenant: their personal chat if they ever used the bot under that ID, else
// a 1:1 chat created through the client's serviceUrl.
func (n *Outbox) toManager(ctx context.Context, m revisit.Manager, client conversation.Key, act schema.Activity) error {
	if m.Platform != conversation.Teams || m.Target == "" {
		return fmt.Errorf("teams: manager %q on %q: %w", m.Target, m.Platform, schedule.ErrGone)
	}
	mk := conversation.UserKey{Platform: conversation.Teams, Workspace: m.Workspace, User: conversation.UserID(m.Target)}
	if ref, err := n.refs.Load(ctx, mk); err == nil && ref.ConversationType == personalChat {
		return n.send(ctx, ref, act)
	} else if err != nil && !errors.Is(err, conversation.ErrNoTeamsReference) {
		return schedule.NotSent(err)
	}
	cref, err := n.refs.Load(ctx, client.UserKey)
	if err != nil {
		// Without the client's reference there is no trusted serviceUrl to
		// create the chat through.
		return schedule.NotSent(err)
	}
	tenant := string(m.Workspace)
	if tenant == "" {
		tenant = cref.TenantID
	}
	conv, err := n.createPersonal(ctx, cref.ServiceURL, cref.BotID, tenant, m.Target)
	if err != nil {
		return schedule.NotSent(err)
	}
	return n.send(ctx, conversation.TeamsReference{
		ServiceURL: cref.ServiceURL, ChannelID: cref.ChannelID, ConversationID: conv, ConversationType: personalChat,
		BotID: cref.BotID, BotName: cref.BotName, TenantID: tenant, UserID: m.Target,
	}, act)
}

// createPersonal opens (or finds: Teams returns the existing one) the 1:1
// chat between the bot and a user.
func (n *Outbox) createPersonal(ctx context.Context, serviceURL, botID, tenant, user string) (string, error) {
	res, err := n.conn.CreateConversation(ctx, serviceURL, schema.ConversationParameters{
		Bot:         schema.ChannelAccount{ID: botID},
		Members:     []schema.ChannelAccount{{ID: user}},
		TenantID:    tenant,
		ChannelData: map[string]any{"tenant": map[string]any{"id": tenant}},
	})
	n.observe("create_conversation", err)
	if err != nil {
		return "", err
	}
	if res.ID == "" {
		return "", fmt.Errorf("teams: create conversation: no conversation ID in the answer")
	}
	return res.ID, nil
}

func (n *Outbox) send(ctx context.Context, ref conversation.TeamsReference, act schema.Activity) error {
	act.From = schema.ChannelAccount{ID: ref.BotID, Name: ref.BotName}
	act.Recipient = schema.ChannelAccount{ID: ref.UserID, Name: ref.UserName}
	act.Conversation = schema.ConversationAccount{ID: ref.ConversationID, ConversationType: ref.ConversationType, TenantID: ref.TenantID}
	// A send whose outcome is unknown is not repeated by the connector:
	// the scheduler decides (Teams cannot tell whether it was posted).
	_, err := n.conn.SendToConversation(botframework.SendOnce(ctx), ref.ServiceURL, ref.ConversationID, act)
	n.observe("send_to_conversation", err)
	return err
}

func (n *Outbox) observe(call string, err error) {
	switch {
	case err == nil:
		n.metrics.PlatformCall("teams", call, "ok")
	case isThrottled(err):
		n.metrics.PlatformCall("teams", call, "retried")
	default:
		n.metrics.PlatformCall("teams", call, "failed")
	}
}

func isThrottled(err error) bool {
	var api *botframework.APIError
	return errors.As(err, &api) && api.StatusCode == http.StatusTooManyRequests
}

// mapErr turns a send failure into what the scheduler acts on: Teams
// saying the bot or the recipient is gone (403: uninstalled or blocked;
// 404: the conversation no longer exists), or no reference left to reach
// them by, drops the nudge; a 429's Retry-After becomes the retry delay.
// The connector has already retried what it could within its own budget,
// and hands back the last answer with its Retry-After. A send that was
// written without a clear answer (a timeout, a reset, a 5xx) is
// ambiguous: Teams offers no way to ask whether it was posted, so the
// scheduler's resend rule decides. One that never went out (no token, a
// failed dial, the lookups and the chat creation before it) is not sent,
// which the scheduler retries even after a timeout.
func (n *Outbox) mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var api *botframework.APIError
	switch {
	case errors.Is(err, botframework.ErrForbidden), errors.Is(err, botframework.ErrNotFound), errors.Is(err, conversation.ErrNoTeamsReference):
		return fmt.Errorf("teams: %s: %w: %w", op, err, schedule.ErrGone)
	case errors.As(err, &api) && api.StatusCode == http.StatusTooManyRequests && api.RetryAfter > 0:
		return schedule.RetryAfter(api.RetryAfter, fmt.Errorf("teams: %s: %w", op, err))
	case errors.Is(err, schedule.ErrNotSent):
		return fmt.Errorf("teams: %s: %w", op, err)
	case errors.Is(err, botframework.ErrOutcomeUnknown):
		return schedule.Ambiguous(fmt.Errorf("teams: %s: %w", op, err))
	case errors.Is(err, botframework.ErrNotSent):
		return schedule.NotSent(fmt.Errorf("teams: %s: %w", op, err))
	}
	return fmt.Errorf("teams: %s: %w", op, err)
}
