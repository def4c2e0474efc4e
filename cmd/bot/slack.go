package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/slackauth"
)

var _ slackapp.Workspaces = (*revisit.Service)(nil)

// mountSlack adds the Slack Request URLs when a signing secret is set, and
// returns the Socket Mode worker when an app-level token is. With
// SLACK_CLIENT_ID and SLACK_CLIENT_SECRET it also mounts "Add to Slack"
// (/slack/install, /slack/oauth/callback), and the adapter takes each
// workspace's token from the installation store instead of SLACK_BOT_TOKEN.
// The chat layer answers every command and button; Slack's nudges go out
// through the adapter's outbox, registered with the revisit service.
func mountSlack(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error) {
	if err := cfg.validateSlack(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	sc, ic := cfg.slackConfigs()
	if !sc.Enabled() {
		return nil, nil
	}
	if err := d.complete(log); err != nil {
		return nil, err
	}
	opts := slackapp.Options{
		Flows:      d.flows,
		Redis:      d.rdb,
		Prefix:     d.engine.Prefix(),
		Background: d.bg,
		Metrics:    d.metrics,
		Log:        log.With("adapter", "slack"),
	}
	if d.revisits != nil {
		opts.Workspaces = d.revisits
	}
	if sc.Distributed {
		store, err := mountSlackInstall(ic, log, d, mux)
		if err != nil {
			return nil, err
		}
		opts.Tokens, opts.Installations, opts.InstallURL = store, store, ic.InstallURL()
	}
	app, err := slackapp.New(sc, opts)
	if err != nil {
		return nil, err
	}
	d.notify(conversation.Slack, app.Outbox())
	d.flows.Detect(conversation.Slack, app.Locale)
	app.Mount(mux)
	mode := "request URLs"
	var workers []worker
	if cfg.Slack.AppToken != "" {
		workers = append(workers, worker{name: "slack socket mode", run: app.RunSocketMode})
		mode = "socket mode"
		if cfg.Slack.SigningSecret != "" {
			mode = "socket mode and request URLs"
		}
	}
	log.Info("slack adapter on", "mode", mode, "add_to_slack", sc.Distributed)
	return workers, nil
}

// mountSlackInstall builds the installation store (tokens sealed with
// ITFIT_ENCRYPTION_KEY) and mounts the install flow.
func mountSlackInstall(ic slackauth.Config, log *slog.Logger, d deps, mux *http.ServeMux) (*slackauth.Store, error) {
	box, err := secretbox.Parse(ic.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("configuration: ITFIT_ENCRYPTION_KEY: %w", err)
	}
	alog := log.With("component", "slackauth")
	store, err := slackauth.NewStore(slackauth.StoreOptions{
		Redis: d.rdb, Box: box, Log: alog, Metrics: d.metrics,
		ClientID: ic.ClientID, ClientSecret: ic.ClientSecret, APIURL: ic.APIURL,
	})
	if err != nil {
		return nil, err
	}
	installer, err := slackauth.NewInstaller(ic, slackauth.InstallerOptions{Store: store, Redis: d.rdb, Log: alog, Metrics: d.metrics,
		Translate: chat.Translate})
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	installer.Mount(mux)
	return store, nil
}
