package advisor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/itfit/itfit/internal/locale"
)

// The audit file carries every language: each text is a mapping from a
// language to its words,
//
//	prompt:
//	  en: How many people work on IT inside your company today?
//	  fr-CA: Combien de personnes travaillent aux TI dans votre entreprise aujourd'hui?
//
// and everything else (IDs, weights, conditions) once, for all of them, so
// answers, history and comparisons are the same whatever the language.
// Parse reads the file once per language into an Audit of plain strings;
// a text without every language, or with an empty one, is a problem of the
// file like any other, named with where it is.

// textKeys are the fields that hold words: every string under one of them
// (or in a list under one) is a text in every language.
var textKeys = map[string]bool{
	"title": true, "intro": true, "note": true, "name": true, "summary": true, "tie_note": true,
	"team_keeps": true, "next_steps": true, "prompt": true, "help": true, "label": true,
	"reason": true, "short": true, "what_if": true, "dimension": true,
	"co-managed": true, "fully-managed": true,
}

// localize returns the file's document with every text in language l, and
// the problems of its texts (reported once, for every language).
func localize(doc any, l locale.Lang, report bool) (any, []string) {
	var problems []string
	var walk func(v any, path []string, key string, text bool) any
	walk = func(v any, path []string, key string, text bool) any {
		switch v := v.(type) {
		case map[string]any:
			if isTranslation(v) {
				if !text && report {
					problems = append(problems, where(path)+": has texts in several languages, but takes none")
				}
				return pick(v, l, path, report, &problems)
			}
			out := make(map[string]any, len(v))
			for _, k := range sortedKeys(v) {
				out[k] = walk(v[k], append(path, label(k, v[k])), k, textKeys[k])
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = walk(e, append(path, item(key, i, e)), key, text)
			}
			return out
		case string:
			if text && report && v != "" {
				problems = append(problems, fmt.Sprintf("%s: %q is in one language; give it in every one (%s)", where(path), clip(v), languages()))
			}
			return v
		}
		return v
	}
	return walk(doc, nil, "", false), problems
}

// isTranslation reports whether a mapping is a text's languages: its keys
// are language tags (or look like them: "de", "fr-FR").
func isTranslation(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if !looksLikeLanguage(k) {
			return false
		}
	}
	return true
}

func looksLikeLanguage(k string) bool {
	if locale.Lang(k).Valid() {
		return true
	}
	base, region, _ := strings.Cut(k, "-")
	return len(base) == 2 && strings.ToLower(base) == base && (region == "" || len(region) == 2)
}

// pick is a text's words in l, checking that every language is there,
// none other, all strings, and that they name the same answers.
func pick(m map[string]any, l locale.Lang, path []string, report bool, problems *[]string) any {
	at := where(path)
	words := map[locale.Lang]string{}
	for _, k := range sortedKeys(m) {
		lang := locale.Lang(k)
		if !lang.Valid() {
			if report {
				*problems = append(*problems, fmt.Sprintf("%s: %q is not a language itfit speaks (%s)", at, k, languages()))
			}
			continue
		}
		s, ok := m[k].(string)
		if !ok {
			if report {
				*problems = append(*problems, fmt.Sprintf("%s: the %s text is not words", at, k))
			}
			continue
		}
		words[lang] = s
	}
	if report {
		empty := 0
		for _, lang := range locale.All {
			s, ok := words[lang]
			switch {
			case !ok:
				*problems = append(*problems, fmt.Sprintf("%s: no %s text", at, lang))
			case strings.TrimSpace(s) == "":
				empty++
			}
		}
		if empty > 0 && empty < len(locale.All) {
			for _, lang := range locale.All {
				if s, ok := words[lang]; ok && strings.TrimSpace(s) == "" {
					*problems = append(*problems, fmt.Sprintf("%s: the %s text is empty", at, lang))
				}
			}
		}
		en := placeholders(words[locale.English])
		for _, lang := range locale.All[1:] {
			if s, ok := words[lang]; ok && strings.TrimSpace(s) != "" && !slices.Equal(placeholders(s), en) {
				*problems = append(*problems, fmt.Sprintf("%s: the %s text names %v, the English %v", at, lang, placeholders(s), en))
			}
		}
	}
	return words[l]
}

// placeholders are the answers a text names ({frameworks}), sorted.
func placeholders(s string) []string {
	out := []string{}
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
	sort.Strings(out)
	return out
}

func languages() string {
	names := make([]string, len(locale.All))
	for i, l := range locale.All {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// label names a mapping's field in a path; item names a list's element,
// by its id where it has one ("question it_staff", "option one"), else by
// its place ("item 2").
func label(k string, _ any) string { return k }

func item(key string, i int, e any) string {
	if m, ok := e.(map[string]any); ok {
		if id, ok := m["id"].(string); ok && id != "" {
			return strings.TrimSuffix(singular(key), " ") + " " + id
		}
	}
	return "item " + strconv.Itoa(i+1)
}

func singular(key string) string {
	switch key {
	case "questions":
		return "question"
	case "options":
		return "option"
	case "areas":
		return "area"
	}
	return strings.TrimSuffix(key, "s")
}

// where is a path as a person reads it: "question it_staff, option one,
// label". A list's element already names the list.
func where(path []string) string {
	var out []string
	for i, p := range path {
		if i+1 < len(path) && strings.HasPrefix(path[i+1], singular(p)+" ") {
			continue // "questions" before "question it_staff"
		}
		out = append(out, p)
	}
	return strings.Join(out, ", ")
}

func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// documents reads an audit file into its document in every language, and
// the problems of its texts.
func documents(data []byte) (map[locale.Lang][]byte, []string, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, nil, err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil, nil, err
	}
	out := map[locale.Lang][]byte{}
	var problems []string
	for i, l := range locale.All {
		v, ps := localize(doc, l, i == 0)
		if i == 0 {
			problems = ps
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, nil, err
		}
		out[l] = b
	}
	return out, problems, nil
}

// TextKeys are the fields of an audit file that hold words, sorted: every
// string under one is given in every language.
func TextKeys() []string {
	out := make([]string, 0, len(textKeys))
	for k := range textKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
