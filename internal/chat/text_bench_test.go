package chat

import "testing"

// BenchmarkTranslate is what a sentence costs in each language: a fixed
// one (a map read), a formatted one with small counts (cached after the
// first), one the cache does not take (the x/text Printer), and a plural.
func BenchmarkTranslate(b *testing.B) {
	for _, bc := range []struct {
		name string
		w    *tr
		f    func(w *tr) string
	}{
		{"t/en", english, func(w *tr) string { return w.t("Start over") }},
		{"t/fr", french, func(w *tr) string { return w.t("Start over") }},
		{"f-small/en", english, func(w *tr) string { return w.f("Question %d of %d", 3, 9) }},
		{"f-small/fr", french, func(w *tr) string { return w.f("Question %d of %d", 3, 9) }},
		{"f-small-uncached/fr", french, func(w *tr) string { return w.p.Sprintf("Question %d of %d", 3, 9) }},
		{"f-printer/fr", french, func(w *tr) string { return w.f("Recommendation: %s", "TI cogérées") }},
		{"plural/fr", french, func(w *tr) string { return w.plural(2, "%d past result", "%d past results") }},
		{"s/fr", french, func(w *tr) string { return w.s("A nudge to %v with your last result, on %v", "x", "y").String() }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.f(bc.w)
			}
		})
	}
}
