package slackapp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/slackapi"
)

// itfit's own bounds, within Block Kit's (slackapi.MaxBlocks and the rest).
const (
	// maxComparisonRow is how many rows of a comparison table are shown;
	// the rest are counted on a "… +N" line.
	maxComparisonRow = 20
	// maxListBlocks is how many sections one list may fill (3 × 3000
	// characters; the built-in audit's longest fills one). What does not
	// fit is counted on a last "… +N" line: lists come strongest first, so
	// the weakest are the ones collapsed.
	maxListBlocks  = 3
	maxMessageText = 3000 // the top-level fallback text shown in notifications
)

// Message is what the adapter posts: blocks and their fallback text.
type Message = slackapi.Message

// slackDate renders a date in the reader's own time zone (and Slack's
// language), with the chat layer's words for it as the fallback for
// clients that cannot.
func slackDate(s chat.Span) string {
	return "<!date^" + strconv.FormatInt(s.T.Unix(), 10) + "^{date_long}|" + slackapi.Escape(s.S) + ">"
}

// mrk spells a text in mrkdwn: words escaped, dates in the reader's zone,
// people as mentions where they resolve.
func mrk(t chat.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch s.Kind {
		case chat.Strong:
			if s.S != "" {
				b.WriteString("*" + slackapi.Escape(s.S) + "*")
			}
		case chat.Date:
			b.WriteString(slackDate(s))
		case chat.Person:
			b.WriteString(person(s))
		case chat.Command:
			b.WriteString("`" + commandText(s) + "`")
		case chat.Link:
			b.WriteString("<" + slackapi.Escape(s.S) + "|" + slackapi.Escape(s.S) + ">")
		default:
			b.WriteString(slackapi.Escape(s.S))
		}
	}
	return b.String()
}

func commandText(s chat.Span) string {
	switch s.Place {
	case "slash":
		if s.S == "" {
			return "/itfit"
		}
		return "/itfit " + s.S
	case "mention":
		return "@itfit " + s.S
	}
	return s.S
}

// person is a mention where it resolves (a plain ID only, so a stored
// value cannot become a broadcast or a link), else the name and place.
func person(s chat.Span) string {
	if s.Mention && slackapi.IsID(s.ID) {
		return mention(s.ID)
	}
	out := "*" + slackapi.Escape(slackapi.Clamp(s.S, 100)) + "*"
	if s.Place != "" {
		out += " (*" + slackapi.Escape(slackapi.Clamp(s.Place, 100)) + "*)"
	}
	return out
}

// mention renders a Slack user or channel ID as a mention; anything that
// is not a plain ID is refused.
func mention(id string) string {
	if !slackapi.IsID(id) {
		return "someone"
	}
	if strings.HasPrefix(id, "C") || strings.HasPrefix(id, "G") {
		return "<#" + id + ">"
	}
	return "<@" + id + ">"
}

// Render turns a neutral message into Block Kit.
func Render(m chat.Message) Message {
	r := renderer{m: m}
	r.render()
	return Message{Text: fallback(m), Blocks: r.blocks}
}

// fallback is the text Slack shows in notifications: mrkdwn, so escaped
// (an audit's "<!channel>" must not ping anyone); a note's own words, with
// its dates and mentions, where the message is only a note.
func fallback(m chat.Message) string {
	if m.Kind == chat.KindNote && len(m.Lead) > 0 {
		return slackapi.ClampMrkdwn(mrk(m.Lead), maxMessageText)
	}
	return slackapi.ClampMrkdwn(slackapi.Escape(m.Summary), maxMessageText)
}

type renderer struct {
	m      chat.Message
	blocks []slack.Block
	// rows counts the sections with actions of their own, whose blocks
	// need IDs unique in the message or view.
	rows int
}

func (r *renderer) add(b slack.Block) { r.blocks = append(r.blocks, b) }

// fit keeps a message within Block Kit's 50 blocks: the actions and what
// follows them (from tail on) always stay, and the content blocks before
// them that do not fit are counted in a "… +N" line.
func (r *renderer) fit(tail int) {
	if len(r.blocks) <= slackapi.MaxBlocks {
		return
	}
	end := r.blocks[tail:]
	keep := slackapi.MaxBlocks - 1 - len(end)
	if keep < 0 {
		r.blocks = r.blocks[:slackapi.MaxBlocks]
		return
	}
	more := slack.NewContextBlock("", slackapi.MrkdwnText(fmt.Sprintf("… +%d", tail-keep), slackapi.MaxContextText))
	r.blocks = append(append(r.blocks[:keep:keep], more), end...)
}

func (r *renderer) section(text string) {
	if text != "" {
		r.add(slack.NewSectionBlock(slackapi.MrkdwnText(text, slackapi.MaxSectionText), nil, nil))
	}
}

func (r *renderer) context(id, text string) {
	if text != "" {
		r.add(slack.NewContextBlock(id, slackapi.MrkdwnText(text, slackapi.MaxContextText)))
	}
}

