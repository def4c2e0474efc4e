package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

// hostileBad is invalid UTF-8 (a lone continuation byte, an overlong
// encoding, a UTF-16 surrogate); hostileMark stands for it in an activity
// until the activity is encoded, since json.Marshal would repair it.
const (
	hostileBad  = "\xff\xfe\xc0\xaf\xed\xa0\x80"
	hostileMark = "@@bad@@"
	bobChat     = "a:1Xq0personal-chat-with-bob"
	otherTenant = "0badc0de-0000-4000-8000-000000000bad"
)

// hostileCase is one request no Teams client would send.
type hostileCase struct {
	name string
	body []byte
	auth string
	want int
	// typed: a typed message from Bob, who may have his own conversation
	// reference refreshed and nothing else.
	typed bool
	// note: Bob pressing (a forgery of) someone else's card; he gets exactly
	// this polite note and nothing else.
	note string
	// ana: Ana's own bad press; she gets a note, never a card.
	ana bool
	// stale: Ana's press of a card that is no longer current: the first on
	// a card (1) gets her current question under a note; another on the
	// same card (-1) gets nothing.
	stale int
}

// TestHostileInputChangesNothing sends, through POST /api/messages with
// tokens from the local Bot Framework on real Redis, what no Teams client
// would: oversized and 100k-deep bodies, invalid UTF-8 in every text and ID
// field and every card value, unknown activity types, cards naming a
// question, option or revision that does not exist, Bob's forgeries of Ana's
// cards (her user ID, revision and question), tenants that disagree, and
// tokens bound to another service URL. Each gets its expected 200, 400, 401
// or 413 and no panic, in the handler or in the background turn; Redis is
// compared key by key around every request (only Bob's own conversation
// reference may be refreshed, and only by a typed message); and Bob never
// receives anything of Ana's audit, only a polite note.
func TestHostileInputChangesNothing(t *testing.T) {
	f := newRevisitFixture(t)
	ctx := context.Background()
	thread := channel + ";messageid=1700000000777"

	// Ana, at question 2 in her personal chat and at question 1 in a
	// channel thread; Bob at question 1 in his own personal chat.
	f.post(f.activity(ana, personal, "hi"))
	c1 := f.take()[0]
	f.post(f.submit(ana, personal, c1.ResponseID, firstChoice(t, c1.Card)))
	out := f.take()
	c2, ok := lastCard(out)
	if len(out) != 2 || !ok {
		t.Fatalf("Ana's second card: %+v", out)
	}
	anaPress := firstChoice(t, c2.Card)
	anaPrompt := promptOf(c2.Card)
	f.post(f.mention(ana, thread, "start"))
	out = f.take()
	if len(out) != 1 || out[0].Card == nil {
		t.Fatalf("Ana's thread card: %+v", out)
	}
	ct := out[0]
	f.post(inPersonal(f.activity(bob, personal, "hi"), bobChat))
	if out = f.take(); len(out) != 1 || out[0].Card == nil {
		t.Fatalf("Bob's card: %+v", out)
	}
	anaBefore, _ := f.engine.Status(ctx, key(ana, personal))
	anaThreadBefore, _ := f.engine.Status(ctx, key(ana, thread))
	bobBefore, _ := f.engine.Status(ctx, key(bob, bobChat))
	if anaBefore.Position != 2 || anaThreadBefore.Position != 1 || bobBefore.Position != 1 {
		t.Fatalf("setup: Ana %d/%d, Bob %d", anaBefore.Position, anaThreadBefore.Position, bobBefore.Position)
	}
	bobRef := string(f.prefix.TeamsReferences(tenant, bob.aad))

	svc := f.bf.ServiceURL()
	tok := f.bf.Authorization(t, svc)
	enc := func(a map[string]any) []byte {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.ReplaceAll(b, []byte(hostileMark), []byte(hostileBad))
	}
	with := func(a map[string]any, change func(a map[string]any)) map[string]any {
		change(a)
		return a
	}
	set := func(v map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, x := range v {
			out[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	bobSays := func(text string) map[string]any { return inPersonal(f.activity(bob, personal, text), bobChat) }
	bobPresses := func(v map[string]any) map[string]any {
		return inPersonal(f.submit(bob, personal, c2.ResponseID, v), bobChat)
	}
	anaPresses := func(v map[string]any) map[string]any { return f.submit(ana, personal, c2.ResponseID, v) }
	nested := strings.Repeat("[", 100000)
	deep := []byte(strings.Replace(string(enc(bobPresses(map[string]any{"itfit": "x"}))), `{"itfit":"x"}`, nested+strings.Repeat("]", 100000), 1))
	open := []byte(strings.Replace(string(enc(bobPresses(map[string]any{"itfit": "x"}))), `{"itfit":"x"}}`, nested, 1))
	const (
		someoneElse = "someone else's audit"
		unknown     = "not one itfit recognises"
		notManager  = "Only the account manager of"
	)

	cases := []hostileCase{
		// Size and shape, refused before the token is even looked at.
		{name: "oversized", body: enc(bobSays(strings.Repeat("x", teams.DefaultMaxBody))), auth: tok, want: 413},
		{name: "oversized without a token", body: enc(bobSays(strings.Repeat("x", teams.DefaultMaxBody+1))), want: 413},
		{name: "100k open brackets", body: []byte(nested), auth: tok, want: 400},
		{name: "100k-deep card value", body: deep, auth: tok, want: 400},
		{name: "card value left open 100k deep", body: open, auth: tok, want: 400},
		{name: "100k-deep entities", body: []byte(strings.Replace(string(enc(bobSays("hi"))), `"entities":[`, `"entities":[`+nested, 1)), auth: tok, want: 400},

		// Invalid UTF-8 in the text and names Bob types: his own card again.
		{name: "bad text", body: enc(bobSays("hi " + hostileMark)), auth: tok, want: 200, typed: true},
		{name: "bad command", body: enc(bobSays("restart" + hostileMark)), auth: tok, want: 200, typed: true},
		{name: "bad name", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["from"].(map[string]any)["name"] = "Bob " + hostileMark
		})), auth: tok, want: 200, typed: true},
		{name: "bad timezone and locale", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["localTimezone"], a["locale"] = hostileMark, hostileMark
		})), auth: tok, want: 200, typed: true},
		{name: "bad mention", body: enc(with(f.mention(bob, thread, hostileMark), func(a map[string]any) {
			m := a["entities"].([]any)[0].(map[string]any)
			m["text"], m["mentioned"] = "<at>"+hostileMark+"</at>", map[string]any{"id": botID + hostileMark, "name": hostileMark}
		})), auth: tok, want: 200, typed: true},
		// ... and in the IDs a session or reference would be keyed by: not
		// an activity Teams sends, so nobody's state is keyed by it.
		{name: "bad conversation id", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["conversation"].(map[string]any)["id"] = bobChat + hostileMark
		})), auth: tok, want: 200},
		{name: "bad aadObjectId", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["from"].(map[string]any)["aadObjectId"] = bob.aad + hostileMark
		})), auth: tok, want: 200},
		{name: "bad from id beside a good aadObjectId", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["from"].(map[string]any)["id"] = bob.id + hostileMark
		})), auth: tok, want: 200},
		{name: "control character in the conversation id", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["conversation"].(map[string]any)["id"] = bobChat + "\n"
		})), auth: tok, want: 200},
		{name: "bad from id without aadObjectId", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["from"] = map[string]any{"id": bob.id + hostileMark, "name": bob.name}
		})), auth: tok, want: 200},
		{name: "bad tenant", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["channelData"].(map[string]any)["tenant"] = map[string]any{"id": tenant + hostileMark}
			a["conversation"].(map[string]any)["tenantId"] = tenant + hostileMark
		})), auth: tok, want: 200},
		{name: "bad service URL", body: enc(with(bobSays("hi"), func(a map[string]any) { a["serviceUrl"] = svc + hostileMark })), auth: tok, want: 401},
		{name: "bad channel", body: enc(with(bobSays("hi"), func(a map[string]any) { a["channelId"] = "msteams" + hostileMark })), auth: tok, want: 401},
		{name: "bad type", body: enc(with(bobSays("hi"), func(a map[string]any) { a["type"] = "message" + hostileMark })), auth: tok, want: 200},

		// Invalid UTF-8 in every field of a card value.
		{name: "bad action", body: enc(bobPresses(set(anaPress, "itfit", hostileMark, "user", bob.aad))), auth: tok, want: 200, note: unknown},
		{name: "bad user", body: enc(bobPresses(set(anaPress, "user", ana.aad+hostileMark))), auth: tok, want: 200, note: someoneElse},
		{name: "bad question", body: enc(anaPresses(set(anaPress, "question", hostileMark))), auth: tok, want: 200, ana: true},
		{name: "bad option", body: enc(anaPresses(set(anaPress, "option", hostileMark))), auth: tok, want: 200, ana: true},
		{name: "bad options", body: enc(anaPresses(set(anaPress, "option", "", "options", "none,"+hostileMark))), auth: tok, want: 200, ana: true},
		{name: "bad rev", body: enc(anaPresses(set(anaPress, "rev", hostileMark))), auth: tok, want: 200, ana: true},
		{name: "bad invite", body: enc(bobPresses(map[string]any{"itfit": "invite", "user": bob.aad, "client": hostileMark, "conv": hostileMark})), auth: tok, want: 200, note: notManager},
		{name: "bad value type", body: enc(bobPresses(map[string]any{"itfit": []any{hostileMark}})), auth: tok, want: 200, note: unknown},

		// Invokes: an adaptiveCard/action that is not an Action.Execute
		// is a bad request (botbuilder's answer), one that carries Ana's
		// card data is a press of someone else's card, and one itfit does
		// not implement gets 501; none of them touches anyone's audit.
		{name: "invoke without Action.Execute", body: enc(with(bobPresses(set(anaPress, "user", bob.aad)), func(a map[string]any) {
			a["type"], a["name"] = "invoke", "adaptiveCard/action"
		})), auth: tok, want: 400},
		{name: "Action.Execute of Ana's card", body: enc(with(bobPresses(anaPress), func(a map[string]any) {
			a["type"], a["name"] = "invoke", "adaptiveCard/action"
			a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "itfit", "data": anaPress}, "trigger": "manual"}
		})), auth: tok, want: 200, note: someoneElse},
		{name: "task/fetch", body: enc(with(bobPresses(anaPress), func(a map[string]any) {
			a["type"], a["name"] = "invoke", "task/fetch"
		})), auth: tok, want: 501},

		// Unknown activity types, carrying Ana's card data: nothing.
		{name: "messageReaction", body: enc(with(bobSays(""), func(a map[string]any) {
			a["type"], a["replyToId"] = "messageReaction", c2.ResponseID
			a["reactionsAdded"] = []any{map[string]any{"type": "like"}}
		})), auth: tok, want: 200},
		{name: "typing", body: enc(with(bobSays(""), func(a map[string]any) { a["type"] = "typing" })), auth: tok, want: 200},
		{name: "event", body: enc(with(bobSays(""), func(a map[string]any) { a["type"], a["value"] = "event", anaPress })), auth: tok, want: 200},
		{name: "installationUpdate", body: enc(with(bobSays(""), func(a map[string]any) { a["type"], a["action"] = "installationUpdate", "remove" })), auth: tok, want: 200},
		{name: "no type", body: enc(with(bobSays("hi"), func(a map[string]any) { delete(a, "type") })), auth: tok, want: 200},

		// Ana's own cards with a question, option or revision that does
		// not exist, or no longer applies: a note, and her audit stays put.
		{name: "no such question", body: enc(anaPresses(set(anaPress, "question", "no_such_question"))), auth: tok, want: 200, ana: true},
		{name: "no such option", body: enc(anaPresses(set(anaPress, "option", "no_such_option"))), auth: tok, want: 200, ana: true},
		// A press that changed nothing shows where she really is: her
		// current question, under a note, once per card pressed.
		{name: "stale revision", body: enc(f.submit(ana, personal, c1.ResponseID, set(firstChoice(t, c1.Card), "option", lastChoice(t, c1.Card)["option"]))), auth: tok, want: 200, stale: 1},
		{name: "future revision", body: enc(anaPresses(set(anaPress, "rev", anaBefore.Rev+5))), auth: tok, want: 200, stale: 1},
		{name: "negative revision", body: enc(anaPresses(set(anaPress, "rev", -1))), auth: tok, want: 200, stale: -1},
		{name: "stale back", body: enc(anaPresses(set(button(t, c2.Card, "Back"), "rev", anaBefore.Rev-1))), auth: tok, want: 200, stale: -1},

		// Bob forging Ana's cards: her user ID (either form), revision and
		// question, from his chat, from hers, from the thread.
		{name: "Ana's answer from Bob's chat", body: enc(bobPresses(anaPress)), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's answer in Ana's chat", body: enc(f.submit(bob, personal, c2.ResponseID, anaPress)), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Teams user ID", body: enc(bobPresses(set(anaPress, "user", ana.id))), auth: tok, want: 200, note: someoneElse},
		{name: "no user", body: enc(bobPresses(set(anaPress, "user", ""))), auth: tok, want: 200, note: unknown},
		{name: "Ana's Back", body: enc(bobPresses(button(t, c2.Card, "Back"))), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Start over", body: enc(f.submit(bob, personal, c2.ResponseID, button(t, c2.Card, "Start over"))), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's thread card", body: enc(f.submit(bob, thread, ct.ResponseID, firstChoice(t, ct.Card))), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Remind me", body: enc(bobPresses(map[string]any{"itfit": "remind", "user": ana.aad})), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Retake", body: enc(bobPresses(map[string]any{"itfit": "retake", "user": ana.aad})), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Snooze", body: enc(bobPresses(map[string]any{"itfit": "snooze", "user": ana.aad})), auth: tok, want: 200, note: someoneElse},
		{name: "Ana's Stop", body: enc(bobPresses(map[string]any{"itfit": "stop", "user": ana.aad})), auth: tok, want: 200, note: someoneElse},
		{name: "invite for Ana", body: enc(bobPresses(map[string]any{"itfit": "invite", "user": bob.aad, "client": ana.aad, "conv": personal})), auth: tok, want: 200, note: notManager},
		{name: "invite for Ana as her manager", body: enc(bobPresses(map[string]any{"itfit": "invite", "user": maria.id, "client": ana.aad, "conv": personal})), auth: tok, want: 200, note: someoneElse},

		// Tenants that disagree: channelData says one, the conversation
		// another. Not an activity Teams sends; nobody's state moves.
		{name: "other tenant in channelData, typed", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["channelData"].(map[string]any)["tenant"] = map[string]any{"id": otherTenant}
		})), auth: tok, want: 200},
		{name: "other tenant in conversation, typed", body: enc(with(bobSays("hi"), func(a map[string]any) {
			a["conversation"].(map[string]any)["tenantId"] = otherTenant
		})), auth: tok, want: 200},
		{name: "other tenant in channelData, Ana's card", body: enc(with(bobPresses(anaPress), func(a map[string]any) {
			a["channelData"].(map[string]any)["tenant"] = map[string]any{"id": otherTenant}
		})), auth: tok, want: 200},
		{name: "other tenant in conversation, Bob's own press", body: enc(with(bobPresses(set(anaPress, "user", bob.aad)), func(a map[string]any) {
			a["conversation"].(map[string]any)["tenantId"] = otherTenant
		})), auth: tok, want: 200},

		// Tokens that do not vouch for this activity.
		{name: "token for another service URL", body: enc(bobPresses(anaPress)), auth: func() string {
			c := f.bf.Claims(svc)
			c["serviceurl"] = "https://smba.trafficmanager.net/emea/"
			return "Bearer " + f.bf.Sign(t, c)
		}(), want: 401},
		{name: "activity from another service URL", body: enc(with(bobPresses(anaPress), func(a map[string]any) {
			a["serviceUrl"] = "https://attacker.example/"
		})), auth: tok, want: 401},
		{name: "typed message for another service URL", body: enc(bobSays("hi")), auth: f.bf.Authorization(t, "https://attacker.example/"), want: 401},
		{name: "no token", body: enc(anaPresses(anaPress)), want: 401},
		{name: "token without serviceurl", body: enc(bobPresses(anaPress)), auth: func() string {
			c := f.bf.Claims(svc)
			delete(c, "serviceurl")
			return "Bearer " + f.bf.Sign(t, c)
		}(), want: 401},
	}

	f.bf.Reset()
	for _, c := range cases {
		before := hostileSnapshot(t, f)
		if code := f.postRaw(c.body, c.auth); code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
		after := hostileSnapshot(t, f)
		for k, v := range after {
			if before[k] == v {
				continue
			}
			if k == bobRef && c.typed {
				continue
			}
			if c.stale > 0 && strings.HasSuffix(k, ":claims") {
				continue // the one note per card is claimed
			}
			t.Errorf("%s: %s changed: %q -> %q", c.name, k, before[k], v)
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				t.Errorf("%s: %s was deleted", c.name, k)
			}
		}
		if c.typed {
			// What was written is Bob's own reference, pointing at a
			// conversation he wrote from.
			ref, err := f.handler.LoadReference(ctx, key(bob, bobChat).UserKey)
			if err != nil || ref.UserID != bob.id || ref.AADObjectID != bob.aad || ref.TenantID != tenant ||
				(ref.ConversationID != bobChat && ref.ConversationID != thread) || ref.ServiceURL != svc {
				t.Errorf("%s: Bob's reference = %+v, %v", c.name, ref, err)
			}
		}

		sends := f.take()
		for _, s := range sends {
			if s.Method != http.MethodPost {
				t.Errorf("%s: a card was updated: %v", c.name, s)
			}
			if strings.Contains(string(s.Body), anaPrompt) && c.stale <= 0 {
				t.Errorf("%s: Ana's current question was sent: %v", c.name, s)
			}
		}
		switch {
		case c.stale > 0:
			if len(sends) != 1 || sends[0].Card == nil || sends[0].ConversationID != personal ||
				!strings.Contains(cardText(sends[0].Card), "earlier point") || !strings.Contains(cardText(sends[0].Card), anaPrompt) {
				t.Errorf("%s: want her current question under a note, got %v", c.name, sends)
			}
		case c.stale < 0:
			if len(sends) != 0 {
				t.Errorf("%s: a second stale press of the same card got %v", c.name, sends)
			}
		case c.note != "":
			if len(sends) != 1 || sends[0].Card != nil || !strings.Contains(sends[0].Text, c.note) {
				t.Errorf("%s: want only the note %q, got %v", c.name, c.note, sends)
			}
			if len(sends) > 0 && strings.Contains(string(sends[0].Body), "Ana") {
				t.Errorf("%s: the note to Bob names Ana: %v", c.name, sends[0])
			}
		case c.ana:
			if len(sends) != 1 || sends[0].Card != nil || sends[0].ConversationID != personal {
				t.Errorf("%s: want one note to Ana, got %v", c.name, sends)
			}
		case c.typed:
			// Bob's own question card, or nothing (a channel message that
			// does not mention the bot).
			for _, s := range sends {
				if strings.Contains(string(s.Body), "Ana") || (s.ConversationID != bobChat && s.ConversationID != thread) {
					t.Errorf("%s: sent %v", c.name, s)
				}
			}
		default:
			if len(sends) != 0 {
				t.Errorf("%s: sent %v", c.name, sends)
			}
		}
	}

	for _, s := range []struct {
		conv   string
		before conversation.Reply
	}{{personal, anaBefore}, {thread, anaThreadBefore}} {
		r, err := f.engine.Status(ctx, key(ana, s.conv))
		if err != nil || r.Rev != s.before.Rev || r.Position != s.before.Position {
			t.Errorf("Ana's audit in %s moved: rev %d -> %d, question %d -> %d (%v)", s.conv, s.before.Rev, r.Rev, s.before.Position, r.Position, err)
		}
	}
	if r, _ := f.engine.Status(ctx, key(bob, bobChat)); r.Rev != bobBefore.Rev || r.Position != bobBefore.Position {
		t.Errorf("Bob's audit moved: %+v", r)
	}
	failOnPanic(t, f)
}

