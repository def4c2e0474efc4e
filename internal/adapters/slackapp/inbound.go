package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/slackapi"
)

// msgRef is the message a button was pressed on.
type msgRef struct {
	channel, ts string
	ephemeral   bool
}

// mentionRef is where someone @mentioned itfit: a channel, and the thread
// when the mention was a reply in one.
type mentionRef struct {
	channel, thread string
}

// route is where one input's outputs go: posts to the audit's conversation
// (the DM), replacements to the message pressed, notes where the person
// acted (the response_url, an ephemeral message beside their mention, or
// else the DM).
type route struct {
	ws          conversation.WorkspaceID
	user        string
	dm          string
	pressed     msgRef
	responseURL string
	mention     *mentionRef
	// home is set for a press on the App Home tab: a replacement is the
	// tab published again.
	home bool
}

// errBusy refuses an event the pool could not take with a 503, which Slack
// retries; its event_id was not claimed, so the retry is handled.
var errBusy = fmt.Errorf("busy: %w", slackapi.ErrRedeliver)

func userKey(ws conversation.WorkspaceID, user string) conversation.UserKey {
	return conversation.UserKey{Platform: conversation.Slack, Workspace: ws, User: conversation.UserID(user)}
}

// word is the command in a slash command's text or a mention: lower case,
// single-spaced.
func word(text string) string {
	return strings.ToLower(strings.Join(strings.Fields(text), " "))
}

// mentionWord is the command in an @mention's text: what follows the
// first mention, without mentions and the punctuation after them, so
// "<@U123>: help" and "hey <@U123|itfit>, status" read "help" and "status".
func mentionWord(text string) string { return word(slackapi.TextAfterMention(text)) }

// command answers a slash command at once (the acknowledgement, nil for
// an empty one) and schedules the rest. It never waits on the Web API, and
// on Redis only for the workspace's installation (cached in memory,
// bounded by installCheck). claim, when set, deduplicates a Socket Mode
// redelivery.
func (a *App) command(ctx context.Context, c slackapi.Command, claim string) *slackapi.CommandReply {
	ws := slackapi.Workspace(c.Enterprise, c.Team)
	if a.commandNotInstalled(ctx, ws) {
		return slackapi.EphemeralReply(Render(a.views.NotInstalled(a.installs.url)))
	}
	in := chat.Input{
		Who:  chat.Who{Key: conversation.Key{UserKey: userKey(ws, c.User)}, Surface: chat.SurfaceSlash, Elsewhere: true},
		Word: word(c.Text),
	}
	rt := route{ws: ws, user: c.User, responseURL: c.ResponseURL}
	var quick []chat.Output
	var more bool
	if a.knownLanguage(ctx, &in) {
		quick, more = a.flows.Quick(in)
	} else {
		// Someone itfit has not met: Slack says their locale only through
		// the Web API, which the acknowledgement never waits on. Its note
		// is in every language; the work that follows asks Slack, and is
		// in theirs.
		quick, more = a.flows.QuickInEveryLanguage(in)
	}
	if more {
		err := a.later(ctx, "command", claim, rt, func(ctx context.Context, log *slog.Logger) {
			if a.inDM(ctx, log, &in, &rt) {
				a.deliver(ctx, log, rt, a.rest(ctx, in))
			}
		})
		if err != nil {
			obs.Logger(ctx, a.log).Warn("slack work shed", "task", "command", "workspace", ws, "err", err)
			return slackapi.EphemeralReply(Render(a.flows.ViewsIn(in.Who.Lang).Busy()))
		}
	}
	for _, o := range quick {
		if o.Op == chat.Note {
			return slackapi.EphemeralReply(Render(o.Msg))
		}
	}
	return nil
}

// languageCheck bounds how long a slash command's immediate reply waits
// for the person's language; past it the reply is in English.
const languageCheck = 500 * time.Millisecond

