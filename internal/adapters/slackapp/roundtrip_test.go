package slackapp

import (
	"testing"

	"github.com/itfit/itfit/internal/redistest"
)

// TestAnAnswerIsOneRedisRoundTrip: a click on an answer, through the real
// interactivity endpoint with a signed block_actions payload, costs Redis
// one round trip: the answer script, which also claims the request's
// signature against replays (issue 18's "1 Redis round trip per answer").
func TestAnAnswerIsOneRedisRoundTrip(t *testing.T) {
	h := newHarness(t)
	rt := &redistest.RoundTrips{}
	h.rdb.AddHook(rt)
	h.command("U1", "")
	h.wait()
	// The first answer also loads the script into Redis (EVAL after
	// NOSCRIPT): count from the second.
	h.answerCurrent("U1", 0)
	h.wait()
	for i := 1; i <= 3; i++ {
		rt.Count(true)
		h.answerCurrent("U1", len(h.api.all("chat.postMessage"))-1)
		h.wait()
		n, cmds := rt.Count(false)
		if n != 1 || cmds[0] != "evalsha" {
			t.Errorf("answer %d: %d round trips to Redis %q, want 1 (the answer script)", i+1, n, cmds)
		}
	}
}
