package slackapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/slackapi"
	"github.com/itfit/itfit/internal/slackauth"
)

// Flows is what the adapter asks of the chat layer (*chat.Service).
type Flows interface {
	Quick(in chat.Input) ([]chat.Output, bool)
	Rest(ctx context.Context, in chat.Input) []chat.Output
	Home(ctx context.Context, who chat.Who) (chat.Message, error)
	Views() *chat.Views
	ViewsIn(l locale.Lang) *chat.Views
	// Language and KnownLanguage settle the language the person reads;
	// KnownLanguage without asking Slack (users.info), so that a slash
	// command's acknowledgement never waits on the Web API.
	Language(ctx context.Context, in *chat.Input)
	KnownLanguage(ctx context.Context, in *chat.Input) bool
	QuickInEveryLanguage(in chat.Input) ([]chat.Output, bool)
}

var _ Flows = (*chat.Service)(nil)

// Workspaces stops a workspace's nudges when it uninstalls itfit
// (*revisit.Service); nil when there are none.
type Workspaces interface {
	StopWorkspace(ctx context.Context, p conversation.Platform, ws conversation.WorkspaceID) (int, error)
}

// Runner runs work after Slack has been answered; *background.Group is
// one. TryGo never blocks: when the work cannot be taken (the pool, or the
// workspace's share of it, is full; the request is too old) it says so at
// once, and the person is told "busy".
type Runner interface {
	TryGo(ctx context.Context, tenant, name string, f func(ctx context.Context)) error
}

// Options are what an App is built from. Flows, Redis and Background are
// required; the rest have defaults or are for tests.
type Options struct {
	Flows      Flows
	Redis      redis.UniversalClient // event deduplication
	Prefix     keys.Prefix           // default keys.Default
	Background Runner
	Metrics    *obs.Metrics
	Log        *slog.Logger
	Workspaces Workspaces

	// Tokens gives each workspace's bot token: the installation store when
	// workspaces install itfit through Add to Slack; by default the single
	// SLACK_BOT_TOKEN (slackauth.Static).
	Tokens slackapi.TokenSource
	// Installations is the same store, to forget refused tokens and delete
	// a workspace's installation when it uninstalls; nil with a static token.
	Installations slackapi.Installations
	// InstallURL is the Add to Slack link a workspace without an
	// installation is pointed to ("" with a static token).
	InstallURL string

	// API replaces the Web API client of every workspace (tests).
	API slackapi.API
	// HTTPClient makes Web API and response_url calls; default
	// slackapi.DefaultHTTPClient.
	HTTPClient *http.Client
	// Now is the clock for signature timestamps; default time.Now.
	Now func() time.Time
	// Sleep waits out a 429's Retry-After; tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
	// AllowResponseURL vets response_url before posting; default
	// slackapi.SlackURL.
	AllowResponseURL func(*url.URL) bool
	// MaxBody is the largest request body accepted; default 128 KiB.
	MaxBody int64
	// DedupeTTL is how long a delivery is remembered; default 1 hour
	// (Slack gives up retrying an event after about 5 minutes).
	DedupeTTL time.Duration
}

// App is the Slack adapter: HTTP handlers and a Socket Mode worker that
// verify Slack's deliveries, translate them into the chat layer's inputs,
// and render and send its outputs.
type App struct {
	cfg        Config
	flows      Flows
	views      *chat.Views
	bg         Runner
	log        *slog.Logger
	slack      *slackapi.Client
	installs   installs
	workspaces Workspaces
	dedupe     dedupe
	verifier   *slackapi.Verifier
	render     *renderCache
	maxBody    int64
}

// installs is the installation store and the link to install itfit.
type installs struct {
	store slackapi.Installations // nil with a static token
	url   string
}

// dedupe claims a delivery (an event_id, a Socket Mode envelope) with SET
// NX and a TTL, so a delivery Slack makes twice, or two replicas receive,
// has one effect.
type dedupe struct {
	rdb    redis.UniversalClient
	prefix keys.Prefix
	ttl    time.Duration
}

func (d dedupe) claim(ctx context.Context, key string) (bool, error) {
	return d.rdb.SetNX(ctx, key, "1", d.ttl).Result()
}

// DefaultMaxBody bounds request bodies. A block_actions payload echoes the
// whole message clicked, and a recommendation card is tens of kilobytes at
// most; nothing Slack sends this app comes near 128 KiB.
const DefaultMaxBody = 128 << 10

