package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/adapters/teams"
)

// TestRedeliveredActivityHasOneEffect: the Bot Connector delivers the same
// activity again (same ID, same conversation) when it is not sure the
// first arrived. A typed message, a card submit and an Action.Execute each
// redelivered get 200, send nothing and leave Redis unchanged key by key
// (a full dump, the claims included); each first delivery left exactly one
// claim, a fixed-size key that expires within 10 minutes. The same
// activity ID in another conversation is another activity.
func TestRedeliveredActivityHasOneEffect(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	hi := f.activity(ana, personal, "hi")
	before := claimsOf(t, f)
	f.post(hi)
	q1 := f.take()[0]
	checkOneClaim(t, f, before)

	submit := f.submit(ana, personal, q1.ResponseID, firstChoice(t, q1.Card))
	execute := f.activity(ana, personal, "")
	execute["type"], execute["name"], execute["replyToId"] = "invoke", "adaptiveCard/action", q1.ResponseID
	f.post(submit)
	q2, _ := lastCard(f.take())
	execute["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "itfit", "data": firstChoice(t, q2.Card)}, "trigger": "manual"}
	execute["replyToId"] = q2.ResponseID
	f.post(execute)
	f.take()
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 3 {
		t.Fatalf("Ana at %d after three activities", st.Position)
	}

	for _, a := range []map[string]any{hi, submit, execute} {
		snap := fullSnapshot(t, f)
		if code := f.post(a); code != http.StatusOK {
			t.Errorf("%s redelivered: status %d", a["type"], code)
		}
		if out := f.take(); len(out) != 0 {
			t.Errorf("%s redelivered: sent %v", a["type"], out)
		}
		assertSame(t, snap, fullSnapshot(t, f))
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 3 {
		t.Fatalf("redeliveries moved Ana to %d", st.Position)
	}

	// The same ID in another conversation (Bob's chat) is handled.
	other := inPersonal(f.activity(bob, personal, "hi"), bobChat)
	other["id"] = hi["id"]
	f.post(other)
	if out := f.take(); len(out) != 1 || out[0].ConversationID != bobChat {
		t.Fatalf("same ID elsewhere: %v", out)
	}

	// What one claim costs: its key, and its memory in Redis.
	for k := range claimsOf(t, f) {
		size, err := f.rb.Client.MemoryUsage(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(k, string(f.prefix))
		t.Logf("activity claim %q: key %d bytes with the default prefix, MEMORY USAGE %d bytes", "itfit"+name, len("itfit"+name), size)
		if len("itfit"+name) > 48 {
			t.Errorf("claim key %q is longer than 48 bytes", name)
		}
		break
	}
}

// claimsOf is the test's activity claims and their TTLs.
func claimsOf(t *testing.T, f *fixture) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for k := range fullSnapshot(t, f) {
		if isActivityClaim(f, k) {
			out[k] = true
		}
	}
	return out
}

// checkOneClaim checks that exactly one activity claim was added since
// before, with a TTL of at most teams.DefaultActivityTTL.
func checkOneClaim(t *testing.T, f *fixture, before map[string]bool) {
	t.Helper()
	var added []string
	for k := range claimsOf(t, f) {
		if !before[k] {
			added = append(added, k)
		}
	}
	if len(added) != 1 {
		t.Fatalf("claims added: %v, want one", added)
	}
	if ttl := f.rb.Client.PTTL(context.Background(), added[0]).Val(); ttl <= 0 || ttl > teams.DefaultActivityTTL {
		t.Errorf("claim TTL %v", ttl)
	}
}
