package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
)

// mountTeams serves POST /api/messages when MICROSOFT_APP_ID is set.
func mountTeams(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux) ([]worker, error) {
	return mountTeamsWith(cfg, log, d, mux, nil)
}

// mountTeamsWith takes the HTTP client for Microsoft's endpoints, so that
// tests can point every one of them at a local identity provider and
// connector over TLS; nil means the botframework package's defaults.
func mountTeamsWith(cfg Config, log *slog.Logger, d deps, mux *http.ServeMux, client *http.Client) ([]worker, error) {
	if !cfg.Teams.Enabled() {
		return nil, nil
	}
	if err := d.complete(log); err != nil {
		return nil, err
	}
	tc := cfg.Teams
	log = log.With("adapter", "teams")
	validator, err := botframework.NewValidator(botframework.ValidatorConfig{
		AppID:       tc.AppID,
		MetadataURL: tc.OpenIDMetadataURL,
		HTTPClient:  client,
		Logger:      log,
	})
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	tokens, err := botframework.NewTokenSource(botframework.TokenSourceConfig{
		AppID:       tc.AppID,
		AppPassword: tc.AppPassword,
		TenantID:    tc.TenantID,
		TokenURL:    tc.TokenURL,
		HTTPClient:  client,
		Logger:      log,
	})
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	conn, err := botframework.NewConnector(botframework.ConnectorConfig{Tokens: tokens, HTTPClient: client, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	tenants, err := cfg.teamsTenants()
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	h, err := teams.New(teams.Options{
		Tenants:      tenants,
		Flows:        d.flows,
		Validator:    validator,
		Connector:    conn,
		Redis:        d.rdb,
		Prefix:       d.engine.Prefix(),
		ReferenceTTL: cfg.HistoryTTL,
		Background:   d.bg,
		Metrics:      d.metrics,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	d.erasers.Register("teams references", erasure.Other(h.References()))
	d.notify(conversation.Teams, h.Outbox())
	mux.Handle("POST /api/messages", h)
	tenancy := "single-tenant"
	if tc.TenantID == "" {
		tenancy = "multi-tenant"
	}
	log.Info("teams enabled", "endpoint", "/api/messages", "tenancy", tenancy, "tenants_allowed", len(tenants))
	// Fetch the signing keys now rather than on the first message, so a
	// wrong MICROSOFT_OPENID_METADATA_URL shows in the log at start-up.
	// Validation refreshes on its own afterwards; this is only a warm-up.
	warm := worker{name: "teams-keys", run: func(ctx context.Context) error {
		if err := validator.Refresh(ctx); err != nil {
			log.Warn("teams: could not fetch Bot Framework signing keys yet; will retry on the first activity", "err", err)
		}
		return nil
	}}
	return []worker{warm}, nil
}
