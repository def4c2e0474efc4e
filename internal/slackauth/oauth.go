package slackauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/obs"
)

// DefaultStateTTL is how long an "Add to Slack" attempt may take.
const DefaultStateTTL = 10 * time.Minute

// cookieName holds the browser's nonce between /slack/install and the
// callback.
const cookieName = "itfit_slack_install"

// InstallerOptions configure an Installer. Store and Redis are required.
type InstallerOptions struct {
	Store   *Store
	Redis   redis.UniversalClient
	Prefix  keys.Prefix
	Log     *slog.Logger
	Metrics *obs.Metrics
	// Now judges state expiry (the state carries its own time).
	Now        func() time.Time
	HTTPClient *http.Client
	StateTTL   time.Duration
	// Translate words the result pages in the browser's language
	// (Accept-Language): the chat layer's catalogue, chat.Translate. Nil:
	// English.
	Translate func(l locale.Lang, format string, args ...any) string
}

// Installer serves Slack's OAuth v2 install flow.
type Installer struct {
	cfg       Config
	store     *Store
	rdb       redis.UniversalClient
	prefix    keys.Prefix
	log       *slog.Logger
	metrics   *obs.Metrics
	now       func() time.Time
	http      *http.Client
	stateTTL  time.Duration
	apiURL    string
	stateKey  []byte // signs states; derived from the client secret
	translate func(l locale.Lang, format string, args ...any) string
}

// NewInstaller checks cfg and the options.
func NewInstaller(cfg Config, o InstallerOptions) (*Installer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Store == nil || o.Redis == nil {
		return nil, errors.New("slackauth: the installer needs the store and Redis")
	}
	in := &Installer{
		cfg: cfg, store: o.Store, rdb: o.Redis, prefix: o.Prefix, log: o.Log, metrics: o.Metrics,
		now: o.Now, http: o.HTTPClient, stateTTL: o.StateTTL, apiURL: apiBase(cfg.APIURL),
		stateKey: stateKey(cfg.ClientSecret), translate: o.Translate,
	}
	if in.prefix == "" {
		in.prefix = keys.Default
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.now == nil {
		in.now = time.Now
	}
	if in.http == nil {
		in.http = &http.Client{Timeout: 10 * time.Second}
	}
	if in.stateTTL <= 0 {
		in.stateTTL = DefaultStateTTL
	}
	return in, nil
}

// Mount adds GET /slack/install and GET /slack/oauth/callback.
func (in *Installer) Mount(mux *http.ServeMux) {
	mux.Handle("GET "+InstallPath, in.InstallHandler())
	mux.Handle("GET "+CallbackPath, in.CallbackHandler())
}

// The OAuth state is stateless: nothing is stored when an install starts,
// so GET /slack/install costs Redis nothing however often it is called.
// The state carries when it was issued, a tag binding it to the browser's
// nonce (kept only in that browser's cookie), and a MAC over both under a
// key every replica derives from the client secret:
//
//	state = base64url(issued: 8 bytes, Unix ms | bind: 16 | mac: 16)
//	bind  = HMAC(key, "bind" | nonce)
//	mac   = HMAC(key, "state" | issued | bind)
//
// The callback checks the MAC (a state nobody issued), the time (expired),
// then the cookie against bind (another browser), and only then spends the
// state, with SET NX of bind until the state would expire anyway: a state
// can finish one install. A flood of callbacks with made-up states, or
// with real states but no cookie, writes nothing either.
const (
	stateTimeLen = 8
	stateTagLen  = 16
	stateLen     = stateTimeLen + 2*stateTagLen
)

// stateKey separates the state's key from the client secret's other use.
func stateKey(clientSecret string) []byte {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte("itfit: Add to Slack OAuth state"))
	return m.Sum(nil)
}

func (in *Installer) tag(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, in.stateKey)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)[:stateTagLen]
}

func (in *Installer) bind(nonce string) []byte { return in.tag([]byte("bind"), []byte(nonce)) }

