package stencil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// msg is a message encoded as a platform would: a revision and an owner
// in its buttons, and a title.
type msg struct {
	Title string `json:"title"`
	Rev   int64  `json:"rev"`
	Owner string `json:"owner"`
	Again string `json:"again,omitempty"`
}

var ownerSentinels = [2]string{"sentinel-owner-a", "sentinel-owner-b"}

var testSentinels = [2][][]byte{
	{RevText(0), []byte(ownerSentinels[0])},
	{RevText(1), []byte(ownerSentinels[1])},
}

func encoder(m msg, copyRev func(int64) string) func(set int) ([]byte, error) {
	return func(set int) ([]byte, error) {
		m.Rev, m.Owner = Rev[set], ownerSentinels[set]
		if copyRev != nil {
			m.Again = copyRev(m.Rev)
		}
		return json.Marshal(m)
	}
}

func TestFillGivesWhatEncodingGives(t *testing.T) {
	m := msg{Title: "Question 3 of 9"}
	tmpl := Make(encoder(m, nil), testSentinels)
	if tmpl == nil {
		t.Fatal("an exact message was not templated")
	}
	for _, p := range []struct {
		rev   int64
		owner string
	}{{1, "U1"}, {123456789, "aad-<b>&\"c\u2028"}, {0, ""}} {
		m.Rev, m.Owner = p.rev, p.owner
		want, _ := json.Marshal(m)
		got := tmpl.Fill(strconv.AppendInt(nil, p.rev, 10), JSONInString(p.owner))
		if !bytes.Equal(got, want) {
			t.Errorf("rev %d owner %q:\n got %s\nwant %s", p.rev, p.owner, got, want)
		}
	}
}

// A message where a sentinel stands for more than the value (here the
// revision is also written, transformed, elsewhere) is not templated.
func TestInexactSubstitutionIsRefused(t *testing.T) {
	half := func(r int64) string { return strconv.FormatInt(r/2, 10) }
	if Make(encoder(msg{}, half), testSentinels) != nil {
		t.Fatal("a message that uses its revision twice, differently, was templated")
	}
	// The sentinel of the second set already in the first encoding.
	clash := func(int64) string { return string(RevText(1)) }
	if Make(encoder(msg{}, clash), testSentinels) != nil {
		t.Fatal("a message holding the other set's sentinel was templated")
	}
	if Make(func(int) ([]byte, error) { return nil, fmt.Errorf("no") }, testSentinels) != nil {
		t.Fatal("a message that does not encode was templated")
	}
}

func TestForbiddenValueIsRefused(t *testing.T) {
	m := msg{Title: "for U-secret"}
	if Make(encoder(m, nil), testSentinels, []byte("U-secret")) != nil {
		t.Fatal("a message holding a forbidden value was templated")
	}
	if Make(encoder(m, nil), testSentinels, []byte("U-other")) == nil {
		t.Fatal("a message without the forbidden value was not templated")
	}
}

func TestTemplateWithoutHolesIsTheEncoding(t *testing.T) {
	enc := []byte(`{"title":"Help"}`)
	tmpl := Make(func(int) ([]byte, error) { return enc, nil }, testSentinels)
	if tmpl == nil || !bytes.Equal(tmpl.Fill([]byte("1"), []byte("U1")), enc) {
		t.Fatal("a message without sentinels is not kept as it is")
	}
}

func TestCacheMakesOnceAndStaysBounded(t *testing.T) {
	c := NewCache(3)
	made := 0
	mk := func() *Template { made++; return nil }
	for range 2 {
		if c.Get("a", mk) != nil {
			t.Fatal("not cacheable came back as a template")
		}
	}
	if made != 1 {
		t.Fatalf("made %d times, want once (a nil template is remembered too)", made)
	}
	for i := range 10 {
		c.Get(strconv.Itoa(i), mk)
	}
	if n := len(c.encoded); n > 3 {
		t.Fatalf("cache holds %d entries, bound 3", n)
	}
}

func TestJSONInString(t *testing.T) {
	for _, s := range []string{"plain", `q"uote`, "<b>&", "line\nbreak", "é", "\u2028"} {
		q, _ := json.Marshal(s)
		if got := JSONInString(s); !bytes.Equal(got, q[1:len(q)-1]) {
			t.Errorf("%q: got %s, want %s", s, got, q[1:len(q)-1])
		}
	}
}