// New builds the adapter. It does not start anything.
func New(cfg Config, o Options) (*App, error) {
	if o.Flows == nil || o.Redis == nil || o.Background == nil {
		return nil, errors.New("slack: Flows, Redis and Background are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Prefix == "" {
		o.Prefix = keys.Default
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = time.Hour
	}
	if o.Tokens == nil {
		if cfg.Distributed {
			return nil, errors.New("slack: Add to Slack is on but no installation store was given as Tokens")
		}
		o.Tokens = slackauth.NewStatic(cfg.BotToken)
	}
	return &App{
		cfg:   cfg,
		flows: o.Flows,
		views: o.Flows.Views(),
		bg:    o.Background,
		log:   o.Log,
		slack: slackapi.New(slackapi.Options{
			Tokens: o.Tokens, Installations: o.Installations, API: o.API, APIURL: cfg.APIURL, AppToken: cfg.AppToken,
			HTTPClient: o.HTTPClient, Metrics: o.Metrics, Log: o.Log, Sleep: o.Sleep, AllowResponseURL: o.AllowResponseURL,
		}),
		installs:   installs{store: o.Installations, url: o.InstallURL},
		workspaces: o.Workspaces,
		dedupe:     dedupe{rdb: o.Redis, prefix: o.Prefix, ttl: o.DedupeTTL},
		verifier:   slackapi.NewVerifier(cfg.SigningSecret, o.Now),
		render:     newRenderCache(),
		maxBody:    o.MaxBody,
	}, nil
}

// Mount adds the three Request URLs. Without a signing secret nothing can
// be verified, so nothing is mounted (Socket Mode needs none).
func (a *App) Mount(mux *http.ServeMux) {
	if a.cfg.SigningSecret == "" {
		return
	}
	mux.Handle("POST /slack/commands", sslCheck(a.verified(a.serveCommand)))
	mux.Handle("POST /slack/interactions", a.verified(a.serveInteraction))
	mux.Handle("POST /slack/events", a.verified(a.serveEvent))
}

// replayCheck bounds the replay check on the acknowledgement's path: a
// Redis that does not answer in time must not cost Slack's 3 seconds (nor
// the person's), so past it the request goes ahead unchecked, as when
// Redis fails outright; its signature still had to be fresh and valid.
const replayCheck = 500 * time.Millisecond

// verified reads the body within the size limit and checks Slack's
// signature over those exact bytes before anything parses them (see
// Verifier.Read for what is checked before a byte is read), then refuses a
// signature already seen. A replay gets the answer a handled delivery gets,
// an empty 200, and has no effect: Slack's own retries of an event are
// re-signed and pass (and the event_id claim makes them one), and an
// attacker learns nothing from it.
func (a *App) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := obs.Logger(r.Context(), a.log)
		body, err := a.verifier.Read(w, r, a.maxBody)
		if err != nil {
			// Whatever of the body is still on the way is not wanted: close
			// the connection rather than read it to the end.
			w.Header().Set("Connection", "close")
			switch {
			case errors.Is(err, slackapi.ErrBusy):
				log.Warn("slack request refused", "reason", err, "limit", slackapi.MaxUnverifiedReads)
				w.Header().Set("Retry-After", "1")
				http.Error(w, "busy, try again", http.StatusServiceUnavailable)
			case errors.Is(err, slackapi.ErrTooLarge):
				log.Warn("slack request refused", "reason", "body over limit", "limit", a.maxBody)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			case errors.Is(err, slackapi.ErrMissingSignature), errors.Is(err, slackapi.ErrBadTimestamp), errors.Is(err, slackapi.ErrStale), errors.Is(err, slackapi.ErrBadSignature):
				log.Warn("slack request refused", "reason", err)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			default:
				http.Error(w, "could not read body", http.StatusBadRequest)
			}
			return
		}
		rctx, cancel := context.WithTimeout(r.Context(), replayCheck)
		first, err := a.verifier.FirstDelivery(rctx, a.dedupe.rdb, a.dedupe.prefix, r.Header)
		cancel()
		switch {
		case err != nil:
			log.Warn("slack request not checked for replay", "err", err)
		case !first:
			log.Warn("slack request refused", "reason", "signature already seen (a replay)")
			w.WriteHeader(http.StatusOK)
			return
		}
		next(w, r, body)
	})
}

// sslCheckMax bounds the body read to look for ssl_check: Slack's check is
// "ssl_check=1&token=…", some 50 bytes, while a real slash command carries
// a response_url and a trigger_id and is several hundred, so no real
// command is ever read here.
const sslCheckMax = 256

// sslCheck answers Slack's certificate check of the slash command URL
// (ssl_check=1, sent when the URL is saved and now and then after) with an
// empty 200 before anything else, signed or not, as Slack's own frameworks
// do (bolt's SslCheck runs before request verification): it asks nothing,
// changes nothing and stores nothing. Only a body announced as small is
// read for it, and put back for the signature check when it is not one.
func sslCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.ContentLength <= 0 || r.ContentLength > sslCheckMax {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, sslCheckMax))
		if err != nil {
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *App) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	c := command{
		Team: form.Get("team_id"), Enterprise: form.Get("enterprise_id"), User: form.Get("user_id"),
		Channel: form.Get("channel_id"), Text: form.Get("text"), ResponseURL: form.Get("response_url"),
	}
	if !c.valid() {
		http.Error(w, "missing or malformed team_id, enterprise_id or user_id", http.StatusBadRequest)
		return
	}
	ack := a.command(r.Context(), c, "")
	if ack == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, ack)
}

func (a *App) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	payload, err := slackapi.PayloadField(body)
	if err != nil || len(payload) == 0 {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	var p interaction
	if err := decodeInteraction(payload, &p); err != nil {
		http.Error(w, "malformed payload", http.StatusBadRequest)
		return
	}
	if err := a.interact(r.Context(), p, ""); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// An empty 200 is the acknowledgement; the work happens after it.
	w.WriteHeader(http.StatusOK)
}
