package botframework

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// What a failed call says of its request, for a caller that must not post
// twice (the revisit nudges). errors.Is tells them apart; a failure with
// neither is the connector refusing the request (a 4xx, a 429).
var (
	// ErrNotSent: the request was never written in full (no token, a
	// refused or timed-out dial, a write that broke off), so the connector
	// cannot have acted on it.
	ErrNotSent = errors.New("botframework: request not sent")
	// ErrOutcomeUnknown: the request was written and nothing says what
	// became of it (a timeout or a reset before the answer, a 5xx, an
	// answer that cannot be read). An activity may have been posted.
	ErrOutcomeUnknown = errors.New("botframework: outcome unknown")
)

// withWriteTrace returns req with a trace that notes when the whole request
// has been written, and the function that tells.
func withWriteTrace(req *http.Request) (*http.Request, func() bool) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), wrote.Load
}

// outcomeOf is the mark a transport failure gets: ErrOutcomeUnknown once
// the request was written, else ErrNotSent.
func outcomeOf(wrote func() bool) error {
	if wrote() {
		return ErrOutcomeUnknown
	}
	return ErrNotSent
}

type onceKey struct{}

// SendOnce returns a context in which the Connector does not repeat a call
// whose request may have been acted on (ErrOutcomeUnknown): it returns the
// failure instead, for a caller that verifies or decides itself (the
// revisit scheduler), where a retry could post an activity twice. Calls
// that sent nothing, or were refused (a 429), are still retried.
func SendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceKey{}, true)
}

func sendOnce(ctx context.Context) bool {
	once, _ := ctx.Value(onceKey{}).(bool)
	return once
}
