package webhooks

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Type names an event.
type Type string

// The events itfit sends.
const (
	AuditCompleted Type = "audit.completed" // someone finished the audit
	ResultShared   Type = "result.shared"   // they sent their result to an account manager
	RevisitDue     Type = "revisit.due"     // their yearly revisit came due
	VerdictChanged Type = "verdict.changed" // a retake ended on the other verdict
	UserForgotten  Type = "user.forgotten"  // they asked itfit to forget them: erase what you hold
)

// Types is every event, in the order the README lists them.
var Types = []Type{AuditCompleted, ResultShared, RevisitDue, VerdictChanged, UserForgotten}

// Endpoint is one receiver, as the operator configured it in
// ITFIT_WEBHOOKS.
type Endpoint struct {
	// Name labels the endpoint in metrics, logs, keys and `bot webhooks`;
	// it never changes meaning (renaming an endpoint abandons its queue).
	Name string
	// URL is where deliveries are POSTed: https only.
	URL string
	// Secrets sign every delivery (Standard Webhooks, whsec_ + base64);
	// each delivery carries one signature per secret, so during a rotation
	// receivers holding either the old or the new secret accept it.
	Secrets []string
	// Events are the types this endpoint receives.
	Events []Type
	// Timeout bounds one request, from dialling to the end of the answer's
	// headers; default 10s.
	Timeout time.Duration
	// MaxAttempts is how many failed attempts an event gets before it is
	// dead-lettered; default 15 (about 3 to 5 hours of retries).
	MaxAttempts int
	// AllowPrivate lets this endpoint resolve to loopback, private,
	// link-local and other non-public addresses, which are otherwise refused
	// at connect time (an endpoint must not be a way into the cluster).
	AllowPrivate bool
}

// Wants reports whether the endpoint receives events of type t.
func (e Endpoint) Wants(t Type) bool { return slices.Contains(e.Events, t) }

// Defaults.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 15
	maxTimeout         = time.Minute
	maxMaxAttempts     = 50
)

// ErrConfig is wrapped by every problem Parse finds.
var ErrConfig = errors.New("ITFIT_WEBHOOKS")

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// wireEndpoint is an endpoint as written in ITFIT_WEBHOOKS.
type wireEndpoint struct {
	Name         string   `json:"name"`
	URL          string   `json:"url"`
	Secrets      []string `json:"secrets"`
	Events       []string `json:"events"`
	Timeout      string   `json:"timeout"`
	MaxAttempts  *int     `json:"max_attempts"`
	AllowPrivate bool     `json:"allow_private"`
}

// Parse reads ITFIT_WEBHOOKS: a JSON array of endpoints, for example
//
//	[{"name": "crm", "url": "https://crm.example.com/hooks/itfit",
//	  "secrets": ["whsec_…"], "events": ["audit.completed", "user.forgotten"]}]
//
// with optional "timeout" (a Go duration, default 10s), "max_attempts"
// (default 15) and "allow_private" (default false). Empty means no
// webhooks. Every problem names the endpoint and the field; no message
// repeats a secret or a URL's path or query (either may hold a token).
func Parse(s string) ([]Endpoint, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var wire []wireEndpoint
	if err := dec.Decode(&wire); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of endpoints such as "+
			`[{"name":"crm","url":"https://…","secrets":["whsec_…"],"events":["audit.completed"]}]: %s`, ErrConfig, jsonProblem(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: want one JSON array, found more after it", ErrConfig)
	}
	out := make([]Endpoint, 0, len(wire))
	for i, w := range wire {
		e, err := w.endpoint()
		if err != nil {
			label := fmt.Sprintf("endpoint %d", i+1)
			if w.Name != "" && nameRE.MatchString(w.Name) {
				label += fmt.Sprintf(" (%q)", w.Name)
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, label, err)
		}
		if slices.ContainsFunc(out, func(o Endpoint) bool { return o.Name == e.Name }) {
			return nil, fmt.Errorf("%w: endpoint %d: the name %q is used twice", ErrConfig, i+1, e.Name)
		}
		out = append(out, e)
	}
	return out, nil
}

// jsonProblem words a decoding error without quoting the input (which may
// hold a secret): syntax errors by offset, type errors by field.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "want an array of objects"
		}
		return fmt.Sprintf("%s: want %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") +
			" (fields: name, url, secrets, events, timeout, max_attempts, allow_private)"
	}
	return "not valid JSON"
}

func (w wireEndpoint) endpoint() (Endpoint, error) {
	e := Endpoint{Name: w.Name, URL: w.URL, AllowPrivate: w.AllowPrivate, Timeout: DefaultTimeout, MaxAttempts: DefaultMaxAttempts}
	if !nameRE.MatchString(w.Name) {
		return e, errors.New(`name: want 1 to 32 lower-case letters, digits or "-", starting with a letter or digit, such as "crm"`)
	}
	if err := checkURL(w.URL); err != nil {
		return e, fmt.Errorf("url: %w", err)
	}
	if len(w.Secrets) == 0 {
		return e, errors.New(`secrets: want at least one signing secret, "whsec_" and the base64 of 24 to 64 random bytes (head -c32 /dev/urandom | base64)`)
	}
	for i, sec := range w.Secrets {
		if err := checkSecret(sec); err != nil {
			return e, fmt.Errorf("secrets[%d]: %w", i, err)
		}
	}
	e.Secrets = slices.Clone(w.Secrets)
	if len(w.Events) == 0 {
		return e, fmt.Errorf("events: want at least one of %s", typeList())
	}
	for _, ev := range w.Events {
		t := Type(ev)
		if !slices.Contains(Types, t) {
			return e, fmt.Errorf("events: %q is not an event; want %s", ev, typeList())
		}
		if slices.Contains(e.Events, t) {
			return e, fmt.Errorf("events: %q is listed twice", ev)
		}
		e.Events = append(e.Events, t)
	}
	if w.Timeout != "" {
		d, err := time.ParseDuration(w.Timeout)
		if err != nil || d < time.Second || d > maxTimeout {
			return e, fmt.Errorf("timeout: got %q, want a duration from 1s to %s, such as 10s", w.Timeout, maxTimeout)
		}
		e.Timeout = d
	}
	if w.MaxAttempts != nil {
		if n := *w.MaxAttempts; n < 1 || n > maxMaxAttempts {
			return e, fmt.Errorf("max_attempts: got %d, want 1 to %d", n, maxMaxAttempts)
		}
		e.MaxAttempts = *w.MaxAttempts
	}
	return e, nil
}

// checkURL allows https URLs only. It names the scheme and host it got,
// never the path or query.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("missing: want an https:// URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL: want https://host/path")
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("got scheme %q, want https (deliveries carry results and are never sent in the clear)", u.Scheme)
	case u.Hostname() == "":
		return errors.New("no host: want https://host/path")
	case u.Fragment != "":
		return errors.New("has a #fragment, which is never sent: leave it out")
	}
	return nil
}

// checkSecret wants a Standard Webhooks secret: "whsec_" and the base64 of
// 24 to 64 bytes (the specification's range).
func checkSecret(s string) error {
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return errors.New(`want "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return errors.New(`the part after "whsec_" is not base64`)
	}
	if len(key) < 24 || len(key) > 64 {
		return fmt.Errorf("decodes to %d bytes, want 24 to 64 (head -c32 /dev/urandom | base64)", len(key))
	}
	if bytes.Count(key, key[:1]) == len(key) {
		return errors.New("is one byte repeated: use random bytes")
	}
	return nil
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
