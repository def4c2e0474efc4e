package botframework

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Inbound validation failures. Validate wraps one of these with detail; the
// HTTP layer should answer every one of them with 401 and log the detail.
var (
	ErrMissingAuthHeader  = errors.New("botframework: missing Authorization header")
	ErrBadAuthScheme      = errors.New("botframework: Authorization header is not a Bearer token")
	ErrMalformedToken     = errors.New("botframework: malformed token")
	ErrUnsupportedAlg     = errors.New("botframework: token signing algorithm not allowed")
	ErrUnknownSigningKey  = errors.New("botframework: token signed by an unknown key")
	ErrInvalidSignature   = errors.New("botframework: token signature invalid")
	ErrInvalidIssuer      = errors.New("botframework: token issuer not allowed")
	ErrInvalidAudience    = errors.New("botframework: token audience is not this bot")
	ErrTokenExpired       = errors.New("botframework: token expired")
	ErrTokenNotYetValid   = errors.New("botframework: token not valid yet")
	ErrMissingClaim       = errors.New("botframework: token lacks a required claim")
	ErrChannelNotEndorsed = errors.New("botframework: signing key does not endorse the activity's channel")
	ErrServiceURLMismatch = errors.New("botframework: token serviceurl claim does not match the activity")
	ErrKeySetUnavailable  = errors.New("botframework: signing keys unavailable")
)

// Outbound failures.
var (
	// ErrTokenFetch means no bot token could be obtained; no request was sent.
	ErrTokenFetch = errors.New("botframework: fetch bot token")
	// ErrInvalidServiceURL means the serviceUrl was not an absolute https URL.
	ErrInvalidServiceURL = errors.New("botframework: invalid serviceUrl")
	// ErrForbidden (HTTP 403) usually means the bot was removed from the
	// conversation or blocked by the user; retrying will not help.
	ErrForbidden = errors.New("botframework: forbidden")
	// ErrNotFound (HTTP 404): the conversation or activity does not exist.
	ErrNotFound = errors.New("botframework: not found")
	// ErrUnauthorized (HTTP 401): the connector rejected the bot's token.
	ErrUnauthorized = errors.New("botframework: unauthorized")
	// ErrTransient covers throttling (429), server errors (5xx) and network
	// failures that were still failing when the retry budget ran out; the
	// caller may try again later.
	ErrTransient = errors.New("botframework: transient failure")
)

// APIError is a non-success answer from the Bot Connector or the token
// endpoint. Use errors.Is with ErrForbidden, ErrNotFound, ErrUnauthorized or
// ErrTransient to decide what to do, and errors.As to read the details.
type APIError struct {
	Op         string        // what was attempted, e.g. "send to conversation"
	StatusCode int           // HTTP status
	Code       string        // service error code from the body, if any
	Message    string        // service error message from the body, if any
	RetryAfter time.Duration // the server's Retry-After, if it sent one
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("botframework: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is lets callers test the class of failure with errors.Is.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrTransient:
		return retryableStatus(e.StatusCode)
	case ErrOutcomeUnknown:
		// A server error may come after the service acted.
		return e.StatusCode >= 500
	}
	return false
}
