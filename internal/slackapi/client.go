package slackapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/slackauth"
	"github.com/itfit/itfit/internal/wirejson"
)

// API is the part of Slack's Web API the adapter calls; *slack.Client has it.
type API interface {
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
	// UploadFileContext is files.getUploadURLExternal, the upload, then
	// files.completeUploadExternal (an account manager's export).
	UploadFileContext(ctx context.Context, params slack.UploadFileParameters) (*slack.FileSummary, error)
}

var _ API = (*slack.Client)(nil)

// TokenSource hands out the bot token of the workspace a Web API call
// concerns (enterprise is empty outside Enterprise Grid). The installation
// store of "Add to Slack" (*slackauth.Store) is one; slackauth.Static, the
// single SLACK_BOT_TOKEN, is another. A workspace without an installation
// gets slackauth.ErrNotInstalled.
type TokenSource interface {
	TokenFor(ctx context.Context, enterprise, team string) (string, error)
}

// Installations is what the adapter needs of the installation store beyond
// tokens: dropping a cached token Slack refused, and deleting a workspace's
// installation when the app is uninstalled there. Nil with a static token.
type Installations interface {
	Forget(enterprise, team string)
	Delete(ctx context.Context, enterprise, team string) (slackauth.Installation, error)
	// Get names a workspace to an account manager in another one.
	Get(ctx context.Context, enterprise, team string) (slackauth.Installation, error)
}

var (
	_ TokenSource   = (*slackauth.Store)(nil)
	_ TokenSource   = slackauth.Static{}
	_ Installations = (*slackauth.Store)(nil)
)

// maxClients bounds the Web API clients kept, one per token. Rotating
// tokens change every 12 hours, so without a bound the map would only grow.
const maxClients = 1024

// apis gives each workspace a Web API client holding its own token.
type apis struct {
	tokens   TokenSource
	installs Installations
	// fixed, when set, serves every workspace (tests); tokens still decide
	// whether a workspace is installed.
	fixed API
	build func(token string) API
	// socket builds Socket Mode's client, with the app-level token.
	socket func() *slack.Client

	mu      sync.Mutex
	byToken map[string]API
}

// get returns the client for a workspace's current token, and the token.
func (p *apis) get(ctx context.Context, ws conversation.WorkspaceID) (API, string, error) {
	ent, team := SplitWorkspace(ws)
	tok, err := p.tokens.TokenFor(ctx, ent, team)
	if err != nil {
		return nil, "", fmt.Errorf("token of workspace %s: %w", ws, err)
	}
	if p.fixed != nil {
		return p.fixed, tok, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if api, ok := p.byToken[tok]; ok {
		return api, tok, nil
	}
	if len(p.byToken) >= maxClients {
		// Dropping them all is simpler than tracking use, and a client is
		// cheap to rebuild: it holds a token, not a connection.
		clear(p.byToken)
	}
	api := p.build(tok)
	p.byToken[tok] = api
	return api, tok, nil
}

// forget drops the workspace's cached token after Slack refused it, so the
// next call reads the store again (a re-install, or a refreshed token).
func (p *apis) forget(ws conversation.WorkspaceID) {
	if p.installs != nil {
		p.installs.Forget(SplitWorkspace(ws))
	}
}

// refusedToken are Slack's answers that the token itself is no good.
var refusedToken = map[string]bool{
	"invalid_auth":     true,
	"token_revoked":    true,
	"token_expired":    true,
	"account_inactive": true,
}

// MaxRetries bounds the 429s one call waits out (each no longer than the
// client's MaxWait).
const MaxRetries = 3

// Client wraps the Web API with what every call needs: the token of the
// workspace concerned, 429 handling, metrics, and errors that name the call.
type Client struct {
	apis    *apis
	metrics *obs.Metrics
	sleep   func(ctx context.Context, d time.Duration) error
	http    *http.Client
	// web posts and updates messages as JSON; nil when Options.API replaces
	// the Web API (tests), which then gets those calls too.
	web *webAPI
	// allowURL says whether a response_url may be posted to; it keeps a
	// payload from turning the bot into a proxy to arbitrary hosts.
	allowURL func(*url.URL) bool
	// noWait returns a 429 at once instead of waiting it out: a nudge hands
	// Slack's Retry-After to the scheduler, which holds no lease that long.
	noWait bool
	// maxWait is the longest Retry-After the interactive path waits out.
	maxWait time.Duration
}

// ForNudges is the same client for the revisit scheduler: the same
// per-workspace tokens, without waiting on 429s.
func (c *Client) ForNudges() *Client {
	cp := *c
	cp.noWait = true
	return &cp
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs a Web API method as workspace ws. A token Slack refuses is
// forgotten, so the next call does not reuse it.
func (c *Client) call(ctx context.Context, ws conversation.WorkspaceID, name string, f func(ctx context.Context, api API) error) error {
	return c.callAs(ctx, ws, name, func(ctx context.Context, api API, _ string) error { return f(ctx, api) })
}

// callAs is call for methods that need the token itself (webAPI's).
func (c *Client) callAs(ctx context.Context, ws conversation.WorkspaceID, name string, f func(ctx context.Context, api API, token string) error) error {
	api, tok, err := c.apis.get(ctx, ws)
	if err != nil {
		c.metrics.PlatformCall("slack", name, "no_token")
		return fmt.Errorf("slack %s: %w", name, err)
	}
	err = c.retry(ctx, name, func(ctx context.Context) error { return f(ctx, api, tok) })
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && refusedToken[se.Err] {
		c.apis.forget(ws)
	}
	return err
}

// retry runs f, waiting out 429s as Slack asks, a bounded number of times.
// Only 429s are retried: Slack did nothing with the request, so posting
// again cannot post twice. Other failures are not, for the same reason in
// reverse (a timed-out chat.postMessage may well have been delivered).
func (c *Client) retry(ctx context.Context, name string, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			c.metrics.PlatformCall("slack", name, "ok")
			return nil
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) && c.noWait {
			c.metrics.PlatformCall("slack", name, "rate_limited")
			return fmt.Errorf("slack %s: %w", name, err)
		}
		if errors.As(err, &rl) && attempt < MaxRetries && rl.RetryAfter <= c.maxWait {
			c.metrics.PlatformCall("slack", name, "retried")
			wait := max(rl.RetryAfter, time.Second)
			if serr := c.sleep(ctx, wait); serr != nil {
				c.metrics.PlatformCall("slack", name, "failed")
				return fmt.Errorf("slack %s: rate limited and %w", name, serr)
			}
			continue
		}
		c.metrics.PlatformCall("slack", name, "failed")
		return fmt.Errorf("slack %s: %w", name, err)
	}
}

