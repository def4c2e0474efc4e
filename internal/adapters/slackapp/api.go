package slackapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/obs"
)

// API is the part of Slack's Web API the adapter calls; *slack.Client has it.
type API interface {
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
	PublishViewContext(ctx context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error)
}

var _ API = (*slack.Client)(nil)

// Retry bounds for 429s: Slack's Retry-After is usually a second or two; a
// wait longer than maxRetryAfter would outlast the background task anyway.
const (
	maxRetries    = 3
	maxRetryAfter = 20 * time.Second
)

// client wraps the Web API with what every call needs: 429 handling,
// metrics, and errors that name the call.
type client struct {
	api     API
	metrics *obs.Metrics
	sleep   func(ctx context.Context, d time.Duration) error
	http    *http.Client
	// allowURL says whether a response_url may be posted to; it keeps a
	// payload from turning the bot into a proxy to arbitrary hosts.
	allowURL func(*url.URL) bool
	// noWait returns a 429 at once instead of waiting it out: a nudge hands
	// Slack's Retry-After to the scheduler, which holds no lease that long.
	noWait bool
}

// forNudges is the same client for the revisit scheduler: the same Web API
// (and later the same per-workspace tokens), without waiting on 429s.
func (c *client) forNudges() *client {
	cp := *c
	cp.noWait = true
	return &cp
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs f, waiting out 429s as Slack asks, a bounded number of times.
// Only 429s are retried: Slack did nothing with the request, so posting
// again cannot post twice. Other failures are not, for the same reason in
// reverse (a timed-out chat.postMessage may well have been delivered).
func (c *client) call(ctx context.Context, name string, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil {
			c.metrics.PlatformCall("slack", name, "ok")
			return nil
		}
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) && c.noWait {
			c.metrics.PlatformCall("slack", name, "rate_limited")
			return fmt.Errorf("slack %s: %w", name, err)
		}
		if errors.As(err, &rl) && attempt < maxRetries && rl.RetryAfter <= maxRetryAfter {
			c.metrics.PlatformCall("slack", name, "retried")
			wait := max(rl.RetryAfter, time.Second)
			if serr := c.sleep(ctx, wait); serr != nil {
				c.metrics.PlatformCall("slack", name, "failed")
				return fmt.Errorf("slack %s: rate limited and %w", name, serr)
			}
			continue
		}
		c.metrics.PlatformCall("slack", name, "failed")
		return fmt.Errorf("slack %s: %w", name, err)
	}
}

func msgOptions(m Message) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// openDM returns the ID of the user's direct message with the bot.
func (c *client) openDM(ctx context.Context, user string) (string, error) {
	var id string
	err := c.call(ctx, "conversations.open", func(ctx context.Context) error {
		ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			if ch == nil || ch.ID == "" {
				return errors.New("no channel in the response")
			}
			id = ch.ID
		}
		return err
	})
	return id, err
}

func (c *client) post(ctx context.Context, channel string, m Message) (ts string, err error) {
	err = c.call(ctx, "chat.postMessage", func(ctx context.Context) error {
		_, ts, err = c.api.PostMessageContext(ctx, channel, msgOptions(m)...)
		return err
	})
	return ts, err
}

func (c *client) update(ctx context.Context, channel, ts string, m Message) error {
	return c.call(ctx, "chat.update", func(ctx context.Context) error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, msgOptions(m)...)
		return err
	})
}

func (c *client) ephemeral(ctx context.Context, channel, user, text string) error {
	return c.call(ctx, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := c.api.PostEphemeralContext(ctx, channel, user, msgOptions(NoteMessage(text))...)
		return err
	})
}

func (c *client) userTZ(ctx context.Context, user string) (string, error) {
	var tz string
	err := c.call(ctx, "users.info", func(ctx context.Context) error {
		u, err := c.api.GetUserInfoContext(ctx, user)
		if err == nil && u != nil {
			tz = u.TZ
		}
		return err
	})
	return tz, err
}

func (c *client) publishHome(ctx context.Context, user string, v slack.HomeTabViewRequest) error {
	return c.call(ctx, "views.publish", func(ctx context.Context) error {
		_, err := c.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: v})
		return err
	})
}

// respond posts an ephemeral reply to an interaction's or command's
// response_url. Those URLs accept JSON without a token.
func (c *client) respond(ctx context.Context, responseURL, text string) error {
	return c.respondWith(ctx, responseURL, map[string]any{"text": text})
}

// respondMessage is respond with blocks (a list with buttons).
func (c *client) respondMessage(ctx context.Context, responseURL string, m Message) error {
	return c.respondWith(ctx, responseURL, map[string]any{"text": m.Text, "blocks": m.Blocks})
}

func (c *client) respondWith(ctx context.Context, responseURL string, msg map[string]any) error {
	u, err := url.Parse(responseURL)
	if err != nil || !c.allowURL(u) {
		// The URL itself is a bearer credential for replies: not logged.
		return errors.New("response_url refused: not a Slack URL")
	}
	msg["response_type"] = "ephemeral"
	msg["replace_original"] = false
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return c.call(ctx, "response_url", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		if resp.StatusCode == http.StatusTooManyRequests {
			return &slack.RateLimitedError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}

func retryAfter(h string) time.Duration {
	var n int
	if _, err := fmt.Sscanf(h, "%d", &n); err != nil || n < 1 {
		return time.Second
	}
	return time.Duration(n) * time.Second
}

// SlackURL is the default response_url check: HTTPS on a Slack host
// (hooks.slack.com, or GovSlack's slack-gov.com).
func SlackURL(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "https" && (h == "slack.com" || strings.HasSuffix(h, ".slack.com") ||
		h == "slack-gov.com" || strings.HasSuffix(h, ".slack-gov.com"))
}
