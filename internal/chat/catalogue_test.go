package chat

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// key is a sentence the package says, and where.
type key struct {
	text   string
	plural bool
	one    string // a plural's singular
	at     string
}

// sentences collects every literal this package's Go files pass to the
// translator: t(s), f(s, ...), s(s, ...), plural(n, one, many) (keyed by
// many). A call whose sentence is not a literal (or literals joined with
// +) is reported as bad: the catalogue could never be checked for it.
func sentences(t *testing.T) (keys []key, bad []string) {
	t.Helper()
	// The chat layer, and the one other place that words a page: Add to
	// Slack's result pages, translated through this catalogue.
	var files []string
	for _, pattern := range []string{"*.go", "../slackauth/*.go"} {
		fs, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && (isTranslator(fn) || isPageWords(fn) || (fn.Recv == nil && (fn.Name.Name == "Translate" || fn.Name.Name == "Sentence"))) {
				continue // the translator's own plumbing passes its arguments on
			}
			ast.Inspect(d, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				at := fset.Position(call.Pos()).String()
				arg := func(i int) {
					if i >= len(call.Args) {
						bad = append(bad, at+": too few arguments")
						return
					}
					s, ok := literal(call.Args[i])
					if !ok {
						bad = append(bad, at+": "+sel.Sel.Name+"'s sentence is not a literal")
						return
					}
					keys = append(keys, key{text: s, plural: sel.Sel.Name == "plural", at: at})
				}
				switch sel.Sel.Name {
				case "t", "f", "s":
					arg(0)
				case "plural":
					one, ok := literal(call.Args[1])
					if !ok {
						bad = append(bad, at+": plural's singular is not a literal")
					}
					n := len(keys)
					arg(2)
					if len(keys) > n {
						keys[n].one = one
					}
				}
				return true
			})
		}
	}
	return keys, bad
}

func isTranslator(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "tr" && slices.Contains([]string{"t", "f", "s", "plural", "part", "txt", "date"}, fn.Name.Name)
}

// isPageWords is slackauth's translator's own plumbing.
func isPageWords(fn *ast.FuncDecl) bool {
	if fn.Recv == nil || len(fn.Recv.List) != 1 {
		return false
	}
	id, ok := fn.Recv.List[0].Type.(*ast.Ident)
	return ok && id.Name == "pageWords"
}

// literal folds a string literal, or literals joined with +.
func literal(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := literal(e.X)
		b, ok2 := literal(e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return literal(e.X)
	}
	return "", false
}

// verbs are the formatting verbs of a sentence, in a canonical form: a
// translation must hold the same ones (in any order, %[2]v style).
var verbPattern = regexp.MustCompile(`%(\[\d\])?[a-z]`)

func verbs(s string) []string {
	out := []string{}
	for _, v := range verbPattern.FindAllString(strings.ReplaceAll(s, "%%", ""), -1) {
		out = append(out, v[len(v)-1:])
	}
	sort.Strings(out)
	return out
}

// TestCatalogueComplete: every sentence the package says has a fr-CA
// translation, with the same values in it, and the catalogue holds nothing
// the package no longer says. A sentence added without its French fails
// here, naming it and where it is said.
func TestCatalogueComplete(t *testing.T) {
	keys, bad := sentences(t)
	for _, b := range bad {
		t.Error(b)
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d sentences: is the walk looking at the package?", len(keys))
	}
	used := map[string]bool{}
	for _, k := range keys {
		used[k.text] = true
		if k.plural {
			p, ok := frCAPlurals[k.text]
			switch {
			case !ok:
				t.Errorf("%s: no fr-CA plural for %q (add it to fr-CA.po: msgid %q, msgid_plural %q)", k.at, k.text, k.one, k.text)
			case frCAFile.singular[k.text] != k.one:
				t.Errorf("%s: fr-CA.po gives %q the English singular %q; the code says %q", k.at, k.text, frCAFile.singular[k.text], k.one)
			case p.One == "" || p.Other == "":
				t.Errorf("%s: an empty fr-CA plural form for %q", k.at, k.text)
			case !slices.Equal(verbs(p.One), verbs(k.text)) || !slices.Equal(verbs(p.Other), verbs(k.text)):
				t.Errorf("%s: the fr-CA forms of %q do not hold its values %v: %q", k.at, k.text, verbs(k.text), p)
			}
			continue
		}
		fr, ok := frCA[k.text]
		switch {
		case !ok:
			t.Errorf("%s: no fr-CA translation for %q (add it to fr-CA.po)", k.at, k.text)
		case strings.TrimSpace(fr) == "" && strings.TrimSpace(k.text) != "":
			t.Errorf("%s: the fr-CA translation of %q is empty", k.at, k.text)
		case !slices.Equal(verbs(fr), verbs(k.text)):
			t.Errorf("%s: the fr-CA translation of %q holds %v, not its values %v: %q", k.at, k.text, verbs(fr), verbs(k.text), fr)
		}
	}
	for k := range frCA {
		if !used[k] {
			t.Errorf("fr-CA.po translates %q, which the package no longer says: remove it", k)
		}
	}
	for k := range frCAPlurals {
		if !used[k] {
			t.Errorf("fr-CA.po has plural forms for %q, which the package no longer says: remove them", k)
		}
	}
}

