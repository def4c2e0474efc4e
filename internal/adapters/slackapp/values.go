package slackapp

import (
	"strconv"
	"strings"

	"github.com/itfit/itfit/internal/advisor"
)

// Action IDs. An answer button's action_id ends with the option ID so that
// it is unique within its message, as Slack requires.
const (
	actAnswer    = "itfit_answer:" // + option ID; value is rev:question:option
	actCheck     = "itfit_check"   // the multi-select checkboxes; a click on them alone does nothing
	actContinue  = "itfit_continue"
	actBack      = "itfit_back"
	actRestart   = "itfit_restart"
	actRemind    = "itfit_remind"
	actShare     = "itfit_share"
	actHomeStart = "itfit_home_start"
	actRetake    = "itfit_retake" // on a nudge: a fresh audit in the DM
	actSnooze    = "itfit_snooze" // on a nudge or the reminders list
	actStop      = "itfit_stop"
	actForget    = "itfit_forget" // /itfit forget's "Yes, erase everything"
	// actInvite is the manager's button; its value is the client's user ID
	// and nothing else (see App.invite for who may click it).
	actInvite = "itfit_invite"
	// shortcutStart is the callback_id of the global shortcut "Start an IT
	// audit" (the manifest's features.shortcuts).
	shortcutStart = "itfit_start"

	// blockChoices holds the checkboxes; Continue reads state.values[blockChoices][actCheck].
	blockChoices = "itfit_choices"
)

// A button value says which question, at which revision, the click answers:
// "7:it_staff:none" (never more than about 90 bytes, as IDs are at most 32).
// It names no user or conversation: those always come from the verified
// payload, so a forged value can at most answer the sender's own audit, and
// the engine refuses any revision that is not current.
type choice struct {
	Rev      int64
	Question advisor.QuestionID
	Option   advisor.OptionID // empty for Continue
}

func (c choice) String() string {
	s := strconv.FormatInt(c.Rev, 10) + ":" + string(c.Question)
	if c.Option != "" {
		s += ":" + string(c.Option)
	}
	return s
}

// parseChoice reads a value; withOption says whether an option must follow.
func parseChoice(v string, withOption bool) (choice, bool) {
	parts := strings.Split(v, ":")
	if (withOption && len(parts) != 3) || (!withOption && len(parts) != 2) {
		return choice{}, false
	}
	rev, ok := parseRev(parts[0])
	if !ok || !isID(parts[1]) {
		return choice{}, false
	}
	c := choice{Rev: rev, Question: advisor.QuestionID(parts[1])}
	if withOption {
		if !isID(parts[2]) {
			return choice{}, false
		}
		c.Option = advisor.OptionID(parts[2])
	}
	return c, true
}

func parseRev(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// isID matches the advisor's ID rule (lower-case letters, digits, _; 1-32).
func isID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
