package slackapp

import (
	"context"
	"errors"

	"github.com/slack-go/slack/socketmode"

	"github.com/itfit/itfit/internal/slackapi"
)

// RunSocketMode receives Slack's deliveries over a Socket Mode WebSocket
// (no public URL needed) until ctx ends, through the same translations as
// the HTTP endpoints. Socket Mode needs no signing secret: the connection
// itself is opened with the app-level token.
func (a *App) RunSocketMode(ctx context.Context) error {
	if a.cfg.AppToken == "" {
		return errors.New("slack socket mode: SLACK_APP_TOKEN is not set")
	}
	return a.slack.RunSocketMode(ctx, a.log, a.envelope)
}

// envelope handles one Socket Mode request (slackapi.ServeSocket). A
// redelivered envelope is claimed by its ID; an event also by its
// event_id, which is what an HTTP delivery of the same event would claim.
func (a *App) envelope(ctx context.Context, req socketmode.Request, ack func(payload any) error) {
	claim := a.dedupe.prefix.SlackEvent("socket", req.EnvelopeID)
	slackapi.ServeSocket(ctx, a.log, req, ack, slackapi.Deliveries{
		Command: func(ctx context.Context, c slackapi.Command) *slackapi.CommandReply {
			return a.command(ctx, c, claim)
		},
		Interaction: func(ctx context.Context, p slackapi.Interaction) error { return a.interact(ctx, p, claim, nil) },
		Event:       a.event,
	})
}
