package slackapp

import (
	"context"
	"errors"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/slackauth"
)

// deliver sends what the flows said to show, in order: the next question
// goes out before the answered one is replaced, so a person waits on one
// Web API round trip, not two.
func (a *App) deliver(ctx context.Context, log *slog.Logger, rt route, outs []chat.Output) {
	for _, o := range outs {
		switch o.Op {
		case chat.Post:
			a.post(ctx, log, rt, o.Msg)
		case chat.Replace:
			a.replace(ctx, log, rt, o.Msg)
		case chat.Note:
			a.note(ctx, log, rt, o.Msg)
		}
	}
}

// post shows a message in the audit's conversation, its blocks encoded
// once per key where the message has one.
func (a *App) post(ctx context.Context, log *slog.Logger, rt route, m chat.Message) {
	if rt.dm == "" {
		dm, err := a.slack.OpenDM(ctx, rt.ws, rt.user)
		if err != nil {
			a.failed(ctx, log, rt, "open DM", err)
			return
		}
		rt.dm = dm
	}
	var err error
	if blocks, ok := a.encoded(m); ok {
		_, err = a.slack.PostEncoded(ctx, rt.ws, rt.dm, Message{Text: fallback(m)}, blocks)
	} else {
		_, err = a.slack.Post(ctx, rt.ws, rt.dm, Render(m))
	}
	if err != nil {
		a.failed(ctx, log, rt, "post", err)
	}
}

// encoded is m's blocks from the cache, when m has a key and the adapter
// sends its own JSON.
func (a *App) encoded(m chat.Message) ([]byte, bool) {
	if m.Key == "" || !a.slack.SendsJSON() {
		return nil, false
	}
	b, err := a.blocks(m)
	return b, err == nil
}

// replace updates the message pressed: in place through the response_url
// for an ephemeral one (chat.update cannot reach those).
func (a *App) replace(ctx context.Context, log *slog.Logger, rt route, m chat.Message) {
	if rt.home {
		if m.Kind == chat.KindHome {
			if err := a.slack.PublishHome(ctx, rt.ws, rt.user, HomeView(m)); err != nil {
				log.Error("app home: publish", "err", err)
			}
		}
		return
	}
	p := rt.pressed
	if p.ts == "" {
		return
	}
	var err error
	switch {
	case p.ephemeral && rt.responseURL != "":
		err = a.slack.Respond(ctx, rt.responseURL, Render(m), true)
	case p.ephemeral:
		return
	default:
		if blocks, ok := a.encoded(m); ok {
			err = a.slack.UpdateEncoded(ctx, rt.ws, p.channel, p.ts, Message{Text: fallback(m)}, blocks)
		} else {
			err = a.slack.Update(ctx, rt.ws, p.channel, p.ts, Render(m))
		}
	}
	if err != nil {
		log.Warn("could not update the message pressed", "err", err)
	}
}

// note tells the person something where they acted: beside their mention,
// in place through the response_url, else in the DM.
func (a *App) note(ctx context.Context, log *slog.Logger, rt route, m chat.Message) {
	msg := Render(m)
	if rt.mention != nil {
		err := a.slack.Ephemeral(ctx, rt.ws, rt.mention.channel, rt.mention.thread, rt.user, msg)
		if err == nil {
			return
		}
		log.Warn("could not post a note beside the mention", "err", err)
	}
	if rt.responseURL != "" {
		err := a.slack.Respond(ctx, rt.responseURL, msg, false)
		if err == nil {
			return
		}
		log.Warn("could not reply through response_url", "err", err)
	}
	dm := rt.dm
	if dm == "" && rt.user != "" {
		dm, _ = a.slack.OpenDM(ctx, rt.ws, rt.user)
	}
	if dm != "" {
		_, err := a.slack.Post(ctx, rt.ws, dm, msg)
		if err == nil {
			return
		}
		log.Warn("could not post a note", "err", err)
	}
	log.Error("the person could not be told", "note", m.Summary)
}

// failed logs a delivery failure and tells the person in the flows' words.
func (a *App) failed(ctx context.Context, log *slog.Logger, rt route, what string, err error) {
	if errors.Is(err, slackauth.ErrNotInstalled) {
		// Uninstalled between the request and the work: not a failure.
		log.Info("slack "+what+": the workspace has no installation", "workspace", rt.ws)
		a.note(ctx, log, rt, a.views.NotInstalled(a.installs.url))
		return
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		// A Retry-After longer than the person should wait.
		log.Warn("slack "+what+": rate limited", "retry_after", rl.RetryAfter)
		a.note(ctx, log, rt, a.views.Failure(&chat.ThrottledError{After: rl.RetryAfter, Err: err}))
		return
	}
	log.Error("slack "+what, "err", err)
	a.note(ctx, log, rt, a.views.Failure(err))
}