// knownLanguage settles the language of a slash command's sender from
// what itfit keeps, within languageCheck; false when only Slack can say.
func (a *App) knownLanguage(ctx context.Context, in *chat.Input) bool {
	ctx, cancel := context.WithTimeout(ctx, languageCheck)
	defer cancel()
	return a.flows.KnownLanguage(ctx, in)
}

// Locale asks Slack for a user's locale (users.info with include_locale):
// the chat layer's detector for Slack, asked once per person.
func (a *App) Locale(ctx context.Context, u conversation.UserKey) (string, error) {
	return a.slack.UserLocale(ctx, u.Workspace, string(u.User))
}

// inDM opens the person's DM with itfit, where their audit lives, and
// points the input and its route there.
func (a *App) inDM(ctx context.Context, log *slog.Logger, in *chat.Input, rt *route) bool {
	dm, err := a.slack.OpenDM(ctx, rt.ws, rt.user)
	if err != nil {
		a.failed(ctx, log, *rt, "open DM", err)
		return false
	}
	in.Who.Key.Conversation = conversation.ConversationID(dm)
	rt.dm = dm
	return true
}

// interact checks a block_actions payload (or a shortcut) and schedules
// its work. An error means the payload is unusable (400); nothing was
// scheduled.
func (a *App) interact(ctx context.Context, p slackapi.Interaction, claim string, h http.Header) error {
	if p.Type != "block_actions" && p.Type != "shortcut" {
		return nil // nothing else is wired in the manifest; accept and ignore
	}
	if !p.Valid() {
		return errors.New("payload has no user or team, or a malformed one")
	}
	// The user and workspace come from the verified payload, never from a
	// button's value: a crafted click can only ever reach its sender's audit.
	ws := slackapi.Workspace(p.EnterpriseID(), p.TeamID())
	rt := route{ws: ws, user: p.User.ID, responseURL: p.ResponseURL}
	who := chat.Who{Key: conversation.Key{UserKey: userKey(ws, p.User.ID)}, Surface: chat.SurfaceSlash}
	if p.Type == "shortcut" {
		if p.CallbackID != shortcutStart {
			return nil // a shortcut this app does not define: ignore it
		}
		// "Start an IT audit" from the shortcuts menu: as /itfit, in the DM.
		if h != nil && a.verifier.Replayed(ctx, a.dedupe.rdb, a.dedupe.prefix, h, obs.Logger(ctx, a.log)) {
			return nil
		}
		in := chat.Input{Who: who}
		if err := a.later(ctx, "shortcut", claim, rt, func(ctx context.Context, log *slog.Logger) {
			if a.inDM(ctx, log, &in, &rt) {
				a.deliver(ctx, log, rt, a.rest(ctx, in))
			}
		}); err != nil {
			a.busy(ctx, rt, "shortcut", err)
		}
		return nil
	}
	if len(p.Actions) == 0 {
		return errors.New("payload has no action")
	}
	if p.Actions[0].ActionID == actCheck {
		return nil // ticking a box changes nothing until Continue
	}
	channel := p.ChannelID()
	rt.pressed = msgRef{channel: channel, ts: p.Container.MessageTS, ephemeral: p.Container.IsEphemeral}
	rt.dm = channel
	on := ""
	if channel != "" && p.Container.MessageTS != "" {
		on = channel + ":" + p.Container.MessageTS
	}
	press := act(p.Actions[0], p.State.Values, ws, on)
	who.Key.Conversation = conversation.ConversationID(channel)
	who.Place = channel
	if p.Container.Type == "view" {
		who.Home, rt.home = true, true
	}
	in := chat.Input{Who: who, Act: &press}
	switch {
	case press.Intent == chat.IntentAnswer && h != nil:
		// The answer's script claims its signature (one round trip).
		if id, ttl, ok := a.verifier.Delivery(h); ok {
			in.Once = conversation.Delivery{ID: "sig:" + id, TTL: ttl}
		}
	case press.Intent == chat.IntentAnswer && claim != "":
		in.Once, claim = conversation.Delivery{ID: claim, TTL: a.dedupe.ttl}, ""
	case h != nil && a.verifier.Replayed(ctx, a.dedupe.rdb, a.dedupe.prefix, h, obs.Logger(ctx, a.log)):
		return nil
	}
	err := a.later(ctx, "action", claim, rt, func(ctx context.Context, log *slog.Logger) {
		log = log.With("action", p.Actions[0].ActionID)
		switch {
		case press.Intent == chat.IntentStart || (channel == "" && press.Intent != chat.IntentSnooze &&
			press.Intent != chat.IntentStop && press.Intent != chat.IntentErase):
			// From the Home tab (no channel): the audit lives in the DM.
			if !a.inDM(ctx, log, &in, &rt) {
				return
			}
		case press.Intent == chat.IntentRemind:
			tz, err := a.slack.UserTZ(ctx, ws, p.User.ID)
			if err != nil {
				// The reminder still matters more than the hour it arrives at.
				log.Warn("no time zone for the reminder; using UTC", "err", err)
			}
			in.TZ = tz
		}
		a.deliver(ctx, log, rt, a.rest(ctx, in))
	})
	if err != nil {
		a.busy(ctx, rt, "action", err)
	}
	return nil
}

