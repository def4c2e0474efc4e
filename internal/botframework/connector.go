package botframework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/wirejson"
)

// TokenProvider supplies the bearer token for Bot Connector calls.
// *TokenSource implements it.
type TokenProvider interface {
	Token(ctx context.Context) (string, error)
}

// tokenInvalidator is implemented by providers that can drop a token the
// connector rejected, so the retry fetches a fresh one.
type tokenInvalidator interface {
	Invalidate(token string)
}

var _ TokenProvider = (*TokenSource)(nil)
var _ tokenInvalidator = (*TokenSource)(nil)

// ErrInvalidArgument means a required ID was empty; nothing was sent.
var ErrInvalidArgument = errors.New("botframework: invalid argument")

// ConnectorConfig configures a Connector. Tokens is required.
type ConnectorConfig struct {
	Tokens TokenProvider
	// HTTPClient defaults to a client with a 30s timeout over the package's
	// shared transport: one pool of connections for the connector, token
	// and key endpoints, up to 256 idle per host (kept 90s), HTTP/2 where
	// offered. A client without a timeout is given one; a client of your
	// own brings its transport, so size its idle pool to the calls in
	// flight (http.DefaultTransport keeps 2 per host).
	HTTPClient *http.Client
	// RequestTimeout bounds each attempt. Default 15s.
	RequestTimeout time.Duration
	// MaxAttempts is the number of tries per call, first included. Default 4.
	MaxAttempts int
	// MaxRetryAfter: a Retry-After longer than this ends the retries.
	// Default 30s.
	MaxRetryAfter time.Duration
	// Sleep waits between retries; default a context-aware timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock (for Retry-After dates); default time.Now.
	Now func() time.Time
	// Logger defaults to discard.
	Logger *slog.Logger
}

// Connector calls the Bot Connector REST API (v3) of whichever channel
// service an activity came from.
//
// Every method takes the serviceUrl per call. It must come from an activity
// that passed Validator.Validate, or from a conversation reference stored
// after one: the Connector sends the bot's bearer token there.
//
// Calls are retried on 429, 500, 502, 503, 504 and network errors, honouring
// Retry-After, up to MaxAttempts. A POST that failed with a 5xx or a timeout
// may nevertheless have been delivered, so a retried send can very rarely
// show twice; we prefer that to losing the message.
type Connector struct {
	tokens  TokenProvider
	client  *http.Client
	rt      http.RoundTripper // client's transport, for the activities' calls (see outbound)
	timeout time.Duration
	retry   retryPolicy
	now     func() time.Time
	log     *slog.Logger

	lastBase atomic.Pointer[serviceBase]
}

// NewConnector returns a Connector.
func NewConnector(cfg ConnectorConfig) (*Connector, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("botframework: connector needs a token provider")
	}
	c := &Connector{
		tokens:  cfg.Tokens,
		client:  withTimeout(cfg.HTTPClient, 30*time.Second),
		timeout: cfg.RequestTimeout,
		retry: retryPolicy{
			maxAttempts:   cfg.MaxAttempts,
			maxRetryAfter: cfg.MaxRetryAfter,
			sleep:         cfg.Sleep,
		}.withDefaults(),
		now: cfg.Now,
		log: cfg.Logger,
	}
	c.rt = outbound.Transport(c.client)
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// SendToConversation posts an activity to the end of a conversation
// (POST /v3/conversations/{conversationId}/activities).
func (c *Connector) SendToConversation(ctx context.Context, serviceURL, conversationID string, activity schema.Activity) (schema.ResourceResponse, error) {
	var out schema.ResourceResponse
	if conversationID == "" {
		return out, fmt.Errorf("%w: empty conversation ID", ErrInvalidArgument)
	}
	body, err := encodeActivity(activity)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "send to conversation", http.MethodPost, serviceURL, body, &out,
		"v3", "conversations", conversationID, "activities")
	return out, err
}

// ReplyToActivity posts an activity as a reply to another
// (POST /v3/conversations/{conversationId}/activities/{activityId}). The
// activity's replyToId is set to activityID when empty.
func (c *Connector) ReplyToActivity(ctx context.Context, serviceURL, conversationID, activityID string, activity schema.Activity) (schema.ResourceResponse, error) {
	var out schema.ResourceResponse
	if conversationID == "" || activityID == "" {
		return out, fmt.Errorf("%w: empty conversation or activity ID", ErrInvalidArgument)
	}
	if activity.ReplyToID == "" {
		activity.ReplyToID = activityID
	}
	body, err := encodeActivity(activity)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "reply to activity", http.MethodPost, serviceURL, body, &out,
		"v3", "conversations", conversationID, "activities", activityID)
	return out, err
}

// UpdateActivity replaces an activity the bot sent earlier, e.g. to swap a
// card after a button press
// (PUT /v3/conversations/{conversationId}/activities/{activityId}). The
// activity's id is set to activityID when empty, since Teams requires it.
func (c *Connector) UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, activity schema.Activity) (schema.ResourceResponse, error) {
	var out schema.ResourceResponse
	if conversationID == "" || activityID == "" {
		return out, fmt.Errorf("%w: empty conversation or activity ID", ErrInvalidArgument)
	}
	if activity.ID == "" {
		activity.ID = activityID
	}
	body, err := encodeActivity(activity)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "update activity", http.MethodPut, serviceURL, body, &out,
		"v3", "conversations", conversationID, "activities", activityID)
	return out, err
}

