package conversation

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
)

// Languages keeps each person's language, for what they are told when
// they did not just write (a reminder a year on, a nudge to a manager) and
// for platforms that say nothing with an input (Slack): one small hash
// under the person's hash tag, so forget takes it with the rest.
type Languages struct {
	rdb    redis.UniversalClient
	prefix keys.Prefix
	ttl    time.Duration
}

// NewLanguages returns the store; a person's language is kept ttl after
// it was last written (the history's retention: a reminder due in a year
// must still know it).
func NewLanguages(rdb redis.UniversalClient, prefix keys.Prefix, ttl time.Duration) *Languages {
	if prefix == "" {
		prefix = keys.Default
	}
	if ttl <= 0 {
		ttl = DefaultHistoryTTL
	}
	return &Languages{rdb: rdb, prefix: prefix, ttl: ttl}
}

// Language is what is known of a person's language.
type Language struct {
	// Chosen is what they picked with the language command.
	Chosen locale.Lang
	// Seen is what their platform last said they use.
	Seen locale.Lang
}

func (l *Languages) key(u UserKey) string {
	return l.prefix.Language(string(u.Platform), string(u.Workspace), string(u.User))
}

// Get reads what is known; an unknown person has neither.
func (l *Languages) Get(ctx context.Context, u UserKey) (Language, error) {
	vs, err := l.rdb.HMGet(ctx, l.key(u), "chosen", "seen").Result()
	if err != nil {
		return Language{}, fmt.Errorf("read language: %w: %w", ErrUnavailable, err)
	}
	var out Language
	if s, ok := vs[0].(string); ok && locale.Lang(s).Valid() {
		out.Chosen = locale.Lang(s)
	}
	if s, ok := vs[1].(string); ok && locale.Lang(s).Valid() {
		out.Seen = locale.Lang(s)
	}
	return out, nil
}

// Choose records the person's choice.
func (l *Languages) Choose(ctx context.Context, u UserKey, lang locale.Lang) error {
	return l.set(ctx, u, "chosen", lang)
}

// Saw records the language the platform says the person uses.
func (l *Languages) Saw(ctx context.Context, u UserKey, lang locale.Lang) error {
	return l.set(ctx, u, "seen", lang)
}

func (l *Languages) set(ctx context.Context, u UserKey, field string, lang locale.Lang) error {
	if !lang.Valid() {
		return fmt.Errorf("record language: %q is not a language itfit speaks", lang)
	}
	k := l.key(u)
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k, field, string(lang))
		p.PExpire(ctx, k, l.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record language: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// Erase deletes the person's language, returning how many keys went.
func (l *Languages) Erase(ctx context.Context, u UserKey) (int, error) {
	n, err := l.rdb.Del(ctx, l.key(u)).Result()
	if err != nil {
		return 0, fmt.Errorf("erase language: %w: %w", ErrUnavailable, err)
	}
	return int(n), nil
}
