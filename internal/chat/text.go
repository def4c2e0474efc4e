package chat

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

// tr words what the bot says in one language. Every sentence of this
// package goes through t (a fixed sentence), f (one with values), plural
// (one with a count) or s (a sentence with dates, names or commands in it),
// keyed by its English wording, so that another language is a catalogue of
// the same keys (fr-CA.po) rather than a second copy of the views.
//
// The catalogues are golang.org/x/text message catalogues: a Printer
// formats numbers the language's way and picks plural forms by its rules
// (French counts 0 and 1 as singular). A Printer costs about 1-2.5 µs a
// sentence, so fixed sentences (t, s) are read from the catalogue's map
// without it, and formatted ones with small counts ("Question 3 of 9") are kept once
// formatted: an answer's hot path pays a map read, never the Printer.
type tr struct {
	lang locale.Lang
	// p formats f's and plural's sentences; nil for English, whose keys
	// are its sentences.
	p *message.Printer
	// fixed is the catalogue as written: t's and s's sentences.
	fixed map[string]string
	// small caches f's results for formats whose values are all small
	// whole numbers, up to maxSmall of them.
	small  sync.Map // smallKey -> string
	nsmall atomic.Int32
}

// english is the language every sentence is written in.
var english = &tr{lang: locale.English}

// french is Canadian French (fr-CA.po, read in fr_CA.go).
var french = newTr(locale.French, frCA, frCAPlurals, frenchTypography)

// langs are the words of every language itfit speaks.
var langs = map[locale.Lang]*tr{locale.English: english, locale.French: french}

// words is the translator of a language, English for any other.
func words(l locale.Lang) *tr {
	if w, ok := langs[l]; ok {
		return w
	}
	return english
}

// Translate words a sentence of another package in a language, through
// this package's catalogue (Add to Slack's result pages): format is its
// English, as TestCatalogueComplete finds it there.
func Translate(l locale.Lang, format string, args ...any) string {
	return words(l).f(format, args...)
}

// Sentence is one of this package's sentences as the catalogue of a
// language writes it, its formatting verbs left in (tests read what the bot
// sent by it).
func Sentence(l locale.Lang, english string) string { return words(l).t(english) }

// plurals is a sentence with a count, in the forms a language needs.
type plurals struct{ One, Other string }

func newTr(l locale.Lang, catalogue map[string]string, forms map[string]plurals, typography func(string) string) *tr {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	tag := l.Tag()
	fixed := make(map[string]string, len(catalogue))
	for k, v := range catalogue {
		fixed[k] = typography(v)
	}
	for k, v := range fixed {
		if err := b.SetString(tag, k, v); err != nil {
			panic(fmt.Sprintf("catalogue %s: %q: %v", l, k, err))
		}
	}
	for k, v := range forms {
		if err := b.Set(tag, k, plural.Selectf(1, "%d", plural.One, typography(v.One), plural.Other, typography(v.Other))); err != nil {
			panic(fmt.Sprintf("catalogue %s: %q: %v", l, k, err))
		}
	}
	return &tr{lang: l, p: message.NewPrinter(tag, message.Catalog(b)), fixed: fixed}
}

func (w *tr) t(s string) string {
	if v, ok := w.fixed[s]; ok {
		return v
	}
	return s
}

type smallKey struct {
	format string
	n      int
	a, b   int
}

// maxSmall bounds the cache of formatted sentences.
const maxSmall = 4096

func (w *tr) f(format string, args ...any) string {
	if w.p == nil {
		return fmt.Sprintf(format, args...)
	}
	k, ok := small(format, args)
	if !ok {
		return w.p.Sprintf(format, args...)
	}
	if v, ok := w.small.Load(k); ok {
		return v.(string)
	}
	v := w.p.Sprintf(format, args...)
	if w.nsmall.Add(1) <= maxSmall {
		w.small.Store(k, v)
	}
	return v
}

