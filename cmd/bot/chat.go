package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"

	"github.com/itfit/itfit/internal/adapters/terminal"
	"github.com/itfit/itfit/internal/conversation"
)

// chat runs the audit in the terminal. Logs go to stderr as text and only
// from warnings up, so they do not mix with the conversation.
func chat(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: max(cfg.LogLevel, slog.LevelWarn)}))
	a, err := loadAudit(cfg)
	if err != nil {
		return err
	}
	st, err := openStorage(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.close()
	if st.embedded {
		fmt.Fprintln(stdout, "(Using an embedded store: answers last until you quit. Set REDIS_URL to keep them.)")
	}
	if err := st.ping(ctx); err != nil {
		return fmt.Errorf("%s; your answers are kept in Redis, so start it and run this again", st.unreachable(err))
	}
	k := conversation.Key{
		UserKey:      conversation.UserKey{Platform: conversation.Terminal, Workspace: "local", User: conversation.UserID(localUser())},
		Conversation: "terminal",
	}
	return terminal.Chat(ctx, newEngine(cfg, a, st), k, stdin, stdout, log)
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