func msgOptions(m Message) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// openDM returns the ID of the user's direct message with the bot.
func (c *Client) OpenDM(ctx context.Context, ws conversation.WorkspaceID, user string) (string, error) {
	var id string
	err := c.call(ctx, ws, "conversations.open", func(ctx context.Context, api API) error {
		ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			if ch == nil || ch.ID == "" {
				return errors.New("no channel in the response")
			}
			id = ch.ID
		}
		return err
	})
	return id, err
}

func (c *Client) Post(ctx context.Context, ws conversation.WorkspaceID, channel string, m Message) (ts string, err error) {
	return c.PostEncoded(ctx, ws, channel, m, nil)
}

// postEncoded is post with m's blocks already encoded (nil: encode them
// here). Without webAPI (tests) m.Blocks is what is posted.
func (c *Client) PostEncoded(ctx context.Context, ws conversation.WorkspaceID, channel string, m Message, blocks []byte) (ts string, err error) {
	if c.web == nil {
		err = c.call(ctx, ws, "chat.postMessage", func(ctx context.Context, api API) error {
			_, ts, err = api.PostMessageContext(ctx, channel, msgOptions(m)...)
			return err
		})
		return ts, err
	}
	if blocks == nil {
		if blocks, err = EncodeBlocks(m.Blocks); err != nil {
			return "", fmt.Errorf("slack chat.postMessage: %w", err)
		}
	}
	body := chatBody(channel, "", m.Text, blocks)
	err = c.callAs(ctx, ws, "chat.postMessage", func(ctx context.Context, _ API, tok string) error {
		ts, err = c.web.chat(ctx, tok, "chat.postMessage", body)
		return err
	})
	return ts, err
}

func (c *Client) Update(ctx context.Context, ws conversation.WorkspaceID, channel, ts string, m Message) error {
	return c.UpdateEncoded(ctx, ws, channel, ts, m, nil)
}

// updateEncoded is update with m's blocks already encoded, as postEncoded.
func (c *Client) UpdateEncoded(ctx context.Context, ws conversation.WorkspaceID, channel, ts string, m Message, blocks []byte) error {
	if c.web == nil {
		return c.call(ctx, ws, "chat.update", func(ctx context.Context, api API) error {
			_, _, _, err := api.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...)
			return err
		})
	}
	if blocks == nil {
		var err error
		if blocks, err = EncodeBlocks(m.Blocks); err != nil {
			return fmt.Errorf("slack chat.update: %w", err)
		}
	}
	body := chatBody(channel, ts, m.Text, blocks)
	return c.callAs(ctx, ws, "chat.update", func(ctx context.Context, _ API, tok string) error {
		_, err := c.web.chat(ctx, tok, "chat.update", body)
		return err
	})
}

