package teams_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

// People the people picker can return: Microsoft Entra object IDs.
var (
	cleo = person{"29:1cleo", "5b1e0c2a-7f3d-4e6a-9c1b-2d4f6a8b0c11", "Cleo Client"}
	lee  = person{"29:1lee", "9d3c2b1a-0e4f-4a5b-8c6d-7e8f9a0b1c22", "Lee Account"}
)

// sendMyResult returns the data of "Send my result" inside the result
// card's "Share with my account manager", with the picker's value set as
// Teams submits it (the inputs merged into the button's data).
func sendMyResult(t *testing.T, c *adaptivecard.Card, manager string) map[string]any {
	t.Helper()
	for _, a := range c.Actions {
		if a.Type != "Action.ShowCard" || a.Title != "Share with my account manager" || a.Card == nil {
			continue
		}
		var picker *adaptivecard.Element
		for i := range a.Card.Body {
			if e := &a.Card.Body[i]; e.Type == "Input.ChoiceSet" && e.ChoicesData != nil {
				picker = e
			}
		}
		if picker == nil || picker.ID != "manager" || picker.ChoicesData.Dataset != "graph.microsoft.com/users" {
			t.Fatalf("no people picker searching the organisation in %s", cardText(c))
		}
		for _, s := range a.Card.Actions {
			if s.Title == "Send my result" {
				v := toMap(t, s.Data)
				v["manager"] = manager
				return v
			}
		}
	}
	t.Fatalf("no Share with my account manager on %s", cardText(c))
	return nil
}

func newShareFixture(t *testing.T) *fixture {
	t.Helper()
	// No ITFIT_ACCOUNT_MANAGERS: the client picks their manager.
	return newFixtureWith(t, fixtureOptions{revisits: &revisitOptions{
		start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		after: 30 * time.Second,
	}})
}