// event checks an Events API delivery and schedules its work. Org-wide
// installs deliver some events (app_uninstalled, tokens_revoked) with the
// enterprise and no team.
func (a *App) event(ctx context.Context, e slackapi.Envelope) error {
	if e.Type != "event_callback" {
		return nil
	}
	if !e.Valid() {
		return errors.New("event without event_id, or without a well-formed team_id or enterprise_id")
	}
	var ev slackapi.Event
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		return errors.New("malformed event")
	}
	ws := slackapi.Workspace(e.EnterpriseID, e.TeamID)
	claim := a.dedupe.prefix.SlackEvent(string(ws), e.EventID)
	switch ev.Type {
	case "app_home_opened":
		if ev.Tab != "home" || ev.User == "" || e.TeamID == "" {
			return nil
		}
		who := chat.Who{Key: conversation.Key{UserKey: userKey(ws, ev.User), Conversation: conversation.ConversationID(ev.Channel)}, Surface: chat.SurfaceSlash}
		if err := a.later(ctx, "app home", claim, route{ws: ws}, func(ctx context.Context, log *slog.Logger) {
			a.home(ctx, log, who)
		}); err != nil {
			return errBusy // Slack delivers the event again
		}
	case "app_mention":
		if ev.User == "" || ev.BotID != "" || !slackapi.IsID(ev.User) || !slackapi.IsID(ev.Channel) || e.TeamID == "" {
			return nil // bots, and mentions without a person or channel, get nothing
		}
		where := &mentionRef{channel: ev.Channel, thread: ev.ThreadTS}
		in := chat.Input{
			Who:  chat.Who{Key: conversation.Key{UserKey: userKey(ws, ev.User)}, Surface: chat.SurfaceSlash, Elsewhere: true},
			Word: mentionWord(ev.Text),
		}
		rt := route{ws: ws, user: ev.User, mention: where}
		if err := a.later(ctx, "mention", claim, rt, func(ctx context.Context, log *slog.Logger) {
			a.flows.Language(ctx, &in)
			quick, more := a.flows.Quick(in)
			a.deliver(ctx, log, rt, quick)
			if more && a.inDM(ctx, log, &in, &rt) {
				a.deliver(ctx, log, rt, a.rest(ctx, in))
			}
		}); err != nil {
			return errBusy // Slack delivers the event again
		}
	case "tokens_revoked":
		if len(ev.Tokens.Bot) == 0 {
			return nil // users' tokens only: itfit keeps none
		}
		fallthrough
	case "app_uninstalled":
		// No claim: removing twice is harmless, and a redelivery after a
		// failed attempt must be able to finish the job.
		ent, team, orgWide := e.EnterpriseID, e.TeamID, e.OrgWide() || e.TeamID == ""
		if err := a.later(ctx, "uninstall", "", route{}, func(ctx context.Context, log *slog.Logger) {
			a.uninstall(ctx, log.With("event", ev.Type), ent, team, orgWide)
		}); err != nil {
			return errBusy
		}
	}
	return nil
}