// TestCatalogueSpacing: a fragment that begins or ends with a space (it
// joins a date, a name or a command) keeps a separator there in French, or
// the words run together; one that does not never gains an ordinary space,
// or two would meet. (A French colon's non-breaking space is not an
// ordinary one.)
func TestCatalogueSpacing(t *testing.T) {
	letter := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	for en, fr := range french.fixed {
		if en == "" || fr == "" {
			continue
		}
		enFirst, _ := utf8.DecodeRuneInString(en)
		frFirst, _ := utf8.DecodeRuneInString(fr)
		enLast, _ := utf8.DecodeLastRuneInString(en)
		frLast, _ := utf8.DecodeLastRuneInString(fr)
		if (enFirst == ' ' && letter(frFirst)) || (enFirst != ' ' && frFirst == ' ') ||
			(enLast == ' ' && letter(frLast)) || (enLast != ' ' && frLast == ' ') {
			t.Errorf("%q and its translation %q differ at an end that joins other words", en, fr)
		}
	}
}

// The catalogue is a PO file gettext's own tools accept: msgfmt --check
// (syntax, header, plural forms). Without msgfmt the check is skipped; in
// CI (scripts/test installs gettext) its absence is a failure.
func TestCatalogueIsValidPO(t *testing.T) {
	msgfmt, err := exec.LookPath("msgfmt")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("msgfmt (gettext) is missing in CI")
		}
		t.Skip("msgfmt (gettext) not installed")
	}
	if out, err := exec.Command(msgfmt, "--check", "-o", os.DevNull, "fr-CA.po").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("msgfmt --check fr-CA.po: %v\n%s", err, out)
	}
}

// readPO refuses what it cannot read whole, naming the line, and skips
// fuzzy entries and the header as msgfmt does.
func TestReadPO(t *testing.T) {
	good := "msgid \"\"\nmsgstr \"Language: fr_CA\\n\"\n\n# a comment\nmsgid \"Back\"\nmsgstr \"Ret\"\n\"our\"\n\n#, fuzzy\nmsgid \"Next\"\nmsgstr \"Suivant\"\n\n" +
		"msgid \"%d result\"\nmsgid_plural \"%d results\"\nmsgstr[0] \"%d résultat\"\nmsgstr[1] \"%d résultats\"\n"
	c, err := readPO([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.fixed) != 1 || c.fixed["Back"] != "Retour" || c.plurals["%d results"] != (plurals{"%d résultat", "%d résultats"}) || c.singular["%d results"] != "%d result" {
		t.Fatalf("read %+v", c)
	}
	for _, bad := range []string{
		"msgid \"Back\"\n", // no msgstr
		"msgid \"Back\"\nmsgstr \"Retour\nmsgid \"x\"\n",                          // unterminated string
		"msgid \"Back\"\nmsgstr \"Retour\"\nmsgid \"Next\"\nmsgstr \"Suivant\"\n", // a missing blank line
		"msgctxt \"x\"\nmsgid \"Back\"\nmsgstr \"Retour\"\n",
		"\"orphan\"\n",
		"msgid \"Back\"\nmsgstr \"A\"\n\nmsgid \"Back\"\nmsgstr \"B\"\n",
		"msgid \"%d result\"\nmsgid_plural \"%d results\"\nmsgstr[0] \"x\"\n",
	} {
		if _, err := readPO([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: err %v, want one naming a line", bad, err)
		}
	}
}
