package teams

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/wirejson"
)

// Flows is what the adapter asks of the chat layer (*chat.Service).
type Flows interface {
	Handle(ctx context.Context, in chat.Input) []chat.Output
	Views() *chat.Views
	ViewsIn(l locale.Lang) *chat.Views
}

// TokenValidator checks the token the Bot Connector sends with an activity.
// Authentic is true for a token Validate has verified before and that still
// holds.
type TokenValidator interface {
	Validate(ctx context.Context, authorization, channelID, serviceURL string) (botframework.Claims, error)
	Authentic(authorization string) bool
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
	// Tenants, when not empty, are the only tenants served (a single-tenant
	// bot's own, or ITFIT_TEAMS_TENANTS); an activity of any other is
	// refused before anything is stored. Empty: every tenant.
	Tenants []string
	// ActivityTTL is how long an activity's ID is remembered, so that a
	// redelivery has no second effect; default DefaultActivityTTL.
	ActivityTTL time.Duration
	// WelcomeTTL is how long a conversation is remembered as greeted;
	// default DefaultWelcomeTTL.
	WelcomeTTL time.Duration
}

// DefaultActivityTTL covers the Bot Connector's redeliveries, which come
// within seconds to a few minutes of the first attempt.
const DefaultActivityTTL = 10 * time.Minute

// DefaultWelcomeTTL is how long a team or group chat is not greeted again.
const DefaultWelcomeTTL = 30 * 24 * time.Hour

// Handler serves POST /api/messages: it verifies the Bot Connector's
// token, translates the activity into the chat layer's input, and renders
// and sends its outputs.
type Handler struct {
	flows     Flows
	validator TokenValidator
	conn      Connector
	refs      *conversation.TeamsReferences
	rdb       redis.UniversalClient
	prefix    keys.Prefix
	bg        Runner
	metrics   *obs.Metrics
	log       *slog.Logger
	maxBody   int64
	tenants   map[string]bool // nil: every tenant
	actTTL    time.Duration
	helloTTL  time.Duration
}

var _ http.Handler = (*Handler)(nil)

