package botframework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults for inbound validation, from Microsoft's "Authenticate requests
// with the Bot Connector API".
const (
	// DefaultMetadataURL is the Bot Framework's OpenID metadata for tokens
	// that the Bot Connector service sends to bots (public cloud).
	DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	// DefaultIssuer is the only issuer the public-cloud Bot Connector uses
	// when it calls a bot. Sovereign clouds use another (for example
	// https://api.botframework.us for US Government); configure it with
	// ValidatorConfig.AllowedIssuers together with the matching metadata URL.
	DefaultIssuer = "https://api.botframework.com"
	// DefaultClockSkew is the leeway on exp and nbf that Microsoft's own SDKs
	// allow.
	DefaultClockSkew = 5 * time.Minute
	// DefaultKeyRefreshInterval is how old a cached key set may grow before
	// it is fetched again. Microsoft rotates signing keys and asks bots to
	// refresh them at least daily.
	DefaultKeyRefreshInterval = 24 * time.Hour
	// DefaultMinKeyRefreshInterval limits how often tokens with unknown key
	// IDs can make us fetch the metadata, so a flood of forged tokens cannot
	// turn this bot into a client that hammers the identity provider.
	DefaultMinKeyRefreshInterval = 5 * time.Minute
)

// initialRetryInterval replaces the refresh limit while no key set has ever
// loaded, so one failed fetch at start-up does not lock the bot out for the
// whole MinKeyRefreshInterval.
const initialRetryInterval = 10 * time.Second

// allowedAlgs is deliberately just RS256: it is what the Bot Framework signs
// with, and listing nothing else shuts out "none" and the HS*-with-public-key
// confusion attack.
var allowedAlgs = []string{jwt.SigningMethodRS256.Alg()}

// errRefreshRateLimited means a key refresh was wanted but one happened too
// recently.
var errRefreshRateLimited = errors.New("key refresh rate-limited")

// ValidatorConfig configures a Validator. Only AppID is required.
type ValidatorConfig struct {
	// AppID is the bot's Microsoft App ID; tokens must name it as audience.
	AppID string
	// MetadataURL is the OpenID metadata document whose jwks_uri lists the
	// signing keys. Default DefaultMetadataURL.
	MetadataURL string
	// AllowedIssuers lists acceptable iss values. Default [DefaultIssuer].
	AllowedIssuers []string
	// HTTPClient fetches metadata and keys. Default: a client with a 10s
	// timeout over the package's shared transport (see Connector). A client
	// without a timeout is given one.
	HTTPClient *http.Client
	// Now is the clock; default time.Now. Tests inject a fixed clock.
	Now func() time.Time
	// ClockSkew is the leeway on exp/nbf. Default DefaultClockSkew.
	ClockSkew time.Duration
	// KeyRefreshInterval: default DefaultKeyRefreshInterval.
	KeyRefreshInterval time.Duration
	// MinKeyRefreshInterval: default DefaultMinKeyRefreshInterval.
	MinKeyRefreshInterval time.Duration
	// Logger receives refresh events. Default: discard.
	Logger *slog.Logger
}

// Claims is what a valid token asserts about the request.
type Claims struct {
	Issuer     string
	AppID      string // the audience that matched this bot
	ServiceURL string // bound to the activity; safe to call back
	ChannelID  string // endorsed by the signing key
	KeyID      string
	ExpiresAt  time.Time
}

// Validator checks the bearer tokens that the Bot Connector service sends
// with each activity. It is safe for concurrent use; create one per bot and
// keep it for the life of the process so its key cache is shared.
//
// Keys are refreshed on demand rather than by a background goroutine: the
// first Validate after KeyRefreshInterval fetches them again (keeping the old
// set if that fails), and so does a token whose kid is unknown, at most once
// per MinKeyRefreshInterval.
type Validator struct {
	appID       string
	metadataURL string
	issuers     []string
	client      *http.Client
	now         func() time.Time
	skew        time.Duration
	maxAge      time.Duration
	minRefresh  time.Duration
	log         *slog.Logger
	parser      *jwt.Parser

	keys atomic.Pointer[keySet]

	// verified remembers tokens whose signature already checked out: the
	// Bot Connector reuses one token for about an hour, and the RSA check
	// is most of what validation costs. An entry is used only with the same
	// key set it was checked against, and only until the token expires.
	vmu      sync.Mutex
	verified map[string]verifiedToken

	mu          sync.Mutex
	lastAttempt time.Time
	inflight    *refreshCall
}

