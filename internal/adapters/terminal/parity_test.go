package terminal_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adapters/terminal"
	"github.com/itfit/itfit/internal/advisor"
	ichat "github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/parity"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
)

// TestParity runs the parity scripts through the terminal's stdin, at 80
// columns, on real Redis.
func TestParity(t *testing.T) {
	for _, l := range locale.All {
		t.Run(string(l), func(t *testing.T) {
			parity.RunIn(t, "terminal", l, func(t *testing.T) parity.Driver {
				b := redistest.Real(t)
				e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix})
				claims := conversation.NewClaims(b.Client, b.Prefix, 0, nil)
				langs := conversation.NewLanguages(b.Client, b.Prefix, 0)
				reg := &erasure.Registry{}
				reg.Register("sessions", erasure.Sessions(e))
				reg.Register("claims", erasure.Other(claims))
				reg.Register("languages", erasure.Other(langs))
				flows, err := ichat.New(ichat.Options{Engine: e, Eraser: reg, Claims: claims, Languages: langs, Log: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				d := &termDriver{flows: flows, b: b, key: key("parity"), audit: e.Audit().In(l), w: parity.In(l)}
				t.Cleanup(func() { d.stop(t) })
				return d
			})
		})
	}
}

// locales are what $LANG says for each language, as a person's shell would.
var locales = map[locale.Lang]string{locale.English: "en_CA.UTF-8", locale.French: "fr_CA.UTF-8"}

// termDriver is a person at a terminal: `bot chat` running, its input a
// pipe the driver types into, its output read back.
type termDriver struct {
	flows *ichat.Service
	b     redistest.Backend
	key   conversation.Key
	audit *advisor.Audit // in the person's language
	w     parity.Words

	in   *io.PipeWriter
	out  *screen
	done chan error
	// current is the question last shown, to type its options' numbers.
	current *advisor.Question
}

func (d *termDriver) Can(c parity.Capability) bool { return false }

// start runs a chat, as `go run ./cmd/bot chat` does, and waits for its
// first prompt.
func (d *termDriver) start(t *testing.T) {
	t.Helper()
	r, w := io.Pipe()
	d.in, d.done = w, make(chan error, 1)
	if d.out == nil {
		d.out = newScreen()
	}
	go func() {
		err := terminal.Chat(context.Background(), d.flows, ichat.Who{Key: d.key}, r, d.out, terminal.Options{Width: 80, Kept: true, Locale: locales[d.w.Lang]})
		// The screen is marked ended before done is sent, so that a
		// restart (Say "") clears that mark after it, never before: the
		// new run's wait must not take the old run's end for its prompt.
		d.out.finished()
		d.done <- err
	}()
	d.wait(t)
}

func (d *termDriver) stop(t *testing.T) {
	if d.in == nil {
		return
	}
	d.in.Close()
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("chat: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the chat did not end at the end of its input")
	}
	d.in = nil
}

func (d *termDriver) wait(t *testing.T) {
	t.Helper()
	if !d.out.awaitPrompt(5 * time.Second) {
		t.Fatalf("no prompt from the terminal; it printed:\n%s", d.out.all())
	}
}

func (d *termDriver) typeLine(t *testing.T, s string) {
	t.Helper()
	d.out.mark()
	if _, err := io.WriteString(d.in, s+"\n"); err != nil {
		t.Fatal(err)
	}
	d.wait(t)
}

func (d *termDriver) Say(t *testing.T, word string) {
	switch {
	case d.in == nil:
		d.start(t)
		if word != "" {
			d.typeLine(t, word)
		}
	case word == "":
		// The same command again: quit, and run it anew.
		d.out.mark()
		io.WriteString(d.in, "quit\n")
		<-d.done
		d.out.restart()
		d.in = nil
		d.start(t)
	default:
		d.typeLine(t, word)
	}
}

// Answer types the numbers of the options on the question shown (a
// number past the last for an option the question does not have).
func (d *termDriver) Answer(t *testing.T, opts ...advisor.OptionID) {
	q := d.current
	if q == nil {
		t.Fatal("no question to answer")
	}
	var nums []string
	for _, o := range opts {
		n := len(q.Options) + 1
		for i, qo := range q.Options {
			if qo.ID == o {
				n = i + 1
			}
		}
		nums = append(nums, strconv.Itoa(n))
	}
	d.typeLine(t, strings.Join(nums, ","))
}

func (d *termDriver) Press(t *testing.T, intent ichat.Intent) {
	switch intent {
	case ichat.IntentBack:
		d.typeLine(t, "back")
	case ichat.IntentErase:
		d.typeLine(t, d.w.T("y")) // the y/N the terminal asked, in its language
	default:
		t.Fatalf("a terminal has no %s button", intent)
	}
}

func (d *termDriver) PressStale(t *testing.T)     { t.Fatal("a terminal keeps no old messages") }
func (d *termDriver) Share(t *testing.T)          { t.Fatal("no sharing in a terminal") }
func (d *termDriver) Invite(t *testing.T, _ bool) { t.Fatal("no managers in a terminal") }
func (d *termDriver) Deliver(t *testing.T)        { t.Fatal("no nudges in a terminal") }

func (d *termDriver) User() conversation.UserKey { return d.key.UserKey }
func (d *termDriver) Store() (redis.UniversalClient, keys.Prefix) {
	return d.b.Client, d.b.Prefix
}
func (d *termDriver) Reminders(*testing.T) []revisit.Reminder { return nil }
func (d *termDriver) Extra(string) bool                       { return false }

