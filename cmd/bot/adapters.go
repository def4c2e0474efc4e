package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/adapters/web"
	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/portfolio"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/webhooks"
)

// platform is one chat platform itfit serves. Adding one is a package
// under internal/adapters, a row here, and rows in the parity suite.
type platform struct {
	name conversation.Platform
	// rules are the platform's own rules for revisits (how a manager is
	// named, what an uninstall covers).
	rules revisit.Rules
	// mount switches the platform on when its settings are there: it adds
	// its routes, registers its outbox and erasers, and returns the
	// workers it needs. It fails on a half-set configuration.
	mount func(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error)
}

// platforms is every platform, in the order they are mounted.
var platforms = []platform{
	{name: conversation.Slack, rules: slackapp.Rules(), mount: mountSlack},
	{name: conversation.Teams, rules: teams.Rules(), mount: mountTeams},
}

// platformRules are the revisit rules of every platform, for reading
// ITFIT_ACCOUNT_MANAGERS.
func platformRules() revisit.Platforms {
	ps := revisit.Platforms{}
	for _, p := range platforms {
		ps[p.name] = p.rules
	}
	return ps
}

// deps are what the adapters are built from.
type deps struct {
	engine  *conversation.Engine
	rdb     redis.UniversalClient
	metrics *obs.Metrics
	bg      *background.Group
	// revisits schedules and delivers yearly revisits; each adapter
	// registers its outbox on it. Nil without revisits (some tests).
	revisits *revisit.Service
	// webhooks queues events for ITFIT_WEBHOOKS' endpoints; nil without.
	webhooks *webhooks.Service
	// flows is the chat layer; erasers and claims are its stores. complete
	// builds them when they are missing.
	flows     *chat.Service
	erasers   *erasure.Registry
	claims    *conversation.Claims
	languages *conversation.Languages
	// historyTTL is how long results are kept, and so what a person's
	// language is kept for (0: the default).
	historyTTL time.Duration
	// managers is ITFIT_ACCOUNT_MANAGERS; desk the account managers'
	// desk; links signs download links (nil without ITFIT_LINK_SECRET).
	managers revisit.Directory
	desk     *portfolio.Store
	links    *links.Signer
}

// forgetGuard is how long a person's forget keeps a second one from
// running (a double press, a script hammering the button): long enough to
// cover a burst, short enough that nobody waits on it.
const forgetGuard = 10 * time.Second

// complete builds the chat layer over the engine if it is not built yet:
// claims, the erasure registry (the scheduler first, so no nudge goes out
// about what is being erased, then sessions, claims and webhooks; adapters
// add theirs), and the flows.
func (d *deps) complete(log *slog.Logger) error {
	if d.flows != nil {
		return nil
	}
	d.claims = conversation.NewClaims(d.rdb, d.engine.Prefix(), 0, nil)
	d.erasers = &erasure.Registry{}
	d.erasers.Guard(d.rdb, d.engine.Prefix(), forgetGuard)
	var reminders chat.Reminders
	if d.revisits != nil {
		d.erasers.Register("revisits", d.revisits)
		reminders = d.revisits
	}
	d.erasers.Register("sessions", erasure.Sessions(d.engine))
	d.erasers.Register("claims", erasure.Other(d.claims))
	if d.desk == nil {
		d.desk = portfolio.New(d.rdb, d.engine.Prefix())
	}
	d.erasers.Register("desk", erasure.Other(d.desk))
	d.languages = conversation.NewLanguages(d.rdb, d.engine.Prefix(), d.historyTTL)
	d.erasers.Register("languages", erasure.Other(d.languages))
	opts := chat.Options{Engine: d.engine, Reminders: reminders, Eraser: d.erasers, Claims: d.claims, Log: log, Desk: d.desk, Managers: d.managers,
		Languages: d.languages}
	if d.links != nil {
		opts.Links = d.links
	}
	if d.webhooks != nil {
		// Drops what is queued about the person and queues user.forgotten.
		d.erasers.Register("webhooks", d.webhooks)
		opts.Events = d.webhooks
	}
	flows, err := chat.New(opts)
	if err != nil {
		return err
	}
	d.flows = flows
	return nil
}

// notify registers a platform's outbox with the revisit service, so its
// nudges go out there, and, when the outbox can tell whether a nudge
// arrived (Slack's), as its Verifier.
func (d deps) notify(p conversation.Platform, out chat.Outbox) {
	if d.revisits != nil {
		d.revisits.Register(p, d.flows.Notifier(p, out))
		if v, ok := out.(revisit.Verifier); ok {
			d.revisits.RegisterVerifier(p, v)
		}
	}
}

// mountAdapters switches on each platform whose credentials are set and
// adds its routes; it fails on a half-set configuration.
func mountAdapters(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error) {
	if err := d.complete(log); err != nil {
		return nil, err
	}
	if d.links != nil {
		web.New(d.links, d.flows, log.With("component", "downloads")).Mount(mux)
	}
	var workers []worker
	for _, p := range platforms {
		ws, err := p.mount(cfg, log, d, mux)
		if err != nil {
			return nil, err
		}
		workers = append(workers, ws...)
	}
	return workers, nil
}
