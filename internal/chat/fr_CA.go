package chat

import (
	_ "embed"
	"strings"
)

// The fr-CA catalogue is fr-CA.po, a gettext PO file: every sentence of
// this package, keyed by its English wording, with its French. Translators
// edit it as any PO file (its head says the register, the typography and
// the glossary); TestCatalogueComplete fails on a sentence without its
// French and on an entry the code no longer says.
//
//go:embed fr-CA.po
var frCAPO []byte

var frCAFile = mustPO("fr-CA.po", frCAPO)

var (
	frCA        = frCAFile.fixed
	frCAPlurals = frCAFile.plurals
)

// nbsp is the non-breaking space French puts before a colon and inside
// guillemets.
const nbsp = "\u00a0"

var frenchSpaces = strings.NewReplacer(" :", nbsp+":", "« ", "«"+nbsp, " »", nbsp+"»")

// frenchTypography makes the spaces French typography keeps with a mark
// non-breaking.
func frenchTypography(s string) string { return frenchSpaces.Replace(s) }
