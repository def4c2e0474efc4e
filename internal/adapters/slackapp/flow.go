package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/slackauth"
)

// command is a slash command, from a form (HTTP) or JSON (Socket Mode).
type command struct {
	Team        string `json:"team_id"`
	Enterprise  string `json:"enterprise_id"`
	User        string `json:"user_id"`
	Channel     string `json:"channel_id"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
}

// interaction is the part of a block_actions payload the adapter reads.
type interaction struct {
	Type string `json:"type"`
	// CallbackID names a shortcut (type "shortcut").
	CallbackID string `json:"callback_id"`
	Team       struct {
		ID           string `json:"id"`
		EnterpriseID string `json:"enterprise_id"`
	} `json:"team"`
	Enterprise struct {
		ID string `json:"id"`
	} `json:"enterprise"`
	User struct {
		ID     string `json:"id"`
		TeamID string `json:"team_id"`
	} `json:"user"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		Type      string `json:"type"`
		MessageTS string `json:"message_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	ResponseURL string   `json:"response_url"`
	Actions     []action `json:"actions"`
	State       struct {
		Values map[string]map[string]stateValue `json:"values"`
	} `json:"state"`
}

type action struct {
	ActionID     string `json:"action_id"`
	BlockID      string `json:"block_id"`
	Value        string `json:"value"`
	SelectedUser string `json:"selected_user"`
}

type stateValue struct {
	SelectedOptions []struct {
		Value string `json:"value"`
	} `json:"selected_options"`
}

// envelope is an Events API delivery.
type envelope struct {
	Type         string          `json:"type"`
	Challenge    string          `json:"challenge"`
	TeamID       string          `json:"team_id"`
	EnterpriseID string          `json:"enterprise_id"`
	EventID      string          `json:"event_id"`
	Event        json.RawMessage `json:"event"`
	// IsEnterpriseInstall and Authorizations say whether the installation
	// the event was delivered for is an org-wide Grid install.
	IsEnterpriseInstall bool `json:"is_enterprise_install"`
	Authorizations      []struct {
		IsEnterpriseInstall bool `json:"is_enterprise_install"`
	} `json:"authorizations"`
}

func (e envelope) orgWide() bool {
	return e.IsEnterpriseInstall || (len(e.Authorizations) > 0 && e.Authorizations[0].IsEnterpriseInstall)
}

type innerEvent struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Channel string `json:"channel"`
	Tab     string `json:"tab"`
	// app_mention: the message's text and thread; BotID is set when
	// another bot (or itfit itself) wrote it.
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts"`
	BotID    string `json:"bot_id"`
	// Tokens is what tokens_revoked names; itfit holds bot tokens only.
	Tokens struct {
		Bot []string `json:"bot"`
	} `json:"tokens"`
}

// notify is where to tell the user something after the acknowledgement:
// the response_url when Slack gave one (ephemeral, in place), else the
// channel (the DM), in workspace ws, whose token posts there.
type notify struct {
	ws          conversation.WorkspaceID
	responseURL string
	channel     string
}

// msgRef is the message a button was clicked on.
type msgRef struct {
	channel, ts string
}

const helpText = "*itfit* asks a few questions about your IT team, the gaps nobody owns and how much control you want to keep, " +
	"then recommends co-managed or fully managed IT. It takes about two minutes, in your direct messages with itfit.\n" +
	"• `/itfit`: start the audit, or carry on where you left off\n" +
	"• `/itfit restart`: drop your answers and begin again\n" +
	"• `/itfit status`: where your audit stands\n" +
	"• `/itfit reminders`: your scheduled revisit reminders, to snooze or stop them\n" +
	"• `/itfit forget`: erase everything itfit holds about you (asks first)\n" +
	"• `/itfit help`: this message\n" +
	"On the card, *Remind me in 12 months* schedules a reminder here; *Share with my account manager* sends them a copy " +
	"and has them nudged when your revisit is due."

