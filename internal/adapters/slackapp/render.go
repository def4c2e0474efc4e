package slackapp

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// Block Kit's limits (https://docs.slack.dev/reference/block-kit). The
// audit file is operator-supplied, so every text is clamped to these rather
// than trusted to fit; a message over a limit is refused by Slack whole.
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxFields        = 10
	maxHeaderText    = 150
	maxButtonText    = 75
	maxOptionText    = 75
	maxPlaceholder   = 150
	maxContextText   = 2000 // per element (context text objects share the section rule loosely)
	maxComparisonRow = 20
	maxListItems     = 12
	maxMessageText   = 3000 // the top-level fallback text shown in notifications
)

// Message is what the adapter posts: blocks and the plain fallback text
// Slack shows in notifications and screen readers.
type Message struct {
	Text   string
	Blocks []slack.Block
}

func plain(s string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, clamp(s, limit), true, false)
}

func mrkdwn(s string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, clampMrkdwn(s, limit), false, false)
}

// clamp shortens s to at most limit characters, ending with an ellipsis.
func clamp(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// clampMrkdwn clamps text that holds escaped entities, without leaving half
// of one ("&am…") at the cut.
func clampMrkdwn(s string, limit int) string {
	c := clamp(s, limit)
	if c == s {
		return s
	}
	body := strings.TrimSuffix(c, "…")
	if amp := strings.LastIndexByte(body, '&'); amp >= 0 && !strings.Contains(body[amp:], ";") {
		body = body[:amp]
	}
	return body + "…"
}

// esc escapes the three characters Slack's mrkdwn treats as control
// characters, so an audit's text can never form a link or a mention.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func esc(s string) string { return escaper.Replace(s) }

// slackDate renders a date in the reader's own time zone, with a fallback
// for clients that cannot.
func slackDate(t time.Time) string {
	return "<!date^" + strconv.FormatInt(t.Unix(), 10) + "^{date_long}|" + t.UTC().Format("2 January 2006") + ">"
}

func button(actionID, value, text string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, plain(text, maxButtonText))
}

func restartButton(value string) *slack.ButtonBlockElement {
	b := button(actRestart, value, "Start over")
	b.Confirm = slack.NewConfirmationBlockObject(
		plain("Start over?", 100),
		plain("Your answers so far will be dropped and the audit begins again.", 300),
		plain("Start over", 30),
		plain("Keep going", 30),
	)
	return b
}

// QuestionMessage renders the question a reply waits on: the prompt, the
// options as buttons (checkboxes and Continue for "choose all that apply"),
// progress, Back and Start over.
func QuestionMessage(r conversation.Reply) Message {
	q := r.Question
	// Back and Start over name the question too, so the message they were
	// clicked on can be closed with its prompt still showing.
	here := choice{Rev: r.Rev, Question: q.ID}.String()
	prompt := "*" + esc(q.Prompt) + "*"
	if q.Help != "" {
		prompt += "\n" + esc(q.Help)
	}
	blocks := make([]slack.Block, 0, 4)
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(prompt, maxSectionText), nil, nil))

	nav := make([]slack.BlockElement, 0, 3)
	if q.Kind == advisor.Multi {
		opts := make([]*slack.OptionBlockObject, len(q.Options))
		for i, o := range q.Options {
			opts[i] = slack.NewOptionBlockObject(string(o.ID), plain(o.Label, maxOptionText), nil)
		}
		blocks = append(blocks, slack.NewActionBlock(blockChoices, slack.NewCheckboxGroupsBlockElement(actCheck, opts...)))
		nav = append(nav, button(actContinue, here, "Continue").WithStyle(slack.StylePrimary))
	} else {
		els := make([]slack.BlockElement, len(q.Options))
		for i, o := range q.Options {
			els[i] = button(actAnswer+string(o.ID), choice{Rev: r.Rev, Question: q.ID, Option: o.ID}.String(), o.Label)
		}
		blocks = append(blocks, slack.NewActionBlock("itfit_options", els...))
	}
	if r.Position > 1 {
		nav = append(nav, button(actBack, here, "Back"))
	}
	nav = append(nav, restartButton(here))
	blocks = append(blocks,
		slack.NewActionBlock("itfit_nav", nav...),
		slack.NewContextBlock("", mrkdwn(progress(r), maxContextText)),
	)
	return Message{Text: questionText(r), Blocks: blocks}
}

