package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
)

// Engine is what the adapter needs of the conversation engine.
type Engine interface {
	Audit() *advisor.Audit
	Start(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Restart(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Answer(ctx context.Context, k conversation.Key, a conversation.Answer) (conversation.Reply, error)
	Back(ctx context.Context, k conversation.Key, rev int64) (conversation.Reply, error)
	Status(ctx context.Context, k conversation.Key) (conversation.Reply, error)
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

// Runner runs work after the HTTP answer has gone (background.Group).
type Runner interface {
	Go(ctx context.Context, name string, f func(ctx context.Context))
}

// Reminders schedules and manages revisits (*revisit.Service); nil when
// this deployment has none.
type Reminders interface {
	Remind(ctx context.Context, k conversation.Key, tz string) (due time.Time, err error)
	List(ctx context.Context, u conversation.UserKey) ([]revisit.Reminder, error)
	Snooze(ctx context.Context, u conversation.UserKey) (due time.Time, err error)
	Stop(ctx context.Context, u conversation.UserKey) (stopped bool, err error)
	Forget(ctx context.Context, u conversation.UserKey) (revisit.Erased, error)
	Invite(ctx context.Context, client conversation.Key) error
	Share(ctx context.Context, k conversation.Key, manager conversation.UserID) error
	ManagerOf(ctx context.Context, u conversation.UserKey) (m revisit.Manager, ok bool, err error)
}

var (
	_ Engine         = (*conversation.Engine)(nil)
	_ TokenValidator = (*botframework.Validator)(nil)
	_ Connector      = (*botframework.Connector)(nil)
)

// DefaultMaxBody bounds an activity. Real ones are a few KiB; a card submit
// with every option chosen stays far below this.
const DefaultMaxBody = 256 << 10

// Options build a Handler. Engine, Validator, Connector, Redis and
// Background are required.
type Options struct {
	Engine    Engine
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
	Reminders    Reminders
	Logger       *slog.Logger
	MaxBody      int64
}

// Handler serves POST /api/messages.
type Handler struct {
	engine    Engine
	validator TokenValidator
	conn      Connector
	refs      *References
	bg        Runner
	metrics   *obs.Metrics
	reminders Reminders
	log       *slog.Logger
	maxBody   int64
}

var _ http.Handler = (*Handler)(nil)

// New returns the handler.
func New(o Options) (*Handler, error) {
	if o.Engine == nil || o.Validator == nil || o.Connector == nil || o.Redis == nil || o.Background == nil {
		return nil, errors.New("teams: engine, validator, connector, redis and background runner are required")
	}
	h := &Handler{
		engine: o.Engine, validator: o.Validator, conn: o.Connector,
		refs: NewReferences(o.Redis, o.Prefix, o.ReferenceTTL),
		bg:   o.Background, metrics: o.Metrics, reminders: o.Reminders,
		log: o.Logger, maxBody: o.MaxBody,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	return h, nil
}

// LoadReference returns how to reach a user proactively (see References).
func (h *Handler) LoadReference(ctx context.Context, u conversation.UserKey) (Reference, error) {
	return h.refs.Load(ctx, u)
}

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
	w.WriteHeader(http.StatusOK)
	h.bg.Go(r.Context(), "teams activity", func(ctx context.Context) {
		h.turn(ctx, act, claims)
	})
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
	t := &turnCtx{h: h, a: a, k: k, serviceURL: claims.ServiceURL, log: log,
		who: Asker{ID: k.User, Name: displayName(a.From.Name), Group: a.group()}}

	switch a.Type {
	case schema.Message:
		if a.refreshesReference() {
			h.saveReference(ctx, t)
		}
		t.onMessage(ctx)
	case schema.ConversationUpdate:
		t.onConversationUpdate(ctx)
	default:
		// Reactions, typing, invokes: nothing to do. Card buttons are
		// Action.Submit, which arrive as messages.
		log.Debug("teams: activity type not handled")
	}
}

func (h *Handler) saveReference(ctx context.Context, t *turnCtx) {
	a := t.a
	err := h.refs.Save(ctx, t.k.UserKey, Reference{
		ServiceURL:       t.serviceURL,
		ChannelID:        a.ChannelID,
		ConversationID:   a.Conversation.ID,
		ConversationType: a.Conversation.ConversationType,
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		TenantID:         string(t.k.Workspace),
		UserID:           a.From.ID,
		AADObjectID:      a.From.AadObjectID,
		UserName:         t.who.Name,
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
	k          conversation.Key
	who        Asker
	serviceURL string
	log        *slog.Logger
}

const helpText = "I'm **itfit**: a two-minute audit that tells you whether co-managed or fully managed IT fits your company.\n\n" +
	"Send me any message to start or pick up where you left off, **restart** to begin again, **status** to see where you are, " +
	"**reminders** to see your revisit reminders, **forget** to erase everything I hold about you, **help** for this note."

const helpTextGroup = "I'm **itfit**: a two-minute audit that tells you whether co-managed or fully managed IT fits your company. " +
	"Everyone here gets their own audit.\n\n" +
	"Mention me to start or pick up where you left off; mention me with **restart** to begin again, **status** to see where you are, " +
	"**reminders** to see your revisit reminders, **forget** to erase everything I hold about you, **help** for this note."

func (t *turnCtx) help() string {
	if t.who.Group {
		return helpTextGroup
	}
	return helpText
}

func (t *turnCtx) onConversationUpdate(ctx context.Context) {
	// Say hello once, when the bot itself is added to a personal chat.
	if t.who.Group {
		return
	}
	for _, m := range t.a.MembersAdded {
		if m.ID == t.a.Recipient.ID {
			t.send(ctx, textActivity(t.help()))
			return
		}
	}
}

func (t *turnCtx) onMessage(ctx context.Context) {
	if len(t.a.Value) > 0 && string(t.a.Value) != "null" {
		t.onSubmit(ctx)
		return
	}
	if t.who.Group && !t.a.mentionsBot() {
		// In channels and group chats Teams only sends messages that mention
		// the bot (without RSC permissions); if one arrives anyway, stay out.
		return
	}
	var (
		r   conversation.Reply
		err error
	)
	switch t.a.commandText() {
	case "help", "?":
		t.send(ctx, textActivity(t.help()))
		return
	case "restart", "start over":
		r, err = t.h.engine.Restart(ctx, t.k)
	case "status":
		r, err = t.h.engine.Status(ctx, t.k)
		if err == nil {
			t.status(ctx, r)
			return
		}
	case "reminders":
		t.listReminders(ctx)
		return
	case "forget":
		t.forget(ctx)
		return
	default:
		r, err = t.h.engine.Start(ctx, t.k)
	}
	if err != nil {
		t.engineError(ctx, err)
		return
	}
	note := ""
	if r.Event == conversation.Started && !r.AuditChanged {
		note = t.h.engine.Audit().Intro
	}
	t.present(ctx, r, note)
}

func (t *turnCtx) status(ctx context.Context, r conversation.Reply) {
	switch {
	case r.Event == conversation.NoSession:
		t.send(ctx, textActivity("You have no audit in progress here. Send me any message to start one."))
	case r.Result != nil:
		t.send(ctx, textActivity("Your audit here is finished: "+r.Result.VerdictName+" ("+r.Result.Strength.Text()+"). Send **restart** to take it again."))
	case r.Question != nil:
		t.send(ctx, textActivity(fmt.Sprintf("You are on question %d of %d. Send me any message to see it again.", r.Position, r.Total)))
	}
}

// present sends what the engine says comes next: a note if there is one,
// then the question card or the recommendation.
func (t *turnCtx) present(ctx context.Context, r conversation.Reply, note string) {
	if r.AuditChanged {
		note = joinNotes(note, "The questions have changed since you started, so the audit begins again.")
	}
	if r.Event == conversation.Resumed && r.Result == nil {
		note = joinNotes(note, "Welcome back: picking up where you left off.")
	}
	if r.Event == conversation.Resumed && r.Result != nil {
		note = joinNotes(note, "Here is your result from last time. Send **restart** to take the audit again.")
	}
	var act schema.Activity
	switch {
	case r.Result != nil:
		act = cardActivity(RetakeCard(*r.Result, r.SinceLast, t.who))
	case r.Question != nil:
		act = cardActivity(QuestionCard(r, t.who))
	default:
		if note != "" {
			t.send(ctx, textActivity(note))
		}
		return
	}
	act.Text = note
	t.send(ctx, act)
}

func joinNotes(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// onSubmit handles a card button.
func (t *turnCtx) onSubmit(ctx context.Context) {
	var v submitValue
	if err := json.Unmarshal(t.a.Value, &v); err != nil || v.Action == "" {
		t.log.Warn("teams: unreadable card submit", "err", err)
		t.send(ctx, textActivity("I couldn't read that button. Send me any message to see your current question."))
		return
	}
	if !t.pressedByOwner(v.User) {
		// Someone pressed a card that was asked of another person in the
		// channel. Their own session is untouched, and so is the owner's.
		t.send(ctx, textActivity("That card belongs to someone else's audit, "+firstName(t.who.Name)+
			"so I left it alone. Mention me to start your own: everyone here gets their own."))
		return
	}
	audit := t.h.engine.Audit()
	var (
		r   conversation.Reply
		err error
	)
	switch v.Action {
	case actAnswer:
		a := conversation.Answer{Rev: v.Rev, Question: v.Question}
		if v.Option != "" {
			a.Options = []advisor.OptionID{v.Option}
		} else {
			a.Options = splitOptions(v.Options)
		}
		r, err = t.h.engine.Answer(ctx, t.k, a)
	case actBack:
		r, err = t.h.engine.Back(ctx, t.k, v.Rev)
	case actRestart:
		r, err = t.h.engine.Restart(ctx, t.k)
	case actRemind:
		t.remind(ctx)
		return
	case actRetake:
		t.retake(ctx)
		return
	case actSnooze:
		t.snooze(ctx)
		return
	case actStop:
		t.stop(ctx)
		return
	case actInvite:
		t.invite(ctx, v.SubmitData)
		return
	case actShare:
		t.share(ctx, v.Manager)
		return
	default:
		t.send(ctx, textActivity("I don't know that button. Send me any message to see your current question."))
		return
	}
	if err != nil {
		t.engineError(ctx, err)
		return
	}

	prompt := ""
	if q, ok := audit.Question(v.Question); ok {
		prompt = q.Prompt
	}
	switch r.Event {
	case conversation.Stale:
		// A double click or an old card: the engine changed nothing, so
		// neither do we; a short note, no second card.
		msg := "That question was already answered, so nothing changed."
		if r.Question != nil {
			msg += fmt.Sprintf(" You are on question %d of %d; send me any message to see it again.", r.Position, r.Total)
		} else if r.Result != nil {
			msg += " Your audit is finished; send **restart** to take it again."
		}
		t.send(ctx, textActivity(msg))
		return
	case conversation.NoSession:
		r, err = t.h.engine.Start(ctx, t.k)
		if err != nil {
			t.engineError(ctx, err)
			return
		}
		t.closeCard(ctx, ClosedCard(v.Pos, v.Total, prompt, "This audit had expired.", t.who))
		t.present(ctx, r, "That audit had expired, so here it is from the start.")
		return
	case conversation.Advanced, conversation.Completed:
		if r.Answered != nil {
			t.closeCard(ctx, AnsweredCard(v.Pos, v.Total, *r.Answered, t.who))
		}
	case conversation.WentBack:
		t.closeCard(ctx, ClosedCard(v.Pos, v.Total, prompt, "↩ Went back to the previous question.", t.who))
	case conversation.Started:
		if v.Action == actRestart && prompt != "" {
			t.closeCard(ctx, ClosedCard(v.Pos, v.Total, prompt, "Started over.", t.who))
		}
	}
	t.present(ctx, r, "")
}

func firstName(name string) string {
	if name == "" {
		return ""
	}
	for i, r := range name {
		if r == ' ' {
			return name[:i] + ", "
		}
	}
	return name + ", "
}

func splitOptions(s string) []advisor.OptionID {
	var out []advisor.OptionID
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, advisor.OptionID(s[start:i]))
			}
			start = i + 1
		}
	}
	return out
}

func (t *turnCtx) remind(ctx context.Context) {
	if !t.remindersOn(ctx) {
		return
	}
	due, err := t.h.reminders.Remind(ctx, t.k, t.a.LocalTimezone)
	if err != nil {
		t.log.Error("teams: schedule reminder", "err", err)
		t.send(ctx, textActivity("I couldn't set the reminder just now. Your result is safe; please press the button again in a minute."))
		return
	}
	t.send(ctx, textActivity("Done: I'll remind you on "+due.Format("2 January 2006")+" to revisit this decision."))
}

func (t *turnCtx) engineError(ctx context.Context, err error) {
	if errors.Is(err, conversation.ErrUnavailable) {
		t.log.Error("teams: audit step", "err", err)
	} else {
		t.log.Warn("teams: audit step refused", "err", err)
	}
	t.send(ctx, textActivity(conversation.UserMessage(err)))
}

// closeCard updates the card whose button was pressed (the submit's
// replyToId) so that it shows what happened and has no live buttons.
func (t *turnCtx) closeCard(ctx context.Context, c *Card) {
	if t.a.ReplyToID == "" {
		return
	}
	act := cardActivity(c)
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
	if t.who.Group && t.a.ID != "" {
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
		note := textActivity("Sorry, I couldn't show that card. Send me any message to try again.")
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

func textActivity(s string) schema.Activity {
	return schema.Activity{Type: schema.Message, Text: s, TextFormat: schema.MARKDOWN}
}

func cardActivity(c *Card) schema.Activity {
	return schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{attachment(c)}}
}
