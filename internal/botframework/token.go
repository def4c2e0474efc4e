package botframework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	// BotFrameworkScope is the scope a bot asks for to call the Bot Connector.
	BotFrameworkScope = "https://api.botframework.com/.default"
	// MultiTenantTokenURL is the token endpoint for legacy multi-tenant bots.
	// Azure stopped creating multi-tenant bots in 2025; new bots are
	// single-tenant and must use their own tenant's endpoint.
	MultiTenantTokenURL = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
)

// TokenURLForTenant returns the Entra ID v2 token endpoint of a single-tenant
// bot, or MultiTenantTokenURL when tenantID is empty.
func TokenURLForTenant(tenantID string) string {
	if tenantID == "" {
		return MultiTenantTokenURL
	}
	return "https://login.microsoftonline.com/" + url.PathEscape(tenantID) + "/oauth2/v2.0/token"
}

// TokenSourceConfig configures a TokenSource. AppID and AppPassword are
// required.
type TokenSourceConfig struct {
	AppID       string // MICROSOFT_APP_ID
	AppPassword string // client secret; never logged
	// TenantID selects the single-tenant token endpoint
	// (MICROSOFT_APP_TENANT_ID). Empty means the multi-tenant endpoint.
	TenantID string
	// TokenURL overrides the endpoint derived from TenantID, for sovereign
	// clouds and tests (MICROSOFT_TOKEN_URL). It must be https.
	TokenURL string
	// Scope defaults to BotFrameworkScope.
	Scope string
	// HTTPClient defaults to a client with a 10s timeout over the package's
	// shared transport (see Connector); a client without a timeout is given
	// one.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits between retries; default a context-aware timer. Tests
	// inject one that records the wait and returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxAttempts is the number of tries per fetch, first included.
	// Default 4.
	MaxAttempts int
	// MaxRetryAfter: a Retry-After longer than this fails the fetch instead
	// of waiting. Default 30s.
	MaxRetryAfter time.Duration
	// RefreshBefore is how long before expiry a cached token is replaced.
	// Default 5 minutes.
	RefreshBefore time.Duration
	// FetchTimeout bounds one fetch with all its retries. Default 60s.
	FetchTimeout time.Duration
	// Logger defaults to discard.
	Logger *slog.Logger
}

