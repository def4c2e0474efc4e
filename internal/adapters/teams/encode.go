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
// differ between people only by the session's revision and the ID of the
// person they are for (in each button's data): a message with a Key
// promises as much. Building the card and encoding it with encoding/json
// was a seventh of the bot's CPU on the Teams path, so a keyed card is
// encoded once, with sentinels for the two, and each send substitutes the
// real ones. A template is kept only if rendering with a second pair of
// sentinels proves the substitution exact, and only if the person's ID
// appears nowhere else in it (it must never reach someone else's card).
//
// The cache is the package's: rendering is a pure function of the message.

// maxCachedCards bounds the cache; an operator replacing the audit leaves
// the old questions' entries behind, so a full cache is simply emptied.
const maxCachedCards = 4096

var cards = cardCache{encoded: map[string]*cardTemplate{}}

type cardCache struct {
	mu      sync.Mutex
	encoded map[string]*cardTemplate // nil value: not cacheable
}

// cardTemplate is an encoded card cut at its sentinels: parts[i] is
// followed by the revision or the owner (holes[i]), the last part by
// nothing.
type cardTemplate struct {
	parts [][]byte
	holes []bool // true: the owner; false: the revision
	size  int
}

func cut(tmpl []byte) *cardTemplate {
	t := &cardTemplate{size: len(tmpl)}
	for {
		r, u := bytes.Index(tmpl, sentinelRevText), bytes.Index(tmpl, sentinelUserText)
		switch {
		case r < 0 && u < 0:
			t.parts = append(t.parts, tmpl)
			return t
		case u < 0 || r >= 0 && r < u:
			t.parts, t.holes = append(t.parts, tmpl[:r]), append(t.holes, false)
			tmpl = tmpl[r+len(sentinelRevText):]
		default:
			t.parts, t.holes = append(t.parts, tmpl[:u]), append(t.holes, true)
			tmpl = tmpl[u+len(sentinelUserText):]
		}
	}
}

// fill is the template with the revision and owner (as JSON writes it in a
// string) in its holes.
func (t *cardTemplate) fill(rev, owner []byte) []byte {
	out := make([]byte, 0, t.size+len(t.holes)*max(len(rev), len(owner)))
	for i, p := range t.parts {
		out = append(out, p...)
		if i < len(t.holes) {
			if t.holes[i] {
				out = append(out, owner...)
			} else {
				out = append(out, rev...)
			}
		}
	}
	return out
}

const (
	sentinelRev   = 7193046284917305531
	sentinelRev2  = 6028471937264810429
	sentinelUser  = "itfit-sentinel-user-5c1f0a"
	sentinelUser2 = "itfit-sentinel-user-9e07b3"
)

var (
	sentinelRevText   = []byte(strconv.FormatInt(sentinelRev, 10))
	sentinelRev2Text  = []byte(strconv.FormatInt(sentinelRev2, 10))
	sentinelUserText  = []byte(sentinelUser)
	sentinelUser2Text = []byte(sentinelUser2)
)

// cardContent is what an attachment carries for m: Render(m), or the same
// card already encoded (botframework.RawJSON).
func cardContent(m chat.Message) any {
	if m.Key == "" {
		return Render(m)
	}
	owner, ok := soleOwner(m)
	if !ok {
		return Render(m)
	}
	// A card for nobody and one for someone are templates of their own.
	key := m.Key + "\x00" + strconv.FormatBool(owner != "")
	cards.mu.Lock()
	tmpl, found := cards.encoded[key]
	cards.mu.Unlock()
	if !found {
		tmpl = template(m, owner)
		cards.mu.Lock()
		if len(cards.encoded) >= maxCachedCards {
			clear(cards.encoded)
		}
		cards.encoded[key] = tmpl
		cards.mu.Unlock()
	}
	if tmpl == nil {
		return Render(m)
	}
	var user []byte
	if owner != "" {
		user = jsonInString(string(owner))
	}
	return botframework.RawJSON(tmpl.fill(strconv.AppendInt(nil, m.Rev, 10), user))
}

// template is m's card encoded with the sentinels for its revision and its
// owner, or nil when substituting them would not give what Render gives.
func template(m chat.Message, owner conversation.UserID) *cardTemplate {
	a, err := json.Marshal(Render(withSentinels(m, owner, sentinelRev, sentinelUser)))
	if err != nil {
		return nil
	}
	b, err := json.Marshal(Render(withSentinels(m, owner, sentinelRev2, sentinelUser2)))
	if err != nil || bytes.Contains(a, sentinelRev2Text) || bytes.Contains(a, sentinelUser2Text) {
		return nil
	}
	if bytes.Contains(a, sentinelUserText) != (owner != "") {
		return nil
	}
	if owner != "" && bytes.Contains(a, jsonInString(string(owner))) {
		return nil // the person's ID is in the card beyond the buttons' data
	}
	swapped := bytes.ReplaceAll(bytes.ReplaceAll(a, sentinelRevText, sentinelRev2Text), sentinelUserText, sentinelUser2Text)
	if !bytes.Equal(swapped, b) {
		return nil
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
