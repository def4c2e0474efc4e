package chat

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/schedule"
)

// Engine is what the flows need of the conversation engine.
type Engine interface {
	Audit() *advisor.Audit
	Start(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Restart(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Answer(ctx context.Context, k conversation.Key, a conversation.Answer) (conversation.Reply, error)
	Back(ctx context.Context, k conversation.Key, rev int64) (conversation.Reply, error)
	Status(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	History(ctx context.Context, u conversation.UserKey) ([]conversation.Result, error)
}

// Reminders schedules and manages revisits (*revisit.Service).
type Reminders interface {
	// Delivers says whether nudges can reach people on a platform.
	Delivers(p conversation.Platform) bool
	Remind(ctx context.Context, k conversation.Key, tz string) (time.Time, error)
	Share(ctx context.Context, k conversation.Key, manager conversation.UserID) error
	List(ctx context.Context, u conversation.UserKey) ([]revisit.Reminder, error)
	Snooze(ctx context.Context, u conversation.UserKey) (time.Time, error)
	Stop(ctx context.Context, u conversation.UserKey) (bool, error)
	ManagerOf(ctx context.Context, u conversation.UserKey) (revisit.Manager, bool, error)
	Invite(ctx context.Context, client conversation.Key) error
}

// Eraser forgets a person everywhere (*erasure.Registry).
type Eraser interface {
	Forget(ctx context.Context, u conversation.UserKey) (erasure.Counts, error)
}

// Claims remembers that something was done once (*conversation.Claims).
type Claims interface {
	Claim(ctx context.Context, u conversation.UserKey, id string) (bool, error)
	ClaimDelivery(ctx context.Context, u conversation.UserKey, d conversation.Delivery) (bool, error)
	Release(ctx context.Context, u conversation.UserKey, id string) error
}

// Events hears what happened to a person, for outgoing webhooks
// (*webhooks.Service). The calls only queue: they log their own failures
// and never change what the person is shown.
type Events interface {
	// Completed: an audit was finished (r is the engine's reply).
	Completed(ctx context.Context, u conversation.UserKey, name string, r conversation.Reply)
	// Shared: the person sent their result to an account manager.
	Shared(ctx context.Context, u conversation.UserKey, name string)
}

type noEvents struct{}

func (noEvents) Completed(context.Context, conversation.UserKey, string, conversation.Reply) {}
func (noEvents) Shared(context.Context, conversation.UserKey, string)                        {}

var (
	_ Engine    = (*conversation.Engine)(nil)
	_ Reminders = (*revisit.Service)(nil)
	_ Eraser    = (*erasure.Registry)(nil)
	_ Claims    = (*conversation.Claims)(nil)
)

// Who is the verified person an input comes from, and where their audit
// lives. Adapters build it from what the platform vouched for, never from
// a button's value.
type Who struct {
	// Key is the person and the conversation their audit lives in (Slack:
	// their DM with itfit; Teams: the chat or channel they wrote in).
	Key conversation.Key
	// Aliases are other IDs the platform verified for the same person
	// (Teams: from.id beside the Entra object ID in Key.User).
	Aliases []conversation.UserID
	// Place is where a press happened when that can differ from Key's
	// conversation (an account team's channel).
	Place string
	Name  string
	// Group is set in conversations several people share: messages say
	// whose they are, and presses by others are refused.
	Group   bool
	Surface Surface
	// Elsewhere is set when a command was typed outside the audit's
	// conversation (/itfit in a Slack channel: the audit is in the DM).
	Elsewhere bool
	// Lang is the language the person reads. An adapter sets it only when
	// told outright (a terminal's --lang); the Service settles it
	// otherwise (Language).
	Lang locale.Lang
	// Home is set for a press on the person's home view (Slack's App
	// Home): what replaces it is their whole home.
	Home bool
}

// is reports whether id names this person.
func (w Who) is(id conversation.UserID) bool {
	return id != "" && (id == w.Key.User || slices.Contains(w.Aliases, id))
}

// Input is one verified, translated thing a person did: a typed command
// (Word) or a press (Act).
type Input struct {
	Who  Who
	Word string // lower case, without mentions; "" for a press or a bare mention
	Act  *Act
	// TZ is the person's IANA zone where the platform says (reminders
	// arrive in their working hours).
	TZ string
	// Locale is the language the platform says the person uses with this
	// input ("fr-CA": Teams' activity locale, a terminal's $LANG), if it
	// says; a choice made with the language command comes first.
	Locale string
	// Once, set by the adapter on an answer press the platform may deliver
	// again (a replayed Slack signature, a Bot Connector redelivery),
	// names that delivery: the answer's script claims it in the round trip
	// that records the answer, and a second delivery does nothing at all.
	Once conversation.Delivery
	// nothingKept is set by KnownLanguage when the language store holds
	// nothing for the person, so that Language, asked next with the same
	// input, goes straight to the platform's detector.
	nothingKept bool
}

// Act is a press of an action the bot rendered.
type Act struct {
	Intent Intent
	Rev    int64
	Value  Value
	// Picked are the options ticked (multi-select) or typed (terminal).
	Picked []advisor.OptionID
	// Person is who the picker chose (Share).
	Person conversation.UserID
	// On names the message pressed, as the platform does (Slack
	// "channel:ts", Teams the activity ID); "" when there is none.
	On string
	// Problem is what the adapter could not read in the press.
	Problem Problem
	// Lang is the language the message pressed was shown in (Message.Lang,
	// carried in its buttons' values), so that a press is answered in it
	// without reading the person's language again. It is presentation
	// only: a forged one changes nothing but the language of the
	// sender's own reply.
	Lang locale.Lang
	// Moved is set when the message pressed is in a place the audit has
	// since left (Teams: an older thread of the channel), so an answer or
	// Back on it must not count there.
	Moved bool
}

// Op is what to do with an output.
type Op uint8

const (
	// Post shows a new message in the audit's conversation.
	Post Op = iota
	// Replace updates the message the press was on.
	Replace
	// Note tells the person something where they acted (Slack: only they
	// see it).
	Note
)

// Output is one message to show, and how.
type Output struct {
	Op  Op
	Msg Message
}

// Options build a Service. Engine, Eraser and Claims are required;
// Reminders may be nil (no revisits: the card offers none).
type Options struct {
	Engine    Engine
	Reminders Reminders
	Eraser    Eraser
	Claims    Claims
	// Languages keeps each person's language; nil: the language comes
	// from the platform alone (Who.Lang, Input.Locale), else English.
	Languages Languages
	// Events hears completions and shares; nil: nobody listens.
	Events Events
	Log    *slog.Logger
	// Now is the clock for telling a double press from a retry after
	// silence; default time.Now.
	Now func() time.Time
	// Desk is the account managers' desk (nil: there is none), Managers
	// the operator's ITFIT_ACCOUNT_MANAGERS it reads, and Links makes
	// download links (nil: exports go only where a platform takes files,
	// and the card offers no PDF).
	Desk     Desk
	Managers revisit.Directory
	Links    Links
}

// Service runs the flows. It keeps no state of its own: everything lives
// in the engine's and the other stores' Redis, so any replica serves any
// input.
type Service struct {
	engine    Engine
	reminders Reminders
	eraser    Eraser
	claims    Claims
	events    Events
	log       *slog.Logger
	now       func() time.Time
	languages Languages
	// views are the views in each language (language.go).
	views    map[locale.Lang]*Views
	desk     Desk
	managers revisit.Directory
	links    Links

	mu        sync.Mutex
	outboxes  map[conversation.Platform]Outbox
	detectors map[conversation.Platform]Detector
}

// New returns the service.
func New(o Options) (*Service, error) {
	if o.Engine == nil || o.Eraser == nil || o.Claims == nil {
		return nil, errors.New("chat: Engine, Eraser and Claims are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Events == nil {
		o.Events = noEvents{}
	}
	s := &Service{engine: o.Engine, reminders: o.Reminders, eraser: o.Eraser, claims: o.Claims, events: o.Events, log: o.Log, now: o.Now,
		languages: o.Languages, outboxes: map[conversation.Platform]Outbox{}, detectors: map[conversation.Platform]Detector{},
		desk: o.Desk, managers: o.Managers, links: o.Links}
	s.views = map[locale.Lang]*Views{}
	for _, l := range locale.All {
		s.views[l] = &Views{audit: o.Engine.Audit().In(l), w: words(l), nudges: s.nudges, reports: o.Links != nil}
	}
	return s, nil
}

// Views is the service's view builder in English, for the messages an
// adapter sends on its own before it knows the person's language.
func (s *Service) Views() *Views { return s.views[locale.English] }

// ViewsIn is the view builder in a language (English for one itfit does
// not speak), for the messages an adapter sends on its own.
func (s *Service) ViewsIn(l locale.Lang) *Views {
	if v, ok := s.views[l]; ok {
		return v
	}
	return s.views[locale.English]
}

// in is the view builder in the language the person reads.
func (s *Service) in(who Who) *Views { return s.ViewsIn(who.Lang) }

func (s *Service) nudges(p conversation.Platform) bool {
	return s.reminders != nil && s.reminders.Delivers(p)
}

// Verbs are what a typed command asks for.
type verb uint8

const (
	verbStart verb = iota
	verbRestart
	verbStatus
	verbReminders
	verbForget
	verbHelp
	verbLanguage
	verbClients
	verbUnknown
)

func parseVerb(word string) verb {
	word = strings.TrimSpace(word)
	if v, ok := frenchVerb(word); ok {
		return v
	}
	if _, ok := languageWord(word); ok {
		return verbLanguage
	}
	switch word {
	case "", "start", "hi", "hello", "begin", "resume":
		return verbStart
	case "restart", "start over", "again":
		return verbRestart
	case "status", "where":
		return verbStatus
	case "reminders", "reminder":
		return verbReminders
	case "forget", "erase", "forget me":
		return verbForget
	case "help", "?":
		return verbHelp
	case "clients", "desk", "my clients":
		return verbClients
	}
	return verbUnknown
}

// Handle is everything an input gets: Quick's outputs, then Rest's, in
// the person's language (see Language).
func (s *Service) Handle(ctx context.Context, in Input) []Output {
	s.Language(ctx, &in)
	outs, more := s.Quick(in)
	if more {
		outs = append(outs, s.Rest(ctx, in)...)
	}
	return outs
}

// Quick is what an input gets without touching any store, and whether
// Rest has more to do. Slack puts Quick's note in the acknowledgement it
// must send within 3 seconds; the rest follows.
func (s *Service) Quick(in Input) ([]Output, bool) {
	outs, more := s.quick(in)
	return stamp(outs, in.Who.Lang), more
}

func (s *Service) quick(in Input) ([]Output, bool) {
	if in.Act != nil {
		return nil, true
	}
	v := s.in(in.Who)
	w := v.w
	switch parseVerb(in.Word) {
	case verbHelp:
		return []Output{{Op: Note, Msg: v.Help(in.Who)}}, false
	case verbForget:
		return []Output{{Op: Note, Msg: v.ForgetConfirm(in.Who)}}, false
	case verbStart:
		if in.Who.Elsewhere {
			return []Output{{Op: Note, Msg: v.note(w.t("The audit continues in your direct messages with itfit, where your answers stay private."))}}, true
		}
	case verbRestart:
		if in.Who.Elsewhere {
			return []Output{{Op: Note, Msg: v.note(w.t("Starting the audit again in your direct messages with itfit."))}}, true
		}
	case verbClients:
		if in.Who.Elsewhere {
			return []Output{{Op: Note, Msg: v.note(w.t("Your clients are in your direct messages with itfit."))}}, true
		}
	case verbUnknown:
		if in.Who.Elsewhere {
			// Said where the audit is not (a channel): the hint goes there,
			// the audit to the DM.
			return []Output{{Op: Note, Msg: v.noteText(s.hint(in, true))}}, true
		}
	}
	return nil, true
}

// Rest does the work an input asks for and says what to show.
func (s *Service) Rest(ctx context.Context, in Input) []Output {
	s.Language(ctx, &in)
	return stamp(s.rest(ctx, in), in.Who.Lang)
}

// stamp says which language messages are in, where their views did not.
func stamp(outs []Output, l locale.Lang) []Output {
	for i := range outs {
		if outs[i].Msg.Lang == "" {
			outs[i].Msg.Lang = l
		}
	}
	return outs
}

func (s *Service) rest(ctx context.Context, in Input) []Output {
	if in.Act != nil {
		return s.act(ctx, in)
	}
	switch parseVerb(in.Word) {
	case verbStart:
		return s.start(ctx, in, false)
	case verbUnknown:
		var hint Text
		if !in.Who.Elsewhere {
			hint = s.hint(in, false)
		}
		return s.start(ctx, in, false, hint)
	case verbRestart:
		return s.start(ctx, in, true)
	case verbStatus:
		r, err := s.engine.Status(ctx, in.Who.Key)
		if err != nil {
			return s.fail(ctx, in.Who, "status", err)
		}
		return []Output{{Op: Note, Msg: s.in(in.Who).status(r, in.Who)}}
	case verbReminders:
		return s.listReminders(ctx, in)
	case verbLanguage:
		return s.chooseLanguage(ctx, in)
	case verbClients:
		return s.clients(ctx, in)
	}
	return nil
}

// Home is the person's home view (Slack's App Home tab): start or resume,
// and their last result. who.Key.Conversation is their DM, if known.
func (s *Service) Home(ctx context.Context, who Who) (Message, error) {
	return s.home(ctx, who, portfolio.ByDue, "", nil)
}

// home is the home view; for an account manager, with a page of their
// desk under it (note above, when a press on it did something).
func (s *Service) home(ctx context.Context, who Who, o portfolio.Order, at portfolio.Cursor, note Text) (Message, error) {
	in := Input{Who: who}
	s.Language(ctx, &in)
	who = in.Who
	var inProgress *conversation.Reply
	if who.Key.Conversation != "" {
		r, err := s.engine.Status(ctx, who.Key)
		if err != nil {
			return Message{}, err
		}
		if r.Question != nil {
			inProgress = &r
		}
	}
	hist, err := s.engine.History(ctx, who.Key.UserKey)
	if err != nil {
		return Message{}, err
	}
	var last *conversation.Result
	if len(hist) > 0 {
		last = &hist[0]
	}
	m := s.in(who).Home(inProgress, last, who)
	d, ok, err := s.deskPage(ctx, who, o, at)
	if err != nil {
		return Message{}, err
	}
	if ok {
		m = s.in(who).withDesk(m, d, who, note)
	}
	return m, nil
}

// hint answers a word itfit does not know: the audit goes on, and help
// says what else there is.
func (s *Service) hint(in Input, elsewhere bool) Text {
	v := s.in(in.Who)
	w := v.w
	word := in.Word
	if len([]rune(word)) > 40 {
		word = string([]rune(word)[:39]) + "…"
	}
	if elsewhere {
		return txt(w.f("I don't know “%s”, so your audit continues in your direct messages with itfit; ", word), v.command(in.Who.Surface, "help"), w.t(" lists what I can do."))
	}
	return txt(w.f("I don't know “%s”, so here is your audit; ", word), v.command(in.Who.Surface, "help"), w.t(" lists what I can do."))
}

// start begins the audit, or resumes the one in progress (or a finished
// one's card); fresh drops what there was. notes go above what it shows.
func (s *Service) start(ctx context.Context, in Input, fresh bool, notes ...Text) []Output {
	var (
		r   conversation.Reply
		err error
	)
	if fresh {
		r, err = s.engine.Restart(ctx, in.Who.Key)
	} else {
		r, err = s.engine.Start(ctx, in.Who.Key)
	}
	if err != nil {
		return s.fail(ctx, in.Who, "start", err)
	}
	v := s.in(in.Who)
	w := v.w
	var note Text
	switch {
	case r.AuditChanged:
		note = txt(w.t("The questions have changed since you started, so the audit begins again."))
	case r.Event == conversation.Resumed && r.Result != nil:
		note = txt(w.t("Here is your result. "), v.command(in.Who.Surface, "restart"), w.t(" (or Start over) takes the audit again."))
	case r.Event == conversation.Resumed:
		note = txt(w.t("Welcome back: picking up where you left off."))
	case r.Event == conversation.Started && !fresh:
		note = v.intro()
	case r.Event == conversation.Started && in.Act == nil:
		note = txt(w.t("Starting again from the first question."))
	}
	return []Output{s.show(r, in.Who, append(notes, note)...)}
}

// show posts what a reply waits on: the question or the card.
func (s *Service) show(r conversation.Reply, who Who, notes ...Text) Output {
	var m Message
	if r.Result != nil {
		m = s.in(who).Card(*r.Result, r.SinceLast, who)
	} else {
		m = s.in(who).Question(r, who)
	}
	for _, n := range notes {
		if len(n) > 0 {
			m.Notes = append(m.Notes, n)
			m.Key = noteKey(m.Key, n)
		}
	}
	return Output{Op: Post, Msg: m}
}

// noteKey is the key of a keyed message once note n is added to it: the
// words of a note made of words alone (the intro, "fewer to go") become
// part of the key, so the question keeps its rendered form; a note that
// names a person, a date or a command makes the message one of a kind ("").
// About a fifth of the questions an audit posts carry such a note; rendered
// and encoded each time (BenchmarkRenderQuestion: 16 µs in Slack), that is
// about 3.5 µs per answer, too little to show in scripts/load's runs.
func noteKey(key string, n Text) string {
	if key == "" {
		return ""
	}
	size := len(key) + 3
	for _, sp := range n {
		if sp.Kind != Plain && sp.Kind != Strong {
			return ""
		}
		size += len(sp.S) + 2
	}
	b := make([]byte, 0, size)
	b = append(b, key...)
	b = append(b, "\x00n"...)
	for _, sp := range n {
		b = append(b, '\x00', '0'+byte(sp.Kind))
		b = append(b, sp.S...)
	}
	return string(b)
}

func (s *Service) act(ctx context.Context, in Input) []Output {
	a, v := in.Act, s.in(in.Who)
	if in.Once.ID != "" && (a.Intent != IntentAnswer || a.Problem.Kind != NoProblem || !owns(in) || a.Moved) {
		// The press will not reach the answer script, which would claim
		// its delivery: claim it here, before anything is shown.
		if s.repeated(ctx, in) {
			return nil
		}
		in.Once = conversation.Delivery{}
	}
	if a.Problem.Kind != NoProblem {
		s.logger(ctx).Info("chat: press refused", "intent", a.Intent, "problem", a.Problem.Kind)
		return []Output{{Op: Note, Msg: v.note(v.w.problem(a.Problem))}}
	}
	if !owns(in) {
		// A card asked of someone else in a shared conversation: their
		// audit and the presser's own are both left alone.
		return []Output{{Op: Note, Msg: v.note(v.w.t("That card belongs to someone else's audit, so I left it alone. Mention me to start your own: everyone here gets their own."))}}
	}
	if a.Moved && (a.Intent == IntentAnswer || a.Intent == IntentBack) {
		return s.moved(ctx, in)
	}
	switch a.Intent {
	case IntentAnswer:
		opts := a.Picked
		if a.Value.Option != "" {
			opts = []advisor.OptionID{a.Value.Option}
		}
		r, err := s.engine.Answer(ctx, in.Who.Key, conversation.Answer{Rev: a.Rev, Question: a.Value.Question, Options: opts, Once: in.Once})
		if err != nil {
			return s.fail(ctx, in.Who, "answer", err)
		}
		if r.Event == conversation.Repeated {
			s.logger(ctx).Info("chat: answer delivered again; the first delivery counted")
			return nil
		}
		return s.after(ctx, in, r)
	case IntentBack:
		r, err := s.engine.Back(ctx, in.Who.Key, a.Rev)
		if err != nil {
			return s.fail(ctx, in.Who, "back", err)
		}
		return s.after(ctx, in, r)
	case IntentRestart:
		return s.restart(ctx, in)
	case IntentStart:
		return s.start(ctx, in, false)
	case IntentRetake:
		return s.retake(ctx, in)
	case IntentRemind:
		return s.remind(ctx, in)
	case IntentShare:
		return s.share(ctx, in)
	case IntentSnooze:
		return s.snooze(ctx, in)
	case IntentStop:
		return s.stop(ctx, in)
	case IntentErase:
		return s.erase(ctx, in)
	case IntentInvite:
		return s.invite(ctx, in)
	case IntentLanguage:
		return s.setLanguage(ctx, in, a.Value.Lang)
	case IntentClients, IntentClientInvite, IntentClientCard, IntentClientSnooze, IntentExport:
		return s.deskAct(ctx, in)
	case IntentReport:
		return s.report(ctx, in)
	}
	s.logger(ctx).Info("chat: unknown intent refused", "intent", a.Intent)
	return []Output{{Op: Note, Msg: v.note(v.w.problem(Problem{Kind: UnknownButton}))}}
}

// owns reports whether the press is on a card of the presser's own audit,
// or of the shared conversation it was asked in.
func owns(in Input) bool {
	o := in.Act.Value.Owner
	return o == "" || in.Who.is(o) || (in.Who.Place != "" && in.Who.Place == string(o))
}

// repeated claims in.Once for a press that will not reach the answer
// script, and reports whether it was claimed before (a delivery to drop).
// A failed claim is not a refusal: the flows fail and say so, or go on.
func (s *Service) repeated(ctx context.Context, in Input) bool {
	first, err := s.claims.ClaimDelivery(ctx, in.Who.Key.UserKey, in.Once)
	switch {
	case err != nil:
		s.logger(ctx).Warn("chat: delivery not deduplicated", "err", err)
	case !first:
		s.logger(ctx).Info("chat: press delivered again; the first delivery counted")
	}
	return err == nil && !first
}

// doublePress is how soon after a change a press of the button that made
// it counts as the same press again (a double click, a redelivery) rather
// than a retry by someone who never saw the reply.
const doublePress = 5 * time.Second

// after shows what an answer or Back did.
func (s *Service) after(ctx context.Context, in Input, r conversation.Reply) []Output {
	a, v := in.Act, s.in(in.Who)
	w := v.w
	owner := groupOwner(in.Who)
	switch r.Event {
	case conversation.Advanced, conversation.Completed:
		if r.Event == conversation.Completed {
			s.events.Completed(ctx, in.Who.Key.UserKey, in.Who.Name, r)
		}
		// The next question goes first, so the person waits on one
		// platform round trip, not two.
		var notes []Text
		if r.Event == conversation.Advanced && a.Value.Total > r.Total && r.Total > 0 {
			notes = append(notes, txt(w.plural(a.Value.Total-r.Total,
				"That answer means %d question no longer applies, so there are fewer to go.",
				"That answer means %d questions no longer apply, so there are fewer to go.")))
		}
		if r.Event == conversation.Completed {
			s.recordResult(ctx, in.Who.Key.UserKey, r.Result)
		}
		outs := []Output{s.show(r, in.Who, notes...)}
		if r.Answered != nil {
			outs = append(outs, Output{Op: Replace, Msg: v.Answered(*r.Answered, a.Value.Pos, a.Value.Total, owner)})
		}
		return outs
	case conversation.WentBack:
		var note Text
		if r.Undone != nil {
			_, labels := v.echo(*r.Undone)
			note = txt(w.t("You went back. Your earlier answer was: "), strong(strings.Join(labels, ", ")), ".")
		}
		outs := []Output{s.show(r, in.Who, note)}
		if a.Value.Question != "" {
			if q, ok := v.audit.Question(a.Value.Question); ok {
				outs = append(outs, Output{Op: Replace, Msg: v.closed(q.Prompt, w.t("↩ You went back to the previous question."), a.Value.Pos, a.Value.Total, owner)})
			}
		}
		return outs
	case conversation.NoSession:
		return []Output{{Op: Note, Msg: v.expired(in.Who)}}
	case conversation.Stale:
		return s.stale(ctx, in, r)
	}
	return []Output{s.show(r, in.Who)}
}

// stale answers a press that changed nothing: a second press of the
// button that just advanced the audit is left alone (its reply is on its
// way); any other gets one note per message and where the person really is.
func (s *Service) stale(ctx context.Context, in Input, r conversation.Reply) []Output {
	a, v := in.Act, s.in(in.Who)
	w := v.w
	if a.Intent == IntentBack && r.Rev == a.Rev && len(r.Answers) == 0 {
		return []Output{{Op: Note, Msg: v.note(w.t("This is the first question, so there is nothing to go back to."))}}
	}
	if s.justAdvancedBy(a, r) {
		// (A terminal shows only what it printed itself: the same answer
		// given elsewhere is news to it.)
		if s.now().Sub(r.UpdatedAt) < doublePress && in.Who.Surface != SurfaceTerminal {
			s.logger(ctx).Info("chat: second press of the button that just advanced the audit; its reply is on the way")
			return nil
		}
		// The same answer again after a while: the person never saw what
		// it led to (the reply was lost). It counts as given: show what
		// comes next, as the first press would have.
		outs := []Output{s.show(r, in.Who)}
		if q, ok := s.engine.Audit().Question(a.Value.Question); ok {
			outs = append(outs, Output{Op: Replace, Msg: v.Answered(conversation.Echo{Question: q, Labels: q.Labels(lastAnswer(r).Options), Options: lastAnswer(r).Options}, a.Value.Pos, a.Value.Total, groupOwner(in.Who))})
		}
		return outs
	}
	if a.On != "" {
		first, err := s.claims.Claim(ctx, in.Who.Key.UserKey, "stale:"+a.On)
		if err != nil {
			s.logger(ctx).Warn("chat: stale note not deduplicated", "err", err)
		} else if !first {
			return nil // one note per message, however often its buttons are pressed
		}
	}
	note := txt(w.t("That button is from an earlier point in the audit, so it changed nothing. Here is where you are."))
	if in.Who.Surface == SurfaceTerminal {
		note = txt(w.t("That question was already answered, so nothing changed. Here is where you are."))
	}
	return []Output{s.show(r, in.Who, note)}
}

// moved answers a press on a message the audit has left behind in another
// place (an older thread): the stale rule, one note per message, saying
// the audit went on elsewhere, and where the person is now, in place of
// the message pressed, so that what is left in that place is live.
func (s *Service) moved(ctx context.Context, in Input) []Output {
	a, v := in.Act, s.in(in.Who)
	w := v.w
	if a.On != "" {
		first, err := s.claims.Claim(ctx, in.Who.Key.UserKey, "stale:"+a.On)
		if err != nil {
			s.logger(ctx).Warn("chat: moved note not deduplicated", "err", err)
		} else if !first {
			return nil
		}
	}
	r, err := s.engine.Status(ctx, in.Who.Key)
	if err != nil {
		return s.fail(ctx, in.Who, "status", err)
	}
	if r.Event == conversation.NoSession {
		return []Output{{Op: Note, Msg: v.expired(in.Who)}}
	}
	o := s.show(r, in.Who, txt(w.t("This audit continued in another thread, so that button changed nothing. Here is where you are, to carry on in this thread.")))
	if a.On != "" {
		o.Op = Replace
	}
	return []Output{o}
}

// justAdvancedBy reports whether the press is the very answer that moved
// the session to its current revision.
func (s *Service) justAdvancedBy(a *Act, r conversation.Reply) bool {
	if a.Intent != IntentAnswer || r.Rev != a.Rev+1 || len(r.Answers) == 0 {
		return false
	}
	last := lastAnswer(r)
	if last.Question != a.Value.Question {
		return false
	}
	opts := a.Picked
	if a.Value.Option != "" {
		opts = []advisor.OptionID{a.Value.Option}
	}
	checked, err := s.engine.Audit().CheckAnswer(a.Value.Question, opts)
	return err == nil && slices.Equal(checked, last.Options)
}

// lastAnswer is the answer given last: the last in audit order, since each
// answer is to the question after every answered one.
func lastAnswer(r conversation.Reply) advisor.Answer {
	if len(r.Answers) == 0 {
		return advisor.Answer{}
	}
	return r.Answers[len(r.Answers)-1]
}

// restart is Start over: once per message, however often it is pressed.
func (s *Service) restart(ctx context.Context, in Input) []Output {
	a, v := in.Act, s.in(in.Who)
	w := v.w
	claim := "restart:" + a.On
	if a.On != "" {
		first, err := s.claims.Claim(ctx, in.Who.Key.UserKey, claim)
		if err != nil {
			return s.fail(ctx, in.Who, "restart", err)
		}
		if !first {
			s.logger(ctx).Info("chat: start over pressed twice; the first press counts")
			return nil
		}
	}
	r, err := s.engine.Restart(ctx, in.Who.Key)
	if err != nil {
		s.release(ctx, in.Who.Key.UserKey, a.On, claim)
		return s.fail(ctx, in.Who, "restart", err)
	}
	outs := []Output{s.show(r, in.Who)}
	// A question is closed; a card stays as it was, so the result persists.
	if q, ok := v.audit.Question(a.Value.Question); ok {
		outs = append(outs, Output{Op: Replace, Msg: v.closed(q.Prompt, w.t("↩ You started over."), a.Value.Pos, a.Value.Total, groupOwner(in.Who))})
	}
	return outs
}

func (s *Service) release(ctx context.Context, u conversation.UserKey, on, claim string) {
	if on == "" {
		return
	}
	if err := s.claims.Release(context.WithoutCancel(ctx), u, claim); err != nil {
		s.logger(ctx).Warn("chat: release claim", "err", err)
	}
}

// retake starts a fresh audit from a nudge; the new card says what changed.
func (s *Service) retake(ctx context.Context, in Input) []Output {
	a, v := in.Act, s.in(in.Who)
	w := v.w
	claim := "retake:" + a.On
	if a.On != "" {
		first, err := s.claims.Claim(ctx, in.Who.Key.UserKey, claim)
		if err != nil {
			return s.fail(ctx, in.Who, "retake", err)
		}
		if !first {
			s.logger(ctx).Info("chat: retake pressed twice; the first press counts")
			return nil
		}
	}
	r, err := s.engine.Restart(ctx, in.Who.Key)
	if err != nil {
		s.release(ctx, in.Who.Key.UserKey, a.On, claim)
		return s.fail(ctx, in.Who, "retake", err)
	}
	return []Output{
		s.show(r, in.Who, txt(w.t("Here is the audit again: at the end I'll show you what changed since last time."))),
		{Op: Replace, Msg: v.closed(w.t("Time to revisit your IT decision"), w.t("Retaking the audit."), 0, 0, groupOwner(in.Who))},
	}
}

// off says reminders cannot work here; nil when they can.
func (s *Service) off(who Who) []Output {
	if s.nudges(who.Key.Platform) {
		return nil
	}
	v := s.in(who)
	return []Output{{Op: Note, Msg: v.note(v.w.t("Reminders are not switched on in this deployment, so nothing was scheduled or changed. Put the revisit date from your card in your calendar instead."))}}
}

func (s *Service) remind(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	due, err := s.reminders.Remind(ctx, in.Who.Key, in.TZ)
	if errors.Is(err, revisit.ErrUnknownZone) {
		s.logger(ctx).Warn("chat: unknown time zone for the reminder; using UTC", "tz", in.TZ)
		due, err = s.reminders.Remind(ctx, in.Who.Key, "")
	}
	if err != nil {
		return s.fail(ctx, in.Who, "remind", err)
	}
	v := s.in(in.Who)
	return []Output{{Op: Note, Msg: v.noteText(v.w.s("Done: I'll remind you on %v to revisit the decision, with your answers to compare.", due))}}
}

func (s *Service) share(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	v := s.in(in.Who)
	w := v.w
	p := in.Act.Person
	switch {
	case p == "":
		return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: NoPersonChosen}))}}
	case in.Who.is(p):
		return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: PickedYourself}))}}
	}
	if err := s.reminders.Share(ctx, in.Who.Key, p); err != nil {
		if errors.Is(err, schedule.ErrGone) {
			err = errNotReachable
		}
		return s.fail(ctx, in.Who, "share", err)
	}
	s.recordShare(ctx, in.Who.Key, p)
	s.events.Shared(ctx, in.Who.Key.UserKey, in.Who.Name)
	manager := Span{Kind: Person, ID: string(p), Mention: true, S: w.t("your account manager")}
	return []Output{{Op: Note, Msg: v.noteText(txt(w.t("Sent: "), manager, w.t(" has a copy of this result. When your yearly revisit comes round (press “Remind me in 12 months” if you haven't), they'll be nudged too.")))}}
}

