package chat

import (
	"context"
	"strings"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
)

// Languages keeps each person's language (*conversation.Languages).
type Languages interface {
	Get(ctx context.Context, u conversation.UserKey) (conversation.Language, error)
	Choose(ctx context.Context, u conversation.UserKey, l locale.Lang) error
	Saw(ctx context.Context, u conversation.UserKey, l locale.Lang) error
}

var _ Languages = (*conversation.Languages)(nil)

// Detector asks a platform which locale a person uses, for platforms whose
// inputs do not say (Slack's users.info with include_locale). It is asked
// once per person: what it says is kept.
type Detector func(ctx context.Context, u conversation.UserKey) (string, error)

// Detect registers a platform's detector (at wiring, before serving).
func (s *Service) Detect(p conversation.Platform, d Detector) {
	s.mu.Lock()
	s.detectors[p] = d
	s.mu.Unlock()
}

func (s *Service) detector(p conversation.Platform) Detector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detectors[p]
}

// Language settles the language in.Who reads, unless the adapter set it:
// the person's choice (the language command), else the locale the platform
// gave with this input (Teams' activity locale, a terminal's $LANG), else
// the one their platform gave before, else what the platform's detector
// says (kept, so Slack's users.info is asked once per person), else
// English. A language store that cannot be read does not stop the input:
// it gets the platform's locale or English, and the flows report the
// outage in their own words.
func (s *Service) Language(ctx context.Context, in *Input) { s.language(ctx, in, true) }

// KnownLanguage is Language without asking the platform: false, with
// in.Who.Lang unset, when only the platform's detector could tell (a Slack
// user itfit has not met), so that an adapter answering within a deadline
// can leave that to its background work.
func (s *Service) KnownLanguage(ctx context.Context, in *Input) bool {
	return s.language(ctx, in, false)
}

func (s *Service) language(ctx context.Context, in *Input, detect bool) bool {
	if in.Who.Lang.Valid() {
		return true
	}
	if in.Act != nil && in.Act.Lang.Valid() && in.Act.Intent != IntentErase {
		// A press on a message shown in a language: answered in it,
		// without a read of the store per press.
		in.Who.Lang = in.Act.Lang
		return true
	}
	said, saidOK := locale.Match(in.Locale)
	u := in.Who.Key.UserKey
	if s.languages == nil || u.User == "" {
		in.Who.Lang = said.Or(locale.English)
		return true
	}
	var known conversation.Language
	if !in.nothingKept {
		var err error
		known, err = s.languages.Get(ctx, u)
		if err != nil {
			s.logger(ctx).Warn("chat: language not read; using the platform's or English", "err", err)
			in.Who.Lang = said.Or(locale.English)
			return true
		}
	}
	switch {
	case known.Chosen != "":
		in.Who.Lang = known.Chosen
		return true
	case saidOK:
		in.Who.Lang = said
		if known.Seen != said && !erasing(in) {
			s.saw(ctx, u, said)
		}
		return true
	case known.Seen != "":
		in.Who.Lang = known.Seen
		return true
	}
	d := s.detector(u.Platform)
	if d == nil || erasing(in) {
		// (Nothing is written about someone being erased, nor asked of
		// their platform.)
		in.Who.Lang = locale.English
		return true
	}
	if !detect {
		// The store has nothing: the detecting call that follows with
		// this input does not read it again.
		in.nothingKept = true
		return false
	}
	in.Who.Lang = locale.English
	loc, err := d(ctx, u)
	if err != nil {
		// Asked again next time; English meanwhile.
		s.logger(ctx).Warn("chat: the platform did not say the person's locale; using English", "err", err)
		return true
	}
	if l, ok := locale.Match(loc); ok {
		in.Who.Lang = l
	}
	// A locale itfit does not speak is kept as English, so the platform is
	// not asked again at every press.
	s.saw(ctx, u, in.Who.Lang)
	return true
}

// erasing reports whether the input is the confirmed forget.
func erasing(in *Input) bool { return in.Act != nil && in.Act.Intent == IntentErase }

func (s *Service) saw(ctx context.Context, u conversation.UserKey, l locale.Lang) {
	if err := s.languages.Saw(ctx, u, l); err != nil {
		s.logger(ctx).Warn("chat: language not kept", "err", err)
	}
}

// languageOf is the language of someone who did not just write (a
// reminder's recipient, an account manager): their choice, else what
// their platform said last; ok is false when nothing is known.
func (s *Service) languageOf(ctx context.Context, u conversation.UserKey) (locale.Lang, bool) {
	if s.languages == nil || u.User == "" {
		return "", false
	}
	known, err := s.languages.Get(ctx, u)
	if err != nil {
		s.logger(ctx).Warn("chat: language of a nudge's recipient not read; using English", "err", err)
		return "", false
	}
	if l := known.Chosen.Or(known.Seen); l != "" {
		return l, true
	}
	return "", false
}

// QuickInEveryLanguage is Quick for someone whose language is not known
// yet: a note that is only a line is said in every language, one after
// the other (as Canadian signs are); anything longer is in English, which
// is what the person reads until the platform says otherwise.
func (s *Service) QuickInEveryLanguage(in Input) ([]Output, bool) {
	in.Who.Lang = locale.English
	outs, more := s.Quick(in)
	for i, o := range outs {
		if !isLine(o.Msg) {
			continue
		}
		m := o.Msg
		for _, l := range locale.All[1:] {
			other := in
			other.Who.Lang = l
			more, _ := s.Quick(other)
			if len(more) == len(outs) && isLine(more[i].Msg) {
				m.Sections = append(m.Sections, Section{Text: more[i].Msg.Lead})
				m.Summary += " / " + more[i].Msg.Summary
			}
		}
		outs[i].Msg = m
	}
	return outs, more
}