// small is the cache key of a format with at most two whole numbers from
// 0 to 99 (positions, totals, counts).
func small(format string, args []any) (smallKey, bool) {
	k := smallKey{format: format, n: len(args)}
	if len(args) > 2 {
		return k, false
	}
	for i, a := range args {
		n, ok := a.(int)
		if !ok || n < 0 || n > 99 {
			return k, false
		}
		if i == 0 {
			k.a = n
		} else {
			k.b = n
		}
	}
	return k, true
}

// plural picks the wording for a count: one and many are the English
// forms; the catalogue keys another language's forms by many.
func (w *tr) plural(n int, one, many string) string {
	if w.p == nil {
		if n == 1 {
			return fmt.Sprintf(one, n)
		}
		return fmt.Sprintf(many, n)
	}
	return w.f(many, n)
}

// s is a sentence with spans in it: format, translated whole, holds %v
// (or %[2]v, where a language puts them in another order) for each of
// parts, which are strings, Spans, Texts or dates. Use it where words
// around a date, a name or a command would not translate one by one.
func (w *tr) s(format string, parts ...any) Text {
	f := w.t(format)
	out := make(Text, 0, 2*len(parts)+1)
	next := 0
	for {
		i := strings.IndexByte(f, '%')
		if i < 0 || i == len(f)-1 {
			break
		}
		n, width := -1, 0
		switch {
		case f[i+1] == 'v':
			n, width = next, 2
		case f[i+1] == '[' && i+4 < len(f) && f[i+3] == ']' && f[i+4] == 'v' && f[i+2] >= '1' && f[i+2] <= '9':
			n, width = int(f[i+2]-'1'), 5
		case f[i+1] == '%':
			out = append(out, txt(f[:i+1])...)
			f = f[i+2:]
			continue
		}
		if n < 0 || n >= len(parts) {
			out = append(out, txt(f[:i+1])...)
			f = f[i+1:]
			continue
		}
		out = append(out, txt(f[:i])...)
		out = append(out, w.part(parts[n])...)
		next = n + 1
		f = f[i+width:]
	}
	return append(out, txt(f)...)
}

func (w *tr) part(p any) Text {
	if t, ok := p.(time.Time); ok {
		return Text{w.date(t)}
	}
	return txt(p)
}

// date is a day as a span: the renderer may show it the platform's way
// (Slack's dates in the reader's zone); S is the words in this language.
func (w *tr) date(t time.Time) Span {
	return Span{Kind: Date, T: t, S: w.lang.Date(t)}
}

// txt builds a Text in this language: as the package's txt, with dates in
// its words.
func (w *tr) txt(parts ...any) Text {
	t := make(Text, 0, len(parts))
	for _, p := range parts {
		t = append(t, w.part(p)...)
	}
	return t
}

// and joins words as a list is written: "a", "a and b", "a, b and c".
func (w *tr) and(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], w.t(", ")) + w.t(" and ") + items[len(items)-1]
}

// Problem is input an adapter could not turn into an answer or a choice,
// for the Service to explain in words.
type Problem struct {
	Kind ProblemKind
	// N is the number typed (NoSuchOption, Repeated), Max the number of
	// options.
	N, Max int
}

// ProblemKind is what was wrong with the input.
type ProblemKind uint8

const (
	NoProblem ProblemKind = iota
	// UnknownButton: a value itfit never rendered (crafted, or from an
	// older version of the bot).
	UnknownButton
	EmptyAnswer     // nothing typed
	NotANumber      // the terminal wants option numbers
	NoSuchOption    // a number out of range
	RepeatedOption  // the same number twice
	ExclusiveOption // an option that stands alone, typed with others
	InvalidText     // not valid UTF-8
	NoPersonChosen  // Share pressed with nobody in the picker
	SeveralPeople   // more than one person chosen
	UnknownPerson   // the picker's value is not a person's ID
	PickedYourself  // Share with yourself
	UnreadableInput // a payload the platform sent that could not be read
)