// verifiedToken is what Validate learned from a token that passed.
type verifiedToken struct {
	set        *keySet
	kid        string
	issuer     string
	serviceURL string
	exp, nbf   time.Time
}

// maxVerified bounds the cache; the connector uses a few tokens at a time,
// so reaching it means a flood of distinct valid tokens and the cache just
// starts again.
const maxVerified = 1024

type refreshCall struct {
	done chan struct{}
	err  error
}

// NewValidator returns a Validator. It does not touch the network; the keys
// are fetched on first use or by Refresh.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if strings.TrimSpace(cfg.AppID) == "" {
		return nil, errors.New("botframework: validator needs the bot's app ID")
	}
	v := &Validator{
		appID:       cfg.AppID,
		metadataURL: orDefault(cfg.MetadataURL, DefaultMetadataURL),
		issuers:     slices.Clone(cfg.AllowedIssuers),
		client:      withTimeout(cfg.HTTPClient, 10*time.Second),
		now:         cfg.Now,
		skew:        cfg.ClockSkew,
		maxAge:      cfg.KeyRefreshInterval,
		minRefresh:  cfg.MinKeyRefreshInterval,
		log:         cfg.Logger,
	}
	if len(v.issuers) == 0 {
		v.issuers = []string{DefaultIssuer}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.skew <= 0 {
		v.skew = DefaultClockSkew
	}
	if v.maxAge <= 0 {
		v.maxAge = DefaultKeyRefreshInterval
	}
	if v.minRefresh <= 0 {
		v.minRefresh = DefaultMinKeyRefreshInterval
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(allowedAlgs),
		jwt.WithLeeway(v.skew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
		// Audience may be a string or an array; jwt.ClaimStrings reads both
		// and this checks that one of them is our app ID.
		jwt.WithAudience(v.appID),
	)
	return v, nil
}

// tokenClaims is the token body we read. Unknown claims are ignored.
type tokenClaims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// Validate checks the request's Authorization header against the activity it
// came with. It returns an error wrapping one of the Err* sentinels for any
// failure; the caller must then answer 401 and drop the activity.
func (v *Validator) Validate(ctx context.Context, authorizationHeader, activityChannelID, activityServiceURL string) (Claims, error) {
	raw, err := bearerToken(authorizationHeader)
	if err != nil {
		return Claims{}, err
	}
	if c, ok := v.cached(raw); ok {
		return v.bind(c, c.set.keys[c.kid].endorsements, activityChannelID, activityServiceURL)
	}

	var (
		claims tokenClaims
		used   signingKey
		kid    string
	)
	tok, err := v.parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		id, ok := t.Header["kid"].(string)
		if !ok || id == "" {
			return nil, fmt.Errorf("%w: token has no kid", ErrUnknownSigningKey)
		}
		k, err := v.key(ctx, id)
		if err != nil {
			return nil, err
		}
		used, kid = k, id
		return k.pub, nil
	})
	if err != nil {
		return Claims{}, classifyParseError(tok, err)
	}

	// exp, nbf, audience and the signature were checked by the parser; the
	// rest are Bot Framework rules it does not know.
	if !slices.Contains(v.issuers, claims.Issuer) {
		return Claims{}, fmt.Errorf("%w: %.100q", ErrInvalidIssuer, claims.Issuer)
	}
	c := verifiedToken{set: v.keys.Load(), kid: kid, issuer: claims.Issuer, serviceURL: claims.ServiceURL}
	if claims.ExpiresAt != nil {
		c.exp = claims.ExpiresAt.Time
	}
	if claims.NotBefore != nil {
		c.nbf = claims.NotBefore.Time
	}
	out, err := v.bind(c, used.endorsements, activityChannelID, activityServiceURL)
	// Remember it only if the current set still holds the key that signed
	// it (a refresh may have landed in between).
	if err == nil && c.set != nil && c.set.keys[kid].pub == used.pub {
		v.remember(raw, c)
	}
	return out, err
}