const (
	noteDM        = "The audit continues in your direct messages with itfit, where your answers stay private."
	noteRestartDM = "Starting the audit again in your direct messages with itfit."
	noteStale     = "That button is from an earlier point in the audit, so it changed nothing. Carry on with the latest question."
	noteResumed   = "Welcome back: picking up where you left off."
	noteChanged   = "The questions have changed since you started, so the audit begins again."
	noteExpired   = "That audit has expired or was never started here. Type `/itfit` to begin again."
)

// command schedules what a slash command asks for and returns the
// immediate ephemeral reply (empty Text for none). It never waits on the Web
// API, and on Redis only for the workspace's installation (cached in
// memory, bounded by installCheck). claim, when set, deduplicates a Socket
// Mode redelivery.
func (a *App) command(ctx context.Context, c command, claim string) ephemeral {
	text, m := a.commandReply(ctx, c, claim)
	if m != nil {
		return ephemeral{ResponseType: "ephemeral", Text: m.Text, Blocks: m.Blocks}
	}
	return ephemeral{ResponseType: "ephemeral", Text: text}
}

func (a *App) commandReply(ctx context.Context, c command, claim string) (string, *Message) {
	w := who{ws: workspace(c.Enterprise, c.Team), user: conversation.UserID(c.User)}
	n := notify{ws: w.ws, responseURL: c.ResponseURL}
	if a.commandNotInstalled(ctx, w.ws) {
		return a.notInstalledText(), nil
	}
	word, _, _ := strings.Cut(strings.TrimSpace(strings.ToLower(c.Text)), " ")
	switch word {
	case "", "start":
		a.later(ctx, "start", claim, n, func(ctx context.Context, log *slog.Logger) { a.startInDM(ctx, log, w, false, n) })
		return noteDM, nil
	case "restart":
		a.later(ctx, "restart", claim, n, func(ctx context.Context, log *slog.Logger) { a.startInDM(ctx, log, w, true, n) })
		return noteRestartDM, nil
	case "status":
		a.later(ctx, "status", claim, n, func(ctx context.Context, log *slog.Logger) { a.status(ctx, log, w, n) })
		return "", nil
	case "reminders":
		a.later(ctx, "reminders", claim, n, func(ctx context.Context, log *slog.Logger) { a.listReminders(ctx, log, w, n) })
		return "", nil
	case "forget":
		// Nothing is erased until the button is pressed (and confirmed).
		m := ForgetMessage()
		return "", &m
	case "help":
		return helpText, nil
	default:
		return "I don't know “" + esc(clamp(strings.TrimSpace(c.Text), 40)) + "”.\n" + helpText, nil
	}
}

// interact checks a block_actions payload and schedules its work. An error
// means the payload is unusable (400); nothing was scheduled.
func (a *App) interact(ctx context.Context, p interaction, claim string) error {
	if p.Type != "block_actions" && p.Type != "shortcut" {
		return nil // nothing else is wired in the manifest; accept and ignore
	}
	team := p.Team.ID
	if team == "" {
		team = p.User.TeamID
	}
	if p.User.ID == "" || team == "" {
		return errors.New("payload has no user or team")
	}
	ent := p.Enterprise.ID
	if ent == "" {
		ent = p.Team.EnterpriseID
	}
	// The user and workspace come from the verified payload, never from a
	// button's value: a crafted click can only ever reach its sender's audit.
	w := who{ws: workspace(ent, team), user: conversation.UserID(p.User.ID)}
	if p.Type == "shortcut" {
		if p.CallbackID != shortcutStart {
			return nil // a shortcut this app does not define: ignore it
		}
		// "Start an IT audit" from the shortcuts menu: as /itfit, in the DM.
		n := notify{ws: w.ws}
		a.later(ctx, "shortcut", claim, n, func(ctx context.Context, log *slog.Logger) { a.startInDM(ctx, log, w, false, n) })
		return nil
	}
	if len(p.Actions) == 0 {
		return errors.New("payload has no action")
	}
	act := p.Actions[0]
	if act.ActionID == actCheck {
		return nil // ticking a box changes nothing until Continue
	}
	channel := p.Channel.ID
	if channel == "" {
		channel = p.Container.ChannelID
	}
	m := msgRef{channel: channel, ts: p.Container.MessageTS}
	n := notify{ws: w.ws, responseURL: p.ResponseURL, channel: channel}
	values := p.State.Values
	a.later(ctx, "action", claim, n, func(ctx context.Context, log *slog.Logger) {
		a.act(ctx, log.With("action", act.ActionID), w, m, act, values, n)
	})
	return nil
}

