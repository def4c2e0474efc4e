package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// Notifier sends revisit nudges and shared results to Teams as proactive
// messages, through the references saved from people's own activities: a
// serviceUrl is only ever one that a validated token bound.
type Notifier struct {
	conn    Connector
	refs    *References
	metrics *obs.Metrics
	log     *slog.Logger
}

var _ revisit.Notifier = (*Notifier)(nil)

// Notifier returns the handler's notifier, sharing its connector and
// reference store; register it with revisit.Service.Register.
func (h *Handler) Notifier() *Notifier {
	return &Notifier{conn: h.conn, refs: h.refs, metrics: h.metrics, log: h.log.With("component", "teams-notifier")}
}

// NudgeUser sends the user the nudge card: to their personal chat with the
// bot if they have one, else a 1:1 chat created for it, else (a bot added
// only to a team the user cannot be messaged from) the conversation they
// last used.
func (n *Notifier) NudgeUser(ctx context.Context, to conversation.Key, last conversation.Result, why revisit.Reason) error {
	ref, err := n.refs.Load(ctx, to.UserKey)
	if err != nil {
		return n.mapErr("nudge user", err)
	}
	who := Asker{ID: to.User, Name: ref.UserName}
	if ref.ConversationType != personalChat {
		conv, err := n.createPersonal(ctx, ref.ServiceURL, ref.BotID, ref.TenantID, ref.UserID)
		switch {
		case err == nil:
			ref.ConversationID, ref.ConversationType = conv, personalChat
		case errors.Is(err, botframework.ErrForbidden), errors.Is(err, botframework.ErrNotFound):
			// The app is not installed for the user personally; the
			// conversation where they took the audit still reaches them.
			who.Group = true
			n.log.InfoContext(ctx, "teams: no 1:1 chat with the user; nudging in their last conversation", "err", err)
		default:
			return n.mapErr("nudge user", err)
		}
	}
	act := cardActivity(NudgeCard(last, why, who))
	act.Summary = "Time to revisit your IT decision"
	if why == revisit.Invited {
		act.Summary = "Your account manager invited you to retake the itfit audit"
	}
	return n.mapErr("nudge user", n.send(ctx, ref, act))
}

// NudgeManager sends the account manager the client's last result with an
// Invite button. The button names the client; the handler acts on it only
// when the presser is that client's manager (Reminders.ManagerOf).
func (n *Notifier) NudgeManager(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	c := n.client(ctx, client)
	act := cardActivity(ManagerNudgeCard(c, last, conversation.UserID(m.Target)))
	act.Summary = "Revisit due: " + c.label() + "'s IT decision"
	return n.mapErr("nudge manager", n.toManager(ctx, m, client, act))
}

// ShareResult sends the manager the client's result now.
func (n *Notifier) ShareResult(ctx context.Context, m revisit.Manager, client conversation.Key, last conversation.Result) error {
	c := n.client(ctx, client)
	act := cardActivity(SharedResultCard(c, last))
	act.Summary = c.label() + " shared their itfit result with you"
	return n.mapErr("share result", n.toManager(ctx, m, client, act))
}

// client names the client for a manager's card; a missing name is not
// worth failing the nudge over.
func (n *Notifier) client(ctx context.Context, k conversation.Key) Client {
	c := Client{Key: k}
	if ref, err := n.refs.Load(ctx, k.UserKey); err == nil {
		c.Name = ref.UserName
	}
	return c
}

// toManager reaches an account manager, a Teams user in the client's
// tenant: their personal chat if they ever used the bot under that ID, else
// a 1:1 chat created through the client's serviceUrl.
func (n *Notifier) toManager(ctx context.Context, m revisit.Manager, client conversation.Key, act schema.Activity) error {
	if m.Platform != conversation.Teams || m.Target == "" {
		return fmt.Errorf("teams: manager %q on %q: %w", m.Target, m.Platform, schedule.ErrGone)
	}
	mk := conversation.UserKey{Platform: conversation.Teams, Workspace: m.Workspace, User: conversation.UserID(m.Target)}
	if ref, err := n.refs.Load(ctx, mk); err == nil && ref.ConversationType == personalChat {
		return n.send(ctx, ref, act)
	} else if err != nil && !errors.Is(err, ErrNoReference) {
		return err
	}
	cref, err := n.refs.Load(ctx, client.UserKey)
	if err != nil {
		// Without the client's reference there is no trusted serviceUrl to
		// create the chat through.
		return err
	}
	tenant := string(m.Workspace)
	if tenant == "" {
		tenant = cref.TenantID
	}
	conv, err := n.createPersonal(ctx, cref.ServiceURL, cref.BotID, tenant, m.Target)
	if err != nil {
		return err
	}
	return n.send(ctx, Reference{
		ServiceURL: cref.ServiceURL, ChannelID: cref.ChannelID, ConversationID: conv, ConversationType: personalChat,
		BotID: cref.BotID, BotName: cref.BotName, TenantID: tenant, UserID: m.Target,
	}, act)
}

// createPersonal opens (or finds: Teams returns the existing one) the 1:1
// chat between the bot and a user.
func (n *Notifier) createPersonal(ctx context.Context, serviceURL, botID, tenant, user string) (string, error) {
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

func (n *Notifier) send(ctx context.Context, ref Reference, act schema.Activity) error {
	act.From = schema.ChannelAccount{ID: ref.BotID, Name: ref.BotName}
	act.Recipient = schema.ChannelAccount{ID: ref.UserID, Name: ref.UserName}
	act.Conversation = schema.ConversationAccount{ID: ref.ConversationID, ConversationType: ref.ConversationType, TenantID: ref.TenantID}
	_, err := n.conn.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, act)
	n.observe("send_to_conversation", err)
	return err
}

func (n *Notifier) observe(call string, err error) {
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
// and hands back the last answer with its Retry-After.
func (n *Notifier) mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var api *botframework.APIError
	switch {
	case errors.Is(err, botframework.ErrForbidden), errors.Is(err, botframework.ErrNotFound), errors.Is(err, ErrNoReference):
		return fmt.Errorf("teams: %s: %w: %w", op, err, schedule.ErrGone)
	case errors.As(err, &api) && api.StatusCode == http.StatusTooManyRequests && api.RetryAfter > 0:
		return schedule.RetryAfter(api.RetryAfter, fmt.Errorf("teams: %s: %w", op, err))
	}
	return fmt.Errorf("teams: %s: %w", op, err)
}
