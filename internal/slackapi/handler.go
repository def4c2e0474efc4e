package slackapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/obs"
)

// BodyHandler serves a request whose body has been read and verified as
// Slack's.
type BodyHandler func(w http.ResponseWriter, r *http.Request, body []byte)

// replayCheck bounds the replay check on the acknowledgement's path: a
// Redis that does not answer in time must not cost Slack's 3 seconds (nor
// the person's), so past it the request goes ahead unchecked, as when
// Redis fails outright; its signature still had to be fresh and valid.
const replayCheck = 500 * time.Millisecond

// Handler reads the body within maxBody bytes and checks Slack's signature
// over those exact bytes before anything parses them (see Read for what is
// checked before a byte is read), then refuses a signature already seen
// (FirstDelivery, in rdb under prefix). A replay gets the answer a handled
// delivery gets, an empty 200, and has no effect: Slack's own retries of an
// event are re-signed and pass (and the caller's event_id claim makes them
// one), and an attacker learns nothing from it. Refusals are logged to the
// request's logger (obs.Logger), else to log.
func (v *Verifier) Handler(rdb redis.UniversalClient, prefix keys.Prefix, maxBody int64, log *slog.Logger, next BodyHandler) http.Handler {
	return v.Unclaimed(maxBody, log, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if v.Replayed(r.Context(), rdb, prefix, r.Header, obs.Logger(r.Context(), log)) {
			w.WriteHeader(http.StatusOK)
			return
		}
		next(w, r, body)
	})
}

// Replayed is Handler's replay check of a verified request (FirstDelivery
// within replayCheck), logged to log: true for a signature already seen.
// A Redis that fails or is slow is not a refusal.
func (v *Verifier) Replayed(ctx context.Context, rdb redis.UniversalClient, prefix keys.Prefix, h http.Header, log *slog.Logger) bool {
	ctx, cancel := context.WithTimeout(ctx, replayCheck)
	first, err := v.FirstDelivery(ctx, rdb, prefix, h)
	cancel()
	switch {
	case err != nil:
		log.Warn("slack request not checked for replay", "err", err)
	case !first:
		log.Warn("slack request refused", "reason", "signature already seen (a replay)")
	}
	return err == nil && !first
}

// Unclaimed is Handler without the replay check: next must claim the
// request's Delivery itself before it acts (with FirstDelivery, or in a
// round trip it makes anyway, as the answer script does), and answer a
// replay as Handler does.
func (v *Verifier) Unclaimed(maxBody int64, log *slog.Logger, next BodyHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := obs.Logger(r.Context(), log)
		body, err := v.Read(w, r, maxBody)
		if err != nil {
			// Whatever of the body is still on the way is not wanted: close
			// the connection rather than read it to the end.
			w.Header().Set("Connection", "close")
			switch {
			case errors.Is(err, ErrBusy):
				log.Warn("slack request refused", "reason", err, "limit", MaxUnverifiedReads)
				w.Header().Set("Retry-After", "1")
				http.Error(w, "busy, try again", http.StatusServiceUnavailable)
			case errors.Is(err, ErrTooLarge):
				log.Warn("slack request refused", "reason", "body over limit", "limit", maxBody)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrBadTimestamp), errors.Is(err, ErrStale), errors.Is(err, ErrBadSignature):
				log.Warn("slack request refused", "reason", err)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			default:
				http.Error(w, "could not read body", http.StatusBadRequest)
			}
			return
		}
		next(w, r, body)
	})
}

// sslCheckMax bounds the body read to look for ssl_check: Slack's check is
// "ssl_check=1&token=…", some 50 bytes, while a real slash command carries
// a response_url and a trigger_id and is several hundred, so no real
// command is ever read here.
const sslCheckMax = 256

// SSLCheck answers Slack's certificate check of the slash command URL
// (ssl_check=1, sent when the URL is saved and now and then after) with an
// empty 200 before anything else, signed or not, as Slack's own frameworks
// do (bolt's SslCheck runs before request verification): it asks nothing,
// changes nothing and stores nothing. Only a body announced as small is
// read for it, and put back for the signature check when it is not one.
func SSLCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		if r.ContentLength <= 0 || r.ContentLength > sslCheckMax {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, sslCheckMax))
		if err != nil {
			http.Error(w, "could not read body", http.StatusBadRequest)
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("ssl_check") == "1" {
			w.WriteHeader(http.StatusOK)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
