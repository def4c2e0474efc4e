package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"

	"golang.org/x/term"

	"github.com/itfit/itfit/internal/adapters/terminal"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
)

// runChat runs the audit in the terminal. Nothing is logged into the
// conversation: a person at a terminal reads what the chat layer says, and
// a log line between two questions is noise.
func runChat(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	log := slog.New(slog.DiscardHandler)
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
	d := deps{engine: newEngine(cfg, a, st), rdb: st.rdb}
	if err := d.complete(log); err != nil {
		return err
	}
	who := chat.Who{Key: conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Terminal, Workspace: "local", User: conversation.UserID(localUser())},
		Conversation: "terminal",
	}}
	return terminal.Chat(ctx, d.flows, who, stdin, stdout, terminal.Options{Width: width(stdout), Kept: !st.embedded, Echo: !isTerminal(stdin)})
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
