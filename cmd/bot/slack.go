package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

var _ slackapp.Reminders = (*revisit.Service)(nil)

// mountSlack adds the Slack Request URLs when a signing secret is set, and
// returns the Socket Mode worker when an app-level token is. The card's
// Remind and Share buttons, /itfit reminders and /itfit forget go to the
// revisit service, which delivers Slack's nudges through the adapter's
// notifier.
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
		Reminders:  reminders(d.revisits),
	})
	if err != nil {
		return nil, err
	}
	if d.revisits != nil {
		d.revisits.Register(conversation.Slack, app.Notifier())
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

// reminders keeps a nil service a nil interface, so that the adapter's
// "not switched on" replies apply instead of a nil-pointer call.
func reminders(s *revisit.Service) slackapp.Reminders {
	if s == nil {
		return nil
	}
	return s
}