// isLine reports whether a message is a note of one line.
func isLine(m Message) bool {
	return m.Kind == KindNote && m.Title == "" && len(m.Sections) == 0 && len(m.Actions) == 0 && len(m.Notes) == 0
}

// languageWord reads the language command: "language", "langue" or
// "lang", then what language, if said.
func languageWord(word string) (arg string, ok bool) {
	for _, w := range []string{"language", "langue", "lang"} {
		if word == w {
			return "", true
		}
		if rest, found := strings.CutPrefix(word, w+" "); found {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// frenchCommands are the commands' French words, by their English ones:
// a person may type either, whatever language itfit speaks with them, and
// the help names them in the person's language.
var frenchCommands = map[string]string{
	"restart":   "recommencer",
	"status":    "état",
	"reminders": "rappels",
	"forget":    "oublier",
	"help":      "aide",
	"back":      "retour",
	"quit":      "quitter",
	"language":  "langue",
}

// frenchVerb reads the French words of commands (and a few synonyms).
func frenchVerb(word string) (verb, bool) {
	switch word {
	case "bonjour", "salut", "commencer", "démarrer", "demarrer", "reprendre":
		return verbStart, true
	case "recommencer", "reprendre à zéro", "recommencer à zéro":
		return verbRestart, true
	case "état", "etat", "où", "ou en suis-je":
		return verbStatus, true
	case "rappels", "rappel":
		return verbReminders, true
	case "oublier", "effacer", "oubliez-moi":
		return verbForget, true
	case "aide":
		return verbHelp, true
	}
	return 0, false
}

// chooseLanguage is the language command: with a language, the switch;
// without one, the chooser.
func (s *Service) chooseLanguage(ctx context.Context, in Input) []Output {
	arg, _ := languageWord(strings.TrimSpace(in.Word))
	if arg == "" {
		return []Output{{Op: Note, Msg: s.in(in.Who).LanguageChoice(in.Who)}}
	}
	l, ok := locale.Parse(arg)
	if !ok {
		v := s.in(in.Who)
		return []Output{{Op: Note, Msg: v.noteText(v.w.s("itfit speaks English and French; type %v or %v.",
			v.command(in.Who.Surface, "language en"), v.command(in.Who.Surface, "langue fr")))}}
	}
	return s.setLanguage(ctx, in, l)
}

// setLanguage keeps the person's choice and says so in the language
// chosen.
func (s *Service) setLanguage(ctx context.Context, in Input, l locale.Lang) []Output {
	if !l.Valid() {
		v := s.in(in.Who)
		return []Output{{Op: Note, Msg: v.note(v.w.problem(Problem{Kind: UnknownButton}))}}
	}
	if s.languages == nil {
		v := s.in(in.Who)
		return []Output{{Op: Note, Msg: v.note(v.w.t("This deployment cannot keep a language choice, so nothing changed."))}}
	}
	if err := s.languages.Choose(ctx, in.Who.Key.UserKey, l); err != nil {
		return s.fail(ctx, in.Who, "language", err)
	}
	in.Who.Lang = l
	v := s.in(in.Who)
	done := txt(v.w.t("Done: itfit speaks English with you from now on, in your audit, your card and your reminders."))
	var outs []Output
	if in.Act != nil {
		outs = s.settle(in, txt(v.w.t("Language")), done)
	}
	// An audit in progress: its question again, in the language chosen.
	if r, err := s.engine.Status(ctx, in.Who.Key); err == nil && r.Question != nil {
		if in.Act != nil {
			return stamp(append([]Output{s.show(r, in.Who)}, outs...), l)
		}
		return stamp([]Output{s.show(r, in.Who, done)}, l)
	}
	if in.Act != nil {
		return stamp(outs, l)
	}
	return stamp([]Output{{Op: Note, Msg: v.noteText(txt(done, " ", v.startHint(in.Who)))}}, l)
}

// LanguageChoice says which language itfit speaks with the person and
// offers the others: a button each where there are buttons, the command to
// type where there are not.
func (v *Views) LanguageChoice(who Who) Message {
	w := v.w
	m := Message{
		Kind:    KindLanguage,
		Owner:   groupOwner(who),
		Title:   w.t("Language"),
		Lead:    txt(w.t("itfit speaks English with you.")),
		Summary: w.t("itfit speaks English with you."),
	}
	if who.Surface == SurfaceTerminal {
		m.Sections = []Section{{Text: w.s("Type %v or %v to switch.", v.command(who.Surface, "language en"), v.command(who.Surface, "langue fr"))}}
		return m
	}
	m.Sections = []Section{{Text: txt(w.t("Choose the language itfit uses with you: it applies to your audit, your card and your reminders."))}}
	for _, l := range locale.All {
		a := Action{Intent: IntentLanguage, Label: l.Name(), Value: Value{Owner: who.Key.User, Lang: l}}
		if l == w.lang {
			a.Style = StylePrimary
		}
		m.Actions = append(m.Actions, a)
	}
	return m
}
