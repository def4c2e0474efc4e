package webhooks

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// Version is the payload's version, in every body's "version" field. A
// change that could break a receiver (a field removed, renamed or given
// another meaning) is a new version and a new schema file beside
// schema/v1.json; new optional fields are not.
const Version = 1

// Disclosure says how much a payload tells about the person.
type Disclosure string

const (
	// Full: their result, what changed and (where the platform gave it)
	// their name. Only for people who shared their result with an account
	// manager, or whose workspace the operator assigned one to
	// (ITFIT_ACCOUNT_MANAGERS).
	Full Disclosure = "full"
	// IDs: what happened, when, on which platform, workspace and user ID;
	// nothing of the result.
	IDs Disclosure = "ids"
)

// payload is the body of every delivery (schema/v1.json). Its top level
// follows the Standard Webhooks recommendation (type, timestamp, data),
// with the event's ID and the payload version beside them.
type payload struct {
	ID        string `json:"id"`
	Type      Type   `json:"type"`
	Timestamp stamp  `json:"timestamp"`
	Version   int    `json:"version"`
	Data      data   `json:"data"`
}

type data struct {
	Platform   conversation.Platform    `json:"platform"`
	Workspace  conversation.WorkspaceID `json:"workspace"`
	User       person                   `json:"user"`
	Disclosure Disclosure               `json:"disclosure"`
	Result     *result                  `json:"result,omitempty"`
	Changes    *changes                 `json:"changes,omitempty"`
	Manager    *manager                 `json:"manager,omitempty"`
	Revisit    *revisitDue              `json:"revisit,omitempty"`
}

type person struct {
	ID   conversation.UserID `json:"id"`
	Name string              `json:"name,omitempty"`
}

type manager struct {
	Platform  conversation.Platform    `json:"platform"`
	Workspace conversation.WorkspaceID `json:"workspace"`
	ID        string                   `json:"id"`
}

type result struct {
	CompletedAt  stamp            `json:"completed_at"`
	AuditVersion string           `json:"audit_version"`
	Verdict      advisor.Verdict  `json:"verdict"`
	VerdictName  string           `json:"verdict_name"`
	Strength     advisor.Strength `json:"strength"`
	Score        int              `json:"score"`
	Reasons      []reason         `json:"reasons"`
	Scope        scope            `json:"scope"`
	RevisitOn    date             `json:"revisit_on"`
}

type reason struct {
	Question advisor.QuestionID `json:"question"`
	Option   advisor.OptionID   `json:"option"`
	Label    string             `json:"label"`
	Text     string             `json:"text"`
}

type scope struct {
	ProviderCovers []string `json:"provider_covers"`
	TeamKeeps      []string `json:"team_keeps"`
}

type changes struct {
	PreviousCompletedAt stamp            `json:"previous_completed_at"`
	PreviousVerdict     advisor.Verdict  `json:"previous_verdict"`
	PreviousStrength    advisor.Strength `json:"previous_strength"`
	VerdictChanged      bool             `json:"verdict_changed"`
	ScoreBefore         int              `json:"score_before"`
	ScoreAfter          int              `json:"score_after"`
	Answers             []answerChange   `json:"answers"`
}

type answerChange struct {
	Question advisor.QuestionID `json:"question"`
	Before   []advisor.OptionID `json:"before"`
	After    []advisor.OptionID `json:"after"`
}

type revisitDue struct {
	DueAt stamp `json:"due_at"`
}

// stamp is a time as RFC 3339 in UTC, to the second.
type stamp time.Time

func (s stamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(s).UTC().Format(time.RFC3339))
}

// date is a calendar date, YYYY-MM-DD.
type date time.Time

func (d date) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(d).Format(time.DateOnly))
}

// event is one thing to send: its ID and type, and the body, encoded once
// so that every attempt and every endpoint gets the same bytes.
type event struct {
	ID   string
	Type Type
	Body []byte
}

func newEvent(id string, t Type, at time.Time, d data) event {
	body, err := json.Marshal(payload{ID: id, Type: t, Timestamp: stamp(at), Version: Version, Data: d})
	if err != nil {
		// Every field is a plain value; this cannot fail.
		panic("webhooks: encode payload: " + err.Error())
	}
	return event{ID: id, Type: t, Body: body}
}

// subject is the part of data every event has: who, and how much may be
// said about them.
func subject(u conversation.UserKey, name string, d Disclosure) data {
	p := person{ID: u.User}
	if d == Full {
		p.Name = name
	}
	return data{Platform: u.Platform, Workspace: u.Workspace, User: p, Disclosure: d}
}

func resultOf(r *advisor.Recommendation) *result {
	out := &result{
		CompletedAt: stamp(r.CompletedAt), AuditVersion: r.AuditVersion,
		Verdict: r.Verdict, VerdictName: r.VerdictName, Strength: r.Strength, Score: r.Score,
		Reasons:   []reason{},
		Scope:     scope{ProviderCovers: scopeNames(r.Scope), TeamKeeps: nonNil(r.TeamKeeps)},
		RevisitOn: date(r.RevisitOn),
	}
	for _, c := range r.Reasons {
		out.Reasons = append(out.Reasons, reason{Question: c.Question, Option: c.Option, Label: c.Label, Text: c.Reason})
	}
	return out
}

// scopeNames are the areas the provider would cover, by name, in the
// card's order.
func scopeNames(items []advisor.ScopeItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func changesOf(c *advisor.Change) *changes {
	out := &changes{
		PreviousCompletedAt: stamp(c.PreviousAt), PreviousVerdict: c.PreviousVerdict, PreviousStrength: c.PreviousStrength,
		VerdictChanged: c.VerdictMoved, ScoreBefore: c.ScoreBefore, ScoreAfter: c.ScoreAfter,
		Answers: []answerChange{},
	}
	for _, a := range c.Answers {
		out.Answers = append(out.Answers, answerChange{Question: a.Question, Before: nonNil(a.BeforeOptions), After: nonNil(a.AfterOptions)})
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// idEncoding writes IDs in lower-case base32 without padding.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID is a fresh event ID: "msg_" and 128 random bits, so it names no
// one and cannot be guessed.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + idEncoding.EncodeToString(b)
}

// idFor is the event ID of something that may be reported more than once
// (a revisit delivery retried): the same input, the same ID, so that it is
// queued once. It is a hash, so it does not show the input.
func idFor(s string) string {
	sum := sha256.Sum256([]byte("itfit webhook event\x00" + s))
	return "msg_" + idEncoding.EncodeToString(sum[:16])
}