func (s *Service) listReminders(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	list, err := s.reminders.List(ctx, in.Who.Key.UserKey)
	if err != nil {
		return s.fail(ctx, in.Who, "list reminders", err)
	}
	return []Output{{Op: Note, Msg: s.in(in.Who).Reminders(list, in.Who, managerSpan)}}
}

// managerSpan names a manager in a reminders list: a mention on the
// platform itself, nothing elsewhere.
func managerSpan(m revisit.Manager) Span {
	return Span{Kind: Person, ID: m.Target, Mention: true}
}

// settle shows the outcome of a button on the message that carried it,
// so it cannot be pressed again; without one, as a note.
func (s *Service) settle(in Input, title, outcome Text) []Output {
	if in.Act.On == "" {
		return []Output{{Op: Note, Msg: s.in(in.Who).noteText(outcome)}}
	}
	m := Message{Kind: KindClosed, Owner: groupOwner(in.Who), Title: title.String(), Lead: outcome, Tone: ToneGood, Summary: outcome.String()}
	return []Output{{Op: Replace, Msg: m}}
}

func (s *Service) snooze(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	due, err := s.reminders.Snooze(ctx, in.Who.Key.UserKey)
	if err != nil {
		return s.fail(ctx, in.Who, "snooze", err)
	}
	w := s.in(in.Who).w
	return s.settle(in, txt(w.t("Your reminders")), w.s("Snoozed: I'll remind you again on %v.", due))
}

