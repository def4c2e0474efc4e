package teams

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/wirejson"
)

// Every view, for several people and revisions in turn (the first fills
// the cache, the others are substituted into it), encodes byte for byte as
// encoding/json encodes the card Render builds; the question and answered
// cards come from the cache.
func TestCardContentIsRenderEncoded(t *testing.T) {
	v := chattest.Views()
	a := advisor.Default()
	people := []struct {
		user conversation.UserID
		alt  string
		rev  int64
		to   bool // the card is sent to this person (its owner)
	}{
		{"aad-a", "29:user-a", 3, true}, {"aad-b", "29:user-b", 12345, true}, {`aad-<b>&"c` + "\u2028\\", `29:<b>"`, 1, true},
		{"aad-d", "", 4, true}, {"aad-e", "29:e", 5, false}, {"", "", 9, false},
	}
	for _, s := range chattest.Samples() {
		was, _ := soleOwner(s.Msg)
		for _, p := range people {
			m := s.Msg
			if was != "" {
				m = withSentinels(m, was, p.rev, p.user)
			} else {
				m.Rev = p.rev
			}
			o := owner{}
			if p.to {
				o = ownerOf(p.user, p.alt)
			}
			want, err := json.Marshal(renderFor(m, o))
			if err != nil {
				t.Fatal(err)
			}
			c := cardContent(m, o)
			got, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s for %q, rev %d:\n cached %s\n render %s", s.Name, p.user, p.rev, got, want)
			}
			_, raw := c.(interface{ MarshalJSON() ([]byte, error) })
			if !raw && (s.Name == "question_single" || s.Name == "answered" || s.Name == "question_multi_group") {
				t.Errorf("%s for %q: not from the cache", s.Name, p.user)
			}
			if !raw && len(m.Sections) > 0 {
				// Measuring it against MaxCardBytes encoded it already.
				t.Errorf("%s for %q: a card with sections is encoded twice", s.Name, p.user)
			}
		}
	}
	// Every question of the audit, private and in a group.
	for _, who := range []chat.Who{
		{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-1"}}},
		{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-2"}}, Name: "Ana Ruiz", Group: true},
	} {
		for i := range a.Questions {
			q := &a.Questions[i]
			r := conversation.Reply{Event: conversation.Advanced, Rev: int64(i + 1), Question: q, Position: i + 1, Total: len(a.Questions)}
			m := v.Question(r, who)
			o := ownerOf(who.Key.User, "29:"+string(who.Key.User))
			want, _ := json.Marshal(renderFor(m, o))
			got, _ := json.Marshal(cardContent(m, o))
			if !bytes.Equal(got, want) {
				t.Fatalf("question %s:\n cached %s\n render %s", q.ID, got, want)
			}
		}
	}
}

// A card whose owner's ID also appears outside the buttons' data is not
// cached, so that no one else's card can ever carry it.
func TestCardContentNotCachedWhenTheOwnerShowsElsewhere(t *testing.T) {
	m := chat.Message{Kind: chat.KindHelp, Key: "test:owner-in-title", Title: "for owner-x", Actions: []chat.Action{
		{Intent: chat.IntentStart, Label: "Start", Value: chat.Value{Owner: "owner-x"}},
	}}
	if _, raw := cardContent(m, owner{}).(interface{ MarshalJSON() ([]byte, error) }); raw {
		t.Fatal("a card naming its owner in its text came from the cache")
	}
	m.Actions = append(m.Actions, chat.Action{Intent: chat.IntentStop, Label: "Stop", Value: chat.Value{Owner: "owner-y"}})
	m.Key = "test:two-owners"
	if _, raw := cardContent(m, owner{}).(interface{ MarshalJSON() ([]byte, error) }); raw {
		t.Fatal("a card for two people came from the cache")
	}
}

// go test -run '^$' -bench CardContent -benchmem ./internal/adapters/teams
func BenchmarkCardContent(b *testing.B) {
	v := chattest.Views()
	a := advisor.Default()
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-owner"}}}
	q, _ := a.Question("skills")
	m := v.Question(conversation.Reply{Event: conversation.Advanced, Rev: 7, Question: q, Position: 3, Total: 9}, who)
	b.Run("render-encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(Render(m)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The activity encoder writes the cached bytes as they are.
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := cardContent(m, ownerOf("aad-owner", "29:owner")).(botframework.RawJSON); !ok {
				b.Fatal("not from the cache")
			}
		}
	})
}

// The verdict card, as the activity encoder writes its attachment: once
// encoded, as renderSized measured it, or encoded again after the
// measure (what it cost before).
//
//	go test -run '^$' -bench VerdictContent -benchmem ./internal/adapters/teams
func BenchmarkVerdictContent(b *testing.B) {
	a := advisor.Default()
	rec := a.Recommend(chattest.Situations(a)["comanaged"], time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	who := chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-owner"}}}
	m := chattest.Views().Card(rec, nil, who)
	o := ownerOf("aad-owner", "29:owner")
	b.Run("measured-once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := cardContent(m, o).(botframework.RawJSON); !ok {
				b.Fatal("the card was not kept encoded")
			}
		}
	})
	b.Run("encoded-again", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(renderFor(m, o)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An answered question's card, encoded by encoding/json and by wirejson
// (the activity encoder's choice): a card of its own for every answer, so
// none is cached.
//
//	go test -run '^$' -bench AnsweredCard -benchmem ./internal/adapters/teams
func BenchmarkAnsweredCard(b *testing.B) {
	v := chattest.Views()
	q, _ := advisor.Default().Question("skills")
	m := v.Answered(conversation.Echo{Question: q, Options: []advisor.OptionID{q.Options[0].ID, q.Options[1].ID}}, 3, 9, "aad-owner")
	c := Render(m)
	want, err := json.Marshal(c)
	if err != nil {
		b.Fatal(err)
	}
	if got, err := wirejson.Marshal(c); err != nil || !bytes.Equal(got, want) {
		b.Fatalf("wirejson: %v\n%s\nencoding/json:\n%s", err, got, want)
	}
	for _, enc := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{{"encoding-json", json.Marshal}, {"wirejson", wirejson.Marshal}} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.marshal(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
