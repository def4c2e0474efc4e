package chat

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// poCatalogue is a gettext PO file as the translator reads it: fixed
// sentences by their English, and sentences with a count by their English
// plural (as plural keys them), with the English singular the file gives.
type poCatalogue struct {
	fixed    map[string]string
	plurals  map[string]plurals
	singular map[string]string // English plural -> English singular
}

// poEntry is one entry while it is read.
type poEntry struct {
	fields map[string]*strings.Builder // msgid, msgid_plural, msgstr, msgstr[0], msgstr[1]
	last   string
	fuzzy  bool
	line   int
}

// readPO reads the subset of the PO format a catalogue is written in:
// comments, msgid, msgid_plural, msgstr and msgstr[0..1], each a quoted
// string continued on the lines below it; entries apart by blank lines.
// The header (msgid "") and entries marked fuzzy are skipped, as msgfmt
// skips them. Anything else is an error naming its line: a catalogue that
// does not read is never half used.
func readPO(b []byte) (poCatalogue, error) {
	c := poCatalogue{fixed: map[string]string{}, plurals: map[string]plurals{}, singular: map[string]string{}}
	var e *poEntry
	done := func() error {
		if e == nil {
			return nil
		}
		defer func() { e = nil }()
		get := func(k string) (string, bool) {
			f, ok := e.fields[k]
			if !ok {
				return "", false
			}
			return f.String(), true
		}
		id, ok := get("msgid")
		if !ok {
			return fmt.Errorf("line %d: an entry without msgid", e.line)
		}
		if id == "" || e.fuzzy {
			return nil
		}
		if many, ok := get("msgid_plural"); ok {
			one, ok1 := get("msgstr[0]")
			other, ok2 := get("msgstr[1]")
			if !ok1 || !ok2 {
				return fmt.Errorf("line %d: %q needs msgstr[0] and msgstr[1]", e.line, id)
			}
			if _, dup := c.plurals[many]; dup {
				return fmt.Errorf("line %d: %q twice", e.line, many)
			}
			c.plurals[many], c.singular[many] = plurals{One: one, Other: other}, id
			return nil
		}
		str, ok := get("msgstr")
		if !ok {
			return fmt.Errorf("line %d: %q has no msgstr", e.line, id)
		}
		if _, dup := c.fixed[id]; dup {
			return fmt.Errorf("line %d: %q twice", e.line, id)
		}
		c.fixed[id] = str
		return nil
	}
	for n, raw := range bytes.Split(b, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		switch {
		case line == "":
			if err := done(); err != nil {
				return c, err
			}
			continue
		case strings.HasPrefix(line, "#,"):
			if e == nil {
				e = &poEntry{fields: map[string]*strings.Builder{}, line: n + 1}
			}
			e.fuzzy = e.fuzzy || strings.Contains(line, "fuzzy")
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		key, quoted := "", line
		if !strings.HasPrefix(line, `"`) {
			var ok bool
			key, quoted, ok = strings.Cut(line, " ")
			if !ok {
				return c, fmt.Errorf("line %d: not a keyword and a string", n+1)
			}
			switch key {
			case "msgid", "msgid_plural", "msgstr", "msgstr[0]", "msgstr[1]":
			default:
				return c, fmt.Errorf("line %d: %s is not read here", n+1, key)
			}
		}
		s, err := strconv.Unquote(strings.TrimSpace(quoted))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(quoted), `"`) {
			return c, fmt.Errorf("line %d: not a quoted string", n+1)
		}
		if e == nil {
			e = &poEntry{fields: map[string]*strings.Builder{}, line: n + 1}
		}
		if key == "" {
			if e.last == "" {
				return c, fmt.Errorf("line %d: a string that continues nothing", n+1)
			}
			key = e.last
		} else if _, dup := e.fields[key]; dup {
			return c, fmt.Errorf("line %d: a second %s in one entry (is a blank line missing?)", n+1, key)
		} else {
			e.fields[key] = &strings.Builder{}
		}
		e.fields[key].WriteString(s)
		e.last = key
	}
	return c, done()
}

// mustPO is readPO for a catalogue built into the binary: one that does
// not read is a bug the tests catch, never a runtime condition.
func mustPO(name string, b []byte) poCatalogue {
	c, err := readPO(b)
	if err != nil {
		panic("chat: " + name + ": " + err.Error())
	}
	return c
}