// TokenSource hands out the bot's access token for the Bot Connector,
// fetching it with the client-credentials grant and caching it until shortly
// before it expires. It is safe for concurrent use, and however many
// goroutines ask at once, only one request goes to the token endpoint.
type TokenSource struct {
	form          string // url-encoded request body; holds the secret
	tokenURL      string
	client        *http.Client
	now           func() time.Time
	retry         retryPolicy
	refreshBefore time.Duration
	fetchTimeout  time.Duration
	log           *slog.Logger

	group singleflight.Group

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// NewTokenSource returns a TokenSource. It does not touch the network.
func NewTokenSource(cfg TokenSourceConfig) (*TokenSource, error) {
	if cfg.AppID == "" || cfg.AppPassword == "" {
		return nil, errors.New("botframework: token source needs app ID and app password")
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = TokenURLForTenant(cfg.TenantID)
	}
	u, err := url.Parse(tokenURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		// The client secret travels in this request's body.
		return nil, fmt.Errorf("botframework: token URL %q must be an absolute https URL", tokenURL)
	}
	s := &TokenSource{
		form: url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {cfg.AppID},
			"client_secret": {cfg.AppPassword},
			"scope":         {orDefault(cfg.Scope, BotFrameworkScope)},
		}.Encode(),
		tokenURL: u.String(),
		client:   withTimeout(cfg.HTTPClient, 10*time.Second),
		now:      cfg.Now,
		retry: retryPolicy{
			maxAttempts:   cfg.MaxAttempts,
			maxRetryAfter: cfg.MaxRetryAfter,
			sleep:         cfg.Sleep,
		}.withDefaults(),
		refreshBefore: cfg.RefreshBefore,
		fetchTimeout:  cfg.FetchTimeout,
		log:           cfg.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.refreshBefore <= 0 {
		s.refreshBefore = 5 * time.Minute
	}
	if s.fetchTimeout <= 0 {
		s.fetchTimeout = 60 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Token returns a valid access token, fetching one if the cached token is
// missing or about to expire. On failure it returns an error wrapping
// ErrTokenFetch and never an empty token.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	ch := s.group.DoChan("token", func() (any, error) {
		// A flight that finished just before this one started may have
		// filled the cache.
		if tok, ok := s.cached(); ok {
			return tok, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.fetchTimeout)
		defer cancel()
		return s.fetch(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %w", ErrTokenFetch, ctx.Err())
	}
}

// Invalidate drops the cached token if it is still tok, so the next Token
// call fetches a new one. The Connector calls it when the Bot Connector
// answers 401.
func (s *TokenSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token, s.renewAt = "", time.Time{}
	}
}

func (s *TokenSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Before(s.renewAt) {
		return s.token, true
	}
	return "", false
}

func (s *TokenSource) fetch(ctx context.Context) (string, error) {
	for attempt := 1; ; attempt++ {
		tok, lifetime, err := s.fetchOnce(ctx)
		if err == nil {
			// Renew well before expiry, but never sooner than half the
			// lifetime, so a short-lived token is not refetched every call.
			margin := min(s.refreshBefore, lifetime/2)
			s.mu.Lock()
			s.token, s.renewAt = tok, s.now().Add(lifetime-margin)
			s.mu.Unlock()
			return tok, nil
		}
		if !errors.Is(err, ErrTransient) || attempt >= s.retry.maxAttempts {
			return "", fmt.Errorf("%w: %w", ErrTokenFetch, err)
		}
		var retryAfter time.Duration
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			retryAfter = apiErr.RetryAfter
		}
		wait, ok := s.retry.delay(attempt, retryAfter)
		if !ok {
			return "", fmt.Errorf("%w: %w (Retry-After %s exceeds limit)", ErrTokenFetch, err, retryAfter)
		}
		s.log.WarnContext(ctx, "bot token fetch failed; retrying", "attempt", attempt, "wait", wait, "error", err)
		if err := s.retry.sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("%w: %w", ErrTokenFetch, err)
		}
	}
}

// tokenResponse is the Entra ID answer. expires_in is a number in v2 but a
// string in some older endpoints; flexSeconds reads both.
type tokenResponse struct {
	AccessToken string      `json:"access_token"`
	ExpiresIn   flexSeconds `json:"expires_in"`
	Error       string      `json:"error"`
	ErrorCodes  []int       `json:"error_codes"`
}

type flexSeconds int64

func (f *flexSeconds) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return fmt.Errorf("expires_in: %w", err)
	}
	*f = flexSeconds(n)
	return nil
}

func (s *TokenSource) fetchOnce(ctx context.Context) (string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(s.form))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, ctx.Err()
		}
		// *url.Error names the URL, never the body, so the secret stays out.
		return "", 0, fmt.Errorf("%w: %w", ErrTransient, err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	decErr := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentSize)).Decode(&tr)
	if resp.StatusCode != http.StatusOK {
		// Only the error code goes into the error: error_description may
		// echo request details, and this error ends up in logs.
		code := tr.Error
		if len(tr.ErrorCodes) > 0 {
			code = fmt.Sprintf("%s AADSTS%d", code, tr.ErrorCodes[0])
		}
		return "", 0, &APIError{
			Op:         "fetch bot token",
			StatusCode: resp.StatusCode,
			Code:       strings.TrimSpace(code),
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), s.now()),
		}
	}
	if decErr != nil {
		return "", 0, fmt.Errorf("decode token response: %w", decErr)
	}
	if tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		return "", 0, errors.New("token response lacks access_token or expires_in")
	}
	return tr.AccessToken, time.Duration(tr.ExpiresIn) * time.Second, nil
}
