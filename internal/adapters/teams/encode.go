package teams

import (
	"encoding/json"
	"strconv"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/stencil"
)

// The cards every answer sends (the next question, the answered one)
// differ between people only by the session's revision and the IDs of the
// person they are for (in each button's data: the ID the session is keyed
// on, and their other Teams ID): a message with a Key promises as much.
// Building the card and encoding it with encoding/json was a seventh of
// the bot's CPU on the Teams path, so a keyed card is encoded once, with
// sentinels for the three, and each send fills in the real ones (package
// stencil). A template is kept only if the person's IDs appear nowhere
// else in it: they must never reach someone else's card.
//
// The cache is the package's: rendering is a pure function of the message
// and its owner.

// maxCachedCards bounds the cache (stencil.Cache).
const maxCachedCards = 4096

var cards = stencil.NewCache(maxCachedCards)

// sentinels stand for the revision, the owner's ID and their other ID, in
// each of stencil's two sets.
var (
	sentinelUser = [2]string{"itfit-sentinel-user-5c1f0a", "itfit-sentinel-user-9e07b3"}
	sentinelAlt  = [2]string{"itfit-sentinel-alt-77d2e1", "itfit-sentinel-alt-40b8c6"}
	sentinels    = [2][][]byte{
		{stencil.RevText(0), []byte(sentinelUser[0]), []byte(sentinelAlt[0])},
		{stencil.RevText(1), []byte(sentinelUser[1]), []byte(sentinelAlt[1])},
	}
)

// cardContent is what an attachment carries for m sent to o: renderFor(m,
// o), or the same card already encoded (botframework.RawJSON): from the
// cache of templates, or as measuring its size encoded it.
func cardContent(m chat.Message, o owner) any {
	if m.Key == "" {
		return sizedContent(m, o)
	}
	user, ok := soleOwner(m)
	if !ok || user != "" && o.user != "" && o.user != user {
		return sizedContent(m, o)
	}
	// Which of the IDs are there decides the card's shape: each
	// combination is a template of its own.
	key := m.Key + "\x00" + strconv.FormatBool(user != "") + strconv.FormatBool(o.user != "") + strconv.FormatBool(o.alt != "")
	tmpl := cards.Get(key, func() *stencil.Template { return template(m, user, o) })
	if tmpl == nil {
		return sizedContent(m, o)
	}
	return botframework.RawJSON(tmpl.Fill(strconv.AppendInt(nil, m.Rev, 10), stencil.JSONInString(string(user)), stencil.JSONInString(o.alt)))
}

// sizedContent is renderFor(m, o) as an attachment's content: the bytes
// renderSized measured, when it encoded the card.
func sizedContent(m chat.Message, o owner) any {
	c, b := renderSized(m, o)
	if b == nil {
		return c
	}
	return botframework.RawJSON(b)
}

// template is m's card for o encoded with sentinels for its revision and
// its owner's IDs, or nil when filling them in would not give what
// renderFor gives, or when the owner's IDs show anywhere but in the holes.
func template(m chat.Message, user conversation.UserID, o owner) *stencil.Template {
	encode := func(set int) ([]byte, error) {
		so := owner{}
		if o.user != "" {
			so.user = conversation.UserID(sentinelUser[set])
		}
		if o.alt != "" {
			so.alt = sentinelAlt[set]
		}
		return json.Marshal(renderFor(withSentinels(m, user, stencil.Rev[set], conversation.UserID(sentinelUser[set])), so))
	}
	var forbid [][]byte
	for _, id := range []string{string(user), o.alt} {
		if id != "" {
			forbid = append(forbid, stencil.JSONInString(id))
		}
	}
	return stencil.Make(encode, sentinels, forbid...)
}

// soleOwner is the one person the message's buttons are for ("" when they
// name nobody); false when they name more than one.
func soleOwner(m chat.Message) (conversation.UserID, bool) {
	var owner conversation.UserID
	see := func(o conversation.UserID) bool {
		switch {
		case o == "" || o == owner:
			return true
		case owner == "":
			owner = o
			return true
		}
		return false
	}
	for _, a := range m.Actions {
		if !see(a.Value.Owner) {
			return "", false
		}
	}
	if m.Ask != nil {
		if !see(m.Ask.Here.Owner) || m.Ask.Submit != nil && !see(m.Ask.Submit.Value.Owner) {
			return "", false
		}
	}
	return owner, true
}

// withSentinels is m for another revision and owner; m's slices are copied,
// not changed.
func withSentinels(m chat.Message, owner conversation.UserID, rev int64, user conversation.UserID) chat.Message {
	m.Rev = rev
	if owner == "" {
		return m
	}
	swap := func(v *chat.Value) {
		if v.Owner == owner {
			v.Owner = user
		}
	}
	m.Actions = append([]chat.Action(nil), m.Actions...)
	for i := range m.Actions {
		swap(&m.Actions[i].Value)
	}
	if m.Ask != nil {
		ask := *m.Ask
		swap(&ask.Here)
		if ask.Submit != nil {
			s := *ask.Submit
			swap(&s.Value)
			ask.Submit = &s
		}
		m.Ask = &ask
	}
	return m
}