func (a *App) act(ctx context.Context, log *slog.Logger, w who, m msgRef, act action, values map[string]map[string]stateValue, n notify) {
	id := act.ActionID
	switch id {
	case actHomeStart:
		a.startInDM(ctx, log, w, false, n)
		return
	// These act on the clicker's own reminders or data, wherever the button
	// is (a nudge, an ephemeral list, the forget prompt).
	case actSnooze:
		a.snooze(ctx, log, w, n)
		return
	case actStop:
		a.stop(ctx, log, w, n)
		return
	case actForget:
		a.forget(ctx, log, w, n)
		return
	}
	if m.channel == "" || m.ts == "" {
		log.Info("slack action outside a message ignored")
		return
	}
	switch {
	case strings.HasPrefix(id, actAnswer):
		c, ok := parseChoice(act.Value, true)
		if !ok {
			a.refuse(ctx, log, n, act)
			return
		}
		a.answer(ctx, log, w, m, conversation.Answer{Rev: c.Rev, Question: c.Question, Options: []advisor.OptionID{c.Option}}, n)
	case id == actContinue:
		c, ok := parseChoice(act.Value, false)
		if !ok {
			a.refuse(ctx, log, n, act)
			return
		}
		var opts []advisor.OptionID
		for _, o := range values[blockChoices][actCheck].SelectedOptions {
			opts = append(opts, advisor.OptionID(o.Value))
		}
		a.answer(ctx, log, w, m, conversation.Answer{Rev: c.Rev, Question: c.Question, Options: opts}, n)
	case id == actBack:
		c, ok := parseChoice(act.Value, false)
		if !ok {
			a.refuse(ctx, log, n, act)
			return
		}
		r, err := a.engine.Back(ctx, w.key(m.channel), c.Rev)
		if err != nil {
			a.fail(ctx, log, n, "back", err)
			return
		}
		a.after(ctx, log, w, m, c.Question, r, n)
	case id == actRestart:
		a.restart(ctx, log, w, m, act.Value, n)
	case id == actRemind:
		a.remind(ctx, log, w, m, n)
	case id == actShare:
		a.share(ctx, log, w, m, conversation.UserID(act.SelectedUser), n)
	case id == actRetake:
		a.retake(ctx, log, w, m, n)
	case id == actInvite:
		a.invite(ctx, log, w, m, act.Value, n)
	default:
		log.Info("unknown slack action ignored")
	}
}

// refuse answers a button value that itfit never rendered.
func (a *App) refuse(ctx context.Context, log *slog.Logger, n notify, act action) {
	log.Warn("slack action with a malformed value refused", "len", len(act.Value))
	a.tell(ctx, log, n, "That button is not one itfit recognises, so it changed nothing.")
}

func (a *App) answer(ctx context.Context, log *slog.Logger, w who, m msgRef, ans conversation.Answer, n notify) {
	r, err := a.engine.Answer(ctx, w.key(m.channel), ans)
	if err != nil {
		a.fail(ctx, log, n, "answer", err)
		return
	}
	a.after(ctx, log, w, m, ans.Question, r, n)
}

