package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives Slack's deliveries over a Socket Mode WebSocket
// (no public URL needed) until ctx ends, through the same translations as
// the HTTP endpoints. Socket Mode needs no signing secret: the connection
// itself is opened with the app-level token.
func (a *App) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return errors.New("slack socket mode: SLACK_APP_TOKEN is not set")
	}
	// The connection is opened with the app-level token alone; replies go
	// through each workspace's own bot token like the HTTP paths.
	smc := socketmode.New(a.slack.Socket(), socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)))
	runErr := make(chan error, 1)
	go func() { runErr <- smc.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-runErr:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("slack socket mode: %w", err)
			}
			return ctx.Err()
		case evt := <-smc.Events:
			if bad, ok := evt.Data.(*socketmode.ErrorBadMessage); ok && evt.Type == socketmode.EventTypeErrorBadMessage {
				// slack-go could not type the envelope (an event or an
				// interaction shape it does not know). Read it leniently
				// ourselves, so it is still acknowledged and handled rather
				// than redelivered and dropped in silence.
				var req socketmode.Request
				if err := json.Unmarshal(bad.Message, &req); err != nil || req.EnvelopeID == "" {
					a.log.Warn("slack socket mode: unreadable message ignored", "err", bad.Cause)
					continue
				}
				a.envelope(ctx, req, func(payload any) error {
					return smc.AckCtx(ctx, req.EnvelopeID, payload)
				})
				continue
			}
			if evt.Request == nil {
				a.socketStatus(evt)
				continue
			}
			req := *evt.Request
			a.envelope(ctx, req, func(payload any) error {
				return smc.AckCtx(ctx, req.EnvelopeID, payload)
			})
		}
	}
}

func (a *App) socketStatus(evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("slack socket mode: SLACK_APP_TOKEN was refused")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		a.log.Warn("slack socket mode connection trouble; reconnecting", "event", evt.Type)
	}
}

// envelope handles one Socket Mode request: acknowledge first (Slack
// redelivers what is not acknowledged within 3 seconds), then the work.
// A redelivered envelope is claimed by its ID; an event also by its
// event_id, which is what an HTTP delivery of the same event would claim.
func (a *App) envelope(ctx context.Context, req socketmode.Request, ack func(payload any) error) {
	log := a.log.With("envelope_type", req.Type)
	if req.EnvelopeID == "" {
		return // hello, disconnect: nothing to acknowledge
	}
	claim := a.dedupe.prefix.SlackEvent("socket", req.EnvelopeID)
	ackNow := func(payload any) {
		if err := ack(payload); err != nil {
			log.Warn("slack socket mode: ack failed", "err", err)
		}
	}
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		ackNow(nil)
		var e envelope
		if err := json.Unmarshal(req.Payload, &e); err != nil {
			log.Warn("slack socket mode: malformed event", "err", err)
			return
		}
		if err := a.event(ctx, e); err != nil {
			log.Warn("slack socket mode: event refused", "err", err)
		}
	case socketmode.RequestTypeInteractive:
		ackNow(nil)
		var p interaction
		if err := decodeInteraction(req.Payload, &p); err != nil {
			log.Warn("slack socket mode: malformed interaction", "err", err)
			return
		}
		if err := a.interact(ctx, p, claim); err != nil {
			log.Warn("slack socket mode: interaction refused", "err", err)
		}
	case socketmode.RequestTypeSlashCommands:
		var c command
		if err := json.Unmarshal(req.Payload, &c); err != nil || !c.valid() {
			ackNow(nil)
			log.Warn("slack socket mode: malformed slash command")
			return
		}
		if ack := a.command(ctx, c, claim); ack != nil {
			ackNow(ack)
		} else {
			ackNow(nil)
		}
	default:
		ackNow(nil)
	}
}
