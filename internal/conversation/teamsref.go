package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/wirejson"
)

// ErrNoTeamsReference means the user has never spoken to the bot here (or
// their reference has expired), so the bot cannot reach them proactively.
var ErrNoTeamsReference = errors.New("teams: no conversation reference for this user")

// TeamsReference is what a proactive Teams message to a user needs: where
// their conversation lives and who is who in it. ServiceURL is only ever taken
// from an activity whose token bound it (the serviceurl claim), since the
// connector sends the bot's own token there.
type TeamsReference struct {
	ServiceURL       string    `json:"serviceUrl"`
	ChannelID        string    `json:"channelId"`
	ConversationID   string    `json:"conversationId"`
	ConversationType string    `json:"conversationType,omitempty"`
	BotID            string    `json:"botId"`
	BotName          string    `json:"botName,omitempty"`
	TenantID         string    `json:"tenantId"`
	UserID           string    `json:"userId"` // the Teams user ID (29:...), what CreateConversation wants
	AADObjectID      string    `json:"aadObjectId,omitempty"`
	UserName         string    `json:"userName,omitempty"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// The Teams conversation types (conversationType) a reference is filed
// by: a personal chat is where a proactive message goes first, and in a
// channel the thread the user wrote in is kept as their audit's.
const (
	TeamsPersonal = "personal"
	TeamsChannel  = "channel"
)

// TeamsThreadMark starts the part of a channel conversation's ID that
// names the thread: "19:abc@thread.tacv2;messageid=1700000000000".
const TeamsThreadMark = ";messageid="

// TeamsChannelOf is a Teams channel conversation ID without its thread:
// "19:abc@thread.tacv2;messageid=1700000000000" is in the channel
// "19:abc@thread.tacv2". Any other ID is itself.
func TeamsChannelOf(conv string) string {
	if i := strings.Index(conv, TeamsThreadMark); i >= 0 {
		return conv[:i]
	}
	return conv
}

// Hash fields of keys.TeamsReferences. A field "thread:" + a channel's
// conversation ID holds the full conversation ID (with ";messageid=") of
// the thread the user's audit in that channel last moved to.
const (
	refPersonal = "personal"
	refLast     = "last"
	refThread   = "thread:"
)

// TeamsReferences keeps where to reach each Teams user, their conversation
// references, for the proactive sends of revisits and nudges: one small
// hash under the user's hash tag (keys.TeamsReferences), so forget takes it
// with the rest, and an alias from their Teams ID to their Entra ID. They
// expire with the user's history. The Teams adapter saves them from
// validated activities and turns them into the Bot Framework's shape.
type TeamsReferences struct {
	rdb    redis.UniversalClient
	prefix keys.Prefix
	ttl    time.Duration
}

// NewTeamsReferences returns the store; ttl should be the history
// retention.
func NewTeamsReferences(rdb redis.UniversalClient, prefix keys.Prefix, ttl time.Duration) *TeamsReferences {
	if prefix == "" {
		prefix = keys.Default
	}
	if ttl <= 0 {
		ttl = DefaultHistoryTTL
	}
	return &TeamsReferences{rdb: rdb, prefix: prefix, ttl: ttl}
}

// Save records where the user last spoke to the bot, and their personal chat
// separately, since that is where a proactive message should go first. In
// a channel it also records the thread they wrote in as the one their audit
// there lives in now. When the user is known by their Entra ID and their
// Teams ID differs, it keeps the alias from the one to the other.
func (s *TeamsReferences) Save(ctx context.Context, u UserKey, ref TeamsReference) error {
	b, err := wirejson.Marshal(ref)
	if err != nil {
		return fmt.Errorf("encode teams reference: %w", err)
	}
	key := s.prefix.TeamsReferences(string(u.Workspace), string(u.User))
	fields := []any{refLast, b}
	switch ref.ConversationType {
	case TeamsPersonal:
		fields = append(fields, refPersonal, b)
	case TeamsChannel:
		fields = append(fields, refThread+TeamsChannelOf(ref.ConversationID), ref.ConversationID)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields...)
		p.PExpire(ctx, key, s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save teams reference: %w: %w", ErrUnavailable, err)
	}
	if ref.UserID != "" && ref.UserID != string(u.User) && string(u.User) == ref.AADObjectID {
		// Its own key (it is looked up by the Teams ID), so not in the
		// transaction above: on Redis Cluster it lives in another slot.
		if err := s.rdb.Set(ctx, s.prefix.TeamsAlias(string(u.Workspace), ref.UserID), ref.AADObjectID, s.ttl).Err(); err != nil {
			return fmt.Errorf("save teams alias: %w: %w", ErrUnavailable, err)
		}
	}
	return nil
}

// Alias returns the Entra object ID of the user whose Teams ID (from.id)
// is fromID, if a reference saved it; "" when none is known.
func (s *TeamsReferences) Alias(ctx context.Context, tenant, fromID string) (UserID, error) {
	v, err := s.rdb.Get(ctx, s.prefix.TeamsAlias(tenant, fromID)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("load teams alias: %w: %w", ErrUnavailable, err)
	}
	return UserID(v), nil
}

// Thread returns the full conversation ID of the thread where the user's
// audit in a channel lives now; "" when no thread was recorded.
func (s *TeamsReferences) Thread(ctx context.Context, u UserKey, channel string) (string, error) {
	v, err := s.rdb.HGet(ctx, s.prefix.TeamsReferences(string(u.Workspace), string(u.User)), refThread+TeamsChannelOf(channel)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("load teams thread: %w: %w", ErrUnavailable, err)
	}
	return v, nil
}

// MoveThread records thread (a full channel conversation ID) as the one
// the user's audit in its channel lives in now.
func (s *TeamsReferences) MoveThread(ctx context.Context, u UserKey, thread string) error {
	key := s.prefix.TeamsReferences(string(u.Workspace), string(u.User))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, refThread+TeamsChannelOf(thread), thread)
		p.PExpire(ctx, key, s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save teams thread: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// Load returns the reference to reach the user by: their personal chat if
// they have one with the bot, else the last conversation they used.
func (s *TeamsReferences) Load(ctx context.Context, u UserKey) (TeamsReference, error) {
	key := s.prefix.TeamsReferences(string(u.Workspace), string(u.User))
	vals, err := s.rdb.HMGet(ctx, key, refPersonal, refLast).Result()
	if err != nil {
		return TeamsReference{}, fmt.Errorf("load teams reference: %w: %w", ErrUnavailable, err)
	}
	for _, v := range vals {
		str, ok := v.(string)
		if !ok || str == "" {
			continue
		}
		var ref TeamsReference
		if err := json.Unmarshal([]byte(str), &ref); err != nil {
			return TeamsReference{}, fmt.Errorf("decode teams reference: %w", err)
		}
		return ref, nil
	}
	return TeamsReference{}, ErrNoTeamsReference
}

// Names returns the display name each user last wrote with ("" where
// there is none), in one pipelined round trip: a page of a manager's desk.
func (s *TeamsReferences) Names(ctx context.Context, us []UserKey) []string {
	cmds := make([]*redis.SliceCmd, len(us))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range us {
			cmds[i] = p.HMGet(ctx, s.prefix.TeamsReferences(string(u.Workspace), string(u.User)), refPersonal, refLast)
		}
		return nil
	})
	out := make([]string, len(us))
	for i, c := range cmds {
		for _, v := range c.Val() {
			str, ok := v.(string)
			var ref TeamsReference
			if ok && str != "" && json.Unmarshal([]byte(str), &ref) == nil && ref.UserName != "" {
				out[i] = ref.UserName
				break
			}
		}
	}
	return out
}

// Erase deletes the user's references and the aliases of the Teams IDs
// they name: forget's part for Teams.
func (s *TeamsReferences) Erase(ctx context.Context, u UserKey) (int, error) {
	key := s.prefix.TeamsReferences(string(u.Workspace), string(u.User))
	vals, err := s.rdb.HMGet(ctx, key, refPersonal, refLast).Result()
	if err != nil {
		return 0, fmt.Errorf("erase teams references: %w: %w", ErrUnavailable, err)
	}
	aliases := map[string]bool{}
	for _, v := range vals {
		var ref TeamsReference
		if str, ok := v.(string); ok && json.Unmarshal([]byte(str), &ref) == nil && ref.UserID != "" && ref.UserID != string(u.User) {
			aliases[s.prefix.TeamsAlias(string(u.Workspace), ref.UserID)] = true
		}
	}
	n, err := s.rdb.Del(ctx, key).Result()
	if err != nil {
		return 0, fmt.Errorf("erase teams references: %w: %w", ErrUnavailable, err)
	}
	// One DEL each: on Redis Cluster every alias is in a slot of its own.
	for k := range aliases {
		m, err := s.rdb.Del(ctx, k).Result()
		if err != nil {
			return int(n), fmt.Errorf("erase teams alias: %w: %w", ErrUnavailable, err)
		}
		n += m
	}
	return int(n), nil
}