// blockID names a message's block by kind ("itfit_card"), as load tools
// and Slack's own interaction payloads refer to it.
func (r *renderer) blockID(part string) string {
	if part == "" {
		return "itfit_" + string(r.m.Kind)
	}
	return "itfit_" + part
}

func (r *renderer) render() {
	m := r.m
	if len(m.Notes) > 0 {
		notes := make([]string, len(m.Notes))
		for i, n := range m.Notes {
			notes[i] = mrk(n)
		}
		id := "itfit_note"
		if m.Kind == chat.KindShared {
			id = "itfit_shared"
		}
		r.context(id, strings.Join(notes, "\n"))
	}
	lead := mrk(m.Lead)
	switch m.Kind {
	case chat.KindCard, chat.KindShared, chat.KindNudge, chat.KindHome, chat.KindManagerNudge, chat.KindReminders:
		if m.Title != "" {
			r.add(slack.NewHeaderBlock(slackapi.PlainText(m.Title, slackapi.MaxHeaderText)))
		}
		r.section(lead)
	case chat.KindAnswered:
		r.section("*" + slackapi.Escape(m.Title) + "*")
		r.context("", ":white_check_mark: "+lead)
		return
	case chat.KindClosed:
		if m.Title == "" {
			r.section(lead)
			return
		}
		r.section("*" + slackapi.Escape(m.Title) + "*")
		r.context("", lead)
		return
	default:
		text := lead
		if m.Title != "" {
			text = "*" + slackapi.Escape(m.Title) + "*"
			if lead != "" {
				text += "\n" + lead
			}
		}
		r.section(text)
	}
	// The Home tab's button sits under its status line, above the last
	// result; everywhere else the actions close the message.
	actionsAfter := len(m.Sections)
	if m.Kind == chat.KindHome {
		actionsAfter = min(1, actionsAfter)
	}
	for _, s := range m.Sections[:actionsAfter] {
		r.renderSection(s)
	}
	if m.Ask != nil {
		r.ask(m.Ask)
	}
	tail := len(r.blocks)
	r.actions()
	for _, s := range m.Sections[actionsAfter:] {
		r.renderSection(s)
	}
	r.context("", mrk(m.Footer))
	r.fit(tail)
}

func (r *renderer) actions() {
	m := r.m
	if len(m.Actions) > 0 {
		els := make([]slack.BlockElement, 0, len(m.Actions))
		for _, a := range m.Actions {
			els = append(els, r.element(a))
		}
		id := ""
		if m.Kind == chat.KindQuestion {
			id = "nav"
		}
		if m.Ask != nil && m.Ask.Submit != nil {
			els = append([]slack.BlockElement{r.element(*m.Ask.Submit)}, els...)
		}
		r.add(slack.NewActionBlock(r.blockID(id), els...))
	}
}

func (r *renderer) renderSection(s chat.Section) {
	if s.Divider {
		r.add(slack.NewDividerBlock())
	}
	switch {
	case len(s.Columns) > 0:
		// Side by side as fields where each fits one; otherwise one
		// after the other, as long as they need.
		fields := make([]*slack.TextBlockObject, 0, len(s.Columns))
		for _, c := range s.Columns {
			if text := strings.Join(append([]string{heading(c.Title)}, items(c)...), "\n"); utf8.RuneCountInString(text) <= slackapi.MaxFieldText {
				fields = append(fields, slackapi.MrkdwnText(text, slackapi.MaxFieldText))
			}
		}
		if len(fields) == len(s.Columns) && len(fields) <= slackapi.MaxFields {
			r.add(slack.NewSectionBlock(nil, fields, nil))
			return
		}
		for _, c := range s.Columns {
			r.lines(heading(c.Title), items(c))
		}
	case s.Table != nil:
		r.section(heading(s.Title))
		head := s.Table.Head
		for i, row := range s.Table.Rows {
			if i == maxComparisonRow {
				r.context("", fmt.Sprintf("… +%d", len(s.Table.Rows)-maxComparisonRow))
				break
			}
			var fields []*slack.TextBlockObject
			for j := 1; j < len(row) && j < len(head) && len(fields) < slackapi.MaxFields; j++ {
				fields = append(fields, slackapi.MrkdwnText("_"+slackapi.Escape(head[j])+":_ "+slackapi.Escape(row[j]), slackapi.MaxFieldText))
			}
			r.add(slack.NewSectionBlock(slackapi.MrkdwnText("*"+slackapi.Escape(row[0])+"*", slackapi.MaxSectionText), fields, nil))
		}
	case len(s.Facts) > 0:
		lines := make([]string, len(s.Facts))
		for i, f := range s.Facts {
			lines[i] = "• " + slackapi.Escape(f.Label) + ": " + mrk(f.Value)
		}
		if len(s.Text) > 0 {
			lines = append([]string{mrk(s.Text)}, lines...)
		}
		r.lines(heading(s.Title), lines)
	default:
		lines := items(s)
		if len(s.Text) > 0 {
			lines = append([]string{mrk(s.Text)}, lines...)
		}
		if s.Emphasis {
			for i, l := range lines {
				lines[i] = ">" + strings.ReplaceAll(l, "\n", "\n>")
			}
		}
		head := heading(s.Title)
		if s.Emphasis && head != "" {
			head = ">" + head
		}
		r.lines(head, lines)
	}
	if len(s.Actions) > 0 {
		els := make([]slack.BlockElement, 0, len(s.Actions))
		for _, a := range s.Actions {
			els = append(els, r.element(a))
		}
		r.rows++
		r.add(slack.NewActionBlock("itfit_row_"+strconv.Itoa(r.rows), els...))
	}
}