func (s *Service) stop(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	stopped, err := s.reminders.Stop(ctx, in.Who.Key.UserKey)
	if err != nil {
		return s.fail(ctx, in.Who, "stop", err)
	}
	w := s.in(in.Who).w
	outcome := w.t("Stopped: no more revisit reminders will be sent, to you or your account manager. “Remind me in 12 months” on a card schedules one again.")
	if !stopped {
		outcome = w.t("You had no reminders scheduled, so there was nothing to stop.")
	}
	return s.settle(in, txt(w.t("Your reminders")), txt(outcome))
}

// erase forgets the person. It takes no claim on the press: a claim would
// be a key about them, written after the erase.
func (s *Service) erase(ctx context.Context, in Input) []Output {
	c, err := s.eraser.Forget(ctx, in.Who.Key.UserKey)
	if errors.Is(err, erasure.ErrTooSoon) {
		// Another press (or replica) is erasing, or just did: nothing
		// more to erase, and saying "held nothing" would be untrue.
		return s.settle(in, nil, txt(s.in(in.Who).w.t("Done: itfit erased everything about you moments ago; there is nothing more to erase.")))
	}
	if err != nil {
		return s.fail(ctx, in.Who, "forget", err)
	}
	s.logger(ctx).Info("chat: person forgotten", "sessions", c.Sessions, "results", c.Results, "reminders", c.Reminders, "other", c.Other)
	return s.settle(in, nil, txt(s.in(in.Who).erased(c)))
}

