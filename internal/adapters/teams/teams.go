package teams

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
)

// Flows is what the adapter asks of the chat layer (*chat.Service).
type Flows interface {
	Handle(ctx context.Context, in chat.Input) []chat.Output
	Views() *chat.Views
}

// TokenValidator checks the token the Bot Connector sends with an activity.
type TokenValidator interface {
	Validate(ctx context.Context, authorization, channelID, serviceURL string) (botframework.Claims, error)
}

// Connector sends activities to the Bot Connector. CreateConversation opens
// the 1:1 chats that proactive nudges go to.
type Connector interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (schema.ResourceResponse, error)
	ReplyToActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) (schema.ResourceResponse, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) (schema.ResourceResponse, error)
	CreateConversation(ctx context.Context, serviceURL string, params schema.ConversationParameters) (schema.ConversationResourceResponse, error)
}

// Runner runs work after the HTTP answer has gone (background.Group). It
// never blocks: work it cannot take is refused at once.
type Runner interface {
	TryGo(ctx context.Context, tenant, name string, f func(ctx context.Context)) error
}

var (
	_ Flows          = (*chat.Service)(nil)
	_ TokenValidator = (*botframework.Validator)(nil)
	_ Connector      = (*botframework.Connector)(nil)
)

// DefaultMaxBody bounds an activity. Real ones are a few KiB; a card submit
// with every option chosen stays far below this.
const DefaultMaxBody = 256 << 10

// Options build a Handler. Flows, Validator, Connector, Redis and
// Background are required.
type Options struct {
	Flows     Flows
	Validator TokenValidator
	Connector Connector
	// Redis holds the conversation references.
	Redis  redis.UniversalClient
	Prefix keys.Prefix
	// ReferenceTTL is how long a user's conversation reference is kept: the
	// history retention, so a revisit due in a year can still reach them.
	ReferenceTTL time.Duration
	Background   Runner
	Metrics      *obs.Metrics
	Logger       *slog.Logger
	MaxBody      int64
}

// Handler serves POST /api/messages: it verifies the Bot Connector's
// token, translates the activity into the chat layer's input, and renders
// and sends its outputs.
type Handler struct {
	flows     Flows
	validator TokenValidator
	conn      Connector
	refs      *References
	bg        Runner
	metrics   *obs.Metrics
	log       *slog.Logger
	maxBody   int64
}

var _ http.Handler = (*Handler)(nil)