// newState issues the state for a browser whose cookie holds nonce.
func (in *Installer) newState(nonce string, now time.Time) string {
	b := make([]byte, stateTimeLen, stateLen)
	binary.BigEndian.PutUint64(b, uint64(now.UnixMilli()))
	b = append(b, in.bind(nonce)...)
	b = append(b, in.tag([]byte("state"), b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// InstallHandler starts an install: a fresh state, bound to this browser by
// a cookie, then off to Slack's consent page. It stores nothing.
func (in *Installer) InstallHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log := obs.Logger(ctx, in.log)
		noStore(w)
		nonce, err := random(32)
		if err != nil {
			log.Error("slack install: random nonce", "err", err)
			in.page(w, r, http.StatusInternalServerError, func(pw pageWords) pageData {
				return failurePage(pw, pw.t("Something went wrong on our side. Please try again."), in.cfg.InstallURL())
			})
			return
		}
		state := in.newState(nonce, in.now())
		http.SetCookie(w, &http.Cookie{
			Name: cookieName, Value: nonce, Path: in.cookiePath(),
			MaxAge: int(in.stateTTL / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
		})
		q := url.Values{
			"client_id":    {in.cfg.ClientID},
			"scope":        {strings.Join(in.cfg.scopes(), ",")},
			"state":        {state},
			"redirect_uri": {in.cfg.RedirectURL()},
		}
		http.Redirect(w, r, in.cfg.authorizeURL()+"?"+q.Encode(), http.StatusFound)
	})
}

// cookiePath scopes the cookie to the callback, under the public URL's
// path if itfit is served below one.
func (in *Installer) cookiePath() string {
	if u, err := url.Parse(in.cfg.RedirectURL()); err == nil && u.Path != "" {
		return u.Path
	}
	return CallbackPath
}

// Why a callback was refused; the page says it in words.
var (
	errStateMissing  = errors.New("no state parameter")
	errStateUnknown  = errors.New("state unknown, already used or expired")
	errStateExpired  = errors.New("state expired")
	errOtherBrowser  = errors.New("state was issued to another browser")
	errStateStore    = errors.New("cannot record the state as used")
	errCodeMissing   = errors.New("no code parameter")
	errSlackRefused  = errors.New("Slack refused the code exchange")
	errBadSlackReply = errors.New("Slack's reply lacks a bot token or workspace")
)

// CallbackHandler finishes an install: the state must be known, unused,
// unexpired and issued to this browser; then the code is exchanged and the
// installation stored.
func (in *Installer) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		log := obs.Logger(ctx, in.log)
		noStore(w)
		// The attempt is over whatever happens next.
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: in.cookiePath(), MaxAge: -1,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		q := r.URL.Query()

		if slackErr := q.Get("error"); slackErr != "" {
			// The user said no (access_denied) or Slack could not proceed.
			// Nothing is exchanged, so the state need not be spent: it is
			// only checked, for the log.
			log.Info("slack install: not completed at Slack", "slack_error", slackErr, "state_err", in.checkState(r, false))
			if slackErr == "access_denied" {
				in.page(w, r, http.StatusOK, func(pw pageWords) pageData { return cancelPage(pw, in.cfg.InstallURL()) })
				return
			}
			in.page(w, r, http.StatusBadRequest, func(pw pageWords) pageData {
				msg := pw.t("Slack did not complete the installation.")
				if slackCode(slackErr) {
					msg = pw.f("Slack did not complete the installation (%s).", slackErr)
				}
				return failurePage(pw, msg, in.cfg.InstallURL())
			})
			return
		}
		if err := in.checkState(r, true); err != nil {
			if errors.Is(err, errStateStore) {
				log.Error("slack install: spend state", "err", err)
				in.page(w, r, http.StatusServiceUnavailable, func(pw pageWords) pageData {
					return failurePage(pw, pw.t("itfit cannot finish the installation right now. Please try again in a minute."), in.cfg.InstallURL())
				})
				return
			}
			log.Info("slack install: callback refused", "reason", err)
			in.page(w, r, http.StatusBadRequest, func(pw pageWords) pageData {
				return failurePage(pw, stateMessage(pw, err), in.cfg.InstallURL())
			})
			return
		}
		code := q.Get("code")
		if code == "" {
			log.Info("slack install: callback refused", "reason", errCodeMissing)
			in.page(w, r, http.StatusBadRequest, func(pw pageWords) pageData {
				return failurePage(pw, pw.t("Slack sent no authorisation code."), in.cfg.InstallURL())
			})
			return
		}

		resp, err := slack.GetOAuthV2ResponseContext(ctx, in.http, in.cfg.ClientID, in.cfg.ClientSecret,
			code, in.cfg.RedirectURL(), slack.OAuthOptionAPIURL(in.apiURL))
		if err != nil {
			in.metrics.PlatformCall("slack", "oauth.v2.access", "failed")
			log.Warn("slack install: code exchange failed", "reason", errSlackRefused,
				"err", scrub(err.Error(), in.cfg.ClientSecret, code))
			in.page(w, r, http.StatusBadRequest, func(pw pageWords) pageData {
				return failurePage(pw, pw.t("Slack did not accept the installation. The link may have been used already; please start again."), in.cfg.InstallURL())
			})
			return
		}
		in.metrics.PlatformCall("slack", "oauth.v2.access", "ok")
		inst, err := installationFrom(resp, in.now())
		if err != nil {
			log.Warn("slack install: unusable oauth.v2.access reply", "reason", err)
			in.page(w, r, http.StatusBadGateway, func(pw pageWords) pageData {
				return failurePage(pw, pw.t("Slack's answer was incomplete. Please start again."), in.cfg.InstallURL())
			})
			return
		}
		if err := in.store.Save(ctx, inst); err != nil {
			log.Error("slack install: store installation", "installation", inst, "err", err)
			in.page(w, r, http.StatusServiceUnavailable, func(pw pageWords) pageData {
				return failurePage(pw, pw.t("itfit could not save the installation. Please try again in a minute."), in.cfg.InstallURL())
			})
			return
		}
		log.Info("slack app installed", "installation", inst, "installer", inst.Installer, "scopes", strings.Join(inst.Scopes, ","))
		in.page(w, r, http.StatusOK, func(pw pageWords) pageData { return successPage(pw, inst) })
	})
}

