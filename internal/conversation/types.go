// Package conversation is the audit's state machine: it asks one question at
// a time, records answers atomically in Redis, and hands back
// platform-neutral replies that adapters render for Slack, Teams or a
// terminal.
//
// Every transition is one Lua script, one round trip: the script checks that
// the answer names the revision and the question the user was shown, so a
// double click, a replayed request or an old card changes nothing.
package conversation

import (
	"errors"
	"time"

	"github.com/itfit/itfit/internal/advisor"
)

// Platform is where a conversation happens.
type Platform string

const (
	Slack    Platform = "slack"
	Teams    Platform = "teams"
	Terminal Platform = "terminal"
)

// WorkspaceID is a Slack team (or Enterprise Grid org) or a Teams tenant.
type WorkspaceID string

// ConversationID is a DM, channel or chat on the platform.
type ConversationID string

// UserID is the platform's ID of a person.
type UserID string

// UserKey identifies one person on one workspace of one platform.
type UserKey struct {
	Platform  Platform
	Workspace WorkspaceID
	User      UserID
}

// Key identifies one audit: a person in one conversation.
type Key struct {
	UserKey
	Conversation ConversationID
}

// Status is where a session stands.
type Status string

const (
	Active Status = "active"
	Done   Status = "done"
)

// Session is an audit in progress or just finished.
type Session struct {
	Rev          int64
	AuditVersion string
	Status       Status
	Answers      advisor.Answers
	StartedAt    time.Time
	UpdatedAt    time.Time
}

// Event says what an operation did.
type Event string

const (
	Started   Event = "started"   // a new audit began
	Resumed   Event = "resumed"   // an audit in progress was picked up again
	Advanced  Event = "advanced"  // an answer was recorded
	WentBack  Event = "went_back" // the last answer was taken back
	Completed Event = "completed" // the last answer was recorded
	Stale     Event = "stale"     // the answer named a question already answered or not current
	Cancelled Event = "cancelled" // the audit was dropped
	Current   Event = "current"   // status: nothing changed
	NoSession Event = "no_session"
	// Repeated: the answer's delivery (Answer.Once) was handled before, a
	// replayed or redelivered request; nothing changed and nothing is to
	// be shown.
	Repeated Event = "repeated"
)

// Echo is an answer as the user gave it, for updating the message that
// asked the question.
type Echo struct {
	Question *advisor.Question
	Labels   []string
	// Options are the answer's options, so that a view in another
	// language can label them in its own words.
	Options []advisor.OptionID
}

// Reply is what an operation hands back for an adapter to render.
type Reply struct {
	Event Event
	// Rev is the revision an answer to Question must name.
	Rev int64
	// Question is the question waiting for an answer; nil once done.
	Question *advisor.Question
	// Position and Total are the progress, e.g. 3 of 9.
	Position, Total int
	// Answered is the answer just recorded (Advanced, Completed).
	Answered *Echo
	// Result is the recommendation once the audit is done.
	Result *advisor.Recommendation
	// SinceLast compares a just-completed retake with the user's previous
	// result; nil on a first audit.
	SinceLast *advisor.Change
	// AuditChanged is set when a resumed audit was restarted because the
	// operator replaced the questions since it began.
	AuditChanged bool
	// Undone is the answer Back took back (WentBack).
	Undone *Echo
	// Answers are the session's answers so far, in audit order, and
	// UpdatedAt when it last changed: enough to tell a second press of the
	// button that just advanced it from a press on an old message.
	Answers   advisor.Answers
	UpdatedAt time.Time
}

// Answer is a user's choice, naming the question and revision it answers.
type Answer struct {
	Rev      int64
	Question advisor.QuestionID
	Options  []advisor.OptionID
	// Once, when set, is the delivery that carried the answer: the answer
	// script claims it (in the person's Claims) in the same round trip
	// that records the answer, and a second delivery comes back Repeated.
	Once Delivery
}

// Delivery names one delivery of a request that the platform may repeat
// (a replayed Slack signature, an activity the Bot Connector sends again),
// to be handled once within TTL.
type Delivery struct {
	ID  string
	TTL time.Duration
}

// ErrUnavailable wraps every storage failure; the user's answers are safe
// and the operation can be tried again.
var ErrUnavailable = errors.New("storage unavailable")
