// Package stencil keeps the encoded form of messages that every answer
// sends again and again (the next question, the answered one) and that
// differ between people only by a few values: the session's revision, the
// IDs of the person they are for. Encoding a message through a platform's
// types costs more than the rest of an answer's rendering, so a message is
// encoded once with sentinels standing for those values, cut into a
// Template at the sentinels, and each send fills in the real values.
//
// A template is only made when the substitution is proven exact: the
// message is encoded a second time with a second set of sentinels, and the
// first encoding with the sentinels swapped must equal it byte for byte.
// Values that must never be copied into someone else's message (a person's
// IDs) can be forbidden: a template whose encoding holds one anywhere is
// not made.
//
// Slack's Block Kit blocks (one hole: the revision) and Teams' Adaptive
// Cards (three: the revision and the owner's two IDs) are both kept here.
package stencil

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// Rev is the sentinel revision of each set: large, so that no real
// revision and no other number in a message is ever mistaken for it.
var Rev = [2]int64{7193046284917305531, 6028471937264810429}

// RevText is Rev[set] as it is encoded.
func RevText(set int) []byte { return strconv.AppendInt(nil, Rev[set], 10) }

// Template is an encoded message cut at its sentinels: parts[i] is
// followed by the value of holes[i], the last part by nothing.
type Template struct {
	parts [][]byte
	holes []int
	size  int
}

// Make is the template of a message, or nil when filling its holes would
// not give what encoding it gives. encode encodes the message with
// sentinel set 0 or 1; sentinels[set][h] is how hole h's sentinel of that
// set reads in the encoding. forbid are byte strings the encoding must not
// hold (the real values behind the sentinels, where they must not be
// repeated elsewhere in the message).
func Make(encode func(set int) ([]byte, error), sentinels [2][][]byte, forbid ...[]byte) *Template {
	a, err := encode(0)
	if err != nil {
		return nil
	}
	b, err := encode(1)
	if err != nil {
		return nil
	}
	swapped := a
	for h := range sentinels[0] {
		if bytes.Contains(a, sentinels[1][h]) {
			return nil
		}
		swapped = bytes.ReplaceAll(swapped, sentinels[0][h], sentinels[1][h])
	}
	if !bytes.Equal(swapped, b) {
		return nil
	}
	for _, f := range forbid {
		if len(f) > 0 && bytes.Contains(a, f) {
			return nil
		}
	}
	return cut(a, sentinels[0])
}

func cut(enc []byte, sentinels [][]byte) *Template {
	t := &Template{size: len(enc)}
	for {
		hole, at := -1, len(enc)
		for h, s := range sentinels {
			if i := bytes.Index(enc, s); i >= 0 && i < at {
				hole, at = h, i
			}
		}
		if hole < 0 {
			t.parts = append(t.parts, enc)
			return t
		}
		t.parts, t.holes = append(t.parts, enc[:at]), append(t.holes, hole)
		enc = enc[at+len(sentinels[hole]):]
	}
}

// Fill is the message with vals[h], as the encoding writes each, in hole
// h. A template without holes is returned as it is: it must not be
// changed.
func (t *Template) Fill(vals ...[]byte) []byte {
	if len(t.holes) == 0 {
		return t.parts[0]
	}
	longest := 0
	for _, v := range vals {
		longest = max(longest, len(v))
	}
	out := make([]byte, 0, t.size+len(t.holes)*longest)
	for i, p := range t.parts {
		out = append(out, p...)
		if i < len(t.holes) {
			out = append(out, vals[t.holes[i]]...)
		}
	}
	return out
}

// Cache holds templates by a message's key. An operator replacing the
// audit leaves the old questions' entries behind, so a full cache is
// simply emptied.
type Cache struct {
	mu      sync.Mutex
	max     int
	encoded map[string]*Template // nil value: not cacheable
}

// NewCache is a cache of at most max templates.
func NewCache(max int) *Cache {
	return &Cache{max: max, encoded: map[string]*Template{}}
}

// Get is the template kept for key, made (and kept) with make the first
// time; nil when the message cannot be templated.
func (c *Cache) Get(key string, make func() *Template) *Template {
	c.mu.Lock()
	t, found := c.encoded[key]
	c.mu.Unlock()
	if found {
		return t
	}
	t = make()
	c.mu.Lock()
	if len(c.encoded) >= c.max {
		clear(c.encoded)
	}
	c.encoded[key] = t
	c.mu.Unlock()
	return t
}

// Len is how many keys the cache holds (templates and keys found not
// cacheable alike).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.encoded)
}

// JSONInString is s as encoding/json writes it inside a string, without
// the quotes: how a value filled into a JSON string must read.
func JSONInString(s string) []byte {
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
