package teams_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/schedule"
)

// A nudge send answered 5xx (the connector may have posted it) is not
// repeated by the connector, and reaches the scheduler as ambiguous, which
// decides by its resend rule (Teams cannot tell whether it was posted); a
// 4xx is a refusal; a failure before the send (creating the manager's 1:1
// chat) is "not sent", which the scheduler retries as such.
func TestAmbiguousNudgeSendIsNotRepeated(t *testing.T) {
	for _, tc := range []struct {
		status    int
		ambiguous bool
	}{
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusBadRequest, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			f := newRevisitFixture(t)
			card := f.complete(ana, firstChoice)
			f.post(f.submit(ana, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
			f.take()
			f.clk.Add(31 * time.Second)
			f.bf.Reset()
			f.bf.FailWith(tc.status)
			errs := f.runDue()
			if len(errs) != 2 {
				t.Fatalf("deliveries: %v", errs)
			}
			for _, err := range errs {
				// The manager has no 1:1 chat yet: creating it failed, so
				// nothing was posted, whatever the status.
				manager := strings.Contains(err.Error(), "manager")
				if got, want := errors.Is(err, schedule.ErrAmbiguous), tc.ambiguous && !manager; got != want {
					t.Errorf("%d: ambiguous = %v (%v)", tc.status, got, err)
				}
				if got := errors.Is(err, schedule.ErrNotSent); got != manager {
					t.Errorf("%d: not sent = %v (%v)", tc.status, got, err)
				}
			}
			sends := 0
			for _, r := range f.bf.Requests() {
				if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/activities") {
					sends++
				}
			}
			if sends != 1 {
				t.Errorf("%d sends of the user's nudge reached the connector, want 1 (no blind retry)", sends)
			}
		})
	}
}
