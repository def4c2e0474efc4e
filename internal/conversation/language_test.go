package conversation_test

import (
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/redistest"
)

// TestLanguages: what a person chose and what their platform said are
// kept apart, under their hash tag, for the retention given; unknown
// values are refused; Erase takes the one key.
func TestLanguages(t *testing.T) {
	rb := redistest.Real(t)
	ctx := t.Context()
	ls := conversation.NewLanguages(rb.Client, rb.Prefix, time.Hour)
	u := conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}

	if got, err := ls.Get(ctx, u); err != nil || got != (conversation.Language{}) {
		t.Fatalf("unknown person: %+v, %v", got, err)
	}
	if err := ls.Saw(ctx, u, locale.French); err != nil {
		t.Fatal(err)
	}
	if err := ls.Choose(ctx, u, locale.English); err != nil {
		t.Fatal(err)
	}
	got, err := ls.Get(ctx, u)
	if err != nil || got != (conversation.Language{Chosen: locale.English, Seen: locale.French}) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	key := rb.Prefix.Language("slack", "T1", "U1")
	if ttl := rb.Client.PTTL(ctx, key).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("TTL %v, want the retention (1h)", ttl)
	}
	if err := ls.Choose(ctx, u, "de"); err == nil {
		t.Error("a language itfit does not speak was kept")
	}
	// A value written by something else (an older version) reads as unknown.
	rb.Client.HSet(ctx, key, "seen", "klingon")
	if got, _ := ls.Get(ctx, u); got.Seen != "" || got.Chosen != locale.English {
		t.Errorf("an unknown stored value: %+v", got)
	}
	if n, err := ls.Erase(ctx, u); err != nil || n != 1 {
		t.Fatalf("Erase = %d, %v", n, err)
	}
	if rb.Client.Exists(ctx, key).Val() != 0 {
		t.Error("the language outlived Erase")
	}
}