// webAPI makes the calls of every answered question, chat.postMessage and
// chat.update, itself: one JSON body with the token in the Authorization
// header. slack-go sends them as a form, the blocks JSON-encoded into a
// field and then URL-escaped, which under load was a quarter of the bot's
// CPU. Its answers are turned into slack-go's errors, so that retries,
// metrics and the rest of the adapter see no difference.
type webAPI struct {
	base string // ends in '/'
	http *http.Client
}

// chatResponse is what chat.postMessage and chat.update answer.
type chatResponse struct {
	slack.SlackResponse
	TS string `json:"ts"`
}

// maxResponse bounds a Web API answer read: a chat answer echoes the
// message, which Block Kit limits well below this.
const maxResponse = 1 << 20

// chat posts body to a chat method and returns the message's ts. Errors are
// slack-go's: *slack.RateLimitedError for a 429 with Retry-After,
// slack.StatusCodeError for another status, slack.SlackErrorResponse for
// {"ok":false,"error":...}; each also wraps ErrNotSent or ErrOutcomeUnknown
// when it says whether Slack can have acted (see do).
func (w *webAPI) chat(ctx context.Context, token, method string, body []byte) (string, error) {
	var r chatResponse
	err := w.do(ctx, token, method, "application/json; charset=utf-8", body, &r)
	return r.TS, err
}

// do posts body to a Web API method and decodes the answer into out, whose
// Err says whether Slack refused. A failure is marked with what it says of
// the request: ErrNotSent when the request was never written in full
// (Slack cannot act on a request it has not read to the end), and
// ErrOutcomeUnknown when it was written but nothing says what Slack did (a
// reset or timeout before the answer, a 5xx, an answer that cannot be read).
// A 429 and the other statuses are Slack refusing: neither mark.
func (w *webAPI) do(ctx context.Context, token, method, ctype string, body []byte, out interface{ Err() error }) error {
	// The client's Timeout bounds the call and the read of its answer; the
	// call goes straight through its transport (see outbound).
	ctx, cancel := outbound.Deadline(ctx, w.http)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+method, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	t := outbound.Transport(w.http)
	// Whether the request was written in full: outbound.H1 says so in its
	// error; any other transport tells a trace (WroteRequest), which costs
	// a context, a closure and a walk of the context chain per call.
	var wrote atomic.Bool
	h1, direct := t.(*outbound.H1)
	if direct = direct && h1.Carries(req); !direct {
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(info httptrace.WroteRequestInfo) {
				if info.Err == nil {
					wrote.Store(true)
				}
			},
		}))
	}
	resp, err := t.RoundTrip(req)
	if err != nil {
		if (direct && !outbound.Unsent(err)) || (!direct && wrote.Load()) {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	defer resp.Body.Close()
	// Read to the end, so that an HTTP/1.1 connection goes back to the
	// pool, into a buffer kept for the next answer: the decoder copies
	// what it keeps.
	a := answers.Get().(*answer)
	defer a.release()
	a.lr = io.LimitedReader{R: resp.Body, N: maxResponse}
	if _, err := a.buf.ReadFrom(&a.lr); err != nil {
		return fmt.Errorf("%w: reading the answer (HTTP %d): %w", ErrOutcomeUnknown, resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "" {
		n, err := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64)
		if err != nil {
			return err
		}
		return &slack.RateLimitedError{RetryAfter: time.Duration(n) * time.Second}
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status})
	}
	if resp.StatusCode != http.StatusOK {
		return slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	if err := wirejson.Unmarshal(a.buf.Bytes(), out); err != nil {
		return fmt.Errorf("%w: decoding the answer: %w", ErrOutcomeUnknown, err)
	}
	return out.Err()
}

// answer is a Web API answer's buffer, reused: a chat answer echoes the
// message, a few KiB, and was the bot's largest allocation per answered
// question (15% of its bytes at saturation, scripts/load slack with
// LOAD_PPROF, go tool pprof -sample_index=alloc_space).
type answer struct {
	buf bytes.Buffer
	lr  io.LimitedReader
}

var answers = sync.Pool{New: func() any { return new(answer) }}

// release gives a back unless it grew past what a chat answer needs.
func (a *answer) release() {
	a.lr = io.LimitedReader{}
	if a.buf.Cap() > 64<<10 {
		return
	}
	a.buf.Reset()
	answers.Put(a)
}

// UserLocale is the locale Slack has for a user ("fr-CA"): users.info
// with include_locale.
func (c *Client) UserLocale(ctx context.Context, ws conversation.WorkspaceID, user string) (string, error) {
	var loc string
	err := c.call(ctx, ws, "users.info", func(ctx context.Context, api API) error {
		u, err := api.GetUserInfoContext(ctx, user, slack.GetUserInfoOptionIncludeLocale(true))
		if err == nil && u != nil {
			loc = u.Locale
		}
		return err
	})
	return loc, err
}

func (c *Client) UserTZ(ctx context.Context, ws conversation.WorkspaceID, user string) (string, error) {
	var tz string
	err := c.call(ctx, ws, "users.info", func(ctx context.Context, api API) error {
		u, err := api.GetUserInfoContext(ctx, user)
		if err == nil && u != nil {
			tz = u.TZ
		}
		return err
	})
	return tz, err
}

// userName is the name Slack shows for a user of ws: their display name,
// else their full name, else their handle.
func (c *Client) UserName(ctx context.Context, ws conversation.WorkspaceID, user string) (string, error) {
	var name string
	err := c.call(ctx, ws, "users.info", func(ctx context.Context, api API) error {
		u, err := api.GetUserInfoContext(ctx, user)
		if err == nil && u != nil {
			for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
				if n = strings.TrimSpace(n); n != "" {
					name = n
					break
				}
			}
		}
		return err
	})
	if err == nil && name == "" {
		err = errors.New("users.info: the user has no name")
	}
	return name, err
}