// after shows what an answer or Back did: the next question (or the card)
// follows as a new message, and the clicked message then loses its buttons.
// The next question goes first, so that the user waits on one Web API round
// trip, not two; the engine has already recorded the answer, so a click on
// the old buttons in between is stale either way.
func (a *App) after(ctx context.Context, log *slog.Logger, w who, m msgRef, asked advisor.QuestionID, r conversation.Reply, n notify) {
	switch r.Event {
	case conversation.Advanced, conversation.Completed:
		a.show(ctx, log, m.channel, r, n, "")
		if r.Answered != nil {
			if err := a.markAnswered(ctx, w, m, *r.Answered); err != nil {
				log.Warn("could not mark the question answered", "err", err)
			}
		}
	case conversation.WentBack:
		a.show(ctx, log, m.channel, r, n, "")
		if q, ok := a.engine.Audit().Question(asked); ok {
			if err := a.slack.update(ctx, w.ws, m.channel, m.ts, ClosedMessage(q, ":leftwards_arrow_with_hook: You went back to the previous question.")); err != nil {
				log.Warn("could not close the question", "err", err)
			}
		}
	case conversation.Stale:
		// One note per message, however many times its buttons are hit.
		first, err := a.claim(ctx, w, "stale:"+m.channel+":"+m.ts)
		if err != nil || first {
			a.tell(ctx, log, n, noteStale)
		}
	case conversation.NoSession:
		// Not restarted here: the channel came with the click, and a new
		// audit belongs in the DM that /itfit opens.
		a.tell(ctx, log, n, noteExpired)
	default:
		a.show(ctx, log, m.channel, r, n, "")
	}
}

// markAnswered replaces the clicked question with AnsweredMessage(e),
// encoded once per question and answer.
func (a *App) markAnswered(ctx context.Context, w who, m msgRef, e conversation.Echo) error {
	if a.slack.web != nil {
		if blocks, err := a.render.answeredBlocks(e); err == nil {
			return a.slack.updateEncoded(ctx, w.ws, m.channel, m.ts, Message{Text: answeredText(e)}, blocks)
		}
	}
	return a.slack.update(ctx, w.ws, m.channel, m.ts, AnsweredMessage(e))
}

func (a *App) restart(ctx context.Context, log *slog.Logger, w who, m msgRef, value string, n notify) {
	id := "restart:" + m.channel + ":" + m.ts
	first, err := a.claim(ctx, w, id)
	if err != nil {
		a.fail(ctx, log, n, "restart", fmt.Errorf("claim restart: %w", errors.Join(conversation.ErrUnavailable, err)))
		return
	}
	if !first {
		log.Info("start over clicked twice; the first click counts")
		return
	}
	r, err := a.engine.Restart(ctx, w.key(m.channel))
	if err != nil {
		a.release(context.WithoutCancel(ctx), w, id)
		a.fail(ctx, log, n, "restart", err)
		return
	}
	// A question message is closed; the card stays, so the result persists.
	if c, ok := parseChoice(value, false); ok {
		if q, ok := a.engine.Audit().Question(c.Question); ok {
			if err := a.slack.update(ctx, w.ws, m.channel, m.ts, ClosedMessage(q, ":leftwards_arrow_with_hook: You started over.")); err != nil {
				log.Warn("could not close the question", "err", err)
			}
		}
	}
	a.show(ctx, log, m.channel, r, n, "")
}

func (a *App) remind(ctx context.Context, log *slog.Logger, w who, m msgRef, n notify) {
	if a.reminders == nil {
		a.tell(ctx, log, n, "Reminders are not switched on in this deployment yet, so nothing was scheduled. "+
			"When they are, this button schedules a message here 12 months after you finished, with your answers to compare.")
		return
	}
	tz, err := a.slack.userTZ(ctx, w.ws, string(w.user))
	if err != nil {
		// The reminder still matters more than the hour it arrives at.
		log.Warn("no time zone for the reminder; using UTC", "err", err)
		tz = ""
	}
	due, err := a.reminders.Remind(ctx, w.key(m.channel), tz)
	if err != nil {
		a.fail(ctx, log, n, "remind", err)
		return
	}
	a.tell(ctx, log, n, "Done: I'll remind you here on "+slackDate(due)+" to revisit the decision.")
}

