package terminal_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/adapters/terminal"
	"github.com/itfit/itfit/internal/advisor"
	ichat "github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/redistest"
)

// lines is the user at the keyboard: Read hands over one line per call,
// and before handing over line i runs before[i], if any. bufio.Scanner
// reads only when it has no whole line left, so before[i] runs after the
// chat has fully handled line i-1: a deterministic place to cut Redis or
// to act as another replica, without timing.
type lines struct {
	ls     []string
	before map[int]func()
	i      int
}

func (l *lines) Read(p []byte) (int, error) {
	if l.i >= len(l.ls) {
		return 0, io.EOF
	}
	if f := l.before[l.i]; f != nil {
		f()
	}
	s := l.ls[l.i] + "\n"
	if len(p) < len(s) {
		// Never happens with bufio.Scanner's buffer; a test that sends a
		// longer line than it reads would be wrong, so say so.
		panic("lines: read buffer smaller than a line")
	}
	l.i++
	return copy(p, s), nil
}

func key(user string) conversation.Key {
	return conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Terminal, Workspace: "local", User: conversation.UserID(user)},
		Conversation: "terminal",
	}
}

// chat runs the terminal over the real chat layer and engine.
func chat(t *testing.T, e *conversation.Engine, k conversation.Key, in io.Reader) (string, error) {
	t.Helper()
	return chatWidth(t, e, k, in, 80)
}

func chatWidth(t *testing.T, e *conversation.Engine, k conversation.Key, in io.Reader, width int) (string, error) {
	t.Helper()
	rdb := e.Redis()
	claims := conversation.NewClaims(rdb, e.Prefix(), 0, nil)
	reg := &erasure.Registry{}
	reg.Register("sessions", erasure.Sessions(e))
	reg.Register("claims", erasure.Other(claims))
	flows, err := ichat.New(ichat.Options{Engine: e, Eraser: reg, Claims: claims, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = terminal.Chat(context.Background(), flows, ichat.Who{Key: k}, in, &out, terminal.Options{Width: width, Kept: true})
	return out.String(), err
}

func wantAll(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestCommandsQuitAndResume: help, status, a refused double choice on a
// single-choice question, invalid UTF-8, quit; a second chat resumes at the
// same question; restart starts over, on every Redis backend.
func TestCommandsQuitAndResume(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix})
			k := key("commands")
			out, err := chat(t, e, k, &lines{ls: []string{"help", "2", "status", "1,2", "\xff\xfe", "quit"}})
			if err != nil {
				t.Fatal(err)
			}
			wantAll(t, out,
				advisor.Default().Intro[:40],
				"back: the previous question again",
				"Question 2 of ",
				"Please choose just one option.",
				"That input is not valid text",
				"Bye. Your answers are saved",
			)
			if strings.Contains(out, "Question 3 of") {
				t.Fatalf("a refused input advanced the audit:\n%s", out)
			}

			out, err = chat(t, e, k, &lines{ls: []string{"restart", "quit"}})
			if err != nil {
				t.Fatal(err)
			}
			wantAll(t, out, "Welcome back: picking up where you left off.", "Question 2 of ", "Starting again from the first question")
			if i := strings.LastIndex(out, "Question 1 of 11"); i < strings.Index(out, "Question 2 of ") {
				t.Fatalf("restart did not go back to the first question:\n%s", out)
			}
		})
	}
}

// TestLongLineEndsTheChatAndKeepsTheAnswers: a line over the limit ends
// the chat with an error that says so, and the answers before it stand.
func TestLongLineEndsTheChatAndKeepsTheAnswers(t *testing.T) {
	b := redistest.Real(t)
	e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix})
	k := key("long")
	_, err := chat(t, e, k, strings.NewReader("2\n"+strings.Repeat("1", 5000)+"\n1\n"))
	if err == nil || !strings.Contains(err.Error(), "longer than 4096 bytes") {
		t.Fatalf("err = %v", err)
	}
	r, err := e.Status(context.Background(), k)
	if err != nil || r.Position != 2 {
		t.Fatalf("after the long line: position %d, %v; want 2", r.Position, err)
	}
}

// TestRedisCutMidChat: with Redis gone the user is told their answers are
// safe and may try again; once it is back the same answer carries on.
func TestRedisCutMidChat(t *testing.T) {
	b := redistest.Real(t)
	proxy, rdb := redistest.CuttableClient(t, b)
	e := conversation.New(rdb, advisor.Default(), conversation.Options{Prefix: b.Prefix})
	k := key("cut")

	out, err := chat(t, e, k, &lines{
		ls:     []string{"2", "1", "1", "quit"},
		before: map[int]func(){1: proxy.Cut, 2: proxy.Restore},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out, "itfit is temporarily unavailable. Your answers so far are safe", "Question 3 of ")
	if strings.Count(out, "Question 2 of ") != 1 || strings.Count(out, "Question 3 of ") != 1 {
		t.Fatalf("question 2 should be shown once, and after the failure the same answer leads to question 3:\n%s", out)
	}
}

// TestAnotherDeviceAndExpiry: an answer given elsewhere meanwhile (another
// terminal on the same Redis) makes this one stale, and the chat shows
// where the audit now is; a session that expired starts again.
func TestAnotherDeviceAndExpiry(t *testing.T) {
	b := redistest.Real(t)
	e := conversation.New(b.Client, advisor.Default(), conversation.Options{Prefix: b.Prefix})
	k := key("elsewhere")
	ctx := context.Background()
	elsewhere := func() {
		r, err := e.Status(ctx, k)
		if err != nil {
			t.Error(err)
			return
		}
		last := r.Question.Options[len(r.Question.Options)-1].ID // not what this terminal will type
		if _, err := e.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: r.Question.ID, Options: []advisor.OptionID{last}}); err != nil {
			t.Error(err)
		}
	}
	expire := func() { redistest.Clean(t, b.Client, b.Prefix) }
	out, err := chat(t, e, k, &lines{
		ls:     []string{"2", "1", "1", "restart", "quit"},
		before: map[int]func(){1: elsewhere, 2: expire},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantAll(t, out,
		"That question was already answered, so nothing changed. Here is where you are.",
		"Question 3 of ",
		"That audit has expired, so that answer changed nothing.",
	)
	if i, j := strings.Index(out, "expired"), strings.LastIndex(out, "Question 1 of 11"); j < i {
		t.Fatalf("after expiry the audit should start at question 1:\n%s", out)
	}
}

// TestFrenchTableHeadingsTakeTheFrenchColon: a table's column headings
// end as each language writes a label: "TI cogérées : …" in French (a
// space before the colon, as every French sentence of the catalogue has
// it), "Co-managed: …" in English.
func TestFrenchTableHeadingsTakeTheFrenchColon(t *testing.T) {
	for _, c := range []struct {
		name      string
		lang      locale.Lang // as the flows stamp it
		want, not string
	}{
		{"card_comanaged", locale.English, "    Co-managed: ", "Co-managed :"},
		{"card_comanaged.fr-CA", locale.French, "    TI cogérées : ", "TI cogérées:"},
	} {
		var found bool
		for _, s := range chattest.AllSamples() {
			if s.Name != c.name {
				continue
			}
			found = true
			s.Msg.Lang = c.lang
			out := terminal.Render(s.Msg, 80)
			if !strings.Contains(out, c.want) || strings.Contains(out, c.not) {
				t.Errorf("%s: want %q (and no %q) in\n%s", c.name, c.want, c.not, out)
			}
		}
		if !found {
			t.Fatalf("no sample %s", c.name)
		}
	}
}
