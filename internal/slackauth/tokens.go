package slackauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/secretbox"
)

// Defaults for StoreOptions.
const (
	DefaultRefreshMargin = 10 * time.Minute
	DefaultCacheTTL      = 30 * time.Second
	DefaultLockTTL       = 30 * time.Second
	DefaultRefreshWait   = 10 * time.Second
	defaultPoll          = 50 * time.Millisecond
)

// StoreOptions configure a Store. Redis and Box are required; the client
// ID and secret only when the app has token rotation on.
type StoreOptions struct {
	Redis  redis.UniversalClient
	Prefix keys.Prefix
	Box    *secretbox.Box
	Log    *slog.Logger
	// Metrics counts oauth.v2.access refreshes; nil is fine.
	Metrics *obs.Metrics
	// Now is the clock that judges token expiry (tests inject one).
	Now func() time.Time

	// ClientID and ClientSecret authenticate token refreshes.
	ClientID     string
	ClientSecret string
	// APIURL is the Web API base (SLACK_API_URL); default slack.com/api/.
	APIURL     string
	HTTPClient *http.Client

	// RefreshMargin: a rotating token is refreshed once it expires within
	// this margin, so a request never starts with a token about to lapse.
	RefreshMargin time.Duration
	// CacheTTL bounds how long a token is served from this process's memory
	// without reading Redis; negative turns the cache off. An uninstall
	// handled by this process drops its entries at once; another replica
	// may serve the old token for up to CacheTTL, which Slack then refuses
	// (the adapter can call Forget on invalid_auth).
	CacheTTL time.Duration
	// LockTTL bounds a refresh lock left by a replica that died mid-refresh.
	LockTTL time.Duration
	// RefreshWait is how long a replica waits for another's refresh before
	// giving up (or using the old token if it has not actually expired).
	RefreshWait time.Duration
}

// Store keeps installations in Redis and hands out their tokens.
type Store struct {
	rdb     redis.UniversalClient
	prefix  keys.Prefix
	box     *secretbox.Box
	log     *slog.Logger
	metrics *obs.Metrics
	now     func() time.Time

	clientID, clientSecret string
	apiURL                 string
	http                   *http.Client

	margin, cacheTTL, lockTTL, wait, poll time.Duration

	mu    sync.Mutex
	cache map[Workspace]cached
}

// cached is one token served from memory; from is the installation it came
// from (for a Grid workspace covered by an org-wide install, not the key).
type cached struct {
	token string
	from  Workspace
	until time.Time
}

// NewStore checks the options and fills in defaults.
func NewStore(o StoreOptions) (*Store, error) {
	if o.Redis == nil {
		return nil, errors.New("slackauth: the store needs Redis")
	}
	if o.Box == nil {
		return nil, errors.New("slackauth: the store needs ITFIT_ENCRYPTION_KEY to seal tokens")
	}
	s := &Store{
		rdb: o.Redis, prefix: o.Prefix, box: o.Box, log: o.Log, metrics: o.Metrics, now: o.Now,
		clientID: o.ClientID, clientSecret: o.ClientSecret, apiURL: o.APIURL, http: o.HTTPClient,
		margin: o.RefreshMargin, cacheTTL: o.CacheTTL, lockTTL: o.LockTTL, wait: o.RefreshWait, poll: defaultPoll,
		cache: map[Workspace]cached{},
	}
	if s.prefix == "" {
		s.prefix = keys.Default
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.apiURL = apiBase(s.apiURL)
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	if s.margin <= 0 {
		s.margin = DefaultRefreshMargin
	}
	if s.cacheTTL == 0 {
		s.cacheTTL = DefaultCacheTTL
	}
	if s.lockTTL <= 0 {
		s.lockTTL = DefaultLockTTL
	}
	if s.wait <= 0 {
		s.wait = DefaultRefreshWait
	}
	return s, nil
}

// apiBase is the Web API base URL with the trailing slash slack-go expects.
func apiBase(u string) string {
	if u == "" {
		return slack.APIURL
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// Save stores an installation, replacing any earlier one of the workspace
// (a re-install with more scopes, say). Tokens are sealed under the current
// encryption key.
func (s *Store) Save(ctx context.Context, in Installation) error {
	in = normalize(in)
	if !in.valid() {
		return errors.New("slackauth: save: installation without team or enterprise ID")
	}
	if in.BotToken == "" {
		return errors.New("slackauth: save: installation without a bot token")
	}
	raw, err := s.encode(in)
	if err != nil {
		return fmt.Errorf("slackauth: save: %w", err)
	}
	key := installKey(s.prefix, in.Workspace)
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fieldRecord, raw)
		p.HIncrBy(ctx, key, fieldVersion, 1)
		return nil
	})
	s.forget(in.Workspace)
	if err != nil {
		return fmt.Errorf("slackauth: save installation: %w", err)
	}
	return nil
}

