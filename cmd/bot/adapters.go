package main

import (
	"log/slog"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/background"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/revisit"
)

// deps are what the adapters are built from.
type deps struct {
	engine  *conversation.Engine
	rdb     redis.UniversalClient
	metrics *obs.Metrics
	bg      *background.Group
	// revisits schedules and delivers yearly revisits; each adapter
	// registers its platform's notifier on it.
	revisits *revisit.Service
}

// mountAdapters switches on each platform whose credentials are set and
// adds its routes; it fails on a half-set configuration.
func mountAdapters(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error) {
	slackWorkers, err := mountSlack(cfg, log, d, mux)
	if err != nil {
		return nil, err
	}
	teamsWorkers, err := mountTeams(cfg, log, d, mux)
	if err != nil {
		return nil, err
	}
	return append(slackWorkers, teamsWorkers...), nil
}
