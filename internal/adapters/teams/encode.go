package teams

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/itfit/itfit/internal/botframework"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
)

// The cards every answer sends (the next question, the answered one)
// differ between people only by the session's revision and the IDs of the
// person they are for (in each button's data: the ID the session is keyed
// on, and their other Teams ID): a message with a Key promises as much.
// Building the card and encoding it with encoding/json was a seventh of
// the bot's CPU on the Teams path, so a keyed card is encoded once, with
// sentinels for the three, and each send fills in the real ones. A
// template is kept only if rendering with a second set of sentinels proves
// the substitution exact, and only if the person's IDs appear nowhere else
// in it (they must never reach someone else's card).
//
// The cache is the package's: rendering is a pure function of the message
// and its owner.

// maxCachedCards bounds the cache; an operator replacing the audit leaves
// the old questions' entries behind, so a full cache is simply emptied.
const maxCachedCards = 4096

var cards = cardCache{encoded: map[string]*cardTemplate{}}

type cardCache struct {
	mu      sync.Mutex
	encoded map[string]*cardTemplate // nil value: not cacheable
}

// The holes of a template.
const (
	holeRev = iota
	holeUser
	holeAlt
)

// sentinels stand for the revision, the owner's ID and their other ID.
type sentinels struct {
	rev       int64
	user, alt string
}

var (
	sentinel1 = sentinels{7193046284917305531, "itfit-sentinel-user-5c1f0a", "itfit-sentinel-alt-77d2e1"}
	sentinel2 = sentinels{6028471937264810429, "itfit-sentinel-user-9e07b3", "itfit-sentinel-alt-40b8c6"}
)

func (s sentinels) texts() [3][]byte {
	return [3][]byte{[]byte(strconv.FormatInt(s.rev, 10)), []byte(s.user), []byte(s.alt)}
}

// cardTemplate is an encoded card cut at its sentinels: parts[i] is
// followed by holes[i], the last part by nothing.
type cardTemplate struct {
	parts [][]byte
	holes []int
	size  int
}

func cut(tmpl []byte) *cardTemplate {
	t := &cardTemplate{size: len(tmpl)}
	s := sentinel1.texts()
	for {
		hole, at := -1, len(tmpl)
		for h, txt := range s {
			if i := bytes.Index(tmpl, txt); i >= 0 && i < at {
				hole, at = h, i
			}
		}
		if hole < 0 {
			t.parts = append(t.parts, tmpl)
			return t
		}
		t.parts, t.holes = append(t.parts, tmpl[:at]), append(t.holes, hole)
		tmpl = tmpl[at+len(s[hole]):]
	}
}

// fill is the template with vals (as JSON writes each) in its holes.
func (t *cardTemplate) fill(vals [3][]byte) []byte {
	out := make([]byte, 0, t.size+len(t.holes)*max(len(vals[0]), len(vals[1]), len(vals[2])))
	for i, p := range t.parts {
		out = append(out, p...)
		if i < len(t.holes) {
			out = append(out, vals[t.holes[i]]...)
		}
	}
	return out
}

// cardContent is what an attachment carries for m sent to o: renderFor(m,
// o), or the same card already encoded (botframework.RawJSON).
func cardContent(m chat.Message, o owner) any {
	if m.Key == "" {
		return renderFor(m, o)
	}
	user, ok := soleOwner(m)
	if !ok || user != "" && o.user != "" && o.user != user {
		return renderFor(m, o)
	}
	// Which of the IDs are there decides the card's shape: each
	// combination is a template of its own.
	key := m.Key + "\x00" + strconv.FormatBool(user != "") + strconv.FormatBool(o.user != "") + strconv.FormatBool(o.alt != "")
	cards.mu.Lock()
	tmpl, found := cards.encoded[key]
	cards.mu.Unlock()
	if !found {
		tmpl = template(m, user, o)
		cards.mu.Lock()
		if len(cards.encoded) >= maxCachedCards {
			clear(cards.encoded)
		}
		cards.encoded[key] = tmpl
		cards.mu.Unlock()
	}
	if tmpl == nil {
		return renderFor(m, o)
	}
	return botframework.RawJSON(tmpl.fill([3][]byte{strconv.AppendInt(nil, m.Rev, 10), jsonInString(string(user)), jsonInString(o.alt)}))
}

// template is m's card for o encoded with sentinels for its revision and
// its owner's IDs, or nil when filling them in would not give what
// renderFor gives.
func template(m chat.Message, user conversation.UserID, o owner) *cardTemplate {
	encode := func(s sentinels) ([]byte, error) {
		so := owner{}
		if o.user != "" {
			so.user = conversation.UserID(s.user)
		}
		if o.alt != "" {
			so.alt = s.alt
		}
		return json.Marshal(renderFor(withSentinels(m, user, s.rev, conversation.UserID(s.user)), so))
	}
	a, err := encode(sentinel1)
	if err != nil {
		return nil
	}
	b, err := encode(sentinel2)
	if err != nil {
		return nil
	}
	s1, s2 := sentinel1.texts(), sentinel2.texts()
	swapped := a
	for i := range s1 {
		if bytes.Contains(a, s2[i]) {
			return nil
		}
		swapped = bytes.ReplaceAll(swapped, s1[i], s2[i])
	}
	if !bytes.Equal(swapped, b) {
		return nil
	}
	for _, id := range []string{string(user), o.alt} {
		if id != "" && bytes.Contains(a, jsonInString(id)) {
			return nil // an ID is in the card beyond the buttons' data
		}
	}
	return cut(a)
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

// jsonInString is s as encoding/json writes it inside a string, without
// the quotes.
func jsonInString(s string) []byte {
	if plainASCII(s) {
		return []byte(s)
	}
	q, _ := json.Marshal(s) // a string always encodes
	return q[1 : len(q)-1]
}

// plainASCII reports whether encoding/json writes s unchanged.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
