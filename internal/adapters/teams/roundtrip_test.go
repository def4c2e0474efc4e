package teams_test

import (
	"testing"

	"github.com/itfit/itfit/internal/redistest"
)

// TestAnAnswerIsOneRedisRoundTrip: an answer, through the real messaging
// endpoint as a card's Action.Submit and as an Action.Execute invoke, both
// with real JWTs, costs Redis one round trip: the answer script, which
// also claims the activity against the Bot Connector's redeliveries
// (issue 18's "1 Redis round trip per answer").
func TestAnAnswerIsOneRedisRoundTrip(t *testing.T) {
	f := newFixture(t, nil)
	rt := &redistest.RoundTrips{}
	f.rb.Client.AddHook(rt)
	f.post(f.activity(ana, personal, "hi"))
	q := f.take()[0]
	// The first answer also loads the script into Redis (EVAL after
	// NOSCRIPT): count from the second.
	f.post(f.submit(ana, personal, q.ResponseID, firstChoice(t, q.Card)))
	for i, execute := range []bool{false, true, false, true} {
		q, _ = lastCard(f.take())
		a := f.submit(ana, personal, q.ResponseID, firstChoice(t, q.Card))
		if execute {
			a = f.activity(ana, personal, "")
			a["type"], a["name"], a["replyToId"] = "invoke", "adaptiveCard/action", q.ResponseID
			a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "itfit", "data": firstChoice(t, q.Card)}, "trigger": "manual"}
		}
		rt.Count(true)
		f.post(a)
		n, cmds := rt.Count(false)
		if n != 1 || cmds[0] != "evalsha" {
			t.Errorf("answer %d (Action.Execute %v): %d round trips to Redis %q, want 1 (the answer script)", i+2, execute, n, cmds)
		}
	}
}