// Authentic reports whether the header carries a token that Validate has
// verified before and that still holds (see cached): its bearer is then the
// Bot Connector, and the body it came with may be decoded as a trusted one
// before Validate ties the token to the activity.
func (v *Validator) Authentic(authorizationHeader string) bool {
	raw, err := bearerToken(authorizationHeader)
	if err != nil {
		return false
	}
	_, ok := v.cached(raw)
	return ok
}

// cached returns what an earlier Validate learned from this token, if it
// still holds: same key set (a refresh drops every entry's trust), not
// expired, already valid, and the key set not due for its periodic refresh.
func (v *Validator) cached(raw string) (verifiedToken, bool) {
	v.vmu.Lock()
	c, ok := v.verified[raw]
	v.vmu.Unlock()
	if !ok {
		return verifiedToken{}, false
	}
	now := v.now()
	set := v.keys.Load()
	if c.set != set || now.Sub(set.fetchedAt) >= v.maxAge ||
		!now.Before(c.exp.Add(v.skew)) || (!c.nbf.IsZero() && now.Before(c.nbf.Add(-v.skew))) {
		return verifiedToken{}, false
	}
	return c, true
}

func (v *Validator) remember(raw string, c verifiedToken) {
	v.vmu.Lock()
	defer v.vmu.Unlock()
	if v.verified == nil || len(v.verified) >= maxVerified {
		v.verified = make(map[string]verifiedToken)
	}
	v.verified[raw] = c
}

// bind applies the rules that tie a verified token to this activity: the
// signing key endorses its channel and the token names its serviceUrl.
func (v *Validator) bind(c verifiedToken, endorsements []string, activityChannelID, activityServiceURL string) (Claims, error) {
	if activityChannelID == "" {
		return Claims{}, fmt.Errorf("%w: activity has no channelId", ErrChannelNotEndorsed)
	}
	if !slices.Contains(endorsements, activityChannelID) {
		return Claims{}, fmt.Errorf("%w: key %.64q, channel %.64q", ErrChannelNotEndorsed, c.kid, activityChannelID)
	}
	if c.serviceURL == "" {
		return Claims{}, fmt.Errorf("%w: serviceurl", ErrMissingClaim)
	}
	if c.serviceURL != activityServiceURL {
		return Claims{}, fmt.Errorf("%w: token %.200q, activity %.200q", ErrServiceURLMismatch, c.serviceURL, activityServiceURL)
	}
	return Claims{
		Issuer:     c.issuer,
		AppID:      v.appID,
		ServiceURL: c.serviceURL,
		ChannelID:  activityChannelID,
		KeyID:      c.kid,
		ExpiresAt:  c.exp,
	}, nil
}

// bearerToken extracts the token from an Authorization header. The scheme
// name is case-insensitive (RFC 9110), but it must be there: a bare token is
// refused.
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", ErrMissingAuthHeader
	}
	const scheme = "Bearer "
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", ErrBadAuthScheme
	}
	tok := strings.TrimSpace(h[len(scheme):])
	if tok == "" {
		return "", fmt.Errorf("%w: empty token", ErrMalformedToken)
	}
	return tok, nil
}

// classifyParseError maps jwt's errors onto our sentinels, keeping jwt's
// message as detail.
func classifyParseError(tok *jwt.Token, err error) error {
	// Errors our key function produced already carry our sentinel.
	for _, s := range []error{ErrUnknownSigningKey, ErrKeySetUnavailable} {
		if errors.Is(err, s) {
			return err
		}
	}
	var sentinel error
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrMalformedToken
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok != nil && tok.Header["alg"] != jwt.SigningMethodRS256.Alg() {
			sentinel = ErrUnsupportedAlg
		} else {
			sentinel = ErrInvalidSignature
		}
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// Unknown algorithm names fail before our key function runs.
		sentinel = ErrUnsupportedAlg
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		sentinel = ErrMissingClaim
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		sentinel = ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		sentinel = ErrInvalidAudience
	default:
		sentinel = ErrMalformedToken
	}
	return fmt.Errorf("%w: %v", sentinel, err)
}

