package terminal

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itfit/itfit/internal/chat"
)

// Render is a message as plain text, wrapped to width columns: words are
// never split, a list item's continuation lines are indented under its
// text.
func Render(m chat.Message, width int) string {
	r := &text{width: max(width, 20), colon: m.Lang.Colon()}
	for _, n := range m.Notes {
		r.para(plain(n), "", "")
	}
	switch m.Kind {
	case chat.KindQuestion:
		r.blank()
		r.para(plain(m.Footer), "", "")
		r.para(m.Title, "", "")
		r.para(plain(m.Lead), "", "")
		if a := m.Ask; a != nil {
			if a.Multi && a.Pick != "" {
				r.para("("+a.Pick+")", "", "")
			}
			for i, o := range a.Options {
				n := strconv.Itoa(i+1) + ". "
				r.para(o.Label, "  "+n, strings.Repeat(" ", 2+len(n)))
			}
		}
		return r.String()
	case chat.KindCard, chat.KindShared:
		rule := strings.Repeat("=", min(64, r.width))
		r.blank()
		r.line(rule)
		r.para(m.Title, "", "")
		r.line(rule)
		r.para(plain(m.Lead), "", "")
	default:
		if m.Title != "" {
			r.para(m.Title, "", "")
		}
		r.para(plain(m.Lead), "", "")
	}
	for _, s := range m.Sections {
		r.section(s)
	}
	if len(m.Footer) > 0 {
		r.blank()
		r.para(plain(m.Footer), "", "")
	}
	return r.String()
}

// plain spells a text for a terminal: dates in full, commands as typed.
func plain(t chat.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case chat.Date:
			b.WriteString(s.S) // the date in the message's language
		case chat.Person:
			if s.S != "" {
				b.WriteString(s.S)
			} else {
				b.WriteString(s.ID)
			}
		default:
			b.WriteString(s.S)
		}
	}
	return b.String()
}

func (r *text) section(s chat.Section) {
	if s.Title != "" || s.Divider {
		r.blank()
	}
	if s.Title != "" {
		r.para(s.Title, "", "")
	}
	if len(s.Text) > 0 {
		r.para(plain(s.Text), "  ", "  ")
	}
	for i, it := range s.Items {
		bullet := "  - "
		if s.Numbered {
			bullet = "  " + strconv.Itoa(i+1) + ". "
		}
		r.para(plain(it), bullet, strings.Repeat(" ", len(bullet)))
	}
	if len(s.Facts) > 0 {
		w := 0
		for _, f := range s.Facts {
			w = max(w, utf8.RuneCountInString(f.Label))
		}
		w = min(w, r.width/2)
		for _, f := range s.Facts {
			label := f.Label + strings.Repeat(" ", max(0, w-utf8.RuneCountInString(f.Label)))
			r.para(plain(f.Value), "  "+label+"  ", strings.Repeat(" ", w+4))
		}
	}
	if t := s.Table; t != nil {
		for _, row := range t.Rows {
			r.para(row[0], "  ", "  ")
			for j := 1; j < len(row) && j < len(t.Head); j++ {
				head := t.Head[j] + r.colon
				r.para(row[j], "    "+head, "      ")
			}
		}
	}
	for _, c := range s.Columns {
		r.section(chat.Section{Title: c.Title, Items: c.Items})
		if len(c.Items) == 0 && c.Empty != "" {
			r.para(c.Empty, "  ", "  ")
		}
	}
}

// text builds wrapped lines.
type text struct {
	b     strings.Builder
	width int
	colon string // after a table's column heading, in the message's language
}

func (r *text) String() string { return r.b.String() }

func (r *text) line(s string) { r.b.WriteString(s + "\n") }

func (r *text) blank() {
	if s := r.b.String(); s != "" && !strings.HasSuffix(s, "\n\n") {
		r.b.WriteString("\n")
	}
}

// para writes s wrapped: the first line after first, the others after
// rest. A word longer than a line stands on a line of its own.
func (r *text) para(s, first, rest string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	for _, p := range strings.Split(s, "\n") {
		r.wrap(p, first, rest)
		first = rest
	}
}

func (r *text) wrap(s, first, rest string) {
	prefix := first
	line := prefix
	n := utf8.RuneCountInString(prefix)
	empty := true
	// Split at ordinary spaces only: a non-breaking one (French puts one
	// before a colon) keeps its words on one line.
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' }) {
		wl := utf8.RuneCountInString(word)
		if !empty && n+1+wl > r.width {
			r.line(line)
			prefix = rest
			line, n, empty = prefix, utf8.RuneCountInString(prefix), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wl
		empty = false
	}
	if !empty {
		r.line(line)
	}
}