// TestShareWithAccountManagerPicked: the client picks their account manager
// on the result card; a bad pick is explained and changes nothing; the
// manager gets the result in a 1:1 chat opened by their Entra ID, becomes
// the manager for the yearly nudge, and is the one person whose Invite
// reaches the client.
func TestShareWithAccountManagerPicked(t *testing.T) {
	f := newShareFixture(t)
	ctx := context.Background()
	ck := key(cleo, personal).UserKey
	card := f.complete(cleo, firstChoice)
	press := func(p person, manager string) []sent {
		f.post(f.submit(p, personal, card.ResponseID, sendMyResult(t, card.Card, manager)))
		return f.take()
	}
	keysBefore := allKeys(t, f)
	for _, tc := range []struct{ value, want string }{
		{"", "Choose the person to send your result to first"},
		{"  ", "Choose the person to send your result to first"},
		{"not-an-id", "I couldn't tell who you chose"},
		{"<at>everyone</at>", "I couldn't tell who you chose"},
		{lee.aad + "," + bob.aad, "Choose just one person"},
		{cleo.aad, "That's you"},
	} {
		out := press(cleo, tc.value)
		if len(out) != 1 || !strings.Contains(out[0].Text, tc.want) {
			t.Fatalf("manager %q: %+v, want %q", tc.value, out, tc.want)
		}
	}
	// Bob pressing Cleo's card is told it is not his.
	if out := press(bob, lee.aad); len(out) != 1 || !strings.Contains(out[0].Text, "someone else's") {
		t.Fatalf("Bob on Cleo's card: %+v", out)
	}
	if _, ok, _ := f.svc.ManagerOf(ctx, ck); ok {
		t.Fatal("a refused share chose a manager")
	}
	if after := allKeys(t, f); !slices.Equal(sorted(keysBefore), sorted(after)) {
		t.Fatalf("refused shares changed Redis keys:\nbefore %v\nafter  %v", keysBefore, after)
	}

	// itfit not installed for Lee: Teams refuses the 1:1 chat.
	f.bf.FailCreateConversationWith(http.StatusForbidden)
	out := press(cleo, lee.aad)
	f.bf.FailCreateConversationWith(0)
	if n := classify(out); len(n.other) != 1 || !strings.Contains(n.other[0].Text, "itfit has to be installed for them first") {
		t.Fatalf("share to someone without itfit: %+v", out)
	}
	if _, ok, _ := f.svc.ManagerOf(ctx, ck); ok {
		t.Fatal("a share that reached nobody chose a manager")
	}

	// Upper case from the client is the same ID.
	out = press(cleo, strings.ToUpper(lee.aad))
	var created, shared, told []sent
	for _, s := range out {
		switch {
		case s.Method == http.MethodPost && s.Path == "v3/conversations":
			created = append(created, s)
		case s.Card != nil && strings.Contains(cardText(s.Card), "Shared with you by Cleo Client"):
			shared = append(shared, s)
		case strings.Contains(s.Text, "Sent: your account manager has a copy of this result"):
			told = append(told, s)
		}
	}
	if len(created) != 1 || len(shared) != 1 || len(told) != 1 || len(out) != 3 {
		t.Fatalf("share: %+v", out)
	}
	var params struct {
		Members  []struct{ ID string }
		TenantID string
	}
	if err := json.Unmarshal(created[0].Body, &params); err != nil {
		t.Fatal(err)
	}
	if len(params.Members) != 1 || params.Members[0].ID != lee.aad || params.TenantID != tenant {
		t.Fatalf("1:1 chat opened with %s", created[0].Body)
	}
	if shared[0].ConversationID != created[0].ResponseID {
		t.Fatalf("the result went to %s, not the chat opened with Lee (%s)", shared[0].ConversationID, created[0].ResponseID)
	}
	m, ok, err := f.svc.ManagerOf(ctx, ck)
	if err != nil || !ok || m != (revisit.Manager{Platform: conversation.Teams, Workspace: tenant, Target: lee.aad}) {
		t.Fatalf("manager of Cleo = %+v %v %v", m, ok, err)
	}

	// A year on (30 s here), Lee is nudged and only Lee's Invite works.
	f.post(f.submit(cleo, personal, card.ResponseID, button(t, card.Card, "Remind me in 12 months")))
	f.take()
	f.clk.Add(31 * time.Second)
	for _, err := range f.runDue() {
		if err != nil {
			t.Fatalf("delivery: %v", err)
		}
	}
	n := classify(f.take())
	if len(n.user) != 1 || len(n.manager) != 1 {
		t.Fatalf("nudges: user=%d manager=%d other=%+v", len(n.user), len(n.manager), n.other)
	}
	invite := button(t, n.manager[0].Card, "Invite them to retake")
	lees := n.manager[0].ConversationID
	f.post(inPersonal(f.submit(bob, "a:1bob", n.manager[0].ResponseID, invite), "a:1bob"))
	if out := f.take(); len(out) != 1 || !strings.Contains(out[0].Text, "someone else's") {
		t.Fatalf("Bob pressing Lee's Invite: %+v", out)
	}
	f.post(inPersonal(f.submit(lee, lees, n.manager[0].ResponseID, invite), lees))
	invited := 0
	for _, s := range f.take() {
		if s.ConversationID == personal && s.Card != nil && strings.Contains(cardText(s.Card), "Your account manager invited you to retake") {
			invited++
		}
	}
	if invited != 1 {
		t.Fatal("Lee's invitation did not reach Cleo")
	}
}

// TestSharePastTheDailyAllowanceIsRefused: the eleventh send in a day is
// explained and opens no chat.
func TestSharePastTheDailyAllowanceIsRefused(t *testing.T) {
	f := newShareFixture(t)
	card := f.complete(cleo, firstChoice)
	for i := range 11 {
		f.post(f.submit(cleo, personal, card.ResponseID, sendMyResult(t, card.Card, lee.aad)))
		out := f.take()
		want := "Sent: your account manager has a copy"
		if i == 10 {
			want = "as many times as a day allows"
			if n := classify(out); len(n.created) != 0 || len(out) != 1 {
				t.Fatalf("the eleventh share reached the connector: %+v", out)
			}
		}
		if !strings.Contains(out[len(out)-1].Text, want) {
			t.Fatalf("share %d: %+v, want %q", i+1, out, want)
		}
	}
}

// TestShareInAChannelSearchesItsMembers: Teams searches the whole
// organisation only in a 1:1 chat with a bot, so a result card in a channel
// offers the channel's members.
func TestShareInAChannelSearchesItsMembers(t *testing.T) {
	a := advisor.Default()
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: "aad-ana"}}, Name: "Ana Ruiz", Group: true}
	c := teams.Render(chattest.Views().Card(a.Recommend(answersLeaning(t, a, -1), completedAt), nil, who))
	raw, _ := json.Marshal(c)
	if !strings.Contains(string(raw), `"dataset":"graph.microsoft.com/users?scope=currentContext"`) {
		t.Fatalf("channel card's picker: %s", raw)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
