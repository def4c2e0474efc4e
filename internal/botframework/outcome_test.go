package botframework_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/outbound"
	"github.com/itfit/itfit/internal/testkit"
)

// Each failure of a send is marked with what it says of the request, and
// under SendOnce a send whose outcome is unknown is not repeated (a retry
// could post the activity twice), while one that sent nothing or was
// refused is retried as before. The fake reads every request to the end
// before it answers, so "unknown" is the case where the service has acted.
// Each case runs through http.Transport and through outbound.H1, which
// the shared transport uses for a connector that speaks HTTP/1.1 only.
func TestSendOnceAndOutcomeMarks(t *testing.T) {
	slow := func(w http.ResponseWriter) { time.Sleep(400 * time.Millisecond) }
	reset := func(w http.ResponseWriter) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.(interface{ SetLinger(int) error }).SetLinger(0)
			c.Close()
		}
	}
	for _, tc := range []struct {
		name     string
		script   []func(http.ResponseWriter)
		closed   bool // nothing listens: the dial fails
		once     bool
		mark     error // ErrOutcomeUnknown, ErrNotSent or nil (refused)
		requests int   // that reached the service
	}{
		{name: "500, once", script: []func(http.ResponseWriter){connectorError(500, "InternalError")}, once: true, mark: botframework.ErrOutcomeUnknown, requests: 1},
		{name: "502, once", script: []func(http.ResponseWriter){connectorError(502, "BadGateway")}, once: true, mark: botframework.ErrOutcomeUnknown, requests: 1},
		{name: "500, retried without SendOnce", script: []func(http.ResponseWriter){connectorError(500, "InternalError")}, requests: 2},
		{name: "answer after the attempt's timeout, once", script: []func(http.ResponseWriter){slow}, once: true, mark: botframework.ErrOutcomeUnknown, requests: 1},
		{name: "reset after the request, once", script: []func(http.ResponseWriter){reset}, once: true, mark: botframework.ErrOutcomeUnknown, requests: 1},
		{name: "429, retried even once", script: []func(http.ResponseWriter){connectorError(429, "Throttled", "Retry-After", "1")}, once: true, requests: 2},
		{name: "403, refused", script: []func(http.ResponseWriter){connectorError(403, "Forbidden")}, once: true, requests: 1},
		{name: "nothing listens", closed: true, once: true, mark: botframework.ErrNotSent},
	} {
		for _, via := range []string{"transport", "H1"} {
			t.Run(via+"/"+tc.name, func(t *testing.T) {
				fc := newFakeConnector(t, tc.script...)
				client := fc.srv.Client()
				if via == "H1" {
					client = &http.Client{Transport: outbound.NewH1(client.Transport.(*http.Transport))}
				}
				serviceURL := fc.serviceURL()
				if tc.closed {
					serviceURL = "https://" + testkit.ClosedAddr(t) + "/amer/"
				}
				sleep := &recordingSleep{}
				c, err := botframework.NewConnector(botframework.ConnectorConfig{
					Tokens: staticTokens("bot-token"), HTTPClient: client, Sleep: sleep.Sleep,
					RequestTimeout: 200 * time.Millisecond, MaxAttempts: 2,
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				if tc.once {
					ctx = botframework.SendOnce(ctx)
				}
				_, err = c.SendToConversation(ctx, serviceURL, "a:1", schema.Activity{Type: schema.Message, Text: "nudge"})
				if got := len(fc.requests()); got != tc.requests {
					t.Errorf("%d requests reached the service, want %d (err %v)", got, tc.requests, err)
				}
				if tc.requests == 2 && !tc.once {
					return // the retry answered 200
				}
				if tc.requests == 2 {
					if err != nil {
						t.Fatalf("the retry after a 429 failed: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatal("send succeeded")
				}
				unknown, notSent := errors.Is(err, botframework.ErrOutcomeUnknown), errors.Is(err, botframework.ErrNotSent)
				switch tc.mark {
				case botframework.ErrOutcomeUnknown:
					if !unknown || notSent {
						t.Errorf("err = %v, want outcome unknown only", err)
					}
				case botframework.ErrNotSent:
					if !notSent || unknown {
						t.Errorf("err = %v, want not sent only", err)
					}
				default:
					if unknown || notSent {
						t.Errorf("err = %v, want neither mark (refused)", err)
					}
				}
			})
		}
	}
}
