package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/itfit/itfit/internal/adapters/terminal"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
)

// runChat runs the audit in the terminal. Nothing is logged into the
// conversation: a person at a terminal reads what the chat layer says, and
// a log line between two questions is noise.
func runChat(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	log := slog.New(slog.DiscardHandler)
	lang, err := chatFlags(args, stderr)
	if err != nil {
		return err
	}
	a, err := loadAudit(cfg)
	if err != nil {
		return err
	}
	st, err := openStorage(cfg, log)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.ping(ctx); err != nil {
		return fmt.Errorf("%s; your answers are kept in Redis, so start it and run this again", st.unreachable(err))
	}
	d := deps{engine: newEngine(cfg, a, st), rdb: st.rdb, historyTTL: cfg.HistoryTTL}
	if err := d.complete(log); err != nil {
		return err
	}
	env := envLocale()
	who := chat.Who{Key: conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Terminal, Workspace: "local", User: conversation.UserID(localUser())},
		Conversation: "terminal",
	}}
	return terminal.Chat(ctx, d.flows, who, stdin, stdout, terminal.Options{Width: width(stdout), Kept: !st.embedded, Echo: !isTerminal(stdin), Lang: lang, Locale: env})
}

// chatFlags reads bot chat's flags: --lang (en or fr) asks for a language
// outright.
func chatFlags(args []string, stderr io.Writer) (locale.Lang, error) {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("lang", "", "the language of the audit: en or fr (default: a language chosen before, else $LANG, else en)")
	if err := fs.Parse(args); err != nil {
		return "", errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bot: chat takes only --lang, not %q\n", strings.Join(fs.Args(), " "))
		return "", errUsage
	}
	if *name == "" {
		return "", nil
	}
	l, ok := locale.Parse(*name)
	if !ok {
		fmt.Fprintf(stderr, "bot: --lang: got %q, want en or fr\n", *name)
		return "", errUsage
	}
	return l, nil
}

// envLocale is the locale the environment sets for messages, as POSIX
// reads it: LC_ALL, else LC_MESSAGES, else LANG.
func envLocale() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// isTerminal reports whether f is a terminal (which echoes what is typed).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// width is the terminal's width: the terminal's own when stdout is one,
// else $COLUMNS, else 80.
func width(out io.Writer) int {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// localUser names the terminal's user: $USER first, so two people sharing
// an account (or tests) can keep separate audits.
func localUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "local"
}
