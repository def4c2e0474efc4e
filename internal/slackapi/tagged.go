package slackapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/itfit/itfit/internal/conversation"
)

// What a failed call says of its request, for a caller that must not post
// twice (the nudges): errors.Is tells them apart. A failure with neither is
// Slack refusing the request (a 4xx, a 429, {"ok":false}), so it did nothing.
var (
	// ErrNotSent: the request was never written in full, so Slack cannot
	// have acted on it (a refused or timed-out dial, a failed TLS
	// handshake, a write that broke off).
	ErrNotSent = errors.New("slack: request not sent")
	// ErrOutcomeUnknown: the request was written, and nothing says what
	// Slack did with it (a reset or a timeout before the answer, a 5xx, an
	// answer that cannot be read). A chat.postMessage may have posted.
	ErrOutcomeUnknown = errors.New("slack: outcome unknown")
	// ErrNotSearchable: a conversation's history cannot be searched for a
	// tag (the token lacks the history scope, the bot cannot read that
	// conversation, or the tag is not among the messages a search reads).
	ErrNotSearchable = errors.New("slack: conversation history cannot be searched")
)

// Tag is message metadata that names a message so that it can be found
// again (Slack's metadata event_type, and one field of its event_payload):
// a nudge is tagged with its occurrence, and looked for before any resend.
type Tag struct {
	Event      string // event_type: letters, digits and underscores
	Key, Value string // a field of event_payload
}

func (t Tag) metadata() slack.SlackMetadata {
	return slack.SlackMetadata{EventType: t.Event, EventPayload: map[string]any{t.Key: t.Value}}
}

// PostTagged is Post with the message tagged (see FindTagged). Its errors
// say whether Slack can have posted (ErrNotSent, ErrOutcomeUnknown).
func (c *Client) PostTagged(ctx context.Context, ws conversation.WorkspaceID, channel string, m Message, tag Tag) (ts string, err error) {
	if c.web == nil {
		err = c.call(ctx, ws, "chat.postMessage", func(ctx context.Context, api API) error {
			_, ts, err = api.PostMessageContext(ctx, channel, append(msgOptions(m), slack.MsgOptionMetadata(tag.metadata()))...)
			return err
		})
		return ts, err
	}
	blocks, err := EncodeBlocks(m.Blocks)
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage: %w", err)
	}
	meta, err := json.Marshal(tag.metadata())
	if err != nil {
		return "", fmt.Errorf("slack chat.postMessage: %w", err)
	}
	body := chatBody(channel, "", m.Text, blocks)
	body = append(append(append(body[:len(body)-1], `,"metadata":`...), meta...), '}')
	err = c.callAs(ctx, ws, "chat.postMessage", func(ctx context.Context, _ API, tok string) error {
		ts, err = c.web.chat(ctx, tok, "chat.postMessage", body)
		return err
	})
	return ts, err
}

// Bounds of a FindTagged search: each page is one conversations.history
// call. Apps distributed outside the Marketplace get 15 messages a call, at
// most one call a minute; 8 pages read at least 120 messages, far more than
// a DM with the bot gathers in the hours a nudge is retried over.
const (
	historyPage  = 100
	historyPages = 8
)

// historyResponse is the part of conversations.history's answer a search
// reads.
type historyResponse struct {
	slack.SlackResponse
	Messages []struct {
		Metadata slack.SlackMetadata `json:"metadata"`
	} `json:"messages"`
	HasMore          bool `json:"has_more"`
	ResponseMetadata struct {
		NextCursor string `json:"next_cursor"`
	} `json:"response_metadata"`
}

// historyAPI is slack-go's history call, for a client whose Web API is
// replaced (tests); *slack.Client has it.
type historyAPI interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
}

// notSearchable are Slack's answers that a history cannot be read by this
// token: asking again will not help.
var notSearchable = map[string]bool{
	"missing_scope":          true,
	"not_in_channel":         true,
	"channel_not_found":      true,
	"not_allowed_token_type": true,
}

// FindTagged reports whether channel holds a message tagged tag, posted at
// or after since (Slack's clock): it reads conversations.history from since
// on, with include_all_metadata, newest first, at most historyPages pages.
// The token needs the history scope of the conversation's kind (im:history
// for a DM, channels:history or groups:history for a channel). A history
// it cannot read, or one too long to read to since, is ErrNotSearchable.
func (c *Client) FindTagged(ctx context.Context, ws conversation.WorkspaceID, channel string, tag Tag, since time.Time) (bool, error) {
	oldest := fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	cursor := ""
	for range historyPages {
		var page historyResponse
		err := c.callAs(ctx, ws, "conversations.history", func(ctx context.Context, api API, tok string) error {
			if c.web == nil {
				return historyVia(ctx, api, channel, oldest, cursor, &page)
			}
			form := url.Values{
				"channel": {channel}, "oldest": {oldest}, "inclusive": {"true"},
				"limit": {strconv.Itoa(historyPage)}, "include_all_metadata": {"true"},
			}
			if cursor != "" {
				form.Set("cursor", cursor)
			}
			page = historyResponse{}
			return c.web.do(ctx, tok, "conversations.history", "application/x-www-form-urlencoded", []byte(form.Encode()), &page)
		})
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && notSearchable[se.Err] {
			return false, fmt.Errorf("%w: %w", ErrNotSearchable, err)
		}
		if err != nil {
			return false, err
		}
		for _, m := range page.Messages {
			if m.Metadata.EventType == tag.Event {
				if v, ok := m.Metadata.EventPayload[tag.Key].(string); ok && v == tag.Value {
					return true, nil
				}
			}
		}
		cursor = page.ResponseMetadata.NextCursor
		if !page.HasMore || cursor == "" {
			return false, nil
		}
	}
	return false, fmt.Errorf("%w: more than %d pages of messages since %s in %s", ErrNotSearchable, historyPages, since.UTC().Format(time.RFC3339), channel)
}

// historyVia reads one page through slack-go (a replaced Web API).
func historyVia(ctx context.Context, api API, channel, oldest, cursor string, page *historyResponse) error {
	h, ok := api.(historyAPI)
	if !ok {
		return errors.New("this Web API client cannot read history")
	}
	r, err := h.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Oldest: oldest, Inclusive: true, Limit: historyPage, Cursor: cursor, IncludeAllMetadata: true,
	})
	if err != nil {
		return err
	}
	*page = historyResponse{HasMore: r.HasMore}
	page.ResponseMetadata.NextCursor = r.ResponseMetaData.NextCursor
	for _, m := range r.Messages {
		page.Messages = append(page.Messages, struct {
			Metadata slack.SlackMetadata `json:"metadata"`
		}{m.Metadata})
	}
	return nil
}