// key returns the signing key with the given ID, refreshing the key set when
// it is missing, stale, or lacks the ID (a key rollover), within the refresh
// rate limit.
func (v *Validator) key(ctx context.Context, kid string) (signingKey, error) {
	set := v.keys.Load()
	if set == nil || v.now().Sub(set.fetchedAt) >= v.maxAge {
		if err := v.refresh(ctx, false); err != nil {
			if ctx.Err() != nil {
				return signingKey{}, fmt.Errorf("%w: %w", ErrKeySetUnavailable, ctx.Err())
			}
			// Another caller's fetch may have finished between our load
			// and this refresh (which is then rate-limited): use its keys.
			if v.keys.Load() == nil {
				return signingKey{}, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
			}
			// Keys rotate with overlap, so stale keys beat none.
			if !errors.Is(err, errRefreshRateLimited) {
				v.log.WarnContext(ctx, "bot framework key refresh failed; keeping cached keys", "error", err)
			}
		}
		set = v.keys.Load()
	}
	if k, ok := set.keys[kid]; ok {
		return k, nil
	}
	// An unknown kid may be a new key: look once, within the rate limit.
	if err := v.refresh(ctx, false); err != nil {
		if ctx.Err() != nil {
			return signingKey{}, fmt.Errorf("%w: kid %.64q: %w", ErrUnknownSigningKey, kid, ctx.Err())
		}
		// As above: a fetch that finished meanwhile may hold the key.
		if k, ok := v.keys.Load().keys[kid]; ok {
			return k, nil
		}
		return signingKey{}, fmt.Errorf("%w: kid %.64q (%v)", ErrUnknownSigningKey, kid, err)
	}
	if k, ok := v.keys.Load().keys[kid]; ok {
		return k, nil
	}
	return signingKey{}, fmt.Errorf("%w: kid %.64q", ErrUnknownSigningKey, kid)
}

// Refresh fetches the metadata and key set now, ignoring the refresh rate
// limit. Call it at start-up to fail fast on a bad MetadataURL; Validate
// refreshes on its own afterwards.
func (v *Validator) Refresh(ctx context.Context) error {
	return v.refresh(ctx, true)
}

// refresh fetches a new key set, unless one was attempted within the limit.
// Concurrent callers share one fetch. The fetch is detached from the caller's
// cancellation (bounded by the HTTP client's timeout) so one impatient caller
// cannot fail it for the others; the caller itself stops waiting when its
// context ends.
func (v *Validator) refresh(ctx context.Context, force bool) error {
	// A request that has already given up must not use up the rate limit.
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	c := v.inflight
	if c == nil {
		now := v.now()
		limit := v.minRefresh
		if v.keys.Load() == nil {
			limit = min(limit, initialRetryInterval)
		}
		if !force && !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < limit {
			v.mu.Unlock()
			return errRefreshRateLimited
		}
		v.lastAttempt = now
		c = &refreshCall{done: make(chan struct{})}
		v.inflight = c
		go v.runRefresh(context.WithoutCancel(ctx), c)
	}
	v.mu.Unlock()

	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (v *Validator) runRefresh(ctx context.Context, c *refreshCall) {
	set, err := fetchKeySet(ctx, v.client, v.metadataURL, v.now())
	v.mu.Lock()
	if err == nil {
		v.keys.Store(set)
	}
	v.inflight = nil
	c.err = err
	v.mu.Unlock()
	close(c.done)
	if err != nil {
		v.log.WarnContext(ctx, "bot framework signing keys fetch failed", "error", err)
		return
	}
	v.log.InfoContext(ctx, "bot framework signing keys loaded", "keys", len(set.keys))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
