package slackapp

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/conversation"
)

// mentionRef is where someone @mentioned itfit: a channel, and the thread
// when the mention was a reply in one.
type mentionRef struct {
	channel, thread string
}

// mentionWord is the command in an @mention's text: the first word after
// the first mention (Slack writes them as <@U123>) that is not itself a
// mention, lower case, so "hey @itfit restart" is "restart"; "" for a bare
// mention.
func mentionWord(text string) string {
	fields := strings.Fields(text)
	isMention := func(f string) bool { return strings.HasPrefix(f, "<@") && strings.HasSuffix(f, ">") }
	start := slices.IndexFunc(fields, isMention)
	for _, f := range fields[start+1:] { // start is -1 without a mention: from the first word
		if !isMention(f) {
			return strings.ToLower(f)
		}
	}
	return ""
}

// mentioned answers "@itfit" in a channel as /itfit would: the audit starts
// or resumes in the person's DM, where their answers stay private, and the
// channel gets a note only they can see. Anything but start, restart and
// status gets the help, there.
func (a *App) mentioned(ctx context.Context, log *slog.Logger, w who, where mentionRef, word string) {
	n := notify{ws: w.ws}
	var note string
	switch word {
	case "", "start":
		a.startInDM(ctx, log, w, false, n)
		note = noteDM
	case "restart":
		a.startInDM(ctx, log, w, true, n)
		note = noteRestartDM
	case "status":
		a.status(ctx, log, w, n)
		note = "I've answered in your direct messages with itfit."
	case "help":
		note = helpText
	default:
		note = "I don't know “" + esc(clamp(word, 40)) + "”.\n" + helpText
	}
	if err := a.slack.ephemeral(ctx, w.ws, where, string(w.user), note); err != nil {
		// The DM has what matters; a missing note in the channel is not worth
		// telling the user about anywhere else.
		log.Warn("could not post the note for an @mention", "err", err)
	}
}

// ephemeral posts text that only user sees, in a channel (and thread).
func (c *client) ephemeral(ctx context.Context, ws conversation.WorkspaceID, where mentionRef, user, text string) error {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if where.thread != "" {
		opts = append(opts, slack.MsgOptionTS(where.thread))
	}
	return c.call(ctx, ws, "chat.postEphemeral", func(ctx context.Context, api API) error {
		_, err := api.PostEphemeralContext(ctx, where.channel, user, opts...)
		return err
	})
}