// hostileSnapshot reads every key of the test's prefix with its value,
// but for the activity claims (isActivityClaim), each of which it checks
// expires within teams.DefaultActivityTTL.
func hostileSnapshot(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	return snapshot(t, f, false)
}

// fullSnapshot is every key of the test's prefix with its value, the
// activity claims included.
func fullSnapshot(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	return snapshot(t, f, true)
}

func snapshot(t *testing.T, f *fixture, claims bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range redistest.Keys(t, f.rb.Client, f.prefix) {
		if !claims && isActivityClaim(f, k) {
			if ttl := f.rb.Client.PTTL(ctx, k).Val(); ttl <= 0 || ttl > teams.DefaultActivityTTL {
				t.Errorf("activity claim %s has TTL %v", k, ttl)
			}
			continue
		}
		var v any
		switch typ := f.rb.Client.Type(ctx, k).Val(); typ {
		case "hash":
			v = f.rb.Client.HGetAll(ctx, k).Val()
		case "list":
			v = f.rb.Client.LRange(ctx, k, 0, -1).Val()
		case "set":
			v = f.rb.Client.SMembers(ctx, k).Val()
		case "zset":
			zs := f.rb.Client.ZRangeWithScores(ctx, k, 0, -1).Val()
			if !claims && strings.HasSuffix(k, ":claims") {
				// An answer press's activity claim is a member of the
				// person's claims (chat.Input.Once): left out like the
				// activity claims of other activities.
				zs = slices.DeleteFunc(zs, func(z redis.Z) bool {
					id, _ := z.Member.(string)
					return strings.HasPrefix(id, "once:act:")
				})
				if len(zs) == 0 {
					continue
				}
			}
			v = zs
		case "string":
			v = f.rb.Client.Get(ctx, k).Val()
		default:
			v = typ
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// TestUserActsOnlyOnOwnSession: Bob presses every button of Ana's live
// question card, with her user ID, revision and question in the data, from
// his own chat, from hers and from a channel thread. Each press gets him the
// polite note and nothing else; Ana's audit does not move, nothing of hers is
// sent anywhere; and her own press of the same card still counts, so her
// card is as live as it was.
func TestUserActsOnlyOnOwnSession(t *testing.T) {
	f := newRevisitFixture(t)
	ctx := context.Background()
	thread := channel + ";messageid=1700000000888"
	f.post(f.activity(ana, personal, "hi"))
	c1 := f.take()[0]
	f.post(f.submit(ana, personal, c1.ResponseID, firstChoice(t, c1.Card)))
	c2, _ := lastCard(f.take())
	prompt := promptOf(c2.Card)
	before, _ := f.engine.Status(ctx, key(ana, personal))
	snap := hostileSnapshot(t, f)

	presses := pressData(t, c2.Card)
	if len(presses) < 3 {
		t.Fatalf("card has %d buttons", len(presses))
	}
	froms := map[string]func(v map[string]any) map[string]any{
		bobChat: func(v map[string]any) map[string]any {
			return inPersonal(f.submit(bob, personal, c2.ResponseID, v), bobChat)
		},
		personal: func(v map[string]any) map[string]any { return f.submit(bob, personal, c2.ResponseID, v) },
		thread:   func(v map[string]any) map[string]any { return f.submit(bob, thread, c2.ResponseID, v) },
	}
	for conv, from := range froms {
		for _, v := range presses {
			if v["user"] != ana.aad || v["itfit"] == "" {
				t.Fatalf("button data: %v", v)
			}
			if c := f.post(from(v)); c != http.StatusOK {
				t.Errorf("status %d", c)
			}
			out := f.take()
			if len(out) != 1 || out[0].Method != http.MethodPost || out[0].Card != nil || out[0].ConversationID != conv ||
				!strings.Contains(out[0].Text, "someone else's audit") || strings.Contains(string(out[0].Body), prompt) {
				t.Errorf("Bob pressing %v in %s got %v", v, conv, out)
			}
		}
	}
	after := hostileSnapshot(t, f)
	for k, v := range after {
		if snap[k] != v {
			t.Errorf("%s changed: %q -> %q", k, snap[k], v)
		}
	}
	if len(after) != len(snap) {
		t.Errorf("%d keys before, %d after", len(snap), len(after))
	}
	if r, _ := f.engine.Status(ctx, key(ana, personal)); r.Rev != before.Rev || r.Position != before.Position {
		t.Errorf("Ana's audit moved: %+v -> %+v", before, r)
	}
	if r, _ := f.engine.Status(ctx, key(bob, personal)); r.Event != conversation.NoSession {
		t.Errorf("Bob has a session from Ana's card: %+v", r)
	}

	// Ana's own press of the card Bob was pressing still counts.
	f.post(f.submit(ana, personal, c2.ResponseID, firstChoice(t, c2.Card)))
	out := f.take()
	if updates, _ := split(out); len(out) != 2 || len(updates) != 1 || updates[0].ActivityID != c2.ResponseID {
		t.Fatalf("Ana's own answer: %v", out)
	}
	if r, _ := f.engine.Status(ctx, key(ana, personal)); r.Position != before.Position+1 {
		t.Errorf("Ana at question %d after her own answer", r.Position)
	}
	failOnPanic(t, f)
}

// failOnPanic fails on a panic the handler's middleware or the background
// group recovered: both log it, to the fixture's logger, as "... panicked".
func failOnPanic(t *testing.T, f *fixture) {
	t.Helper()
	for _, l := range strings.Split(f.logs.String(), "\n") {
		if strings.Contains(l, "panicked") {
			t.Errorf("a panic was recovered: %s", l)
		}
	}
}