// Seen reads what the terminal printed since the last call.
func (d *termDriver) Seen(t *testing.T) parity.Screen {
	lines := d.out.since()
	var s parity.Screen
	var words []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, d.w.Prefix("Question %d of %d")) && strings.Contains(l, strings.Split(d.w.T("Question %d of %d"), "%d")[1]):
			pos, total := progress(l)
			var prompt []string
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "  1. ") && !strings.HasPrefix(lines[i+1], "(") {
				i++
				prompt = append(prompt, strings.TrimSpace(lines[i]))
			}
			q := d.question(strings.Join(prompt, " "))
			if q == nil {
				t.Fatalf("no question reads %q", prompt)
			}
			d.current = q
			s.Questions = append(s.Questions, parity.Asked{ID: q.ID, Pos: pos, Total: total})
		case strings.HasPrefix(l, d.w.Prefix("Recommendation: %s")):
			s.Cards = append(s.Cards, d.card(lines[i:]))
			d.current = nil
		default:
			words = append(words, strings.TrimSpace(l))
		}
	}
	if text := strings.Join(strings.Fields(strings.Join(words, " ")), " "); text != "" && text != ">" {
		s.Texts = append(s.Texts, text)
	}
	return s
}

// question is the question whose prompt (help included) reads text.
func (d *termDriver) question(text string) *advisor.Question {
	for i := range d.audit.Questions {
		q := &d.audit.Questions[i]
		if strings.HasPrefix(text, q.Prompt) {
			return q
		}
	}
	return nil
}

func progress(l string) (int, int) {
	f := strings.Fields(l) // Question N of M
	pos, _ := strconv.Atoi(f[1])
	total, _ := strconv.Atoi(f[3])
	return pos, total
}

// card reads a recommendation from its lines.
func (d *termDriver) card(lines []string) parity.Card {
	name := strings.TrimPrefix(lines[0], d.w.Prefix("Recommendation: %s"))
	c := parity.Card{}
	for v, vt := range d.audit.Verdicts {
		if vt.Name == name {
			c.Verdict = v
		}
	}
	text := strings.Join(lines, " ")
	for _, st := range []advisor.Strength{advisor.Strong, advisor.Moderate, advisor.Close} {
		if strings.Contains(text, strings.TrimRight(fmt.Sprintf(d.w.T(" is %s. "), d.w.Strength(st)), " ")) {
			c.Strength = st
		}
	}
	c.Since = strings.Contains(text, d.w.T("Since last time"))
	parity.ReadCardIn(d.w.Lang, &c, cardParts(d.w, lines[1:]))
	return c
}

// cardParts reads a card's lines as parity's parts: a line at the margin
// opens a part; "  - " starts an item and deeper lines continue it; other
// indented lines (a paragraph, wrapped) are lines of their own, which
// parity joins; the matrix's padded "label   owner" rows become "label:
// owner".
func cardParts(w parity.Words, lines []string) []parity.Part {
	var parts []parity.Part
	for _, l := range lines {
		if !strings.HasPrefix(l, " ") {
			parts = append(parts, parity.Part{Title: l})
			continue
		}
		if len(parts) == 0 {
			parts = append(parts, parity.Part{})
		}
		p := &parts[len(parts)-1]
		switch {
		case strings.HasPrefix(l, "  - "):
			p.Lines = append(p.Lines, strings.TrimPrefix(l, "  - "))
		case strings.HasPrefix(l, "    ") && len(p.Lines) > 0:
			p.Lines[len(p.Lines)-1] += " " + strings.TrimSpace(l)
		case p.Title == w.T("Responsibility matrix (agree it in writing before day one)"):
			if m := factRow.FindStringSubmatch(l); m != nil {
				p.Lines = append(p.Lines, m[1]+": "+m[2])
			}
		default:
			p.Lines = append(p.Lines, strings.TrimSpace(l))
		}
	}
	return parts
}

var factRow = regexp.MustCompile(`^  (.+?)\s{2,}(\S.*)$`)

// screen is the terminal's output: it knows when the chat waits for a
// line (its output ends with a prompt) and what was printed since a mark.
type screen struct {
	mu     sync.Mutex
	cond   *sync.Cond
	b      strings.Builder
	from   int // what Seen has read
	marked int // where the last input began
	ended  bool
}

func newScreen() *screen {
	s := &screen{}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.b.Write(p)
	s.mu.Unlock()
	s.cond.Broadcast()
	return len(p), nil
}

func (s *screen) finished() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *screen) restart() {
	s.mu.Lock()
	s.ended = false
	s.mu.Unlock()
}

func (s *screen) mark() {
	s.mu.Lock()
	s.marked = s.b.Len()
	s.mu.Unlock()
}

func (s *screen) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// awaitPrompt waits until the output since the mark ends with a prompt.
func (s *screen) awaitPrompt(d time.Duration) bool {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, s.cond.Broadcast)
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		out := s.b.String()[s.marked:]
		if s.ended || strings.HasSuffix(out, "> ") || strings.HasSuffix(out, "(y/N) ") || strings.HasSuffix(out, "(o/N) ") || strings.HasSuffix(out, "type quit: ") || strings.HasSuffix(out, "tapez quitter\u00a0: ") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		s.cond.Wait()
	}
}

// since is the lines printed since the last call, prompts taken off.
func (s *screen) since() []string {
	s.mu.Lock()
	out := s.b.String()[s.from:]
	s.from = s.b.Len()
	s.mu.Unlock()
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimPrefix(l, "> ")
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}