func heading(title string) string {
	if title == "" {
		return ""
	}
	return "*" + slackapi.Escape(title) + "*"
}

// items spells a section's items as mrkdwn lines (or what an empty column
// says instead).
func items(s chat.Section) []string {
	out := make([]string, 0, len(s.Items))
	for i, it := range s.Items {
		if s.Numbered {
			out = append(out, fmt.Sprintf("%d. %s", i+1, mrk(it)))
		} else {
			out = append(out, "• "+mrk(it))
		}
	}
	if len(s.Items) == 0 && len(s.Text) == 0 && s.Empty != "" {
		out = append(out, "_"+slackapi.Escape(s.Empty)+"_")
	}
	return out
}

// lines renders a heading over lines as sections of at most
// slackapi.MaxSectionText characters, never cutting a line in two (a line
// longer than a section is clamped), in at most maxListBlocks sections; the
// lines left over are counted on the last.
func (r *renderer) lines(head string, lines []string) {
	var chunks [][]string
	cur, size := []string{}, -1 // size counts a newline before each line
	if head != "" {
		cur, size = []string{head}, utf8.RuneCountInString(head)
	}
	for i, l := range lines {
		l = slackapi.ClampMrkdwn(l, slackapi.MaxSectionText-len("\n… +0000"))
		n := utf8.RuneCountInString(l)
		if len(cur) > 0 && size+1+n > slackapi.MaxSectionText {
			if len(chunks) == maxListBlocks-1 {
				// The last section: make room for the count of what is left.
				left := len(lines) - i
				for len(cur) > 1 && size+len(fmt.Sprintf("\n… +%d", left)) > slackapi.MaxSectionText {
					size -= 1 + utf8.RuneCountInString(cur[len(cur)-1])
					cur = cur[:len(cur)-1]
					left++
				}
				cur = append(cur, fmt.Sprintf("… +%d", left))
				chunks = append(chunks, cur)
				cur = nil
				break
			}
			chunks = append(chunks, cur)
			cur, size = nil, -1
		}
		cur = append(cur, l)
		size += 1 + n
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	for _, c := range chunks {
		r.section(strings.Join(c, "\n"))
	}
}

// ask renders a question's options: a button each, or checkboxes (whose
// Continue goes first in the navigation row).
func (r *renderer) ask(a *chat.Ask) {
	if a.Multi {
		opts := make([]*slack.OptionBlockObject, len(a.Options))
		for i, o := range a.Options {
			opts[i] = slack.NewOptionBlockObject(string(o.ID), slackapi.PlainText(o.Label, slackapi.MaxOptionText), nil)
		}
		r.add(slack.NewActionBlock(blockChoices, slack.NewCheckboxGroupsBlockElement(actCheck, opts...)))
		return
	}
	els := make([]slack.BlockElement, len(a.Options))
	for i, o := range a.Options {
		v := a.Here
		v.Option = o.ID
		els[i] = button(actAnswer+string(o.ID), encodeValue(r.m, chat.Action{Intent: chat.IntentAnswer, Value: v}), o.Label)
	}
	r.add(slack.NewActionBlock("itfit_options", els...))
}

func button(actionID, value, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, slackapi.PlainText(text, slackapi.MaxButtonText))
}

// element renders one action: a button (with its confirmation dialog), or
// a user picker.
func (r *renderer) element(a chat.Action) slack.BlockElement {
	if a.Pick != nil {
		return slack.NewOptionsSelectBlockElement(slack.OptTypeUser, slackapi.PlainText(a.Label, slackapi.MaxPlaceholder), actionID(a))
	}
	b := button(actionID(a), encodeValue(r.m, a), a.Label)
	switch a.Style {
	case chat.StylePrimary:
		b = b.WithStyle(slack.StylePrimary)
	case chat.StyleDanger:
		b = b.WithStyle(slack.StyleDanger)
	}
	if c := a.Confirm; c != nil {
		b.Confirm = slack.NewConfirmationBlockObject(
			slackapi.PlainText(c.Title, slackapi.MaxConfirmTitle), slackapi.PlainText(c.Text, slackapi.MaxConfirmText),
			slackapi.PlainText(c.Yes, slackapi.MaxConfirmButton), slackapi.PlainText(c.No, slackapi.MaxConfirmButton))
		if a.Style == chat.StyleDanger {
			b.Confirm.Style = slack.StyleDanger
		}
	}
	return b
}

// HomeView renders the App Home tab.
func HomeView(m chat.Message) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: Render(m).Blocks}}
}
