// Package terminal runs the audit in a terminal: numbered options in, a
// readable card out. It is the try-it-now adapter and the smallest example
// of one: it reads lines, translates them into the chat layer's inputs and
// prints its outputs as wrapped text.
package terminal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
)

// Flows is what the terminal asks of the chat layer (*chat.Service).
type Flows interface {
	Handle(ctx context.Context, in chat.Input) []chat.Output
	Views() *chat.Views
}

var _ Flows = (*chat.Service)(nil)

// maxLine bounds one line of input; longer lines are refused, not truncated.
const maxLine = 4096

// Options tune a chat.
type Options struct {
	// Width is the terminal's width in columns; text is wrapped to it
	// (default 80).
	Width int
	// Kept says whether the store outlives the process, which is what the
	// goodbye tells the person (and, when it does not, the greeting).
	Kept bool
	// Echo prints each line read after its prompt, as a terminal would
	// have shown it while it was typed: for input that is not a terminal
	// (a pipe, a file), so the transcript reads question, answer, reply.
	Echo bool
}

// Chat runs the audit over in and out until the person quits or the input
// ends. Every word it prints comes from the chat layer.
func Chat(ctx context.Context, f Flows, who chat.Who, in io.Reader, out io.Writer, o Options) error {
	if o.Width <= 0 {
		o.Width = 80
	}
	who.Surface = chat.SurfaceTerminal
	t := &term{flows: f, views: f.Views(), who: who, w: &writer{w: out, width: o.Width}, kept: o.Kept}
	raw := bufio.NewScanner(in)
	raw.Buffer(make([]byte, 0, 1024), maxLine)
	sc := &lines{Scanner: raw, w: t.w, echo: o.Echo}
	if !o.Kept {
		t.print(t.views.Ephemeral())
	}

	t.show(f.Handle(ctx, chat.Input{Who: who}))
	for t.current == nil {
		// Nothing to answer yet: the start failed, and said why.
		t.w.prompt(t.views.RetryPrompt())
		if !sc.Scan() || isQuit(sc.Text()) {
			return t.end(sc, false)
		}
		t.show(f.Handle(ctx, chat.Input{Who: who}))
	}
	for {
		t.w.prompt("> ")
		if !sc.Scan() {
			return t.end(sc, true)
		}
		line := strings.TrimSpace(sc.Text())
		if isQuit(line) {
			t.print(t.views.Bye(t.kept))
			return t.w.err
		}
		input, ok := t.read(line)
		if !ok {
			continue
		}
		outs := f.Handle(ctx, input)
		if c := confirmation(outs); c != nil {
			// Asked to confirm (forget): y/N here, then the press.
			t.show(outs)
			t.w.prompt(c.Confirm.Title + " " + t.views.YesNo() + " ")
			if !sc.Scan() {
				return t.end(sc, true)
			}
			if !t.views.Affirmative(sc.Text()) {
				continue // nothing erased; the person carries on where they were
			}
			outs = f.Handle(ctx, chat.Input{Who: who, Act: &chat.Act{Intent: c.Intent, Value: c.Value}})
		}
		t.show(outs)
	}
}

// term is one terminal chat: what it shows and what the person answers.
type term struct {
	flows   Flows
	views   *chat.Views
	who     chat.Who
	w       *writer
	kept    bool
	current *chat.Message // the question (or card) the person is at
}

// lines reads the person's lines, echoing each when the input is not a
// terminal.
type lines struct {
	*bufio.Scanner
	w    *writer
	echo bool
}

func (l *lines) Scan() bool {
	ok := l.Scanner.Scan()
	if ok && l.echo {
		l.w.printf("%s\n", l.Text())
	}
	return ok
}

func (t *term) end(sc *lines, bye bool) error {
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("an input line is longer than %d bytes", maxLine)
		}
		return err
	}
	if bye {
		t.w.printf("\n")
		t.print(t.views.Bye(t.kept))
	}
	return t.w.err
}

func isQuit(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "quit" || s == "exit" || s == "q"
}

// confirmation is an action among outs that asks to be confirmed.
func confirmation(outs []chat.Output) *chat.Action {
	for _, o := range outs {
		for i := range o.Msg.Actions {
			if a := &o.Msg.Actions[i]; a.Confirm != nil && a.Intent == chat.IntentErase {
				return a
			}
		}
	}
	return nil
}

// read translates a typed line: a command word, "back", or option numbers
// for the current question.
func (t *term) read(line string) (chat.Input, bool) {
	in := chat.Input{Who: t.who}
	m := t.current
	switch strings.ToLower(line) {
	case "back", "b":
		var here chat.Value
		if m.Ask != nil {
			here = m.Ask.Here
		}
		in.Act = &chat.Act{Intent: chat.IntentBack, Rev: m.Rev, Value: here}
		return in, true
	case "help", "?", "restart", "status", "forget":
		in.Word = strings.ToLower(line)
		return in, true
	}
	if m.Ask == nil {
		// At the card there is nothing to answer: a word is a command.
		in.Word = strings.ToLower(line)
		return in, true
	}
	opts, problem := parseChoice(m.Ask, line)
	in.Act = &chat.Act{Intent: chat.IntentAnswer, Rev: m.Rev, Value: m.Ask.Here, Picked: opts, Problem: problem}
	return in, true
}

// parseChoice reads "2" or "1,3" into the options of a question.
func parseChoice(a *chat.Ask, line string) ([]advisor.OptionID, chat.Problem) {
	switch {
	case line == "":
		return nil, chat.Problem{Kind: chat.EmptyAnswer}
	case !utf8.ValidString(line):
		return nil, chat.Problem{Kind: chat.InvalidText}
	}
	parts := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	seen := map[int]bool{}
	var opts []advisor.OptionID
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, chat.Problem{Kind: chat.NotANumber, Max: len(a.Options)}
		}
		if n < 1 || n > len(a.Options) {
			return nil, chat.Problem{Kind: chat.NoSuchOption, N: n, Max: len(a.Options)}
		}
		if seen[n] {
			return nil, chat.Problem{Kind: chat.RepeatedOption, N: n}
		}
		seen[n] = true
		opts = append(opts, a.Options[n-1].ID)
	}
	if len(opts) > 1 && a.Question != nil {
		for n := range seen {
			if o, ok := a.Question.Option(a.Options[n-1].ID); ok && o.Exclusive {
				return nil, chat.Problem{Kind: chat.ExclusiveOption, N: n}
			}
		}
	}
	return opts, chat.Problem{}
}

// show prints outputs and remembers the question (or card) they lead to.
// Replacements are left out: the person typed the answer they replace.
func (t *term) show(outs []chat.Output) {
	for _, o := range outs {
		if o.Op == chat.Replace {
			continue
		}
		t.print(o.Msg)
		if o.Op == chat.Post && (o.Msg.Ask != nil || o.Msg.Kind == chat.KindCard) {
			m := o.Msg
			t.current = &m
		}
	}
}

func (t *term) print(m chat.Message) {
	t.w.printf("%s", Render(m, t.w.width))
}

// writer keeps the first write error so the loop need not check each one.
type writer struct {
	w     io.Writer
	width int
	err   error
}

func (w *writer) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.w, format, args...)
	}
}

func (w *writer) prompt(p string) { w.printf("%s", p) }
