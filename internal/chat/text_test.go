package chat

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// TestFailureTable: every error the flows can meet reads as a sentence
// for people, without the detail the log gets, and says whose doing it was.
func TestFailureTable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
		ours bool
	}{
		{fmt.Errorf("record answer: %w: dial tcp 10.0.0.1:6379: i/o timeout", conversation.ErrUnavailable), "answers so far are safe", true},
		{fmt.Errorf("answer it_staff: %w: %q", advisor.ErrUnknownOption, "eleven"), "not one of the options", false},
		{fmt.Errorf("answer skills: %w", &advisor.ExclusiveError{Option: "none", Label: "None, we have these covered"}), "“None, we have these covered” cannot be combined", false},
		{advisor.ErrNoOption, "at least one option", false},
		{advisor.ErrOneOption, "just one option", false},
		{advisor.ErrDuplicateOption, "chosen twice", false},
		{revisit.ErrNoResult, "Finish the audit first", false},
		{revisit.ErrShareLimit, "as many times as a day allows", false},
		{errNotReachable, "installed for them first", false},
		{errors.New("slack chat.postMessage: internal_error"), "Something went wrong on our side", true},
	} {
		text, ours := english.failure(tc.err)
		if !strings.Contains(text, tc.want) || ours != tc.ours {
			t.Errorf("%v: %q (ours %v), want %q (ours %v)", tc.err, text, ours, tc.want, tc.ours)
		}
		for _, leak := range []string{"eleven", "10.0.0.1", "internal_error", "dial tcp"} {
			if strings.Contains(text, leak) {
				t.Errorf("%v: the detail %q reached the person: %q", tc.err, leak, text)
			}
		}
	}
}
