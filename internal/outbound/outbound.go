// Package outbound is how the bot's hot calls to the platforms (Slack's
// chat.postMessage and chat.update, the Bot Connector's activities) are
// sent: straight through the client's transport, not http.Client.Do.
//
// Do's own work is for redirects and cookies: it copies the headers of
// every request in case a redirect needs them, and arms a timer for the
// client's Timeout. Neither API redirects, and a call that followed a
// redirect would take its bearer token to another URL, so a redirect is
// better handed back as the non-2xx answer it is. At saturation that work
// was 3% of the Slack bot's CPU (Client.do less Transport.RoundTrip in a
// profile of scripts/load slack). The callers set their own deadline on
// the request's context, covering the read of the answer.
package outbound

import (
	"context"
	"net/http"
	"time"
)

// Transport is the RoundTripper c.Do sends through: c's Transport, else
// http.DefaultTransport.
func Transport(c *http.Client) http.RoundTripper {
	if c != nil && c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// Deadline is ctx with c's Timeout as a deadline, when c has one and ctx
// has none as soon: what Do would have armed for the call.
func Deadline(ctx context.Context, c *http.Client) (context.Context, context.CancelFunc) {
	if c == nil || c.Timeout <= 0 {
		return ctx, func() {}
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.Timeout)
}
