package teams_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adaptivecard"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/parity"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

// TestParity runs the parity scripts as Bot Framework activities signed
// by a local Microsoft identity (bftest), in a personal chat and in a
// channel thread, on real Redis with the real revisit service.
func TestParity(t *testing.T) {
	for _, where := range []struct{ name, conv string }{
		{"personal", personal},
		{"channel", channel + ";messageid=1700000000999"},
	} {
		for _, l := range locale.All {
			t.Run(where.name+"/"+string(l), func(t *testing.T) {
				parity.RunIn(t, "teams-"+where.name, l, func(t *testing.T) parity.Driver {
					f := newFixtureWith(t, fixtureOptions{revisits: &revisitOptions{
						start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), after: 30 * time.Second,
					}, languages: true, locale: teamsLocales[l]})
					return &teamsDriver{f: f, conv: where.conv, w: parity.In(l)}
				})
			})
		}
	}
}

// teamsDriver is Ana in Teams: she writes (mentioning itfit in a channel)
// and presses card buttons as Teams sends them, and reads what the bot
// sent at the fake Bot Connector.
type teamsDriver struct {
	f    *fixture
	conv string
	w    parity.Words // the chat layer's words in Ana's language
	// cards are the cards on her screen, newest last; first is the first
	// question she was shown.
	cards []sent
	first *sent
	// managerCards are those in her manager's chat.
	managerCards []sent
	pending      []sent // sent since the last Seen
	// hers are 1:1 chats the bot opened with Ana (for her nudges when her
	// audit is in a channel).
	hers []string
}

func (d *teamsDriver) Can(c parity.Capability) bool {
	return c != parity.NudgeInPlace || !d.group()
}

func (d *teamsDriver) group() bool { return d.conv != personal }

// post sends an activity and keeps what the bot sent back.
func (d *teamsDriver) post(a map[string]any) {
	d.f.t.Helper()
	d.f.post(a)
	d.pending = append(d.pending, d.f.take()...)
}

func (d *teamsDriver) Say(t *testing.T, word string) {
	if d.group() {
		d.post(d.f.mention(ana, d.conv, word))
		return
	}
	if word == "" {
		word = "hi"
	}
	d.post(d.f.activity(ana, personal, word))
}

func (d *teamsDriver) press(c sent, data map[string]any) {
	d.post(d.f.submit(ana, d.conv, c.ResponseID, data))
}

// question is the newest question card on screen.
func (d *teamsDriver) question(t *testing.T) sent {
	t.Helper()
	for i := len(d.cards) - 1; i >= 0; i-- {
		if answerData(t, d.cards[i].Card) != nil {
			return d.cards[i]
		}
	}
	t.Fatal("no question on screen")
	return sent{}
}

// answerData is the data of a question card's first answer button (its
// Continue for a multi-select), nil for another card.
func answerData(t *testing.T, c *adaptivecard.Card) map[string]any {
	for _, e := range c.Body {
		for _, a := range e.Actions {
			if d := submitOf(a); d != nil && d.Action == "answer" {
				return toMap(t, a.Data)
			}
		}
	}
	return nil
}

func (d *teamsDriver) Answer(t *testing.T, opts ...advisor.OptionID) {
	d.Seen(t)
	q := d.question(t)
	v := answerData(t, q.Card)
	var ids []string
	for _, o := range opts {
		ids = append(ids, string(o))
	}
	if _, multi := v["option"]; !multi || len(opts) > 1 {
		delete(v, "option")
		v["options"] = strings.Join(ids, ",")
	} else {
		v["option"] = ids[0]
	}
	d.press(q, v)
}