// New returns the handler.
func New(o Options) (*Handler, error) {
	if o.Flows == nil || o.Validator == nil || o.Connector == nil || o.Redis == nil || o.Background == nil {
		return nil, errors.New("teams: flows, validator, connector, redis and background runner are required")
	}
	if o.Prefix == "" {
		o.Prefix = keys.Default
	}
	h := &Handler{
		flows: o.Flows, validator: o.Validator, conn: o.Connector,
		refs: conversation.NewTeamsReferences(o.Redis, o.Prefix, o.ReferenceTTL), rdb: o.Redis, prefix: o.Prefix,
		bg: o.Background, metrics: o.Metrics, log: o.Logger, maxBody: o.MaxBody,
		actTTL: o.ActivityTTL, helloTTL: o.WelcomeTTL,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.actTTL <= 0 {
		h.actTTL = DefaultActivityTTL
	}
	if h.helloTTL <= 0 {
		h.helloTTL = DefaultWelcomeTTL
	}
	if len(o.Tenants) > 0 {
		h.tenants = map[string]bool{}
		for _, t := range o.Tenants {
			h.tenants[strings.ToLower(t)] = true
		}
	}
	return h, nil
}

// References is the store of conversation references, for forget.
func (h *Handler) References() *conversation.TeamsReferences { return h.refs }

// LoadReference returns how to reach a user proactively (see
// conversation.TeamsReferences).
func (h *Handler) LoadReference(ctx context.Context, u conversation.UserKey) (conversation.TeamsReference, error) {
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
	act, claims, code, err := h.authenticate(r.Context(), r.Header.Get("Authorization"), body)
	switch code {
	case http.StatusBadRequest:
		log.Warn("teams: malformed activity", "err", err)
		http.Error(w, "malformed activity", http.StatusBadRequest)
		return
	case http.StatusUnauthorized:
		// The error names the rule that failed, never the token.
		log.Warn("teams: rejected activity", "err", err, "channel", truncate(act.ChannelID, 40))
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	tenant := act.ChannelData.Tenant.ID
	if tenant == "" {
		tenant = act.Conversation.TenantID
	}
	if !h.serves(act) {
		// Authentic, but for a tenant this bot does not serve (a
		// single-tenant bot installed elsewhere, or one left out of
		// ITFIT_TEAMS_TENANTS). 403 rather than 200: it is the truth, the
		// Bot Connector does not redeliver a 4xx other than 429, and the
		// other tenant's user is not left believing itfit heard them.
		// Nothing is stored; the log has enough of the tenant to tell which.
		log.Warn("teams: activity from a tenant this bot does not serve; refused", "tenant", tenantHint(tenant), "activity_type", truncate(string(act.Type), 40))
		http.Error(w, "this bot does not serve that tenant", http.StatusForbidden)
		return
	}
	status, body := http.StatusOK, []byte(nil)
	work := true
	if act.Type == schema.Invoke {
		status, body, work = h.invokeResponse(act)
	}
	if work {
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
	}
	if body != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	w.WriteHeader(status)
}

// serves reports whether the activity's tenant is one this bot serves:
// any, without an allow-list; else both tenant fields, where set, must be
// on it (an activity naming no tenant at all is refused).
func (h *Handler) serves(a *inbound) bool {
	if h.tenants == nil {
		return true
	}
	t1, t2 := strings.ToLower(a.ChannelData.Tenant.ID), strings.ToLower(a.Conversation.TenantID)
	if t1 == "" && t2 == "" {
		return false
	}
	return (t1 == "" || h.tenants[t1]) && (t2 == "" || h.tenants[t2])
}

// tenantHint is enough of a tenant ID to tell tenants apart in a log.
func tenantHint(t string) string {
	if len(t) > 8 {
		return t[:8] + "…"
	}
	return t
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// turn handles one validated activity.
func (h *Handler) turn(ctx context.Context, a *inbound, claims botframework.Claims) {
	log := obs.Logger(ctx, h.log).With("activity_type", truncate(string(a.Type), 40), "conversation_type", a.convType())
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
	switch a.Type {
	case schema.Message:
		if a.fromBot() {
			log.Debug("teams: a bot's message; ignored")
			return
		}
	}
	t := &turnCtx{h: h, a: a, serviceURL: claims.ServiceURL, log: log}
	who := a.who(k)
	switch a.Type {
	case schema.Message, schema.Invoke:
		if a.From.AadObjectID == "" {
			// Some activities (and some clients' card submits) come
			// without the Entra ID the user's audits are keyed by: find it
			// by the Teams ID, if a reference saved the pair.
			aad, err := h.refs.Alias(ctx, string(k.Workspace), a.From.ID)
			if err != nil {
				log.Warn("teams: alias not looked up", "err", err)
			} else if aad != "" {
				k.User = aad
				who = a.who(k)
			}
		}
		t.owner = ownerOf(k.User, a.From.ID)
		in, ok := a.input(who)
		if !ok {
			return
		}
		if in.Act != nil && in.Act.Intent == chat.IntentAnswer && a.ID != "" {
			// The answer's script claims the activity, in the round trip
			// that records it.
			in.Once = conversation.Delivery{ID: "act:" + activityID(k, a), TTL: h.actTTL}
		} else if !h.firstDelivery(ctx, log, a, k) {
			return
		}
		moved := h.moved(ctx, log, a, in)
		if a.refreshesReference(k) {
			h.saveReference(ctx, t, who)
		}
		outs := h.flows.Handle(ctx, in)
		t.deliver(ctx, outs)
		if moved && shows(outs) {
			// The audit's question is in this thread now.
			if err := h.refs.MoveThread(ctx, k.UserKey, a.Conversation.ID); err != nil {
				h.metrics.StoreError(string(conversation.Teams))
				log.Error("teams: record the audit's thread", "err", err)
			}
		}
	case schema.ConversationUpdate:
		switch {
		case a.botAdded():
			h.welcome(ctx, t, who)
		case a.botRemoved():
			h.forgetWelcome(ctx, log, a)
		default:
			// Other members, a renamed team, a new channel: nothing to do.
			log.Debug("teams: conversation update not about the bot; ignored", "event", truncate(a.ChannelData.EventType, 40))
		}
	case schema.InstallationUpdate:
		switch a.Action {
		case "add", "add-upgrade":
			// In a personal chat the conversationUpdate that comes with
			// the install says hello; in a team or group chat either may
			// arrive, and the welcome's own mark makes them one.
			if who.Group {
				h.welcome(ctx, t, who)
			}
		case "remove":
			h.forgetWelcome(ctx, log, a)
		}
	default:
		// Reactions, edits, deletes, typing, events: nothing to do, and
		// nothing stored.
		log.Debug("teams: activity type not handled")
	}
}

// firstDelivery claims the activity (SET NX on its tenant, conversation and
// ID) and reports whether this is its first delivery: the Bot Connector
// redelivers an activity it is not sure arrived, and a redelivery must
// have no second effect (an answer's activity is claimed by the script
// that records it instead). An activity without an ID cannot be told apart
// and is handled; a Redis failure is not a refusal (the flows then fail
// and say so).
func (h *Handler) firstDelivery(ctx context.Context, log *slog.Logger, a *inbound, k conversation.Key) bool {
	if a.ID == "" {
		return true
	}
	first, err := h.rdb.SetNX(ctx, h.prefix.TeamsActivity(activityID(k, a)), "1", h.actTTL).Result()
	switch {
	case err != nil:
		log.Warn("teams: activity not deduplicated", "err", err)
		return true
	case !first:
		log.Info("teams: activity redelivered; already handled")
	}
	return first
}

// activityID names an activity for its redelivery check: its tenant,
// conversation and ID.
func activityID(k conversation.Key, a *inbound) string {
	return sum(string(k.Workspace), a.Conversation.ID, a.ID)
}

// sum is a short, fixed-size hash of IDs, for keys whose parts are long.
func sum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// moved reports whether a press in a channel is on a card of a thread the
// person's audit has since left, and marks the press so (chat.Act.Moved).
func (h *Handler) moved(ctx context.Context, log *slog.Logger, a *inbound, in chat.Input) bool {
	if in.Act == nil || a.convType() != channelChat || !strings.Contains(a.Conversation.ID, conversation.TeamsThreadMark) {
		return false
	}
	cur, err := h.refs.Thread(ctx, in.Who.Key.UserKey, a.Conversation.ID)
	if err != nil {
		log.Warn("teams: the audit's thread not looked up", "err", err)
		return false
	}
	if cur == "" || cur == a.Conversation.ID {
		return false
	}
	in.Act.Moved = true
	return true
}

// shows reports whether outs put a message in the conversation (rather
// than only a note).
func shows(outs []chat.Output) bool {
	for _, o := range outs {
		if o.Op == chat.Post || o.Op == chat.Replace {
			return true
		}
	}
	return false
}

// welcome greets a conversation itfit was just added to, once: a short
// hello in a team or group chat, the help in a personal chat. The mark is
// a SET NX on the tenant and conversation, so the conversationUpdate and
// installationUpdate of one install, and redeliveries of either, bring one
// greeting.
func (h *Handler) welcome(ctx context.Context, t *turnCtx, who chat.Who) {
	key := h.prefix.TeamsWelcome(sum(string(who.Key.Workspace), t.a.Conversation.ID))
	first, err := h.rdb.SetNX(ctx, key, "1", h.helloTTL).Result()
	switch {
	case err != nil:
		t.log.Warn("teams: welcome not deduplicated", "err", err)
	case !first:
		t.log.Info("teams: conversation already greeted")
		return
	}
	v := h.flows.ViewsIn(t.lang())
	m := v.Help(who)
	if who.Group {
		m = v.Welcome(who)
	}
	t.post(ctx, activity(m))
}

// forgetWelcome lets a conversation be greeted again when itfit is added
// back after being removed.
func (h *Handler) forgetWelcome(ctx context.Context, log *slog.Logger, a *inbound) {
	tenant := a.ChannelData.Tenant.ID
	if tenant == "" {
		tenant = a.Conversation.TenantID
	}
	if err := h.rdb.Del(ctx, h.prefix.TeamsWelcome(sum(tenant, a.Conversation.ID))).Err(); err != nil {
		log.Warn("teams: welcome mark not removed", "err", err)
	}
}

// authenticate decodes the activity and checks its token against it: 200,
// 400 when the body is not an activity, 401 when the token fails (the
// activity then holds only its channelId and serviceUrl).
//
// A token verified before (Authentic) comes from the Bot Connector, so
// its body is decoded at once with the fast decoder. Any other token is
// checked against the activity's channelId and serviceUrl as read by
// memory-safe code that checks the whole body is JSON (wirejson.Members,
// then encoding/json), and the activity is decoded only once the token has
// passed: no byte an unauthenticated sender chose reaches the fast decoder.
func (h *Handler) authenticate(ctx context.Context, auth string, body []byte) (*inbound, botframework.Claims, int, error) {
	act := new(inbound)
	if h.validator.Authentic(auth) {
		if err := wirejson.Unmarshal(body, act); err != nil {
			return act, botframework.Claims{}, http.StatusBadRequest, err
		}
		claims, err := h.validator.Validate(ctx, auth, act.ChannelID, act.ServiceURL)
		if err != nil {
			return act, claims, http.StatusUnauthorized, err
		}
		return act, claims, http.StatusOK, nil
	}
	head, err := readHead(body)
	if err != nil {
		return act, botframework.Claims{}, http.StatusBadRequest, err
	}
	act.ChannelID, act.ServiceURL = head.ChannelID, head.ServiceURL
	claims, err := h.validator.Validate(ctx, auth, head.ChannelID, head.ServiceURL)
	if err != nil {
		return act, claims, http.StatusUnauthorized, err
	}
	act = new(inbound)
	if err := wirejson.Unmarshal(body, act); err != nil {
		// A member of the wrong type: encoding/json refuses those too.
		return act, claims, http.StatusBadRequest, err
	}
	if act.ChannelID != head.ChannelID || act.ServiceURL != head.ServiceURL {
		// The two reads disagree on what the token was checked against
		// (FuzzUnmarshal says they do not): nothing is done with it.
		return act, claims, http.StatusBadRequest, errors.New("channelId or serviceUrl read two ways")
	}
	return act, claims, http.StatusOK, nil
}

// activityHead is what an activity's token is checked against.
type activityHead struct {
	ChannelID  string `json:"channelId"`
	ServiceURL string `json:"serviceUrl"`
}

// readHead reads an activity's channelId and serviceUrl as json.Unmarshal
// would, and refuses a body that is not JSON.
func readHead(body []byte) (activityHead, error) {
	var h activityHead
	kept, err := wirejson.Members(body, "channelId", "serviceUrl")
	if err == nil {
		err = json.Unmarshal(kept, &h)
	}
	return h, err
}

// invokeResponse is the answer to an invoke activity, which for an invoke
// is the HTTP response itself (its status and JSON body are what the
// Teams client receives), and whether it has work to do after. It follows
// botbuilder's ActivityHandler.onInvokeActivity: adaptiveCard/action (a
// card's Action.Execute) gets 200 with an AdaptiveCardInvokeResponse, here
// a message that shows at once while the press is handled like an
// Action.Submit and its replies follow as messages; any other invoke
// (task/fetch, composeExtension/*, signin/*, an unnamed card action) is
// one itfit does not implement, and gets 501 at once, as botbuilder
// answers, so no client is left waiting on it.
//
// An adaptiveCard/action whose value is not an Action.Execute with data
// gets 400 with an error response, as botbuilder's getAdaptiveCardInvokeValue
// answers, and nothing is done. For one that is, the press is the data
// under value.action.data, which replaces a.Value for the turn.
func (h *Handler) invokeResponse(a *inbound) (int, []byte, bool) {
	if a.Name != "adaptiveCard/action" {
		return http.StatusNotImplemented, nil, false
	}
	var v botframework.AdaptiveCardInvokeValue
	if err := json.Unmarshal(a.Value, &v); err != nil || v.Action.Type != "Action.Execute" || len(v.Action.Data) == 0 || v.Action.Data[0] != '{' {
		b, _ := json.Marshal(map[string]any{
			"statusCode": http.StatusBadRequest,
			"type":       "application/vnd.microsoft.error",
			"value":      map[string]string{"code": "BadRequest", "message": "value is not an Action.Execute with data"},
		})
		return http.StatusBadRequest, b, false
	}
	a.Value = v.Action.Data
	b, _ := json.Marshal(map[string]any{
		"statusCode": http.StatusOK,
		"type":       "application/vnd.microsoft.activity.message",
		"value":      h.flows.ViewsIn(localeOf(a)).Received(),
	})
	return http.StatusOK, b, true
}

func (h *Handler) saveReference(ctx context.Context, t *turnCtx, who chat.Who) {
	a := t.a
	aad := a.From.AadObjectID
	if aad == "" && string(who.Key.User) != a.From.ID {
		aad = string(who.Key.User) // found by the alias
	}
	err := h.refs.Save(ctx, who.Key.UserKey, conversation.TeamsReference{
		ServiceURL:       t.serviceURL,
		ChannelID:        a.ChannelID,
		ConversationID:   a.Conversation.ID,
		ConversationType: a.convType(),
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		TenantID:         string(who.Key.Workspace),
		UserID:           a.From.ID,
		AADObjectID:      aad,
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
	// owner is the sender, by both IDs: their cards' buttons carry both.
	owner owner
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
			t.send(ctx, activityFor(o.Msg, t.owner))
		}
	}
}

// replace updates the card whose button was pressed (the submit's
// replyToId) so that it shows what happened and has no live buttons.
func (t *turnCtx) replace(ctx context.Context, m chat.Message) {
	if t.a.ReplyToID == "" {
		return
	}
	act := schema.Activity{Type: schema.Message, Summary: m.Summary, Attachments: []schema.Attachment{cardAttachment(m, t.owner)}}
	_, err := t.h.conn.UpdateActivity(ctx, t.serviceURL, t.a.Conversation.ID, t.a.ReplyToID, act)
	t.observe("update_activity", err)
}

// send posts a reply: to the chat in personal scope, in the thread the
// person wrote in (the full conversation ID, with its ";messageid=") in
// channels and group chats.
func (t *turnCtx) send(ctx context.Context, act schema.Activity) {
	t.deliverActivity(ctx, act, t.a.group() && t.a.ID != "")
}

// post sends a new message to the conversation, not as a reply (a welcome
// answers no one's message).
func (t *turnCtx) post(ctx context.Context, act schema.Activity) {
	t.deliverActivity(ctx, act, false)
}

func (t *turnCtx) deliverActivity(ctx context.Context, act schema.Activity, reply bool) {
	act.From = t.a.Recipient
	act.Recipient = t.a.From
	act.Conversation = t.a.Conversation
	var err error
	call := "send_to_conversation"
	if reply {
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
		note := activity(t.h.flows.ViewsIn(t.lang()).CardRefused())
		note.From, note.Recipient, note.Conversation = act.From, act.Recipient, act.Conversation
		_, err := t.h.conn.SendToConversation(ctx, t.serviceURL, t.a.Conversation.ID, note)
		t.observe("send_to_conversation", err)
	}
}

// lang is the language of the activity's sender, for the notes the
// adapter sends on its own: what their Teams client is set to (the chat
// layer settles it for everything else, a choice made with the language
// command first).
func (t *turnCtx) lang() locale.Lang { return localeOf(t.a) }

// localeOf is the language an activity's sender's Teams is set to,
// English when it does not say.
func localeOf(a *inbound) locale.Lang {
	l, _ := locale.Match(a.Locale)
	return l.Or(locale.English)
}

func (t *turnCtx) observe(call string, err error) {
	if err == nil {
		t.h.metrics.PlatformCall("teams", call, "ok")
		return
	}
	t.h.metrics.PlatformCall("teams", call, "failed")
	t.log.Error("teams: connector call failed", "call", call, "err", err)
}
