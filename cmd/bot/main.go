// Command bot is itfit: `bot chat` runs the audit in a terminal, `bot serve`
// runs the HTTP server that Slack and Teams talk to.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	// Revisits fall in working hours of the user's zone; the distroless
	// image has no zoneinfo, so the binary carries its own.
	_ "time/tzdata"
)

// Stamped at build time: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(os.Stderr, "bot: %v\n", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "help"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "help", "-h", "--help":
		return printHelp(stdout)
	case "version", "--version":
		_, err := fmt.Fprintf(stdout, "itfit %s (commit %s)\n", version, commit)
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	switch cmd {
	case "chat":
		return runChat(ctx, cfg, stdin, stdout, stderr)
	case "check":
		switch {
		case len(args) == 1:
			return check(ctx, cfg, stdout, nil)
		case len(args) == 2 && args[1] == "--config-only":
			return checkConfigOnly(ctx, cfg, stdout)
		}
		fmt.Fprintf(stderr, "bot: check takes only --config-only, not %q\n", strings.Join(args[1:], " "))
		return errUsage
	case "webhooks":
		return webhooksCmd(ctx, cfg, args[1:], stdout, stderr)
	case "serve":
		log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
		return serve(ctx, cfg, log, nil)
	default:
		fmt.Fprintf(stderr, "bot: unknown command %q\n\n", cmd)
		_ = printHelp(stderr)
		return errUsage
	}
}