func (d *teamsDriver) Press(t *testing.T, intent chat.Intent) {
	d.Seen(t)
	for i := len(d.cards) - 1; i >= 0; i-- {
		for _, v := range pressData(t, d.cards[i].Card) {
			if v["itfit"] == string(intent) {
				d.press(d.cards[i], v)
				return
			}
		}
		if intent == chat.IntentBack {
			if v := answerData(t, d.cards[i].Card); v != nil {
				// The first question has no Back: press it as a crafted
				// client would, with the question's own data.
				v["itfit"] = "back"
				delete(v, "option")
				d.press(d.cards[i], v)
				return
			}
		}
	}
	t.Fatalf("no %s button on screen", intent)
}

func (d *teamsDriver) PressStale(t *testing.T) {
	d.Seen(t)
	if d.first == nil {
		t.Fatal("no question was shown")
	}
	d.press(*d.first, firstChoice(t, d.first.Card))
}

// Share sends the result to Maria, found with Teams' people picker.
func (d *teamsDriver) Share(t *testing.T) {
	d.Seen(t)
	for i := len(d.cards) - 1; i >= 0; i-- {
		for _, v := range pressData(t, d.cards[i].Card) {
			if v["itfit"] == "share" {
				v["manager"] = lee.aad
				d.press(d.cards[i], v)
				return
			}
		}
	}
	t.Fatal("no share picker on screen")
}

func (d *teamsDriver) Invite(t *testing.T, asManager bool) {
	d.Seen(t)
	for i := len(d.managerCards) - 1; i >= 0; i-- {
		m := d.managerCards[i]
		if !strings.Contains(cardText(m.Card), d.w.T("Invite them to retake")) {
			continue
		}
		v := button(t, m.Card, d.w.T("Invite them to retake"))
		who, conv := lee, m.ConversationID
		if !asManager {
			who, conv = bob, "a:1bob"
		}
		d.f.post(inPersonal(d.f.submit(who, conv, m.ResponseID, v), conv))
		d.pending = append(d.pending, d.f.take()...)
		return
	}
	t.Fatal("no manager nudge")
}

func (d *teamsDriver) Deliver(t *testing.T) {
	d.f.clk.Add(31 * time.Second)
	for _, err := range d.f.runDue() {
		if err != nil {
			t.Fatalf("delivery: %v", err)
		}
	}
	d.pending = append(d.pending, d.f.take()...)
}