// questionText is QuestionMessage's fallback text.
func questionText(r conversation.Reply) string {
	return clamp(fmt.Sprintf("Question %d of %d: %s", r.Position, r.Total, r.Question.Prompt), maxMessageText)
}

func progress(r conversation.Reply) string {
	s := fmt.Sprintf("Question %d of %d", r.Position, r.Total)
	if r.Question.Kind == advisor.Multi {
		s += " · tick all that apply, then Continue"
	}
	return s
}

// AnsweredMessage replaces a question once it is answered: the prompt and
// the answer, with no buttons left to click.
func AnsweredMessage(e conversation.Echo) Message {
	labels := make([]string, len(e.Labels))
	for i, l := range e.Labels {
		labels[i] = esc(l)
	}
	answer := strings.Join(labels, ", ")
	return Message{
		Text: answeredText(e),
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn("*"+esc(e.Question.Prompt)+"*", maxSectionText), nil, nil),
			slack.NewContextBlock("", mrkdwn(":white_check_mark: "+answer, maxContextText)),
		},
	}
}

// answeredText is AnsweredMessage's fallback text.
func answeredText(e conversation.Echo) string {
	return clamp(e.Question.Prompt+" "+strings.Join(e.Labels, ", "), maxMessageText)
}

// ClosedMessage replaces a question that was left by Back or Start over.
func ClosedMessage(q *advisor.Question, note string) Message {
	return Message{
		Text: clamp(q.Prompt, maxMessageText),
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn("*"+esc(q.Prompt)+"*", maxSectionText), nil, nil),
			slack.NewContextBlock("", mrkdwn(note, maxContextText)),
		},
	}
}

// NoteMessage is a single line of text as a message.
func NoteMessage(text string) Message {
	return Message{Text: clamp(text, maxMessageText), Blocks: []slack.Block{
		slack.NewSectionBlock(mrkdwn(esc(text), maxSectionText), nil, nil),
	}}
}

func list(title string, items []string, numbered bool) string {
	var b strings.Builder
	b.WriteString("*" + title + "*")
	for i, it := range items {
		if i == maxListItems {
			fmt.Fprintf(&b, "\n…and %d more", len(items)-maxListItems)
			break
		}
		if numbered {
			fmt.Fprintf(&b, "\n%d. %s", i+1, esc(it))
		} else {
			b.WriteString("\n• " + esc(it))
		}
	}
	return b.String()
}

func reasons(cs []advisor.Contribution) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Reason
	}
	return out
}

// CardMessage renders the recommendation: verdict and strength, reasons,
// what the provider covers and what the team keeps, the responsibility
// matrix, the comparison, next steps, the revisit date, and the buttons.
func CardMessage(r advisor.Recommendation) Message { return cardMessage(r, nil, true) }

// RetakeCardMessage is the card of a retake: CardMessage with a "Since last
// time" section under the summary, saying whether the verdict moved and
// which answers changed. since may be nil (a first audit).
func RetakeCardMessage(r advisor.Recommendation, since *advisor.Change) Message {
	return cardMessage(r, since, true)
}