// home publishes the App Home tab.
func (a *App) home(ctx context.Context, log *slog.Logger, who chat.Who) {
	m, err := a.flows.Home(ctx, who)
	if err != nil {
		// Publishing without the facts would mislead; keep the old view.
		log.Error("app home", "err", err)
		return
	}
	if err := a.slack.PublishHome(ctx, who.Key.Workspace, string(who.Key.User), HomeView(m)); err != nil {
		log.Error("app home: publish", "err", err)
	}
}

// later runs f after the acknowledgement. If the route's workspace has no
// installation the person is told so (through the response_url, the one
// way to reach them without a token) and nothing is done or stored; rt.ws
// is empty only for work that needs no installation (an uninstall). A
// non-empty claim key is taken first, so that a delivery Slack makes twice
// (or two replicas receive) has one effect.
func (a *App) later(ctx context.Context, name, claim string, rt route, f func(ctx context.Context, log *slog.Logger)) error {
	log := obs.Logger(ctx, a.log)
	return a.bg.TryGo(ctx, string(rt.ws), "slack "+name, func(ctx context.Context) {
		if rt.ws != "" && a.notInstalled(ctx, rt.ws) {
			log.Info("slack request from a workspace without an installation", "task", name, "workspace", rt.ws)
			if rt.responseURL != "" {
				if err := a.slack.Respond(ctx, rt.responseURL, Render(a.views.NotInstalled(a.installs.url)), false); err != nil {
					log.Warn("could not reply through response_url", "err", err)
				}
			}
			return
		}
		if claim != "" {
			first, err := a.dedupe.claim(ctx, claim)
			switch {
			case err != nil:
				// Without Redis the flows will fail too and say so; the
				// claim must not be what hides the reply.
				log.Warn("slack delivery not deduplicated", "task", name, "err", err)
			case !first:
				log.Info("slack delivery already handled", "task", name)
				return
			}
		}
		f(ctx, log)
	})
}

// replyBy is how soon after a request arrived the chat layer's work must be
// done, so that the person sees its outcome within Slack's 3 seconds: what
// Redis has not answered by then is "temporarily unavailable", said in
// time, rather than a reply that comes late or never. It leaves half of
// the 3 seconds for the acknowledgement's own wait and for posting the
// reply on a busy machine (at 2 s, the fault test measured replies up to
// 2.9 s after the click at load average 13 on 2 cores).
const replyBy = 1500 * time.Millisecond

// rest is the flows' work for an input under replyBy. An answer Redis
// recorded after the deadline is not lost: the person is told to try
// again, and the same answer again counts as given.
func (a *App) rest(ctx context.Context, in chat.Input) []chat.Output {
	arrived, ok := background.Arrival(ctx)
	if !ok {
		arrived = time.Now()
	}
	ctx, cancel := context.WithDeadline(ctx, arrived.Add(replyBy))
	defer cancel()
	return a.flows.Rest(ctx, in)
}

// busy tells a person whose work the pool could not take that itfit is
// busy: through the response_url, within a second, from the request
// itself (there is no background slot to do it from). Without a
// response_url there is no one to tell.
func (a *App) busy(ctx context.Context, rt route, name string, err error) {
	log := obs.Logger(ctx, a.log)
	log.Warn("slack work shed", "task", name, "workspace", rt.ws, "err", err)
	if rt.responseURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := a.slack.Respond(ctx, rt.responseURL, Render(a.views.Busy()), false); err != nil {
		log.Warn("could not tell the person itfit is busy", "err", err)
	}
}

// notInstalled reports whether the store says the workspace has no
// installation. Any other failure (Redis down) is not an answer: the work
// goes ahead and reports its own error to the person.
func (a *App) notInstalled(ctx context.Context, ws conversation.WorkspaceID) bool {
	return a.slack.NotInstalled(ctx, ws)
}
