package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/itfit/itfit/internal/webhooks"
)

const webhooksUsage = `usage: bot webhooks list
       bot webhooks replay KEY... | --all
       bot webhooks drop KEY... | --all
KEY is a dead letter's endpoint/event ID, as list prints it.`

// webhooksCmd is `bot webhooks`: the operator's view of the webhook
// deliveries that ran out of attempts (dead letters), to list, send again
// (replay: at the end of the person's queue, with the same webhook-id and
// body, and a fresh set of attempts) or drop.
func webhooksCmd(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, webhooksUsage)
		return errUsage
	}
	verb, keys := args[0], args[1:]
	all := len(keys) == 1 && keys[0] == "--all"
	switch {
	case verb == "list" && len(keys) == 0:
	case (verb == "replay" || verb == "drop") && len(keys) > 0 && (all || !strings.HasPrefix(keys[0], "-")):
	default:
		fmt.Fprintln(stderr, webhooksUsage)
		return errUsage
	}
	if cfg.RedisURL == "" {
		return errors.New("webhooks: REDIS_URL is not set: dead letters live in the Redis bot serve uses")
	}
	eps, err := webhooks.Parse(cfg.Webhooks)
	if err != nil {
		return err
	}
	st, err := openStorage(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.close()
	svc, err := webhooks.New(st.bg, eps, webhooks.Options{})
	if err != nil {
		return err
	}
	switch verb {
	case "list":
		list, err := svc.DeadLetters(ctx, 1000)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			_, err := fmt.Fprintln(stdout, "no dead letters")
			return err
		}
		fmt.Fprintf(stdout, "%d dead letters, newest first (kept 14 days, at most 1,000):\n", len(list))
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tEVENT\tUSER\tATTEMPTS\tDEAD SINCE\tLAST ERROR")
		for _, d := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s:%s:%s\t%d\t%s\t%s\n", d.Key(), d.Type, d.Platform, d.Workspace, d.User, d.Attempts,
				d.At.UTC().Format(time.RFC3339), d.Error)
		}
		return tw.Flush()
	case "replay":
		if all {
			done, err := svc.Replay(ctx, "", true)
			fmt.Fprintf(stdout, "replayed %d dead letters\n", len(done))
			return err
		}
		for _, k := range keys {
			if _, err := svc.Replay(ctx, k, false); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "replayed %s\n", k)
		}
	case "drop":
		if all {
			done, err := svc.Drop(ctx, "", true)
			fmt.Fprintf(stdout, "dropped %d dead letters\n", len(done))
			return err
		}
		for _, k := range keys {
			if _, err := svc.Drop(ctx, k, false); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "dropped %s\n", k)
		}
	}
	return nil
}
