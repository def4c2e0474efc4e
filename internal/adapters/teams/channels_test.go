package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestChannelKeepsOneAuditPerPersonAcrossThreads: in a channel, a person
// has one audit whichever thread they mention itfit in. Replies go to the
// thread they just wrote in (ReplyToActivity on the thread's full
// conversation ID); a card is updated in its own thread; a press on a card
// of a thread the audit has left gets one note per card, saying the audit
// continued in another thread, with where they are now, and the audit does
// not move; another person's audit in the same channel is their own.
func TestChannelKeepsOneAuditPerPersonAcrossThreads(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	threadA := channel + ";messageid=1700000000100"
	threadB := channel + ";messageid=1700000000200"

	// Ana starts in thread A and answers the first question there.
	start := f.mention(ana, threadA, "start")
	f.post(start)
	out := f.take()
	if len(out) != 1 || out[0].Card == nil || out[0].Path != "v3/conversations/"+threadA+"/activities/"+start["id"].(string) {
		t.Fatalf("first card: %v", out)
	}
	q1 := out[0]
	f.post(f.submit(ana, threadA, q1.ResponseID, firstChoice(t, q1.Card)))
	updates, posts := split(f.take())
	if len(updates) != 1 || updates[0].ConversationID != threadA || updates[0].ActivityID != q1.ResponseID || len(posts) != 1 ||
		posts[0].ConversationID != threadA {
		t.Fatalf("answer in thread A: updates %v, posts %v", updates, posts)
	}
	q2A := posts[0]
	prompt2 := promptOf(q2A.Card)

	// She mentions itfit in thread B: the same audit, resumed there.
	resume := f.mention(ana, threadB, "")
	f.post(resume)
	out = f.take()
	if len(out) != 1 || out[0].Card == nil || out[0].Path != "v3/conversations/"+threadB+"/activities/"+resume["id"].(string) ||
		promptOf(out[0].Card) != prompt2 || !strings.Contains(cardText(out[0].Card), "Welcome back") {
		t.Fatalf("resume in thread B: %v", out)
	}
	q2B := out[0]
	st, err := f.engine.Status(ctx, key(ana, channel))
	if err != nil || st.Position != 2 {
		t.Fatalf("Ana's channel audit: %+v, %v", st, err)
	}
	if ref, err := f.handler.LoadReference(ctx, key(ana, channel).UserKey); err != nil || ref.ConversationID != threadB || ref.ConversationType != "channel" {
		t.Errorf("reference = %+v, %v; want the full thread B conversation", ref, err)
	}

	// Her press on thread A's card, though it asks the current question,
	// does not answer it there: one note, with where she is, in place of
	// the card pressed, which is live in thread A from then on.
	press := firstChoice(t, q2A.Card)
	f.post(f.submit(ana, threadA, q2A.ResponseID, press))
	out = f.take()
	if len(out) != 1 || out[0].Method != http.MethodPut || out[0].ConversationID != threadA || out[0].ActivityID != q2A.ResponseID ||
		out[0].Card == nil || !strings.Contains(cardText(out[0].Card), "continued in another thread") || promptOf(out[0].Card) != prompt2 {
		t.Fatalf("press on the older thread's card: %v", out)
	}
	if st, _ := f.engine.Status(ctx, key(ana, channel)); st.Position != 2 {
		t.Fatalf("the older thread's press moved the audit to %d", st.Position)
	}
	q2A.Card = out[0].Card

	// So thread B's card is the older one now; its press gets its note.
	f.post(f.submit(ana, threadB, q2B.ResponseID, firstChoice(t, q2B.Card)))
	out = f.take()
	if len(out) != 1 || out[0].Method != http.MethodPut || out[0].ConversationID != threadB || out[0].ActivityID != q2B.ResponseID ||
		!strings.Contains(cardText(out[0].Card), "continued in another thread") {
		t.Fatalf("press on thread B's card after the move: %v", out)
	}
	q2B.Card = out[0].Card
	// And answering on it now counts, updating the card in thread B and
	// posting the next question there.
	f.post(f.submit(ana, threadB, q2B.ResponseID, firstChoice(t, q2B.Card)))
	updates, posts = split(f.take())
	if len(updates) != 1 || updates[0].ConversationID != threadB || updates[0].ActivityID != q2B.ResponseID ||
		len(posts) != 1 || posts[0].ConversationID != threadB {
		t.Fatalf("answer in thread B: updates %v, posts %v", updates, posts)
	}
	if st, _ := f.engine.Status(ctx, key(ana, channel)); st.Position != 3 {
		t.Fatalf("Ana at question %d, want 3", st.Position)
	}
	// Thread A's card is an older thread's again, and it had its note:
	// one note per card, so nothing now, and the audit stays at 3.
	f.post(f.submit(ana, threadA, q2A.ResponseID, firstChoice(t, q2A.Card)))
	if out := f.take(); len(out) != 0 {
		t.Fatalf("second note for the same card: %v", out)
	}
	if st, _ := f.engine.Status(ctx, key(ana, channel)); st.Position != 3 {
		t.Fatalf("Ana at question %d, want 3", st.Position)
	}

	// Bob in thread A has his own audit in the channel, from question 1.
	f.post(f.mention(bob, threadA, ""))
	out = f.take()
	if len(out) != 1 || !strings.Contains(cardText(out[0].Card), "Question 1 of") || !strings.Contains(cardText(out[0].Card), "for Bob Li") {
		t.Fatalf("Bob's card: %v", out)
	}
	if st, _ := f.engine.Status(ctx, key(bob, channel)); st.Position != 1 {
		t.Errorf("Bob at %d", st.Position)
	}
	// The channel's sessions are keyed on the channel, never on a thread.
	for _, k := range allKeys(t, f) {
		if strings.Contains(k, "messageid") && strings.Contains(k, ":session:") {
			t.Errorf("a session keyed on a thread: %s", k)
		}
	}
}
