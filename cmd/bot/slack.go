package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/itfit/itfit/internal/adapters/slackapp"
)

// mountSlack adds the Slack Request URLs when a signing secret is set, and
// returns the Socket Mode worker when an app-level token is. Reminders are
// not wired yet (issue 5): the card's buttons say so honestly.
func mountSlack(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error) {
	if !cfg.Slack.Enabled() {
		return nil, nil
	}
	if err := cfg.Slack.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	app, err := slackapp.New(cfg.Slack, slackapp.Options{
		Engine:     d.engine,
		Redis:      d.rdb,
		Background: d.bg,
		Metrics:    d.metrics,
		Log:        log.With("adapter", "slack"),
	})
	if err != nil {
		return nil, err
	}
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
	log.Info("slack adapter on", "mode", mode)
	return workers, nil
}
