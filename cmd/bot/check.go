package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/webhooks"
)

// checkTimeout bounds each probe of `bot check`.
const checkTimeout = 10 * time.Second

// errCheckFailed is returned when a probe failed; the lines say which.
var errCheckFailed = errors.New("check failed")

// check is `bot check`: before a deploy (or as a Helm test), it tries with
// the real services what `bot serve` will need (the audit file, Redis, the
// Slack token, the Teams credentials and keys, the account managers, the
// webhook endpoints) and
// prints one line each: ok, warn, skip (not configured) or FAIL. It fails
// when anything configured does not work. client is the HTTP client for
// Slack and Microsoft; nil means their defaults (tests pass a local CA's).
func check(ctx context.Context, cfg Config, out io.Writer, client *http.Client) error {
	return runCheck(ctx, cfg, out, client, false)
}

// checkConfigOnly is `bot check --config-only`: the same lines from the
// settings alone, without a connection to Redis, Slack or Microsoft, so
// that CI can try a rendered Helm configuration where none of them exists.
// The configuration itself was checked as for serve before it runs.
func checkConfigOnly(ctx context.Context, cfg Config, out io.Writer) error {
	return runCheck(ctx, cfg, out, nil, true)
}

func runCheck(ctx context.Context, cfg Config, out io.Writer, client *http.Client, offline bool) error {
	failed := false
	line := func(status, what, format string, args ...any) {
		if status == "FAIL" {
			failed = true
		}
		fmt.Fprintf(out, "%-5s %-9s %s\n", status, what, fmt.Sprintf(format, args...))
	}
	probe := func(f func(ctx context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, checkTimeout)
		defer cancel()
		return f(ctx)
	}

	if a, err := loadAudit(cfg); err != nil {
		line("FAIL", "audit", "%v", err)
	} else {
		src := "built in"
		if cfg.AuditFile != "" {
			src = cfg.AuditFile
		}
		line("ok", "audit", "%s, version %s, %d questions", src, a.Version, len(a.Questions))
	}

	switch {
	case cfg.RedisURL == "":
		line("warn", "redis", "REDIS_URL is not set: bot serve would use an embedded store that keeps nothing across restarts and is not shared by replicas")
	case offline:
		if top, err := redisconn.Topology(cfg.RedisURL); err != nil {
			line("FAIL", "redis", "%v", err)
		} else {
			line("ok", "redis", "REDIS_URL names %s at %s (not dialled: --config-only)", top, redisconn.Addr(cfg.RedisURL))
		}
	default:
		checkRedis(cfg.RedisURL, probe, line)
	}

	sc, ic := cfg.slackConfigs()
	switch {
	case !sc.Enabled():
		line("skip", "slack", "not configured (SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN, or SLACK_CLIENT_ID/SLACK_CLIENT_SECRET)")
	case sc.Distributed:
		if _, err := secretbox.Parse(ic.EncryptionKey); err != nil {
			line("FAIL", "slack", "ITFIT_ENCRYPTION_KEY: %v", err)
		} else {
			line("ok", "slack", "Add to Slack at %s (workspace tokens come from their installations)", ic.InstallURL())
		}
	case offline:
		line("ok", "slack", "SLACK_BOT_TOKEN is set for one workspace (auth.test not called: --config-only)")
	default:
		api := slack.New(sc.BotToken, slack.OptionAPIURL(sc.APIBase()), slack.OptionHTTPClient(orDefault(client)))
		var who *slack.AuthTestResponse
		err := probe(func(ctx context.Context) (err error) {
			who, err = api.AuthTestContext(ctx)
			return err
		})
		if err != nil {
			line("FAIL", "slack", "auth.test with SLACK_BOT_TOKEN at %s: %v", sc.APIBase(), err)
		} else {
			line("ok", "slack", "SLACK_BOT_TOKEN is @%s in workspace %q (%s)", who.User, who.Team, who.TeamID)
		}
	}
	if sc.Enabled() && sc.AppToken != "" {
		line("ok", "slack", "Socket Mode on (SLACK_APP_TOKEN); it connects when bot serve starts")
	}

	switch {
	case !cfg.Teams.Enabled():
		line("skip", "teams", "not configured (MICROSOFT_APP_ID)")
	case offline:
		line("ok", "teams", "MICROSOFT_APP_ID %s and its password are set (Microsoft not asked: --config-only)", cfg.Teams.AppID)
	default:
		checkTeams(cfg, client, probe, line)
	}

	if dir, err := revisit.ParseDirectory(cfg.AccountManagers, platformRules()); err != nil {
		line("FAIL", "managers", "ITFIT_ACCOUNT_MANAGERS: %v", err)
	} else if len(dir) == 0 {
		line("skip", "managers", "ITFIT_ACCOUNT_MANAGERS is empty: nudges go to managers clients pick with Share only")
	} else {
		line("ok", "managers", "%d client workspaces have an account manager", len(dir))
	}

	checkWebhooks(cfg, line)

	if failed {
		return errCheckFailed
	}
	return nil
}