func (a *App) share(ctx context.Context, log *slog.Logger, w who, m msgRef, manager conversation.UserID, n notify) {
	if manager == "" || !isSlackID(string(manager)) {
		return // the picker was cleared
	}
	if manager == w.user {
		a.tell(ctx, log, n, "Choose your account manager rather than yourself.")
		return
	}
	if a.reminders == nil {
		a.tell(ctx, log, n, "Sharing is not switched on in this deployment yet, so nothing was sent to <@"+string(manager)+">. "+
			"When it is, they get a copy of this card and a nudge when your revisit is due.")
		return
	}
	if err := a.reminders.Share(ctx, w.key(m.channel), manager); err != nil {
		a.fail(ctx, log, n, "share", err)
		return
	}
	a.tell(ctx, log, n, "Shared with <@"+string(manager)+">: they have a copy of this card.")
}

// isSlackID keeps a mention from carrying anything but an ID.
func isSlackID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// startInDM opens the user's DM with the bot and starts (or resumes) the
// audit there.
func (a *App) startInDM(ctx context.Context, log *slog.Logger, w who, fresh bool, n notify) {
	dm, err := a.slack.openDM(ctx, w.ws, string(w.user))
	if err != nil {
		a.fail(ctx, log, n, "open DM", err)
		return
	}
	n.channel = dm
	k := w.key(dm)
	var r conversation.Reply
	if fresh {
		r, err = a.engine.Restart(ctx, k)
	} else {
		r, err = a.engine.Start(ctx, k)
	}
	if err != nil {
		a.fail(ctx, log, n, "start", err)
		return
	}
	note := ""
	if r.Event == conversation.Resumed {
		note = noteResumed
	}
	a.show(ctx, log, dm, r, n, note)
}

// show posts the question a reply waits on, or the card, with an optional
// note above it.
func (a *App) show(ctx context.Context, log *slog.Logger, dm string, r conversation.Reply, n notify, note string) {
	if r.AuditChanged {
		note = noteChanged
	}
	var m Message
	var blocks []byte // m's blocks, encoded, when they came from the cache
	switch {
	case r.Result != nil:
		m = RetakeCardMessage(*r.Result, r.SinceLast)
	case r.Question != nil:
		if note == "" && a.slack.web != nil {
			if b, err := a.render.questionBlocks(r); err == nil {
				m, blocks = Message{Text: questionText(r)}, b
				break
			}
		}
		m = QuestionMessage(r)
	default:
		return
	}
	if note != "" {
		m = withNote(m, note)
	}
	if _, err := a.slack.postEncoded(ctx, n.ws, dm, m, blocks); err != nil {
		a.fail(ctx, log, n, "post", err)
	}
}

func (a *App) status(ctx context.Context, log *slog.Logger, w who, n notify) {
	dm, err := a.slack.openDM(ctx, w.ws, string(w.user))
	if err != nil {
		a.fail(ctx, log, n, "open DM", err)
		return
	}
	n.channel = dm // as in startInDM: the DM when there is no usable response_url
	r, err := a.engine.Status(ctx, w.key(dm))
	if err != nil {
		a.fail(ctx, log, n, "status", err)
		return
	}
	var text string
	switch {
	case r.Event == conversation.NoSession:
		text = "You have no audit in progress. Type `/itfit` to start one."
	case r.Result != nil:
		text = "You finished the audit: *" + esc(r.Result.VerdictName) + "*, " + r.Result.Strength.Text() +
			". The card is in your direct messages with itfit; `/itfit restart` takes the audit again."
	default:
		text = fmt.Sprintf("Your audit is on question %d of %d. Carry on in your direct messages with itfit, or type `/itfit` to see the question again.", r.Position, r.Total)
	}
	a.tell(ctx, log, n, text)
}