// New returns the handler.
func New(o Options) (*Handler, error) {
	if o.Flows == nil || o.Validator == nil || o.Connector == nil || o.Redis == nil || o.Background == nil {
		return nil, errors.New("teams: flows, validator, connector, redis and background runner are required")
	}
	h := &Handler{
		flows: o.Flows, validator: o.Validator, conn: o.Connector,
		refs: NewReferences(o.Redis, o.Prefix, o.ReferenceTTL),
		bg:   o.Background, metrics: o.Metrics, log: o.Logger, maxBody: o.MaxBody,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	return h, nil
}

// References is the store of conversation references, for forget.
func (h *Handler) References() *References { return h.refs }

// LoadReference returns how to reach a user proactively (see References).
func (h *Handler) LoadReference(ctx context.Context, u conversation.UserKey) (Reference, error) {
	return h.refs.Load(ctx, u)
}

// Rules are Teams' rules for revisits: a manager is named by their Teams
// user ID in the client's tenant, and an uninstall covers its tenant only.
func Rules() revisit.Rules { return revisit.Rules{} }

// ServeHTTP checks the request and acknowledges it at once; the work and the
// replies happen afterwards through the connector, so a slow connector never
// holds up the Bot Connector's call (it gives up after 15 seconds).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := obs.Logger(r.Context(), h.log)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("teams: activity too large", "limit", h.maxBody)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// The token is checked against the activity's channelId and serviceUrl,
	// so the body is decoded first, but nothing in it is acted on until the
	// token has passed.
	act := new(inbound)
	if err := json.Unmarshal(body, act); err != nil {
		log.Warn("teams: malformed activity", "err", err)
		http.Error(w, "malformed activity", http.StatusBadRequest)
		return
	}
	claims, err := h.validator.Validate(r.Context(), r.Header.Get("Authorization"), act.ChannelID, act.ServiceURL)
	if err != nil {
		// The error names the rule that failed, never the token.
		log.Warn("teams: rejected activity", "err", err, "channel", truncate(act.ChannelID, 40))
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	tenant := act.ChannelData.Tenant.ID
	if tenant == "" {
		tenant = act.Conversation.TenantID
	}
	if err := h.bg.TryGo(r.Context(), truncate(tenant, 64), "teams activity", func(ctx context.Context) {
		h.turn(ctx, act, claims)
	}); err != nil {
		// The pool (or this tenant's share of it) is full: the Bot
		// Connector is told to try again later, and nothing was done.
		log.Warn("teams work shed", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy, try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// turn handles one validated activity.
func (h *Handler) turn(ctx context.Context, a *inbound, claims botframework.Claims) {
	log := obs.Logger(ctx, h.log).With("activity_type", string(a.Type), "conversation_type", a.Conversation.ConversationType)
	if a.ChannelID != "msteams" {
		// The bot is built for Teams: its session keys need a tenant. Other
		// channels (Web Chat in the Azure portal) get nothing.
		log.Info("teams: ignoring activity from another channel", "channel", truncate(a.ChannelID, 40))
		return
	}
	k, ok := a.key()
	if !ok {
		log.Warn("teams: activity without a valid tenant, user or conversation; ignored")
		return
	}
	t := &turnCtx{h: h, a: a, serviceURL: claims.ServiceURL, log: log}
	who := a.who(k)
	switch a.Type {
	case schema.Message:
		in, ok := a.input(who)
		if !ok {
			return
		}
		if a.refreshesReference() {
			h.saveReference(ctx, t, who)
		}
		t.deliver(ctx, h.flows.Handle(ctx, in))
	case schema.ConversationUpdate:
		// Say hello once, when the bot itself is added to a personal chat.
		if who.Group {
			return
		}
		for _, m := range a.MembersAdded {
			if m.ID == a.Recipient.ID {
				t.send(ctx, activity(h.flows.Views().Help(who)))
				return
			}
		}
	default:
		// Reactions, typing, invokes: nothing to do. Card buttons are
		// Action.Submit, which arrive as messages.
		log.Debug("teams: activity type not handled")
	}
}

func (h *Handler) saveReference(ctx context.Context, t *turnCtx, who chat.Who) {
	a := t.a
	err := h.refs.Save(ctx, who.Key.UserKey, Reference{
		ServiceURL:       t.serviceURL,
		ChannelID:        a.ChannelID,
		ConversationID:   a.Conversation.ID,
		ConversationType: a.Conversation.ConversationType,
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		TenantID:         string(who.Key.Workspace),
		UserID:           a.From.ID,
		AADObjectID:      a.From.AadObjectID,
		UserName:         who.Name,
		UpdatedAt:        time.Now().UTC(),
	})
	if err != nil {
		h.metrics.StoreError(string(conversation.Teams))
		t.log.Error("teams: save conversation reference", "err", err)
	}
}

// turnCtx is one activity being handled.
type turnCtx struct {
	h          *Handler
	a          *inbound
	serviceURL string
	log        *slog.Logger
}

// deliver sends what the flows said to show: posts and notes as replies
// (in the thread, in channels and group chats), replacements as an update
// of the card pressed.
func (t *turnCtx) deliver(ctx context.Context, outs []chat.Output) {
	for _, o := range outs {
		switch o.Op {
		case chat.Replace:
			t.replace(ctx, o.Msg)
		default:
			t.send(ctx, activity(o.Msg))
		}
	}
}

// replace updates the card whose button was pressed (the submit's
// replyToId) so that it shows what happened and has no live buttons.
func (t *turnCtx) replace(ctx context.Context, m chat.Message) {
	if t.a.ReplyToID == "" {
		return
	}
	act := schema.Activity{Type: schema.Message, Summary: m.Summary, Attachments: []schema.Attachment{cardAttachment(m)}}
	_, err := t.h.conn.UpdateActivity(ctx, t.serviceURL, t.a.Conversation.ID, t.a.ReplyToID, act)
	t.observe("update_activity", err)
}

// send posts a reply: to the chat in personal scope, in the thread in
// channels and group chats.
func (t *turnCtx) send(ctx context.Context, act schema.Activity) {
	act.From = t.a.Recipient
	act.Recipient = t.a.From
	act.Conversation = t.a.Conversation
	var err error
	call := "send_to_conversation"
	if t.a.group() && t.a.ID != "" {
		call = "reply_to_activity"
		_, err = t.h.conn.ReplyToActivity(ctx, t.serviceURL, t.a.Conversation.ID, t.a.ID, act)
	} else {
		_, err = t.h.conn.SendToConversation(ctx, t.serviceURL, t.a.Conversation.ID, act)
	}
	t.observe(call, err)
	if err != nil && len(act.Attachments) > 0 && !errors.Is(err, botframework.ErrForbidden) &&
		!errors.Is(err, botframework.ErrTokenFetch) && !errors.Is(err, botframework.ErrTransient) {
		// The card itself was refused (Teams answers 400 to a card it will
		// not render); a plain note may still get through.
		note := activity(t.h.flows.Views().CardRefused())
		note.From, note.Recipient, note.Conversation = act.From, act.Recipient, act.Conversation
		_, err := t.h.conn.SendToConversation(ctx, t.serviceURL, t.a.Conversation.ID, note)
		t.observe("send_to_conversation", err)
	}
}

func (t *turnCtx) observe(call string, err error) {
	if err == nil {
		t.h.metrics.PlatformCall("teams", call, "ok")
		return
	}
	t.h.metrics.PlatformCall("teams", call, "failed")
	t.log.Error("teams: connector call failed", "call", call, "err", err)
}
