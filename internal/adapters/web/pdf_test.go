package web_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"

	"github.com/itfit/itfit/internal/adapters/web"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
)

var update = flag.Bool("update", false, "rewrite testdata/report.pdf (render it with pdftoppm -png -r 60 for review)")

// text extracts a PDF's text, its whitespace folded to single spaces.
func text(t *testing.T, b []byte) (string, int) {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read pdf: %v", err)
	}
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				out.WriteString(w.S)
			}
			out.WriteString(" ")
		}
	}
	return strings.Join(strings.Fields(out.String()), " "), r.NumPage()
}

// TestReportHoldsTheVerdictAndEveryReason: the PDF of every situation's
// card is one page whose text has the verdict, its strength and every
// reason the card gives.
func TestReportHoldsTheVerdictAndEveryReason(t *testing.T) {
	a := advisor.Default()
	v := chattest.Views()
	for name, answers := range chattest.Situations(a) {
		t.Run(name, func(t *testing.T) {
			r := a.Recommend(answers, chattest.Done)
			m := v.Report(conversation.Result{CompletedAt: chattest.Done, AuditVersion: a.Version, Answers: answers, Recommendation: r})
			b, err := web.PDF(m)
			if err != nil {
				t.Fatal(err)
			}
			got, pages := text(t, b)
			if pages != 1 {
				t.Fatalf("%d pages, want 1", pages)
			}
			want := []string{"Recommendation: " + r.VerdictName}
			for _, c := range r.Reasons {
				if c.Reason != "" {
					want = append(want, c.Reason)
				}
			}
			for _, row := range r.Matrix {
				want = append(want, row.Name)
			}
			for _, w := range want {
				if !strings.Contains(got, strings.Join(strings.Fields(w), " ")) {
					t.Errorf("the PDF's text lacks %q:\n%s", w, got)
				}
			}
			if name == "comanaged" && *update {
				if err := os.WriteFile(filepath.Join("testdata", "report.pdf"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
