package slackapp

import (
	"context"
	"errors"
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
	"github.com/itfit/itfit/internal/stencil"
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
	render     *stencil.Cache // encoded blocks (encode.go)
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
		render:     stencil.NewCache(maxCached),
		maxBody:    o.MaxBody,
	}, nil
}

// Mount adds the three Request URLs. Without a signing secret nothing can
// be verified, so nothing is mounted (Socket Mode needs none).
func (a *App) Mount(mux *http.ServeMux) {
	if a.cfg.SigningSecret == "" {
		return
	}
	verified := func(next slackapi.BodyHandler) http.Handler {
		return a.verifier.Handler(a.dedupe.rdb, a.dedupe.prefix, a.maxBody, a.log, next)
	}
	commands := slackapi.Commands(func(ctx context.Context, c slackapi.Command) *slackapi.CommandReply {
		return a.command(ctx, c, "")
	})
	interactions := slackapi.Interactions(func(ctx context.Context, p slackapi.Interaction, h http.Header) error {
		return a.interact(ctx, p, "", h)
	})
	mux.Handle("POST /slack/commands", slackapi.SSLCheck(verified(commands)))
	// An answer's signature is claimed in the script that records it (one
	// Redis round trip per answer); interact checks every other press.
	mux.Handle("POST /slack/interactions", a.verifier.Unclaimed(a.maxBody, a.log, interactions))
	mux.Handle("POST /slack/events", verified(slackapi.Events(a.log, a.event)))
}
