package botframework

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryableStatus reports whether an HTTP status is worth retrying: throttling
// and the server errors that mean "not now" rather than "never".
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout:
		return true
	}
	return false
}

// parseRetryAfter reads a Retry-After header in either of its RFC 9110 forms
// (delay-seconds or an HTTP date). It returns 0 when the header is absent or
// unreadable, which means "use our own backoff".
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before multiplying so an absurd value cannot overflow.
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// retryPolicy is the bounded retry schedule shared by the token source and
// the connector.
type retryPolicy struct {
	maxAttempts   int           // total tries, first one included
	baseDelay     time.Duration // first backoff step
	maxDelay      time.Duration // cap for our own backoff
	maxRetryAfter time.Duration // a Retry-After longer than this ends the retries
	sleep         func(ctx context.Context, d time.Duration) error
}

func (p retryPolicy) withDefaults() retryPolicy {
	if p.maxAttempts <= 0 {
		p.maxAttempts = 4
	}
	if p.baseDelay <= 0 {
		p.baseDelay = 500 * time.Millisecond
	}
	if p.maxDelay <= 0 {
		p.maxDelay = 8 * time.Second
	}
	if p.maxRetryAfter <= 0 {
		p.maxRetryAfter = 30 * time.Second
	}
	if p.sleep == nil {
		p.sleep = sleepContext
	}
	return p
}

// delay returns how long to wait before retry number `attempt` (1 for the
// first retry) and whether to retry at all. The server's Retry-After wins over
// our backoff; when it asks for more than maxRetryAfter we stop instead of
// retrying early against its wishes or holding the caller for minutes.
func (p retryPolicy) delay(attempt int, retryAfter time.Duration) (time.Duration, bool) {
	if retryAfter > 0 {
		if retryAfter > p.maxRetryAfter {
			return 0, false
		}
		return retryAfter, true
	}
	d := p.baseDelay << min(attempt-1, 20)
	if d > p.maxDelay || d <= 0 {
		d = p.maxDelay
	}
	// Full jitter on the upper half keeps many replicas from retrying in step.
	half := d / 2
	return half + rand.N(half+1), true
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