func (c *Client) PublishHome(ctx context.Context, ws conversation.WorkspaceID, user string, v slack.HomeTabViewRequest) error {
	return c.call(ctx, ws, "views.publish", func(ctx context.Context, api API) error {
		_, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: v})
		return err
	})
}

// Upload shares a file in a channel (a DM): slack-go's three steps,
// files.getUploadURLExternal, the bytes to the URL Slack gave, and
// files.completeUploadExternal with comment above the file.
func (c *Client) Upload(ctx context.Context, ws conversation.WorkspaceID, channel, filename, title, comment string, data []byte) error {
	return c.call(ctx, ws, "files.upload", func(ctx context.Context, api API) error {
		_, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: bytes.NewReader(data), FileSize: len(data), Filename: filename, Title: title,
			Channel: channel, InitialComment: comment,
		})
		return err
	})
}

// respondMessage posts an ephemeral reply to an interaction's or
// command's response_url (which accepts JSON without a token), or with
// replace set, replaces the ephemeral message the press was on.
func (c *Client) Respond(ctx context.Context, responseURL string, m Message, replace bool) error {
	msg := map[string]any{"text": m.Text, "blocks": m.Blocks}
	u, err := url.Parse(responseURL)
	if err != nil || !c.allowURL(u) {
		// The URL itself is a bearer credential for replies: not logged.
		return errors.New("response_url refused: not a Slack URL")
	}
	msg["response_type"] = "ephemeral"
	msg["replace_original"] = replace
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return c.retry(ctx, "response_url", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return errors.New("response_url: cannot build the request")
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			// *url.Error spells out the URL, a reply credential: keep the
			// host and the cause only.
			var ue *url.Error
			if errors.As(err, &ue) {
				return fmt.Errorf("response_url %s at %s: %w", ue.Op, u.Host, ue.Err)
			}
			return fmt.Errorf("response_url at %s: %w", u.Host, err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusTooManyRequests {
			return &slack.RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("response_url at %s: status %d", u.Host, resp.StatusCode)
		}
		return nil
	})
}

// Ephemeral posts a message only user sees, in a channel (and, when
// thread is set, in that thread).
func (c *Client) Ephemeral(ctx context.Context, ws conversation.WorkspaceID, channel, thread, user string, m Message) error {
	opts := msgOptions(m)
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	return c.call(ctx, ws, "chat.postEphemeral", func(ctx context.Context, api API) error {
		_, err := api.PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
}

func retryAfter(h string) time.Duration {
	var n int
	if _, err := fmt.Sscanf(h, "%d", &n); err != nil || n < 1 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

// SlackURL is the default response_url check: HTTPS on a Slack host
// (hooks.slack.com, or GovSlack's slack-gov.com).
func SlackURL(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "https" && (h == "slack.com" || strings.HasSuffix(h, ".slack.com") ||
		h == "slack-gov.com" || strings.HasSuffix(h, ".slack-gov.com"))
}