func (w *tr) problem(p Problem) string {
	switch p.Kind {
	case UnknownButton:
		return w.t("That button is not one itfit recognises, so it changed nothing.")
	case EmptyAnswer:
		return w.t("Please type the number of an option.")
	case NotANumber:
		return w.f("Please answer with option numbers from 1 to %d, such as 2 or 1,3.", p.Max)
	case NoSuchOption:
		return w.f("There is no option %d; choose from 1 to %d.", p.N, p.Max)
	case RepeatedOption:
		return w.f("You chose %d twice; choose each option once.", p.N)
	case ExclusiveOption:
		return w.f("Option %d cannot be combined with others; choose it alone, or leave it out.", p.N)
	case InvalidText:
		return w.t("That input is not valid text; please type the number of an option.")
	case NoPersonChosen:
		return w.t("Choose the person to send your result to first, then send it.")
	case SeveralPeople:
		return w.t("Choose just one person to send your result to.")
	case UnknownPerson:
		return w.t("I couldn't tell who you chose; please search for them again.")
	case PickedYourself:
		return w.t("That's you: choose your account manager, and I'll send them your result.")
	default:
		return w.t("I couldn't read that. Nothing changed; please try again.")
	}
}

// failure is the one table from what went wrong to what the user reads,
// and whether it was the user's doing (logged at info) or ours.
func (w *tr) failure(err error) (text string, ours bool) {
	var ex *advisor.ExclusiveError
	var th *ThrottledError
	switch {
	case errors.As(err, &th):
		return w.f("The platform asked itfit to slow down, so that did not go through. Please try again in %d seconds.", max(1, int(th.After.Seconds()))), false
	case errors.As(err, &ex):
		return w.f("“%s” cannot be combined with other options; choose either.", ex.Label), false
	case errors.Is(err, advisor.ErrNoOption):
		return w.t("Please choose at least one option."), false
	case errors.Is(err, advisor.ErrOneOption):
		return w.t("Please choose just one option."), false
	case errors.Is(err, advisor.ErrExclusive):
		return w.t("“None” cannot be combined with other options; choose either."), false
	case errors.Is(err, advisor.ErrDuplicateOption):
		return w.t("An option was chosen twice; choose each option once."), false
	case errors.Is(err, advisor.ErrUnknownOption), errors.Is(err, advisor.ErrUnknownQuestion):
		return w.t("That answer is not one of the options for this question."), false
	case errors.Is(err, revisit.ErrNoResult):
		return w.t("Finish the audit first: the reminder is about its result."), false
	case errors.Is(err, revisit.ErrShareLimit):
		return w.t("You have shared your result as many times as a day allows, so nothing was sent; you can share it again tomorrow."), false
	case errors.Is(err, revisit.ErrNoNotifier):
		return w.t("Reminders are not switched on for this platform, so nothing was scheduled."), true
	case errors.Is(err, errNotReachable):
		return w.t("I couldn't reach them, so nothing was sent: itfit has to be installed for them first. " +
			"They can add it from the apps in their workspace (or an admin can install it for them); then share again."), false
	case errors.Is(err, conversation.ErrUnavailable):
		return w.t("itfit is temporarily unavailable. Your answers so far are safe; please try again in a minute."), true
	default:
		return w.t("Something went wrong on our side. Your answers so far are safe; please try again."), true
	}
}

// ThrottledError is a platform's rate limit that outlasted what a person
// can be made to wait: adapters wrap their platform's error in it, so the
// person is told when to try again.
type ThrottledError struct {
	After time.Duration
	Err   error
}

func (e *ThrottledError) Error() string { return "throttled: " + e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }

// errNotReachable is a share whose recipient the platform cannot reach
// (itfit is not installed for them).
var errNotReachable = errors.New("recipient not reachable")

// Words for verdicts and strengths: the audit names the verdicts; these
// are the bot's own.
// Strength is how a card words a verdict's strength in a language.
func Strength(l locale.Lang, s advisor.Strength) string { return words(l).strength(s) }

func (w *tr) strength(s advisor.Strength) string {
	switch s {
	case advisor.Strong:
		return w.t("a clear fit")
	case advisor.Moderate:
		return w.t("a likely fit")
	default:
		return w.t("a close call")
	}
}

func (w *tr) owner(o advisor.Owner) string {
	switch o {
	case advisor.OwnerProvider:
		return w.t("Provider")
	case advisor.OwnerShared:
		return w.t("Shared")
	default:
		return w.t("Your team")
	}
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}