// checkWebhooks names each endpoint by its host only (a path or query may
// hold a token) and the events it takes. Nothing is sent: a test event
// would reach the provider's CRM as if it were real.
func checkWebhooks(cfg Config, line func(status, what, format string, args ...any)) {
	eps, err := webhooks.Parse(cfg.Webhooks)
	switch {
	case err != nil:
		line("FAIL", "webhooks", "%v", err)
		return
	case len(eps) == 0:
		line("skip", "webhooks", "ITFIT_WEBHOOKS is empty: no events are sent")
		return
	}
	for _, ep := range eps {
		host := ""
		if u, err := url.Parse(ep.URL); err == nil {
			host = u.Host
		}
		events := make([]string, len(ep.Events))
		for i, e := range ep.Events {
			events[i] = string(e)
		}
		extra := ""
		if ep.AllowPrivate {
			extra = "; allow_private: non-public addresses allowed"
		}
		secrets := "1 secret"
		if len(ep.Secrets) > 1 {
			secrets = fmt.Sprintf("%d secrets (rotating)", len(ep.Secrets))
		}
		line("ok", "webhooks", "%s: https://%s/… gets %s, signed with %s (not contacted%s)", ep.Name, host, strings.Join(events, ", "), secrets, extra)
	}
}

func checkRedis(url string, probe func(func(context.Context) error) error, line func(status, what, format string, args ...any)) {
	// The FAIL line says what went wrong; go-redis's own lines on stderr
	// would only repeat it in another format.
	redisconn.Silence()
	rdb, err := redisconn.Open(url)
	if err != nil {
		line("FAIL", "redis", "REDIS_URL: %v", err)
		return
	}
	defer rdb.Close()
	var took time.Duration
	var version string
	err = probe(func(ctx context.Context) error {
		start := time.Now()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return err
		}
		took = time.Since(start)
		info, err := rdb.Info(ctx, "server").Result()
		if err != nil {
			return err
		}
		for l := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
				version = v
			}
		}
		return nil
	})
	if err != nil {
		line("FAIL", "redis", "%s: %v", redisconn.Addr(url), err)
		return
	}
	line("ok", "redis", "Redis %s at %s answers in %.1f ms", version, redisconn.Addr(url), float64(took.Microseconds())/1000)
}

// checkTeams fetches the Bot Framework signing keys (as inbound validation
// will) and a token for the app (as every reply will).
func checkTeams(cfg Config, client *http.Client, probe func(func(context.Context) error) error, line func(status, what, format string, args ...any)) {
	tc := cfg.Teams
	v, err := botframework.NewValidator(botframework.ValidatorConfig{AppID: tc.AppID, MetadataURL: tc.OpenIDMetadataURL, HTTPClient: client})
	if err == nil {
		err = probe(v.Refresh)
	}
	if err != nil {
		line("FAIL", "teams", "Bot Framework signing keys: %v", err)
	} else {
		line("ok", "teams", "Bot Framework signing keys fetched: inbound activities can be verified")
	}
	ts, err := botframework.NewTokenSource(botframework.TokenSourceConfig{
		AppID: tc.AppID, AppPassword: tc.AppPassword, TenantID: tc.TenantID, TokenURL: tc.TokenURL, HTTPClient: client,
	})
	if err == nil {
		err = probe(func(ctx context.Context) error { _, err := ts.Token(ctx); return err })
	}
	if err != nil {
		line("FAIL", "teams", "token for MICROSOFT_APP_ID %s: %v", tc.AppID, err)
	} else {
		line("ok", "teams", "MICROSOFT_APP_ID %s and its password obtain a Bot Connector token", tc.AppID)
	}
}

func orDefault(c *http.Client) *http.Client {
	if c == nil {
		return &http.Client{Timeout: checkTimeout}
	}
	return c
}