func cardMessage(r advisor.Recommendation, since *advisor.Change, buttons bool) Message {
	blocks := make([]slack.Block, 0, 17+min(len(r.Comparison), maxComparisonRow))
	add := func(b slack.Block) { blocks = append(blocks, b) }
	section := func(text string) { add(slack.NewSectionBlock(mrkdwn(text, maxSectionText), nil, nil)) }

	add(slack.NewHeaderBlock(plain("Recommendation: "+r.VerdictName, maxHeaderText)))
	section("*" + esc(r.VerdictName) + "* is " + r.Strength.Text() + ".\n" + esc(r.Summary))
	if since != nil {
		section(sinceLast(since, r))
	}
	if r.Note != "" {
		section(esc(r.Note))
	}
	if r.Tipping != "" {
		section("*It is a close call.* " + esc(r.Tipping))
	}
	if len(r.Reasons) > 0 {
		section(list("Why", reasons(r.Reasons), false))
	}
	if len(r.Counterpoints) > 0 {
		section(list("Pulling the other way", reasons(r.Counterpoints), false))
	}
	add(slack.NewDividerBlock())
	add(slack.NewSectionBlock(nil, []*slack.TextBlockObject{
		mrkdwn(list("What the provider would cover", r.ProviderCovers, false), maxFieldText),
		mrkdwn(list("What your team keeps", r.TeamKeeps, false), maxFieldText),
	}, nil))
	if len(r.Matrix) > 0 {
		var b strings.Builder
		b.WriteString("*Responsibility matrix* (agree it in writing before day one)")
		for _, m := range r.Matrix {
			b.WriteString("\n• " + esc(m.Name) + ": *" + m.Owner.Text() + "*")
		}
		section(b.String())
	}
	if len(r.Comparison) > 0 {
		add(slack.NewDividerBlock())
		section("*Co-managed vs fully managed*")
		for i, c := range r.Comparison {
			if i == maxComparisonRow {
				add(slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more rows", len(r.Comparison)-maxComparisonRow), maxContextText)))
				break
			}
			add(slack.NewSectionBlock(mrkdwn("*"+esc(c.Dimension)+"*", maxSectionText), []*slack.TextBlockObject{
				mrkdwn("_Co-managed:_ "+esc(c.CoManaged), maxFieldText),
				mrkdwn("_Fully managed:_ "+esc(c.FullyManaged), maxFieldText),
			}, nil))
		}
	}
	if len(r.NextSteps) > 0 {
		section(list("Next steps", r.NextSteps, true))
	}
	add(slack.NewContextBlock("", mrkdwn(
		"Revisit this decision by "+slackDate(r.RevisitOn)+": teams and businesses change. Completed "+slackDate(r.CompletedAt)+" · audit "+esc(r.AuditVersion),
		maxContextText)))
	if buttons {
		share := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Share with my account manager", maxPlaceholder), actShare)
		add(slack.NewActionBlock("itfit_card",
			button(actRemind, "12m", "Remind me in 12 months").WithStyle(slack.StylePrimary),
			share,
			restartButton("card"),
		))
	}
	return Message{
		Text:   clamp("Recommendation: "+r.VerdictName+" ("+r.Strength.Text()+"). "+r.Summary, maxMessageText),
		Blocks: blocks,
	}
}

// HomeView renders the App Home tab: what itfit is, a button to start or
// resume, and the user's last result with its date.
func HomeView(a *advisor.Audit, inProgress *conversation.Reply, last *conversation.Result) slack.HomeTabViewRequest {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(a.Title, maxHeaderText)),
		slack.NewSectionBlock(mrkdwn(esc(a.Intro), maxSectionText), nil, nil),
	}
	label, status := "Start the audit", "Your answers stay in your direct messages with itfit."
	if inProgress != nil && inProgress.Question != nil {
		label = "Resume the audit"
		status = fmt.Sprintf("You have an audit in progress: question %d of %d.", inProgress.Position, inProgress.Total)
	}
	blocks = append(blocks,
		slack.NewSectionBlock(mrkdwn(status, maxSectionText), nil, nil),
		slack.NewActionBlock("itfit_home", button(actHomeStart, "home", label).WithStyle(slack.StylePrimary)),
		slack.NewDividerBlock(),
	)
	if last == nil {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Your last result*\nNone yet: your recommendation appears here once you finish the audit.", maxSectionText), nil, nil))
	} else {
		r := last.Recommendation
		blocks = append(blocks,
			slack.NewSectionBlock(mrkdwn("*Your last result*\n*"+esc(r.VerdictName)+"*, "+r.Strength.Text()+".\n"+esc(r.Summary), maxSectionText), nil, nil),
			slack.NewContextBlock("", mrkdwn("Completed "+slackDate(last.CompletedAt)+" · revisit by "+slackDate(r.RevisitOn), maxContextText)),
		)
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn("“Remind me in 12 months” on your card schedules a revisit reminder. "+
		"`/itfit reminders` lists, snoozes or stops them; `/itfit forget` erases everything itfit holds about you.", maxContextText)))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// withNote puts a line of context above a message.
func withNote(m Message, note string) Message {
	blocks := make([]slack.Block, 0, len(m.Blocks)+1)
	blocks = append(blocks, slack.NewContextBlock("itfit_note", mrkdwn(esc(note), maxContextText)))
	m.Blocks = append(blocks, m.Blocks...)
	m.Text = clamp(note+" "+m.Text, maxMessageText)
	return m
}