func (s *Store) encode(in Installation) (string, error) {
	r, err := toRecord(s.box, in)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode installation: %w", err)
	}
	return string(b), nil
}

// load reads the installation stored under exactly w, with its version.
func (s *Store) load(ctx context.Context, w Workspace) (in Installation, version string, stale bool, err error) {
	vals, err := s.rdb.HMGet(ctx, installKey(s.prefix, w), fieldRecord, fieldVersion).Result()
	if err != nil {
		return Installation{}, "", false, fmt.Errorf("slackauth: load installation: %w", err)
	}
	raw, _ := vals[0].(string)
	version, _ = vals[1].(string)
	if raw == "" {
		return Installation{}, "", false, ErrNotInstalled
	}
	in, stale, err = open(s.box, w, raw)
	return in, version, stale, err
}

// candidates are the installations that can serve a workspace: its own,
// then (on Grid) its organisation's org-wide install.
func candidates(enterprise, team string) []Workspace {
	ws := []Workspace{{Enterprise: enterprise, Team: team}}
	if enterprise != "" && team != "" {
		ws = append(ws, Workspace{Enterprise: enterprise})
	}
	return ws
}

// resolve finds the installation serving (enterprise, team).
func (s *Store) resolve(ctx context.Context, enterprise, team string) (Installation, string, bool, error) {
	if enterprise == "" && team == "" {
		return Installation{}, "", false, ErrNotInstalled
	}
	for _, w := range candidates(enterprise, team) {
		in, v, stale, err := s.load(ctx, w)
		if errors.Is(err, ErrNotInstalled) {
			continue
		}
		return in, v, stale, err
	}
	return Installation{}, "", false, ErrNotInstalled
}

// Get returns the installation serving a workspace, tokens in plain text:
// the workspace's own install or, on Enterprise Grid, its organisation's
// org-wide install. It does not refresh; TokenFor does.
func (s *Store) Get(ctx context.Context, enterprise, team string) (Installation, error) {
	in, _, _, err := s.resolve(ctx, enterprise, team)
	return in, err
}

// Delete removes the installation stored under exactly (enterprise, team)
// — pass an empty team for an org-wide install — and returns what it
// deleted, without tokens, so the caller can stop that workspace's nudges.
// It is what app_uninstalled and tokens_revoked (bot) call. Deleting an
// installation that is not there returns ErrNotInstalled (a redelivered
// event), which callers may ignore.
func (s *Store) Delete(ctx context.Context, enterprise, team string) (Installation, error) {
	w := Workspace{Enterprise: enterprise, Team: team}
	if !w.valid() {
		return Installation{}, ErrNotInstalled
	}
	key := installKey(s.prefix, w)
	var get *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HGet(ctx, key, fieldRecord)
		p.Del(ctx, key, s.prefix.SlackRefreshLock(enterprise, team))
		return nil
	})
	// Drop cached tokens even if Redis failed: better a re-read than a
	// token served after its workspace asked to be forgotten.
	s.forget(w)
	if errors.Is(err, redis.Nil) {
		return Installation{}, ErrNotInstalled
	}
	if err != nil {
		return Installation{}, fmt.Errorf("slackauth: delete installation: %w", err)
	}
	var r record
	if jerr := json.Unmarshal([]byte(get.Val()), &r); jerr != nil {
		// Deleted all the same; report the identity we know.
		return Installation{Workspace: w}, nil
	}
	return r.metadata(), nil
}

// Forget drops cached tokens of an installation (and of the workspaces it
// served), e.g. when Slack answers invalid_auth or token_revoked.
func (s *Store) Forget(enterprise, team string) {
	s.forget(Workspace{Enterprise: enterprise, Team: team})
}

func (s *Store) forget(w Workspace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.cache {
		if k == w || c.from == w {
			delete(s.cache, k)
		}
	}
}