// checkState checks the state named in the callback: issued by itfit, not
// expired, issued to this browser; then, with spend, spends it (single use,
// whatever the exchange then does).
func (in *Installer) checkState(r *http.Request, spend bool) error {
	raw := r.URL.Query().Get("state")
	if raw == "" {
		return errStateMissing
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != stateLen || !hmac.Equal(b[stateTimeLen+stateTagLen:], in.tag([]byte("state"), b[:stateTimeLen+stateTagLen])) {
		return errStateUnknown
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	expires := issued.Add(in.stateTTL)
	if !in.now().Before(expires) {
		return errStateExpired
	}
	bind := b[stateTimeLen : stateTimeLen+stateTagLen]
	c, err := r.Cookie(cookieName)
	if err != nil || c.Value == "" || !hmac.Equal(in.bind(c.Value), bind) {
		return errOtherBrowser
	}
	if !spend {
		return nil
	}
	first, err := in.rdb.SetNX(r.Context(), in.prefix.SlackOAuthState(base64.RawURLEncoding.EncodeToString(bind)), "1", expires.Sub(in.now())).Result()
	if err != nil {
		return fmt.Errorf("%w: %w", errStateStore, err)
	}
	if !first {
		return errStateUnknown
	}
	return nil
}

// slackCode reports whether s looks like one of Slack's error codes, so a
// crafted link cannot put arbitrary words on our page.
func slackCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

func stateMessage(pw pageWords, err error) string {
	switch {
	case errors.Is(err, errStateExpired):
		return pw.t("This installation link has expired. Please start again.")
	case errors.Is(err, errOtherBrowser):
		return pw.t("This installation was started in another browser. Please start again in this one.")
	default:
		return pw.t("This installation link is not valid or has already been used. Please start again.")
	}
}

// installationFrom turns oauth.v2.access's answer into an Installation.
func installationFrom(resp *slack.OAuthV2Response, now time.Time) (Installation, error) {
	if resp.AccessToken == "" || (resp.TokenType != "" && resp.TokenType != "bot") {
		return Installation{}, errBadSlackReply
	}
	inst := normalize(Installation{
		Workspace:      Workspace{Enterprise: resp.Enterprise.ID, Team: resp.Team.ID},
		EnterpriseName: resp.Enterprise.Name, TeamName: resp.Team.Name,
		OrgWide: resp.IsEnterpriseInstall, AppID: resp.AppID, BotUserID: resp.BotUserID,
		Installer: resp.AuthedUser.ID, InstalledAt: now.UTC().Truncate(time.Millisecond),
		BotToken: Secret(resp.AccessToken), RefreshToken: Secret(resp.RefreshToken),
	})
	for _, s := range strings.Split(resp.Scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			inst.Scopes = append(inst.Scopes, s)
		}
	}
	if resp.RefreshToken != "" && resp.ExpiresIn > 0 {
		inst.ExpiresAt = now.Add(time.Duration(resp.ExpiresIn) * time.Second).UTC().Truncate(time.Millisecond)
	}
	if !inst.valid() {
		return Installation{}, errBadSlackReply
	}
	return inst, nil
}

func noStore(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	// The callback URL carries a code; keep it out of Referer headers.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
}

// pageData is one result page. html/template escapes every field.
type pageData struct {
	Lang     string
	Title    string
	Message  string
	Hint     string
	Link     string
	LinkText string
}

func successPage(pw pageWords, inst Installation) pageData {
	p := pageData{
		Title:   pw.t("itfit is installed"),
		Message: pw.f("itfit is installed in %s.", inst.Name()),
		Hint:    pw.t("Type /itfit in Slack to start the audit."),
	}
	if inst.AppID != "" && inst.Team != "" {
		p.Link = "https://slack.com/app_redirect?" + url.Values{"app": {inst.AppID}, "team": {inst.Team}}.Encode()
		p.LinkText = pw.t("Open itfit in Slack")
	}
	return p
}

func failurePage(pw pageWords, msg, retry string) pageData {
	return pageData{Title: pw.t("itfit was not installed"), Message: msg, Link: retry, LinkText: pw.t("Start again")}
}

func cancelPage(pw pageWords, retry string) pageData {
	return pageData{Title: pw.t("itfit was not installed"), Message: pw.t("You cancelled the installation; nothing was changed."),
		Link: retry, LinkText: pw.t("Add itfit to Slack")}
}

// pageWords words a result page in one language. Its sentences are keyed
// by their English, in the chat layer's catalogue (internal/chat/fr-CA.po,
// whose completeness test reads this file too).
type pageWords struct {
	lang      locale.Lang
	translate func(l locale.Lang, format string, args ...any) string
}

func (pw pageWords) t(s string) string {
	if pw.translate == nil {
		return s
	}
	return pw.translate(pw.lang, s)
}

func (pw pageWords) f(format string, args ...any) string {
	if pw.translate == nil {
		return fmt.Sprintf(format, args...)
	}
	return pw.translate(pw.lang, format, args...)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d3557}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Hint}}<p>{{.Hint}}</p>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
</body></html>
`))

// page answers with a result page in the browser's language (English
// when it prefers none itfit speaks, or nothing translates).
func (in *Installer) page(w http.ResponseWriter, r *http.Request, status int, build func(pageWords) pageData) {
	pw := pageWords{lang: locale.English}
	if in.translate != nil {
		pw.translate = in.translate
		if l, ok := locale.MatchAccept(r.Header.Get("Accept-Language")); ok {
			pw.lang = l
		}
	}
	p := build(pw)
	p.Lang = string(pw.lang)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, p)
}
