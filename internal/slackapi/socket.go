package slackapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack/socketmode"
)

// SocketHandler handles one Socket Mode request. ack acknowledges it, with
// a payload (nil for none): Slack redelivers what is not acknowledged
// within 3 seconds.
type SocketHandler func(ctx context.Context, req socketmode.Request, ack func(payload any) error)

// RunSocketMode receives Slack's deliveries over a Socket Mode WebSocket
// (no public URL needed) and hands each request to handle, until ctx ends.
// The connection is opened with the app-level token alone (Options.AppToken;
// no signing secret is needed); replies go through each workspace's own bot
// token as over HTTP. The connection's state and what cannot be read go to
// log.
func (c *Client) RunSocketMode(ctx context.Context, log *slog.Logger, handle SocketHandler) error {
	smc := socketmode.New(c.Socket(), socketmode.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelWarn)))
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
					log.Warn("slack socket mode: unreadable message ignored", "err", bad.Cause)
					continue
				}
				handle(ctx, req, func(payload any) error {
					return smc.AckCtx(ctx, req.EnvelopeID, payload)
				})
				continue
			}
			if evt.Request == nil {
				socketStatus(log, evt)
				continue
			}
			req := *evt.Request
			handle(ctx, req, func(payload any) error {
				return smc.AckCtx(ctx, req.EnvelopeID, payload)
			})
		}
	}
}

// socketStatus logs what becomes of the connection.
func socketStatus(log *slog.Logger, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		log.Info("slack socket mode connected")
	case socketmode.EventTypeInvalidAuth:
		log.Error("slack socket mode: SLACK_APP_TOKEN was refused")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError:
		log.Warn("slack socket mode connection trouble; reconnecting", "event", evt.Type)
	}
}

// Deliveries are what the caller makes of each kind of request (as over
// HTTP: see Commands, Interactions and Events).
type Deliveries struct {
	// Command answers a slash command at once; nil is an empty
	// acknowledgement.
	Command func(ctx context.Context, c Command) *CommandReply
	// Interaction takes a block_actions or shortcut payload; an error
	// means it is unusable.
	Interaction func(ctx context.Context, p Interaction) error
	// Event takes an Events API delivery; an error means it was refused.
	Event func(ctx context.Context, e Envelope) error
}

// ServeSocket handles one Socket Mode request, as a SocketHandler, with d:
// acknowledge first (Slack redelivers what is not acknowledged within 3
// seconds), then the work. An event or an interaction is acknowledged
// before d sees it; a slash command with d.Command's reply, which must come
// at once. What cannot be read or is refused is logged, with the
// envelope's type.
func ServeSocket(ctx context.Context, log *slog.Logger, req socketmode.Request, ack func(payload any) error, d Deliveries) {
	log = log.With("envelope_type", req.Type)
	if req.EnvelopeID == "" {
		return // hello, disconnect: nothing to acknowledge
	}
	ackNow := func(payload any) {
		if err := ack(payload); err != nil {
			log.Warn("slack socket mode: ack failed", "err", err)
		}
	}
	switch req.Type {
	case socketmode.RequestTypeEventsAPI:
		ackNow(nil)
		var e Envelope
		if err := json.Unmarshal(req.Payload, &e); err != nil {
			log.Warn("slack socket mode: malformed event", "err", err)
			return
		}
		if err := d.Event(ctx, e); err != nil {
			log.Warn("slack socket mode: event refused", "err", err)
		}
	case socketmode.RequestTypeInteractive:
		ackNow(nil)
		var p Interaction
		if err := DecodeInteraction(req.Payload, &p); err != nil {
			log.Warn("slack socket mode: malformed interaction", "err", err)
			return
		}
		if err := d.Interaction(ctx, p); err != nil {
			log.Warn("slack socket mode: interaction refused", "err", err)
		}
	case socketmode.RequestTypeSlashCommands:
		var c Command
		if err := json.Unmarshal(req.Payload, &c); err != nil || !c.Valid() {
			ackNow(nil)
			log.Warn("slack socket mode: malformed slash command")
			return
		}
		if reply := d.Command(ctx, c); reply != nil {
			ackNow(reply)
		} else {
			ackNow(nil) // not a nil *CommandReply: an empty acknowledgement
		}
	default:
		ackNow(nil)
	}
}