func (d *teamsDriver) User() conversation.UserKey { return key(ana, d.conv).UserKey }
func (d *teamsDriver) Store() (redis.UniversalClient, keys.Prefix) {
	return d.f.rb.Client, d.f.prefix
}
func (d *teamsDriver) Reminders(t *testing.T) []revisit.Reminder {
	rs, err := d.f.svc.List(context.Background(), d.User())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Extra: Teams keeps where to reach a person (their conversation
// references) beside the chat layer's keys.
func (d *teamsDriver) Extra(k string) bool { return k == "teams:refs" }

// Seen reads what the bot sent: to Ana's conversation (new cards and
// replies, and updates of cards she pressed), and to her manager's chat.
func (d *teamsDriver) Seen(t *testing.T) parity.Screen {
	var s parity.Screen
	audit := parity.Audit(d.w.Lang)
	for _, out := range d.pending {
		if out.Path == "v3/conversations" {
			// A 1:1 chat the bot opened for a nudge: Ana's, or her manager's.
			if strings.Contains(string(out.Body), `"id":"`+ana.id+`"`) {
				d.hers = append(d.hers, out.ResponseID)
			}
			continue
		}
		if out.ConversationID != d.conv && !slices.Contains(d.hers, out.ConversationID) {
			if out.Card != nil && out.ConversationID != "a:1bob" {
				d.managerCards = append(d.managerCards, out)
				switch text := cardText(out.Card); {
				case strings.Contains(text, d.w.Prefix("Shared with you by %v: their itfit result of %v.")):
					s.Manager = append(s.Manager, "shared")
				case strings.Contains(text, d.w.T("Invite them to retake")):
					s.Manager = append(s.Manager, "nudge")
				}
			}
			continue
		}
		if out.Text != "" {
			s.Texts = append(s.Texts, out.Text)
		}
		if out.Card == nil {
			continue
		}
		s.Texts = append(s.Texts, cardTexts(out.Card)...)
		if out.Method == http.MethodPut {
			continue
		}
		d.cards = append(d.cards, out)
		if v := answerData(t, out.Card); v != nil {
			if d.first == nil {
				c := out
				d.first = &c
			}
			pos, _ := v["pos"].(float64)
			total, _ := v["total"].(float64)
			s.Questions = append(s.Questions, parity.Asked{ID: advisor.QuestionID(v["question"].(string)), Pos: int(pos), Total: int(total)})
		}
		text := cardText(out.Card)
		for _, e := range out.Card.Body {
			for _, it := range e.Items {
				name, ok := strings.CutPrefix(it.Text, d.w.Prefix("Recommendation: %s"))
				if !ok {
					if _, rest, found := strings.Cut(it.Text, d.w.Prefix("Recommendation for %s: %s")); found {
						_, name, ok = strings.Cut(rest, strings.Split(d.w.T("Recommendation for %s: %s"), "%s")[1])
					}
				}
				if !ok {
					continue
				}
				c := parity.Card{Since: strings.Contains(text, d.w.T("Since last time"))}
				for v, vt := range audit.Verdicts {
					if vt.Name == name {
						c.Verdict = v
					}
				}
				for _, st := range []advisor.Strength{advisor.Strong, advisor.Moderate, advisor.Close} {
					if strings.Contains(text, "**"+strings.TrimRight(fmt.Sprintf(d.w.T(" is %s. "), d.w.Strength(st)), " ")) {
						c.Strength = st
					}
				}
				parity.ReadCardIn(d.w.Lang, &c, cardParts(out.Card))
				s.Cards = append(s.Cards, c)
			}
		}
		if strings.Contains(text, d.w.T("Retake the audit")) {
			kind := "due"
			if strings.Contains(text, d.w.T("Your account manager invited you to retake the audit")) {
				kind = "invited"
			}
			s.Nudges = append(s.Nudges, kind)
		}
	}
	d.pending = nil
	return s
}

// teamsLocales are what a Teams client set to each language sends.
var teamsLocales = map[locale.Lang]string{locale.English: "en-GB", locale.French: "fr-CA"}

// cardParts reads a card's body, in order, as parity's parts: a bold
// TextBlock opens a part, other TextBlocks and a FactSet's facts ("title:
// value") are its lines, with bullets, numbers and bold taken off.
// Containers and columns are read through.
func cardParts(c *adaptivecard.Card) []parity.Part {
	var parts []parity.Part
	line := func(l string) {
		if len(parts) == 0 {
			parts = append(parts, parity.Part{})
		}
		l = numbered.ReplaceAllString(strings.TrimPrefix(l, "• "), "")
		parts[len(parts)-1].Lines = append(parts[len(parts)-1].Lines, strings.ReplaceAll(l, "**", ""))
	}
	var walk func(es []adaptivecard.Element)
	walk = func(es []adaptivecard.Element) {
		for _, e := range es {
			switch {
			case e.Type == "TextBlock" && e.Weight == "Bolder":
				parts = append(parts, parity.Part{Title: e.Text})
			case e.Type == "TextBlock":
				line(e.Text)
			case e.Type == "FactSet":
				for _, f := range e.Facts {
					line(f.Title + ": " + f.Value)
				}
			}
			walk(e.Items)
			walk(e.Columns)
		}
	}
	walk(c.Body)
	return parts
}

var numbered = regexp.MustCompile(`^\d+\. `)

// cardTexts is every text on a card.
func cardTexts(c *adaptivecard.Card) []string {
	var out []string
	var walk func(es []adaptivecard.Element)
	walk = func(es []adaptivecard.Element) {
		for _, e := range es {
			if e.Text != "" {
				out = append(out, e.Text)
			}
			walk(e.Items)
			walk(e.Columns)
		}
	}
	walk(c.Body)
	return out
}