func (s *Store) cached(w Workspace, now time.Time) (string, bool) {
	if s.cacheTTL < 0 {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[w]
	if !ok || !now.Before(c.until) {
		return "", false
	}
	return c.token, true
}

func (s *Store) remember(w Workspace, in Installation, now time.Time) {
	if s.cacheTTL < 0 {
		return
	}
	until := now.Add(s.cacheTTL)
	if in.Rotating() {
		// Never serve from memory a token that is due for refresh.
		until = minTime(until, in.ExpiresAt.Add(-s.margin))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache[w] = cached{token: in.BotToken.Reveal(), from: in.Workspace, until: until}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// due reports whether a rotating token should be refreshed now.
func (s *Store) due(in Installation, now time.Time) bool {
	return in.Rotating() && !now.Before(in.ExpiresAt.Add(-s.margin))
}

// TokenFor returns the bot token to use for a workspace (enterprise may be
// empty), refreshing a rotating token that expires within the margin. It
// returns ErrNotInstalled for a workspace itfit is not installed in.
func (s *Store) TokenFor(ctx context.Context, enterprise, team string) (string, error) {
	asked := Workspace{Enterprise: enterprise, Team: team}
	now := s.now()
	if tok, ok := s.cached(asked, now); ok {
		return tok, nil
	}
	in, version, stale, err := s.resolve(ctx, enterprise, team)
	if err != nil {
		return "", err
	}
	if s.due(in, now) {
		if in, err = s.refresh(ctx, in); err != nil {
			return "", err
		}
	} else if stale {
		s.reseal(ctx, in, version)
	}
	s.remember(asked, in, now)
	return in.BotToken.Reveal(), nil
}

// reseal rewrites a record sealed under an older key with the current one.
// It is best effort: a failure leaves a record that still opens.
func (s *Store) reseal(ctx context.Context, in Installation, version string) {
	log := obs.Logger(ctx, s.log)
	raw, err := s.encode(in)
	if err == nil {
		_, err = casScript.Run(ctx, s.rdb, []string{installKey(s.prefix, in.Workspace)}, version, raw).Int()
	}
	if err != nil {
		log.Warn("slack installation: re-sealing under the current key failed", "workspace", in.Workspace, "err", err)
		return
	}
	log.Info("slack installation: re-sealed under the current key", "workspace", in.Workspace)
}

// refresh renews a rotating token. Several replicas (and goroutines) may
// find the same token due at once; a lock makes exactly one of them call
// oauth.v2.access. The others use the current token if it has not yet
// expired (the margin is there for that), or poll the record until the
// refreshed one is there. The
// write itself is a compare-and-set on the record's version, so even a
// refresh that outlived its lock cannot overwrite a newer record or
// resurrect an uninstalled one.
func (s *Store) refresh(ctx context.Context, in Installation) (Installation, error) {
	w := in.Workspace
	lockKey := s.prefix.SlackRefreshLock(w.Enterprise, w.Team)
	holder, err := randomToken(16)
	if err != nil {
		return Installation{}, fmt.Errorf("slackauth: refresh lock: %w", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	for {
		ok, err := s.rdb.SetNX(ctx, lockKey, holder, s.lockTTL).Result()
		if err != nil {
			return Installation{}, fmt.Errorf("slackauth: refresh lock: %w", err)
		}
		if ok {
			return s.refreshHolding(ctx, w, lockKey, holder)
		}
		// Someone else is refreshing. If the current token has not actually
		// expired it still works: use it rather than wait.
		cur, _, _, err := s.load(ctx, w)
		if err != nil {
			return Installation{}, err
		}
		if !s.due(cur, s.now()) || s.now().Before(cur.ExpiresAt) {
			return cur, nil
		}
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return Installation{}, fmt.Errorf("slackauth: waiting for a token refresh: %w", ctx.Err())
			}
			return Installation{}, fmt.Errorf("%w: another replica's refresh did not finish in %s", ErrRefresh, s.wait)
		case <-time.After(s.poll):
		}
	}
}

// refreshHolding refreshes while holding the lock, and releases it.
func (s *Store) refreshHolding(ctx context.Context, w Workspace, lockKey, holder string) (Installation, error) {
	keepLock := false
	defer func() {
		if keepLock {
			return
		}
		// A fresh context: the request's may be done, and a lock left
		// behind would stall other replicas for LockTTL.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = unlockScript.Run(uctx, s.rdb, []string{lockKey}, holder).Err()
	}()
	// Re-read under the lock: another replica may have refreshed between
	// our first read and our lock.
	cur, version, _, err := s.load(ctx, w)
	if err != nil {
		return Installation{}, err
	}
	if !s.due(cur, s.now()) {
		return cur, nil
	}
	next, err := s.exchangeRefresh(ctx, cur, version)
	// A failed refresh of a token that still works leaves the lock to
	// expire: until then every replica uses the current token instead of
	// asking Slack again on every request.
	keepLock = err == nil && next.BotToken == cur.BotToken && s.due(next, s.now())
	return next, err
}

// exchangeRefresh calls oauth.v2.access with grant_type=refresh_token and
// stores the result if the record is still the one it read.
func (s *Store) exchangeRefresh(ctx context.Context, cur Installation, version string) (Installation, error) {
	log := obs.Logger(ctx, s.log)
	now := s.now()
	fail := func(err error) (Installation, error) {
		s.metrics.PlatformCall("slack", "oauth.v2.access", "failed")
		msg := scrub(err.Error(), s.clientSecret, cur.RefreshToken.Reveal(), cur.BotToken.Reveal())
		if now.Before(cur.ExpiresAt) {
			log.Warn("slack token refresh failed; using the current token until it expires",
				"workspace", cur.Workspace, "expires_at", cur.ExpiresAt, "err", msg)
			return cur, nil
		}
		log.Error("slack token refresh failed", "workspace", cur.Workspace, "err", msg)
		return Installation{}, fmt.Errorf("%w: %s", ErrRefresh, msg)
	}
	if s.clientID == "" || s.clientSecret == "" {
		return fail(errors.New("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are needed to refresh rotating tokens"))
	}
	resp, err := slack.RefreshOAuthV2TokenContext(ctx, s.http, s.clientID, s.clientSecret,
		cur.RefreshToken.Reveal(), slack.OAuthOptionAPIURL(s.apiURL))
	if err != nil {
		return fail(fmt.Errorf("oauth.v2.access: %w", err))
	}
	if resp.AccessToken == "" || resp.ExpiresIn <= 0 {
		return fail(errors.New("oauth.v2.access: no access_token or expires_in in the response"))
	}
	s.metrics.PlatformCall("slack", "oauth.v2.access", "ok")
	next := cur
	next.BotToken = Secret(resp.AccessToken)
	if resp.RefreshToken != "" {
		next.RefreshToken = Secret(resp.RefreshToken)
	}
	next.ExpiresAt = now.Add(time.Duration(resp.ExpiresIn) * time.Second).UTC().Truncate(time.Millisecond)
	raw, err := s.encode(next)
	if err != nil {
		return Installation{}, fmt.Errorf("slackauth: refresh: %w", err)
	}
	n, err := casScript.Run(ctx, s.rdb, []string{installKey(s.prefix, cur.Workspace)}, version, raw).Int()
	if err != nil {
		return Installation{}, fmt.Errorf("slackauth: store refreshed token: %w", err)
	}
	if n == 0 {
		// Re-installed or uninstalled while we refreshed: what is stored
		// now wins.
		log.Info("slack installation changed during a token refresh; using the stored one", "workspace", cur.Workspace)
		now, _, _, err := s.load(ctx, cur.Workspace)
		return now, err
	}
	s.forget(cur.Workspace)
	log.Info("slack token refreshed", "workspace", cur.Workspace, "expires_at", next.ExpiresAt)
	return next, nil
}

// scrub removes secrets from an error message before it is logged or
// returned: slack-go echoes Slack's error text, and a misbehaving endpoint
// could echo what it was sent.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, redacted)
		}
	}
	return msg
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Static is the single-workspace token (SLACK_BOT_TOKEN): every workspace
// gets it, as before distribution existed.
type Static struct{ token Secret }

// NewStatic wraps SLACK_BOT_TOKEN.
func NewStatic(token string) Static { return Static{token: Secret(token)} }

// TokenFor returns the one token, or ErrNotInstalled if there is none.
func (s Static) TokenFor(_ context.Context, _, _ string) (string, error) {
	if s.token == "" {
		return "", ErrNotInstalled
	}
	return s.token.Reveal(), nil
}
