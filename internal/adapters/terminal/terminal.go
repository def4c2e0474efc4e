// Package terminal runs the audit in a terminal: numbered options in, a
// readable card out. It is the try-it-now adapter and the simplest example
// of translating input into engine calls and replies into text.
package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
)

// Engine is what the terminal needs of the conversation engine.
type Engine interface {
	Start(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Restart(ctx context.Context, k conversation.Key) (conversation.Reply, error)
	Answer(ctx context.Context, k conversation.Key, a conversation.Answer) (conversation.Reply, error)
	Back(ctx context.Context, k conversation.Key, rev int64) (conversation.Reply, error)
	Status(ctx context.Context, k conversation.Key) (conversation.Reply, error)
}

var _ Engine = (*conversation.Engine)(nil)

// maxLine bounds one line of input; longer lines are refused, not truncated.
const maxLine = 4096

// Chat runs one audit over in and out until it is done, the user quits or
// the input ends. Engine errors are shown as friendly messages and logged;
// the session in storage is never lost.
func Chat(ctx context.Context, e Engine, k conversation.Key, in io.Reader, out io.Writer, log *slog.Logger) error {
	w := &writer{w: out}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1024), maxLine)

	r, err := e.Start(ctx, k)
	for err != nil {
		w.printf("%s\n", conversation.UserMessage(err))
		log.Error("start audit", "err", err)
		if !prompt(w, sc, "Press Enter to try again, or type quit: ") || isQuit(sc.Text()) {
			return sc.Err()
		}
		r, err = e.Start(ctx, k)
	}
	if r.Event == conversation.Resumed {
		w.printf("Welcome back: picking up where you left off.\n")
	} else {
		w.printf("%s\n", intro)
	}
	if r.AuditChanged {
		w.printf("The questions have changed since you started, so the audit begins again.\n")
	}
	for {
		if r.Result != nil {
			w.printf("\n%s", Card(*r.Result))
			return w.err
		}
		if r.Question == nil {
			return w.err
		}
		w.printf("\n%s", Question(r))
		if !prompt(w, sc, "> ") {
			if err := sc.Err(); err != nil {
				if errors.Is(err, bufio.ErrTooLong) {
					return fmt.Errorf("an input line is longer than %d bytes", maxLine)
				}
				return err
			}
			w.printf("\nBye. Your answers are saved; run the same command to carry on.\n")
			return w.err
		}
		line := strings.TrimSpace(sc.Text())
		var next conversation.Reply
		switch strings.ToLower(line) {
		case "quit", "exit", "q":
			w.printf("Bye. Your answers are saved; run the same command to carry on.\n")
			return w.err
		case "help", "?":
			w.printf("%s\n", help)
			continue
		case "back", "b":
			next, err = e.Back(ctx, k, r.Rev)
		case "restart":
			next, err = e.Restart(ctx, k)
			if err == nil {
				w.printf("Starting again from the first question.\n")
			}
		case "status":
			w.printf("Question %d of %d.\n", r.Position, r.Total)
			continue
		default:
			opts, msg := ParseChoice(r.Question, line)
			if msg != "" {
				w.printf("%s\n", msg)
				continue
			}
			next, err = e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: opts})
		}
		if err != nil {
			log.Error("audit step", "err", err)
			w.printf("%s\n", conversation.UserMessage(err))
			continue
		}
		switch next.Event {
		case conversation.Stale:
			w.printf("That question was already answered; here is where you are.\n")
		case conversation.NoSession:
			w.printf("That audit has expired; starting again.\n")
			next, err = e.Start(ctx, k)
			if err != nil {
				w.printf("%s\n", conversation.UserMessage(err))
				continue
			}
		case conversation.WentBack:
			w.printf("Going back one question.\n")
		}
		if next.AuditChanged {
			w.printf("The questions have changed since you started, so the audit begins again.\n")
		}
		r = next
	}
}

const intro = `itfit: co-managed or fully managed IT?
A few questions about your IT team, the gaps nobody owns and how much control
you want to keep. Type a number to answer; "help" lists the other commands.`

const help = `Answer with the number of an option (for "choose all that apply", numbers
separated by commas, e.g. 1,3). Other commands: back, restart, status, quit.`

func prompt(w *writer, sc *bufio.Scanner, p string) bool {
	w.printf("%s", p)
	return sc.Scan()
}

func isQuit(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "quit" || s == "exit" || s == "q"
}

// ParseChoice reads "2" or "1,3" into option IDs. It returns a message for
// the user instead when the input is not a valid choice.
func ParseChoice(q *advisor.Question, line string) ([]advisor.OptionID, string) {
	if line == "" {
		return nil, "Please type the number of an option."
	}
	if !utf8.ValidString(line) {
		return nil, "That input is not valid text; please type the number of an option."
	}
	parts := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' })
	if q.Kind == advisor.Single && len(parts) > 1 {
		return nil, "Please choose just one option."
	}
	var opts []advisor.OptionID
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Sprintf("Please answer with a number from 1 to %d.", len(q.Options))
		}
		if n < 1 || n > len(q.Options) {
			return nil, fmt.Sprintf("There is no option %d; choose from 1 to %d.", n, len(q.Options))
		}
		opts = append(opts, q.Options[n-1].ID)
	}
	return opts, ""
}

// Question renders a question with its numbered options.
func Question(r conversation.Reply) string {
	var b strings.Builder
	q := r.Question
	fmt.Fprintf(&b, "Question %d of %d\n%s\n", r.Position, r.Total, q.Prompt)
	if q.Kind == advisor.Multi {
		b.WriteString("(choose all that apply, e.g. 1,3)\n")
	}
	for i, o := range q.Options {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, o.Label)
	}
	return b.String()
}

// Card renders the recommendation as plain text.
func Card(r advisor.Recommendation) string {
	var b strings.Builder
	rule := strings.Repeat("=", 64)
	fmt.Fprintf(&b, "%s\nRecommendation: %s (%s)\n%s\n%s\n", rule, r.VerdictName, r.Strength.Text(), rule, r.Summary)
	if r.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", r.Note)
	}
	if r.Tipping != "" {
		fmt.Fprintf(&b, "\nIt is a close call. %s\n", r.Tipping)
	}
	section(&b, "Why", reasonTexts(r.Reasons))
	if len(r.Counterpoints) > 0 {
		section(&b, "Pulling the other way", reasonTexts(r.Counterpoints))
	}
	section(&b, "What the provider would cover", r.ProviderCovers)
	section(&b, "What your team keeps", r.TeamKeeps)
	if len(r.Matrix) > 0 {
		b.WriteString("\nResponsibility matrix (agree it in writing before day one)\n")
		for _, m := range r.Matrix {
			fmt.Fprintf(&b, "  %-42s %s\n", m.Name, m.Owner.Text())
		}
	}
	b.WriteString("\nCo-managed vs fully managed\n")
	for _, c := range r.Comparison {
		fmt.Fprintf(&b, "  %s\n    co-managed:    %s\n    fully managed: %s\n", c.Dimension, c.CoManaged, c.FullyManaged)
	}
	section(&b, "Next steps", r.NextSteps)
	fmt.Fprintf(&b, "\nRevisit this decision by %s: teams and businesses change.\n", r.RevisitOn.Format("2 January 2006"))
	return b.String()
}

func section(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "  - %s\n", it)
	}
}

func reasonTexts(cs []advisor.Contribution) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Reason
	}
	return out
}

// writer keeps the first write error so the loop need not check each one.
type writer struct {
	w   io.Writer
	err error
}

func (w *writer) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, format, args...)
	}
}
