// Package slackapi is Slack's side of the wire, as internal/botframework
// is Microsoft's: the v0 request signature (checked before a body is
// trusted, and read within bounds before that), the Web API with each
// workspace's own token (429s waited out within a bound, chat messages
// sent as JSON, refused tokens forgotten), response_url replies, and the
// shapes of Slack's IDs. It knows nothing of the audit: the Slack adapter
// (internal/adapters/slackapp) decides what to send.
package slackapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/slackauth"
)

// Options build a Client. Tokens is required.
type Options struct {
	Tokens TokenSource
	// Installations is the installation store, nil with a static token.
	Installations Installations
	// API replaces the Web API client of every workspace (tests); by
	// default one is built per token with APIURL and HTTPClient.
	API API
	// APIURL is the Web API's base (SLACK_API_URL); default Slack's.
	APIURL string
	// AppToken is the app-level token Socket Mode connects with.
	AppToken string
	// HTTPClient makes Web API and response_url calls; default
	// DefaultHTTPClient.
	HTTPClient *http.Client
	Metrics    *obs.Metrics
	Log        *slog.Logger
	// Sleep waits out a 429's Retry-After; tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
	// AllowResponseURL vets a response_url before posting; default SlackURL.
	AllowResponseURL func(*url.URL) bool
	// MaxWait is the longest Retry-After a call waits out: someone is
	// waiting for the reply, so a longer one fails the call at once (see
	// RateLimited); default 2 s.
	MaxWait time.Duration
}

// New returns the client.
func New(o Options) *Client {
	if o.HTTPClient == nil {
		o.HTTPClient = DefaultHTTPClient()
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.AllowResponseURL == nil {
		o.AllowResponseURL = SlackURL
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Second
	}
	opts := []slack.Option{
		slack.OptionHTTPClient(o.HTTPClient),
		slack.OptionLog(slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn)),
	}
	if o.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(APIBase(o.APIURL)))
	}
	var web *webAPI
	if o.API == nil {
		web = &webAPI{base: APIBase(o.APIURL), http: o.HTTPClient}
	}
	p := &apis{
		tokens: o.Tokens, installs: o.Installations, fixed: o.API, byToken: map[string]API{},
		build: func(token string) API { return slack.New(token, opts...) },
		socket: func() *slack.Client {
			return slack.New("", slices.Concat(opts, []slack.Option{slack.OptionAppLevelToken(o.AppToken)})...)
		},
	}
	return &Client{apis: p, metrics: o.Metrics, sleep: o.Sleep, http: o.HTTPClient, web: web, allowURL: o.AllowResponseURL, maxWait: o.MaxWait}
}

// DefaultHTTPClient is the Web API's and response_url's client. Its calls
// go through an outbound.H1: HTTP/1.1, the calling goroutine writing each
// request in one write and reading its answer, over a pool that keeps a
// connection per concurrent call (http.DefaultTransport keeps 2 per host,
// so under load every other call dialled, and over TLS handshook, afresh).
// It never opens more than 256 connections to a host: a call beyond them
// waits for one to come back. What H1 does not carry (a proxy from the
// environment) goes through a transport of the same sizing that attempts
// HTTP/2. A redirect is handed back as the answer, not followed.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no bound across hosts: slack.com, hooks.slack.com
	t.MaxIdleConnsPerHost = 256
	t.MaxConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: outbound.NewH1(t),
		// Neither the Web API nor a response_url redirects; a call that
		// followed one would take its request to another URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// APIBase is the Web API's base URL (Slack's when u is empty), ending
// in '/'.
func APIBase(u string) string {
	if u == "" {
		return slack.APIURL
	}
	if u[len(u)-1] != '/' {
		u += "/"
	}
	return u
}

// NotInstalled reports whether the store says the workspace has no
// installation. Any other failure (Redis down) is not an answer: the
// caller goes ahead and its calls report their own errors.
func (c *Client) NotInstalled(ctx context.Context, ws conversation.WorkspaceID) bool {
	_, _, err := c.apis.get(ctx, ws)
	return errors.Is(err, slackauth.ErrNotInstalled)
}

// ForgetToken drops a workspace's cached token (it uninstalled, or Slack
// refused the token), so the next call reads the store again.
func (c *Client) ForgetToken(ws conversation.WorkspaceID) { c.apis.forget(ws) }

// Installation is a workspace's installation record; ok is false with a
// static token (there is no store).
func (c *Client) Installation(ctx context.Context, ws conversation.WorkspaceID) (in slackauth.Installation, ok bool, err error) {
	if c.apis.installs == nil {
		return slackauth.Installation{}, false, nil
	}
	ent, team := SplitWorkspace(ws)
	in, err = c.apis.installs.Get(ctx, ent, team)
	return in, true, err
}

// SendsJSON reports whether chat messages go out as JSON this client
// encodes itself (not with an API replaced for tests), so that blocks
// encoded in advance can be used.
func (c *Client) SendsJSON() bool { return c.web != nil }

// Socket is a slack-go client with the app-level token, for Socket Mode.
func (c *Client) Socket() *slack.Client { return c.apis.socket() }

// Workspace names a workspace: on Enterprise Grid the org comes first, so
// that a team ID reused across orgs cannot collide; an org-wide install is
// the enterprise alone ("E1:").
func Workspace(enterprise, team string) conversation.WorkspaceID {
	if enterprise != "" {
		return conversation.WorkspaceID(enterprise + ":" + team)
	}
	return conversation.WorkspaceID(team)
}

// SplitWorkspace undoes Workspace.
func SplitWorkspace(ws conversation.WorkspaceID) (enterprise, team string) {
	if e, t, ok := strings.Cut(string(ws), ":"); ok {
		return e, t
	}
	return "", string(ws)
}

// IsID reports whether s has the shape of a Slack ID (T…, U…, C…, E…):
// upper-case letters and digits, so a stored value can never become a
// broadcast (<!channel>) or a link in a message.
func IsID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// IsWorkspaceID matches what Workspace makes of Slack's IDs: "T…",
// "E…:T…", or "E…:" for an org-wide install.
func IsWorkspaceID(s string) bool {
	ent, team, grid := strings.Cut(s, ":")
	if !grid {
		return IsID(s)
	}
	return IsID(ent) && (team == "" || IsID(team))
}

// goneErrors are Slack's answers that mean the recipient or the bot is gone
// for good, so a retry would only fail again. missing_scope is not among
// them: an operator fixes it by reinstalling.
var goneErrors = map[string]bool{
	"account_inactive":        true, // the bot's token belongs to a deactivated user or workspace
	"invalid_auth":            true,
	"token_revoked":           true,
	"not_authed":              true,
	"team_access_not_granted": true,
	"user_not_found":          true,
	"user_disabled":           true,
	"cannot_dm_bot":           true,
	"channel_not_found":       true,
	"not_in_channel":          true,
	"is_archived":             true,
	"restricted_action":       true,
}

// Gone reports whether err is Slack saying the recipient or the bot is
// gone for good.
func Gone(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && goneErrors[se.Err]
}
