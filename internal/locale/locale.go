// Package locale names the languages itfit speaks and reads a platform's
// locale ("fr-CA", "fr_CA.UTF-8", "en-GB") into one of them. It is pure:
// no I/O, so the audit (internal/advisor) can use it as well as the chat
// layer and the adapters.
package locale

import (
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Lang is a language itfit speaks, as a BCP 47 tag.
type Lang string

const (
	// English is the language every sentence is written in, and the one a
	// person gets when nothing says otherwise.
	English Lang = "en"
	// French is Canadian French.
	French Lang = "fr-CA"
)

// All is every language, English first.
var All = []Lang{English, French}

// Tag is the language's x/text tag.
func (l Lang) Tag() language.Tag {
	if l == French {
		return language.CanadianFrench
	}
	return language.English
}

// Name is the language's name in itself, for a language chooser.
func (l Lang) Name() string {
	if l == French {
		return "Français (Canada)"
	}
	return "English"
}

// Colon is what separates a label from what it labels: Canadian French
// puts a space before the colon (as the catalogue's sentences do).
func (l Lang) Colon() string {
	if l == French {
		return " : "
	}
	return ": "
}

// Valid reports whether l is a language itfit speaks.
func (l Lang) Valid() bool { return l == English || l == French }

// Or is l, or d when l is empty.
func (l Lang) Or(d Lang) Lang {
	if l == "" {
		return d
	}
	return l
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.CanadianFrench})

// Match reads a locale as a platform or an environment gives it (Slack's
// "fr-CA", Teams' "fr-ca", $LANG's "fr_FR.UTF-8", a bare "fr") into the
// nearest language itfit speaks. ok is false when the locale says nothing
// (empty, "C", "POSIX") or names a language itfit does not speak (German):
// then another source decides.
func Match(s string) (Lang, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i] // fr_CA.UTF-8, fr_CA@euro
	}
	s = strings.ReplaceAll(s, "_", "-")
	if s == "" || strings.EqualFold(s, "C") || strings.EqualFold(s, "POSIX") {
		return "", false
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", false
	}
	_, i, c := matcher.Match(tag)
	if c < language.High {
		// Matched only by default (German): not a language itfit speaks.
		return "", false
	}
	return All[i], true
}

// Parse reads a language as a person names it to the language command:
// a code ("fr", "fr-CA", "en"), or its name in English or in itself.
func Parse(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "english", "anglais", "en", "en-ca", "en-us", "en-gb":
		return English, true
	case "french", "français", "francais", "fr", "fr-ca", "fr-fr":
		return French, true
	}
	return "", false
}

var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

// Date is a day written out in the language: "1 December 2027", and in
// French "1er décembre 2027" (the first of a month is an ordinal). Dates
// are days in UTC, as the audit records them.
func (l Lang) Date(t time.Time) string {
	t = t.UTC()
	if l != French {
		return t.Format("2 January 2006")
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + " " + frenchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// MatchAccept reads an HTTP Accept-Language header ("fr-CA,fr;q=0.9,en;q=0.8")
// into the language itfit speaks that the browser prefers; ok is false
// when it names none of them.
func MatchAccept(header string) (Lang, bool) {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	_, i, c := matcher.Match(tags...)
	if c < language.High {
		return "", false
	}
	return All[i], true
}
