package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// tr words what the bot says in one language. Every sentence of this
// package goes through t (a fixed sentence) or f (one with values), keyed by
// its English wording, so that another language is a catalogue of the same
// keys rather than a second copy of the views.
type tr struct{}

// english is the language every sentence is written in.
var english = &tr{}

func (*tr) t(s string) string                   { return s }
func (*tr) f(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// plural picks the wording for a count.
func (w *tr) plural(n int, one, many string) string {
	if n == 1 {
		return w.f(one, n)
	}
	return w.f(many, n)
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
