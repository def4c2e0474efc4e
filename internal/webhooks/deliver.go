package webhooks

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"code.dny.dev/ssrf"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/schedule"
)

// Retry timing. An event's n-th failed attempt is retried after
// minBackoff·2^(n-1), at most maxBackoff, with "equal jitter" (half fixed,
// half random), or after the receiver's Retry-After (at most
// maxRetryAfter) when it sent one. With the default 15 attempts an event is
// retried for 2.7 to 5.4 hours before it is dead-lettered, so a receiver
// down for an hour loses nothing.
const (
	minBackoff    = 5 * time.Second
	maxBackoff    = time.Hour
	maxRetryAfter = 24 * time.Hour
	// lockMargin is how much longer than its request timeout a sender
	// holds its queue's head: another sender may take it only once the
	// first cannot be sending any more.
	lockMargin = 30 * time.Second
	// pushWindow is how long a job whose event is not (yet) in its queue
	// waits for it: the job is scheduled a moment before the event is
	// pushed.
	pushWindow = time.Minute
	// maxBody bounds how much of a receiver's answer is read.
	maxBody = 64 << 10
)

// target is an endpoint ready to send to.
type target struct {
	ep      Endpoint
	client  *http.Client
	signers []*standardwebhooks.Webhook
}

func newTarget(ep Endpoint, roots *x509.CertPool) (*target, error) {
	t := &target{ep: ep}
	for i, s := range ep.Secrets {
		w, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("%w: endpoint %q: secrets[%d]: not a signing secret", ErrConfig, ep.Name, i)
		}
		t.signers = append(t.signers, w)
	}
	dialer := &net.Dialer{Timeout: min(ep.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}
	if !ep.AllowPrivate {
		// Checked on the address actually dialled, after DNS, so a name
		// that resolves (or is rebound) to an internal address is refused.
		dialer.Control = ssrf.New(ssrf.WithAnyPort()).Safe
	}
	tr := &http.Transport{
		// No proxy from the environment: the guard must see the real
		// destination.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   min(ep.Timeout, 10*time.Second),
		ResponseHeaderTimeout: ep.Timeout,
	}
	t.client = &http.Client{
		Transport: tr,
		Timeout:   ep.Timeout,
		// A redirect is an answer like any other non-2xx: not followed, so
		// a receiver cannot point deliveries somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return t, nil
}

// signature is the webhook-signature header: one v1 signature per secret.
func (t *target) signature(id string, at time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(t.signers))
	for _, s := range t.signers {
		sig, err := s.Sign(id, at, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// deliverer is the webhook schedule's Deliverer: it sends one event when
// it is the head of its queue.
type deliverer struct {
	q         *queue
	targets   map[string]*target
	now       func() time.Time
	log       *slog.Logger
	metrics   *obs.Metrics
	userAgent string
}

var _ schedule.Deliverer = (*deliverer)(nil)

var (
	errWaiting = errors.New("waiting behind an earlier event for the same person")
	errBusy    = errors.New("another sender holds this queue")
	errNotYet  = errors.New("the event is not in its queue yet")
)

// Deliver sends the job's event if it is its queue's head; otherwise it
// asks to be tried again when the head may have gone.
func (d *deliverer) Deliver(ctx context.Context, j schedule.Job) error {
	var p jobPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.Event == "" {
		return fmt.Errorf("webhooks: undecodable job %q: %w", j.ID, schedule.ErrGone)
	}
	st := p.stream()
	log := d.log.With("endpoint", p.Endpoint, "event", p.Event)
	t, ok := d.targets[p.Endpoint]
	if !ok {
		// The endpoint was removed from ITFIT_WEBHOOKS: what was queued
		// for it goes nowhere.
		left, next, err := d.q.settle(ctx, st, p.Event, "", true)
		if err != nil {
			return err
		}
		if left {
			log.Warn("webhook endpoint no longer configured; its queued event is dropped")
			d.metrics.Webhook(p.Endpoint, "dropped", 0)
		}
		return d.wake(ctx, log, st, next)
	}
	now := d.now()
	token := newToken()
	b, err := d.q.begin(ctx, st, p.Event, token, now, now.Add(t.ep.Timeout+lockMargin))
	if err != nil {
		return err
	}
	switch b.state {
	case "gone":
		if now.Sub(time.UnixMilli(p.Queued)) < pushWindow {
			return schedule.RetryAfter(2*time.Second, errNotYet)
		}
		return nil // sent, dead-lettered or forgotten already
	case "wait":
		at := later(b.nextAt, b.lockEnd)
		delay := 5 * time.Second
		if !at.IsZero() {
			delay = min(max(at.Sub(now)+time.Second, time.Second), maxBackoff)
		}
		return schedule.RetryAfter(delay, errWaiting)
	case "busy":
		return schedule.RetryAfter(min(max(b.lockEnd.Sub(now)+time.Second, time.Second), maxBackoff), errBusy)
	}

	start := time.Now()
	status, retryAfter, err := d.send(ctx, t, p.Event, b.body, now)
	took := time.Since(start)
	if err == nil && status/100 == 2 {
		_, next, serr := d.q.settle(ctx, st, p.Event, token, false)
		d.metrics.Webhook(t.ep.Name, "delivered", took)
		log.Debug("webhook delivered", "status", status, "attempt", b.attempts+1)
		if serr != nil {
			// The receiver has it; the queue does not know. The head stays
			// locked until its lock ends, then is sent again with the same
			// webhook-id, which receivers deduplicate.
			return serr
		}
		return d.wake(ctx, log, st, next)
	}

	reason, outcome := describe(status, err)
	delay := backoff(b.attempts)
	if retryAfter > 0 {
		delay, outcome = min(retryAfter, maxRetryAfter), "rate_limited"
	}
	n, body, ferr := d.q.fail(ctx, st, p.Event, token, now.Add(delay), reason, t.ep.MaxAttempts)
	if ferr != nil {
		d.metrics.Webhook(t.ep.Name, outcome, took)
		return schedule.RetryAfter(delay, errors.Join(errors.New(reason), ferr))
	}
	switch {
	case n < 0:
		// Forgotten while it was being sent: nothing more to do.
		d.metrics.Webhook(t.ep.Name, "dropped", took)
		return nil
	case body != nil:
		d.metrics.Webhook(t.ep.Name, "dead", took)
		log.Error("webhook dead-lettered: out of attempts", "attempts", n, "reason", reason)
		return d.dead(ctx, log, st, t, p, body, n, reason, now)
	}
	d.metrics.Webhook(t.ep.Name, outcome, took)
	log.Warn("webhook delivery failed; retrying", "attempt", n, "of", t.ep.MaxAttempts, "reason", reason, "retry_in", delay.String())
	return schedule.RetryAfter(delay, errors.New(reason))
}

// dead keeps the event as a dead letter, then lets the next one go.
func (d *deliverer) dead(ctx context.Context, log *slog.Logger, st stream, t *target, p jobPayload, body []byte, n int, reason string, now time.Time) error {
	var head struct {
		Type Type `json:"type"`
	}
	_ = json.Unmarshal(body, &head)
	letter := DeadLetter{Endpoint: t.ep.Name, Event: p.Event, Type: head.Type, Platform: p.Platform, Workspace: p.Workspace,
		User: p.User, Attempts: n, Error: reason, At: now, Body: string(body)}
	// The letter first: a crash before the event leaves its queue means a
	// second letter for it replaces the first, never a lost event.
	if err := d.q.bury(ctx, letter); err != nil {
		return err
	}
	_, next, err := d.q.settle(ctx, st, p.Event, "", true)
	if err != nil {
		return err
	}
	return d.wake(ctx, log, st, next)
}

// wake makes the new head's job due now; if that fails, the job still
// comes round on its own.
func (d *deliverer) wake(ctx context.Context, log *slog.Logger, st stream, next string) error {
	if next == "" {
		return nil
	}
	if err := d.q.wake(ctx, st, next, d.now()); err != nil {
		log.Warn("could not hurry the next webhook event; it goes at its next poll", "err", err)
	}
	return nil
}

// send POSTs one signed event. It returns the status (0 when there was no
// answer), the receiver's Retry-After, and the transport's error.
func (d *deliverer) send(ctx context.Context, t *target, id string, body []byte, now time.Time) (int, time.Duration, error) {
	sig, err := t.signature(id, now, body)
	if err != nil {
		return 0, 0, fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.userAgent)
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	resp, err := t.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, whose path or query may hold a
		// token: keep only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	var ra time.Duration
	if resp.StatusCode/100 != 2 {
		ra = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	return resp.StatusCode, ra, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}

// describe words a failed attempt for the log, the dead letter and the
// metric's outcome, without the URL.
func describe(status int, err error) (reason, outcome string) {
	var nerr net.Error
	switch {
	case err == nil && status/100 == 3:
		return fmt.Sprintf("HTTP %d: redirects are not followed", status), "retried"
	case err == nil:
		return fmt.Sprintf("HTTP %d", status), "retried"
	case errors.Is(err, ssrf.ErrProhibitedIP) || errors.Is(err, ssrf.ErrProhibitedNetwork) || errors.Is(err, ssrf.ErrProhibitedPort):
		return "refused to connect: " + err.Error() + " (allow_private lets an endpoint reach non-public addresses)", "blocked"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "timed out: " + err.Error(), "retried"
	}
	return err.Error(), "retried"
}

// backoff is the delay after an event's attempts+1-th failure.
func backoff(attempts int) time.Duration {
	d := maxBackoff
	if attempts < 20 {
		d = min(minBackoff<<attempts, maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