// invite is an account manager's invitation to retake (IntentInvite). The client is
// named by the button, which anyone can forge: so the presser (as the
// platform verified them) must be the manager that client's nudges go to
// now, or nothing is sent.
func (s *Service) invite(ctx context.Context, in Input) []Output {
	if outs := s.off(in.Who); outs != nil {
		return outs
	}
	a, v := in.Act, s.in(in.Who)
	w := v.w
	client := conversation.Key{UserKey: a.Value.Client, Conversation: a.Value.ClientConv}
	if client.User == "" || client.Workspace == "" || client.Platform == "" {
		return []Output{{Op: Note, Msg: v.note(w.problem(Problem{Kind: UnknownButton}))}}
	}
	m, ok, err := s.reminders.ManagerOf(ctx, client.UserKey)
	if err != nil {
		return s.fail(ctx, in.Who, "invite", err)
	}
	if !ok || !isManager(m, in.Who) {
		s.logger(ctx).Warn("chat: invite refused: the presser is not the client's account manager", "client_workspace", client.Workspace)
		return []Output{{Op: Note, Msg: v.noteText(txt(w.t("Only the account manager of "), clientSpan(client, w.t("this client")), w.t(" can invite them to retake, so nothing was sent.")))}}
	}
	who := s.client(ctx, in.Who, m, client.UserKey, w.t("your client"))
	// One invitation per nudge, however many of the account team press it.
	// The claim lives under the client's tag, so their forget sweeps it.
	claim := "invite:" + a.On
	if a.On != "" {
		first, err := s.claims.Claim(ctx, client.UserKey, claim)
		if err != nil {
			return s.fail(ctx, in.Who, "invite", err)
		}
		if !first {
			return []Output{{Op: Note, Msg: v.note(w.t("They were already invited from this message."))}}
		}
	}
	if err := s.reminders.Invite(ctx, client); err != nil {
		s.release(ctx, client.UserKey, a.On, claim)
		if errors.Is(err, revisit.ErrNoResult) || errors.Is(err, schedule.ErrGone) {
			s.logger(ctx).Info("chat: invite: the client cannot be reached or has no result", "err", err)
			return []Output{{Op: Note, Msg: v.note(w.t("I can't invite them any more: they have no itfit result now, or removed itfit. Nothing was sent."))}}
		}
		return s.fail(ctx, in.Who, "invite", err)
	}
	return s.settle(in, txt(w.t("A client's yearly IT revisit is due")), txt(w.t("Invitation sent: "), who, w.t(" has been asked to retake the audit.")))
}

// clientSpan names a client by mention where the platform can, else in
// words.
func clientSpan(client conversation.Key, words string) Span {
	return Span{Kind: Person, ID: string(client.User), Mention: true, S: words}
}

// isManager reports whether the presser is the manager m: the person
// themself, or (where the manager is a channel) anyone pressing in it.
func isManager(m revisit.Manager, who Who) bool {
	if m.Platform != who.Key.Platform || m.Workspace != who.Key.Workspace {
		return false
	}
	return who.is(conversation.UserID(m.Target)) || (who.Place != "" && who.Place == m.Target)
}

// fail logs what went wrong and tells the person in words they can act on.
func (s *Service) fail(ctx context.Context, who Who, what string, err error) []Output {
	v := s.in(who)
	text, ours := v.failure(err)
	level := slog.LevelInfo
	if ours {
		level = slog.LevelError
	}
	s.logger(ctx).Log(ctx, level, "chat: "+what, "err", err)
	return []Output{{Op: Note, Msg: v.note(text)}}
}

func (s *Service) logger(ctx context.Context) *slog.Logger { return obs.Logger(ctx, s.log) }
