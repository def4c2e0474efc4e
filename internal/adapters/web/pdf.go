package web

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/itfit/itfit/internal/chat"
)

// The page: A4 in points, and the type sizes of a one-page report.
const (
	pageW, pageH = 595.28, 841.89
	margin       = 48.0
	bodySize     = 9.5
	leading      = 12.5
	titleSize    = 17.0
	headingSize  = 10.5
	footerSize   = 7.5
)

// PDF renders a neutral message (the card's view: verdict, reasons, what
// the provider would cover and the team keeps, the matrix...) as one A4
// page. It is a renderer like Slack's and Teams': it decides how the
// message looks, never what it says. What does not fit on the page ends
// in an ellipsis rather than a second page, and the sections come in the
// card's order, so the verdict, reasons, scope and matrix come first.
//
// The Go fonts (golang.org/x/image/font/gofont) are embedded as TrueType:
// they cover the Latin, Greek and Cyrillic letters and the punctuation
// (“”, …, →) cards use, in any language the catalogue has.
func PDF(m chat.Message) ([]byte, error) {
	p := &page{pdf: &gopdf.GoPdf{}}
	p.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4, Unit: gopdf.UnitPT})
	p.pdf.SetInfo(gopdf.PdfInfo{Title: m.Title, Creator: "itfit", Producer: "itfit"})
	if err := p.pdf.AddTTFFontData("regular", goregular.TTF); err != nil {
		return nil, fmt.Errorf("pdf font: %w", err)
	}
	if err := p.pdf.AddTTFFontData("bold", gobold.TTF); err != nil {
		return nil, fmt.Errorf("pdf font: %w", err)
	}
	p.pdf.AddPage()
	p.y = margin
	p.render(m)
	if p.err != nil {
		return nil, p.err
	}
	var b bytes.Buffer
	if err := p.pdf.Write(&b); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return b.Bytes(), nil
}

type page struct {
	pdf  *gopdf.GoPdf
	y    float64
	full bool // the page is full: nothing more is written
	err  error
}

// plain spells a text for print: dates in the long form, people and
// commands by their words.
func plain(t chat.Text) string {
	var b strings.Builder
	for _, s := range t {
		if s.Kind == chat.Date {
			b.WriteString(s.T.UTC().Format("2 January 2006"))
			continue
		}
		b.WriteString(s.S)
	}
	return b.String()
}

func (p *page) render(m chat.Message) {
	for _, n := range m.Notes {
		p.para(plain(n), "regular", bodySize, 90, margin, pageW-2*margin)
	}
	p.para(m.Title, "bold", titleSize, 0, margin, pageW-2*margin)
	p.y += 2
	p.para(plain(m.Lead), "regular", bodySize+1, 0, margin, pageW-2*margin)
	for _, s := range m.Sections {
		p.section(s)
	}
	if len(m.Footer) > 0 {
		p.y += 6
		p.para(plain(m.Footer), "regular", footerSize, 110, margin, pageW-2*margin)
	}
}

func (p *page) section(s chat.Section) {
	w := pageW - 2*margin
	p.y += 6
	if s.Divider && !p.full {
		p.pdf.SetStrokeColor(200, 200, 200)
		p.pdf.SetLineWidth(0.5)
		p.pdf.Line(margin, p.y, pageW-margin, p.y)
		p.y += 6
	}
	if s.Title != "" {
		p.para(s.Title, "bold", headingSize, 0, margin, w)
	}
	if len(s.Text) > 0 {
		p.para(plain(s.Text), "regular", bodySize, 0, margin, w)
	}
	for i, it := range s.Items {
		bullet := "•"
		if s.Numbered {
			bullet = fmt.Sprintf("%d.", i+1)
		}
		p.item(bullet, plain(it), margin, w)
	}
	if len(s.Facts) > 0 {
		for _, f := range s.Facts {
			top := p.y
			p.para(f.Label, "regular", bodySize, 0, margin, w*0.6-8)
			bottom := p.y
			p.y = top
			p.para(plain(f.Value), "bold", bodySize, 0, margin+w*0.6, w*0.4)
			p.y = max(p.y, bottom)
		}
	}
	if len(s.Columns) > 0 {
		top, bottom := p.y, p.y
		cw := (w - 16) / float64(len(s.Columns))
		for i, c := range s.Columns {
			p.y = top
			x := margin + float64(i)*(cw+16)
			p.para(c.Title, "bold", headingSize, 0, x, cw)
			for _, it := range c.Items {
				p.item("•", plain(it), x, cw)
			}
			if len(c.Items) == 0 && c.Empty != "" {
				p.para(c.Empty, "regular", bodySize, 110, x, cw)
			}
			bottom = max(bottom, p.y)
		}
		p.y = bottom
	}
	if s.Table != nil {
		head := s.Table.Head
		for _, row := range s.Table.Rows {
			var cells []string
			for j := 1; j < len(row) && j < len(head); j++ {
				cells = append(cells, head[j]+": "+row[j])
			}
			p.item("•", row[0]+". "+strings.Join(cells, " · "), margin, w)
		}
	}
}

// item is a bullet (or number) and its text, hanging.
func (p *page) item(bullet, text string, x, w float64) {
	if p.full {
		return
	}
	top := p.y
	p.para(bullet, "regular", bodySize, 0, x, 14)
	p.y = top
	p.para(text, "regular", bodySize, 0, x+14, w-14)
}

// para writes text wrapped to width w at x, in grey level gray (0 black).
func (p *page) para(text, font string, size float64, gray uint8, x, w float64) {
	if p.full || p.err != nil || strings.TrimSpace(text) == "" {
		return
	}
	if err := p.pdf.SetFont(font, "", size); err != nil {
		p.err = fmt.Errorf("pdf: %w", err)
		return
	}
	p.pdf.SetTextColor(gray, gray, gray)
	lead := leading * size / bodySize
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		ls, err := p.pdf.SplitTextWithWordWrap(para, w)
		if err != nil {
			p.err = fmt.Errorf("pdf: %w", err)
			return
		}
		lines = append(lines, ls...)
	}
	for _, l := range lines {
		if p.y+lead > pageH-margin {
			// The page is full: say so, and write nothing more.
			p.pdf.SetXY(x, p.y)
			_ = p.pdf.Cell(nil, "…")
			p.full = true
			return
		}
		p.pdf.SetXY(x, p.y)
		if err := p.pdf.Cell(nil, l); err != nil {
			p.err = fmt.Errorf("pdf: %w", err)
			return
		}
		p.y += lead
	}
}