// event checks an Events API delivery and schedules its work.
func (a *App) event(ctx context.Context, e envelope, claim string) error {
	if e.Type != "event_callback" {
		return nil
	}
	if e.EventID == "" || e.TeamID == "" {
		return errors.New("event without event_id or team_id")
	}
	var ev innerEvent
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		return errors.New("malformed event")
	}
	ws := workspace(e.EnterpriseID, e.TeamID)
	switch ev.Type {
	case "app_home_opened":
		if ev.Tab != "home" || ev.User == "" {
			return nil
		}
		w := who{ws: ws, user: conversation.UserID(ev.User)}
		a.later(ctx, "app home", a.eventClaim(ws, e.EventID), notify{ws: ws}, func(ctx context.Context, log *slog.Logger) {
			a.home(ctx, log, w, ev.Channel)
		})
	case "app_mention":
		if ev.User == "" || ev.BotID != "" || !isSlackID(ev.User) || !isSlackID(ev.Channel) {
			return nil // bots, and mentions without a person or channel, get nothing
		}
		w := who{ws: ws, user: conversation.UserID(ev.User)}
		where := mentionRef{channel: ev.Channel, thread: ev.ThreadTS}
		word := mentionWord(ev.Text)
		a.later(ctx, "mention", a.eventClaim(ws, e.EventID), notify{ws: ws}, func(ctx context.Context, log *slog.Logger) {
			a.mentioned(ctx, log, w, where, word)
		})
	case "tokens_revoked":
		if len(ev.Tokens.Bot) == 0 {
			return nil // users' tokens only: itfit keeps none
		}
		fallthrough
	case "app_uninstalled":
		// No claim: removing twice is harmless, and a redelivery after a
		// failed attempt must be able to finish the job.
		ent, team, orgWide := e.EnterpriseID, e.TeamID, e.orgWide()
		a.later(ctx, "uninstall", "", notify{}, func(ctx context.Context, log *slog.Logger) {
			a.uninstall(ctx, log.With("event", ev.Type), ent, team, orgWide)
		})
	}
	return nil
}

// home publishes the App Home tab: start or resume, and the last result.
func (a *App) home(ctx context.Context, log *slog.Logger, w who, dm string) {
	var inProgress *conversation.Reply
	if dm != "" {
		r, err := a.engine.Status(ctx, w.key(dm))
		if err != nil {
			// Publishing without the facts would mislead; keep the old view.
			log.Error("app home: status", "err", err)
			return
		}
		if r.Question != nil {
			inProgress = &r
		}
	}
	hist, err := a.engine.History(ctx, conversation.UserKey{Platform: conversation.Slack, Workspace: w.ws, User: w.user})
	if err != nil {
		log.Error("app home: history", "err", err)
		return
	}
	var last *conversation.Result
	if len(hist) > 0 {
		last = &hist[0]
	}
	if err := a.slack.publishHome(ctx, w.ws, string(w.user), HomeView(a.engine.Audit(), inProgress, last)); err != nil {
		log.Error("app home: publish", "err", err)
	}
}

// fail logs an error and tells the user in words they can act on.
func (a *App) fail(ctx context.Context, log *slog.Logger, n notify, what string, err error) {
	if errors.Is(err, slackauth.ErrNotInstalled) {
		// Uninstalled between the request and the work: not a failure.
		log.Info("slack "+what+": the workspace has no installation", "workspace", n.ws)
		a.tell(ctx, log, n, a.notInstalledText())
		return
	}
	var level slog.Level
	switch {
	case errors.Is(err, advisor.ErrNoOption), errors.Is(err, advisor.ErrOneOption), errors.Is(err, advisor.ErrExclusive), errors.Is(err, revisit.ErrShareLimit):
		level = slog.LevelInfo // the user's choice, not our failure
	case errors.Is(err, advisor.ErrUnknownOption), errors.Is(err, advisor.ErrUnknownQuestion), errors.Is(err, advisor.ErrDuplicateOption):
		level = slog.LevelWarn // a value itfit never rendered
	default:
		level = slog.LevelError
	}
	log.Log(ctx, level, "slack "+what, "err", err)
	a.tell(ctx, log, n, userMessage(err))
}

// tell sends the user a short note: in place through the response_url when
// there is one, else in the DM.
func (a *App) tell(ctx context.Context, log *slog.Logger, n notify, text string) {
	if n.responseURL != "" {
		err := a.slack.respond(ctx, n.responseURL, text)
		if err == nil {
			return
		}
		log.Warn("could not reply through response_url", "err", err)
	}
	if n.channel != "" {
		_, err := a.slack.post(ctx, n.ws, n.channel, NoteMessage(text))
		if err == nil {
			return
		}
		log.Warn("could not post a note", "err", err)
	}
	log.Error("the user could not be told", "note", text)
}
