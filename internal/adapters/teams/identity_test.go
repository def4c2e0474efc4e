package teams_test

import (
	"context"
	"strings"
	"testing"
)

// withoutAAD drops from.aadObjectId, as some clients' activities (and card
// submits) arrive.
func withoutAAD(a map[string]any) map[string]any {
	from := a["from"].(map[string]any)
	delete(from, "aadObjectId")
	return a
}

// withoutType drops conversation.conversationType.
func withoutType(a map[string]any) map[string]any {
	delete(a["conversation"].(map[string]any), "conversationType")
	return a
}

// TestSubmitWithEitherIDIsTheOwners: every button of a card carries both
// of its owner's IDs (the Entra object ID and the Teams from.id); a submit
// that arrives without from.aadObjectId is the owner's and moves her own
// audit (found through the alias her typed message saved), and so does a
// typed message without it; Bob writing Ana's from.id into a card's data
// reaches only his own audit; forget erases the alias.
func TestSubmitWithEitherIDIsTheOwners(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.post(f.activity(ana, personal, "hi"))
	q1 := f.take()[0]
	for _, d := range pressData(t, q1.Card) {
		if d["user"] != ana.aad || d["uid"] != ana.id {
			t.Fatalf("button data %v: want user %s and uid %s", d, ana.aad, ana.id)
		}
	}
	if got := f.rb.Client.Get(ctx, f.prefix.TeamsAlias(tenant, ana.id)).Val(); got != ana.aad {
		t.Fatalf("alias = %q", got)
	}

	// Her submit without aadObjectId answers her own audit.
	f.post(withoutAAD(f.submit(ana, personal, q1.ResponseID, firstChoice(t, q1.Card))))
	updates, posts := split(f.take())
	if len(updates) != 1 || len(posts) != 1 || !strings.Contains(cardText(posts[0].Card), "Question 2 of") {
		t.Fatalf("submit without aadObjectId: updates %v posts %v", updates, posts)
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 2 {
		t.Fatalf("Ana at %d", st.Position)
	}
	// So does a typed message without it: the same audit, resumed.
	f.post(withoutAAD(f.activity(ana, personal, "status")))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "question 2 of") {
		t.Fatalf("status without aadObjectId: %v", out)
	}
	for _, k := range allKeys(t, f) {
		if strings.Contains(k, ":session:") && strings.Contains(k, "29%3A1ana") {
			t.Errorf("a session keyed on the Teams ID: %s", k)
		}
	}

	// A card keyed on the Teams ID alone (no Entra ID was known) is still
	// hers when she presses it with the Entra ID: uid names her.
	c2, _ := lastCard(posts)
	press := firstChoice(t, c2.Card)
	press["user"] = "someone-else"
	press["uid"] = ana.id
	f.post(f.submit(ana, personal, c2.ResponseID, press))
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 3 {
		t.Fatalf("press naming her by uid: Ana at %d", st.Position)
	}
	f.take()

	// Bob writing Ana's Teams ID as uid is pressing a card for himself:
	// only his own audit can be reached (he has none: a fresh start is
	// offered), and Ana's does not move.
	forged := firstChoice(t, c2.Card)
	forged["uid"] = bob.id
	f.post(inPersonal(f.submit(bob, personal, c2.ResponseID, forged), bobChat))
	out := f.take()
	if len(out) != 1 || strings.Contains(string(out[0].Body), promptOf(c2.Card)) {
		t.Fatalf("Bob's forged press: %v", out)
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 3 {
		t.Fatalf("Bob moved Ana's audit to %d", st.Position)
	}

	// forget erases the alias with the references.
	f.post(f.activity(ana, personal, "forget"))
	confirm := f.take()[0]
	f.post(f.submit(ana, personal, confirm.ResponseID, button(t, confirm.Card, "Yes, erase everything")))
	f.take()
	if n := f.rb.Client.Exists(ctx, f.prefix.TeamsAlias(tenant, ana.id), f.prefix.TeamsReferences(tenant, ana.aad)).Val(); n != 0 {
		t.Fatalf("%d of the alias and references left after forget", n)
	}
}

// TestConversationTypeInferred: activities without conversationType are
// read by the conversation ID's shape and channelData: "a:..." and
// "8:orgid:..." are personal chats (no mention needed, no "for Ana"),
// "19:...@thread.v2" a group chat and "...;messageid=..." a channel thread
// (mention needed, replies in the thread, one audit per channel).
func TestConversationTypeInferred(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	// Personal, by an "8:orgid:" ID.
	orgid := "8:orgid:" + ana.aad
	f.post(withoutType(inPersonal(f.activity(ana, personal, "hi"), orgid)))
	out := f.take()
	if len(out) != 1 || out[0].Path != "v3/conversations/"+orgid+"/activities" || strings.Contains(cardText(out[0].Card), "for Ana") {
		t.Fatalf("personal without type: %v", out)
	}

	// A group chat: not answered without a mention; answered in reply.
	g := withoutType(f.activity(bob, personal, "just chatting"))
	g["conversation"].(map[string]any)["id"] = groupChat
	f.post(g)
	if out := f.take(); len(out) != 0 {
		t.Fatalf("group chat without a mention answered: %v", out)
	}
	m := withoutType(f.mention(bob, personal, ""))
	m["conversation"].(map[string]any)["id"] = groupChat
	f.post(m)
	out = f.take()
	if len(out) != 1 || out[0].Path != "v3/conversations/"+groupChat+"/activities/"+m["id"].(string) || !strings.Contains(cardText(out[0].Card), "for Bob Li") {
		t.Fatalf("group chat mention without type: %v", out)
	}

	// A channel thread, known by ";messageid=" and channelData.
	thread := channel + ";messageid=1700000000300"
	c := withoutType(f.mention(carol, thread, ""))
	delete(c["conversation"].(map[string]any), "isGroup")
	f.post(c)
	out = f.take()
	if len(out) != 1 || out[0].Path != "v3/conversations/"+thread+"/activities/"+c["id"].(string) {
		t.Fatalf("channel mention without type: %v", out)
	}
	if st, _ := f.engine.Status(ctx, key(carol, channel)); st.Position != 1 {
		t.Fatalf("Carol's channel audit: %+v", st)
	}
	if ref, _ := f.handler.LoadReference(ctx, key(carol, channel).UserKey); ref.ConversationType != "channel" || ref.ConversationID != thread {
		t.Errorf("Carol's reference = %+v", ref)
	}
}
