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

// TestANewPersonsLanguageIsReadOnce: /itfit from someone itfit has not
// met reads their language from Redis once. The acknowledgement's read
// finds nothing and leaves the rest to the background work, which asks
// Slack (users.info) and keeps the answer without reading the store again.
func TestANewPersonsLanguageIsReadOnce(t *testing.T) {
	h := newHarness(t, withLanguages{locale: "fr-CA"})
	rt := &redistest.RoundTrips{}
	h.rdb.AddHook(rt)
	rt.Count(true)
	h.command("U1", "")
	h.wait()
	_, cmds := rt.Count(false)
	reads := 0
	for _, c := range cmds {
		if c == "hmget" {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("a new person's /itfit read their language %d times (%q), want 1", reads, cmds)
	}
	if n := len(h.api.all("users.info")); n != 1 {
		t.Errorf("users.info asked %d times, want 1", n)
	}
	if n := len(h.api.all("chat.postMessage")); n != 1 {
		t.Errorf("%d messages posted, want the first question", n)
	}
}