// CreateConversation starts a conversation, typically a 1:1 chat for a
// proactive message (POST /v3/conversations). In Teams, params needs Bot,
// one member and TenantID; its Activity is optional.
func (c *Connector) CreateConversation(ctx context.Context, serviceURL string, params schema.ConversationParameters) (schema.ConversationResourceResponse, error) {
	var out schema.ConversationResourceResponse
	body, err := encodeConversationParameters(params)
	if err != nil {
		return out, err
	}
	err = c.do(ctx, "create conversation", http.MethodPost, serviceURL, body, &out, "v3", "conversations")
	return out, err
}

// serviceBase is a serviceUrl and the base that endpoint made of it.
type serviceBase struct{ serviceURL, base string }

// endpoint joins the serviceUrl and the path segments, escaping each segment
// fully: Teams IDs contain ':', ';', '@' and '=' and a ';' left bare would be
// read as a path parameter. The last serviceUrl's checked base is kept, since
// a bot talks to one or a few: parsing it again was 1.6% of the bot's CPU in
// a Teams profile at saturation.
func (c *Connector) endpoint(serviceURL string, segments ...string) (string, error) {
	sb := c.lastBase.Load()
	if sb == nil || sb.serviceURL != serviceURL {
		u, err := url.Parse(serviceURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("%w: %.200q (need an absolute https URL)", ErrInvalidServiceURL, serviceURL)
		}
		sb = &serviceBase{serviceURL, strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")}
		c.lastBase.Store(sb)
	}
	n := len(sb.base)
	for _, s := range segments {
		n += 1 + 3*len(s)
	}
	b := make([]byte, 0, n)
	b = append(b, sb.base...)
	for _, s := range segments {
		b = append(b, '/')
		b = appendEscaped(b, s)
	}
	return string(b), nil
}

// appendEscaped percent-encodes everything but RFC 3986 unreserved
// characters, as the official SDKs do (encodeURIComponent,
// Uri.EscapeDataString). url.PathEscape would leave ':' and '@' alone.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '.', ch == '_', ch == '~':
			b = append(b, ch)
		default:
			b = append(b, '%', hex[ch>>4], hex[ch&15])
		}
	}
	return b
}

// connectorError is the Bot Connector's error body.
type connectorError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *Connector) do(ctx context.Context, op, method, serviceURL string, body []byte, out any, segments ...string) error {
	target, err := c.endpoint(serviceURL, segments...)
	if err != nil {
		return err
	}
	refreshedToken := false
	for attempt := 1; ; attempt++ {
		usedToken, err := c.attempt(ctx, op, method, target, body, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// The attempt's error says whether it was written.
			return fmt.Errorf("botframework: %s: %w: %w", op, ctx.Err(), err)
		}
		// The token source has its own retries; retrying it here again
		// would multiply them.
		if attempt >= c.retry.maxAttempts || errors.Is(err, ErrTokenFetch) {
			return err
		}
		if sendOnce(ctx) && errors.Is(err, ErrOutcomeUnknown) {
			return err
		}
		var apiErr *APIError
		isAPI := errors.As(err, &apiErr)
		// A 401 usually means our cached token was revoked or rotated: drop
		// it and try once more with a fresh one.
		if isAPI && apiErr.StatusCode == http.StatusUnauthorized && !refreshedToken {
			if inv, ok := c.tokens.(tokenInvalidator); ok {
				refreshedToken = true
				inv.Invalidate(usedToken)
				continue
			}
		}
		if !errors.Is(err, ErrTransient) {
			return err
		}
		var retryAfter time.Duration
		if isAPI {
			retryAfter = apiErr.RetryAfter
		}
		wait, ok := c.retry.delay(attempt, retryAfter)
		if !ok {
			return err
		}
		c.log.WarnContext(ctx, "bot connector call failed; retrying", "op", op, "attempt", attempt, "wait", wait, "error", err)
		if serr := c.retry.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("botframework: %s: %w: %w", op, serr, err)
		}
	}
}

// attempt makes one request and returns the token it used, so a 401 can
// invalidate exactly that token.
func (c *Connector) attempt(ctx context.Context, op, method, target string, body []byte, out any) (string, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("botframework: %s: %w: %w", op, ErrNotSent, err)
	}
	if tok == "" {
		return "", fmt.Errorf("botframework: %s: %w: %w: empty token", op, ErrNotSent, ErrTokenFetch)
	}
	err = c.send(ctx, op, method, target, tok, body, out)
	return tok, err
}

func (c *Connector) send(ctx context.Context, op, method, target, tok string, body []byte, out any) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("botframework: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req, wrote := withWriteTrace(req)
	resp, err := c.rt.RoundTrip(req) // the deadline is actx's
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", outcomeOf(wrote), ctx.Err())
		}
		return fmt.Errorf("botframework: %s: %w: %w: %w", op, ErrTransient, outcomeOf(wrote), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
		}
		return fmt.Errorf("botframework: %s: read response: %w: %w: %w", op, ErrTransient, ErrOutcomeUnknown, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{
			Op:         op,
			StatusCode: resp.StatusCode,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
		}
		var ce connectorError
		if json.Unmarshal(data, &ce) == nil {
			apiErr.Code = ce.Error.Code
			apiErr.Message = truncate(ce.Error.Message, 300)
		}
		return apiErr
	}
	// Some operations answer 200/201/202 with an empty body.
	if len(bytes.TrimSpace(data)) == 0 || out == nil {
		return nil
	}
	if err := wirejson.Unmarshal(data, out); err != nil {
		// Accepted (2xx), but the answer is unreadable.
		return fmt.Errorf("botframework: %s: decode response: %w: %w", op, ErrOutcomeUnknown, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
