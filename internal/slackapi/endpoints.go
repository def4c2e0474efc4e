package slackapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/itfit/itfit/internal/obs"
)

// The three Request URLs' side of the wire: how each verified body is
// read, and how what the caller made of it is answered. Each is a
// BodyHandler, to go behind Verifier.Handler.

// Commands serves the slash commands' Request URL: the form read into a
// Command (400 when it is not a form, or does not name a workspace and a
// user as Slack does), and handle's reply sent as the acknowledgement; nil
// is an empty 200.
func Commands(handle func(ctx context.Context, c Command) *CommandReply) BodyHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		c, err := ParseCommand(body)
		if err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		if !c.Valid() {
			http.Error(w, "missing or malformed team_id, enterprise_id or user_id", http.StatusBadRequest)
			return
		}
		ack := handle(r.Context(), c)
		if ack == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, ack)
	}
}

// Interactions serves the interactivity Request URL: the form's payload
// decoded (400 when there is none, or it is not an Interaction) and handed
// to handle with the request's headers (for its Delivery), whose error
// means the payload is unusable (400, with the error's text).
func Interactions(handle func(ctx context.Context, p Interaction, h http.Header) error) BodyHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		payload, err := PayloadField(body)
		if err != nil || len(payload) == 0 {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		var p Interaction
		if err := DecodeInteraction(payload, &p); err != nil {
			http.Error(w, "malformed payload", http.StatusBadRequest)
			return
		}
		if err := handle(r.Context(), p, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// An empty 200 is the acknowledgement; the work happens after it.
		w.WriteHeader(http.StatusOK)
	}
}

// ErrRedeliver, wrapped in the error an Events handler returns, answers
// 503: Slack delivers the event again.
var ErrRedeliver = errors.New("the event will be redelivered")

// Events serves the Events API's Request URL: its verification
// (url_verification, answered with the challenge), and every other
// delivery handed to handle. nil is the empty 200 that acknowledges it; an
// error is a 400 with the error's text, or a 503 when it wraps
// ErrRedeliver. A redelivery (X-Slack-Retry-Num) is logged, to the
// request's logger (obs.Logger) else to log, and handed to handle like the
// first.
func Events(log *slog.Logger, handle func(ctx context.Context, e Envelope) error) BodyHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var e Envelope
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "malformed JSON", http.StatusBadRequest)
			return
		}
		if e.Type == "url_verification" {
			writeJSON(w, map[string]string{"challenge": e.Challenge})
			return
		}
		if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
			// A retry is handled like the first delivery: the caller's event_id claim
			// decides, so a retry of a delivery we never saw is not lost.
			obs.Logger(r.Context(), log).Info("slack event redelivered", "event_id", e.EventID,
				"retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
		}
		if err := handle(r.Context(), e); err != nil {
			code := http.StatusBadRequest
			if errors.Is(err, ErrRedeliver) {
				code = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
