package teams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
)

// maxCard is Teams' limit on a message with its card (about 28 KB).
const maxCard = 28 << 10

const mariaChat = "a:1Xq0personal-chat-with-maria"

// deskActions are the submit data of every button in a card's body
// (the desk's rows carry theirs there), by title.
func deskActions(t *testing.T, c *adaptivecard.Card) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	var walk func(es []adaptivecard.Element)
	walk = func(es []adaptivecard.Element) {
		for _, e := range es {
			for _, a := range e.Actions {
				if a.Data != nil {
					out[a.Title] = append(out[a.Title], toMap(t, a.Data))
				}
			}
			walk(e.Items)
			walk(e.Columns)
		}
	}
	walk(c.Body)
	return out
}

func cardSize(t *testing.T, s sent) int {
	t.Helper()
	return len(s.Body)
}

// TestClientsCommandIsTheDeskInAPagedCard: the account manager configured
// for the tenant types clients in her personal chat and gets her clients
// as an Adaptive Card within Teams' size, Next paging it in place; a
// person who is nobody's manager is told they have none, and in a channel
// the list is refused.
func TestClientsCommandIsTheDeskInAPagedCard(t *testing.T) {
	f := newRevisitFixture(t)
	f.complete(ana, firstChoice)
	f.complete(bob, firstChoice)
	f.take()

	f.post(inPersonal(f.activity(maria, mariaChat, "clients"), mariaChat))
	out := f.take()
	desk, ok := lastCard(out)
	if !ok {
		t.Fatalf("clients answered %v", out)
	}
	text := cardText(desk.Card)
	for _, want := range []string{"Your clients", "Clients 1–2 of 2", "Ana Ruiz", "Bob Li", "Invite to retake", "Show the card", "Snooze the nudge"} {
		if !strings.Contains(text, want) {
			t.Errorf("the desk lacks %q: %s", want, text)
		}
	}
	acts := deskActions(t, desk.Card)
	if len(acts["Show the card"]) != 2 {
		t.Fatalf("rows: %v", acts)
	}

	// Show the card: Ana's card, posted in Maria's chat.
	var anaRow map[string]any
	for _, a := range acts["Show the card"] {
		if a["client"] == ana.aad {
			anaRow = a
		}
	}
	if anaRow == nil {
		t.Fatalf("no row for Ana: %v", acts["Show the card"])
	}
	f.post(inPersonal(f.submit(maria, mariaChat, desk.ResponseID, anaRow), mariaChat))
	if c, ok := lastCard(f.take()); !ok || !strings.Contains(cardText(c.Card), "Ana Ruiz: their itfit result") || !strings.Contains(cardText(c.Card), "Recommendation: ") {
		t.Fatalf("Show the card sent %+v", c)
	}
	// Bob pressing Maria's button: refused, as every card's button is.
	f.post(f.submit(bob, personal, desk.ResponseID, anaRow))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "belongs to someone else") {
		t.Fatalf("another person's press: %v", out)
	}
	// Bob is nobody's manager.
	f.post(f.activity(bob, personal, "clients"))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "no clients on your desk") {
		t.Fatalf("bob's clients: %v", out)
	}
	f.post(f.mention(maria, channel, "clients"))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "private") {
		t.Fatalf("clients in a channel: %v", out)
	}

	// 500 more clients in the tenant: pages of 10 within the card limit.
	a := advisor.Default()
	answers := chattest.Situations(a)["fully_managed"]
	ctx := context.Background()
	for i := range 500 {
		k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: conversation.UserID(fmt.Sprintf("aad-client-%03d", i))}, Conversation: "a:1c"}
		r, err := f.engine.Start(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, an := range answers {
			if r, err = f.engine.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: an.Question, Options: an.Options}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.desk.Record(ctx, k.UserKey, r.Result.CompletedAt, r.Result.RevisitOn); err != nil {
			t.Fatal(err)
		}
	}
	f.post(inPersonal(f.activity(maria, mariaChat, "clients"), mariaChat))
	desk, _ = lastCard(f.take())
	for page := 1; page <= 3; page++ {
		if n := cardSize(t, desk); n > maxCard {
			t.Fatalf("page %d is %d bytes, over Teams' %d", page, n, maxCard)
		}
		if want := fmt.Sprintf("Clients %d–%d of 502", page*10-9, page*10); !strings.Contains(cardText(desk.Card), want) {
			t.Fatalf("page %d does not say %q: %s", page, want, cardText(desk.Card))
		}
		acts := deskActions(t, desk.Card)
		if len(acts["Invite to retake"]) != 10 || len(acts["Next →"]) != 1 {
			t.Fatalf("page %d: %d rows, next %v", page, len(acts["Invite to retake"]), acts["Next →"])
		}
		f.post(inPersonal(f.submit(maria, mariaChat, desk.ResponseID, acts["Next →"][0]), mariaChat))
		updates, _ := split(f.take())
		if len(updates) != 1 || updates[0].Method != http.MethodPut || updates[0].Card == nil {
			t.Fatalf("Next did not update the card in place: %v", updates)
		}
		desk = updates[0]
		desk.ResponseID = strings.TrimPrefix(desk.Path[strings.LastIndex(desk.Path, "/")+1:], "")
	}
	b, _ := json.Marshal(desk.Card)
	if !strings.Contains(string(b), "Clients 31–40 of 502") {
		t.Fatalf("after three Nexts: %s", cardText(desk.Card))
	}
}
