package conversation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/redistest"
)

// TestTeamsReferences: a user's personal chat is where they are reached
// first, else the conversation they last used; in a channel the thread
// they wrote in is the one their audit lives in until it moves; their
// Teams ID leads to their Entra ID; all of it is kept for the retention,
// under the keys it always had, and Erase takes the hash and the alias.
func TestTeamsReferences(t *testing.T) {
	for _, b := range redistest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			refs := conversation.NewTeamsReferences(b.Client, b.Prefix, time.Hour)
			const tenant, aad, fromID = "t1", "aad-ana", "29:1ana"
			u := conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: aad}
			other := conversation.UserKey{Platform: conversation.Teams, Workspace: tenant, User: "aad-nobody"}
			key, alias := b.Prefix.TeamsReferences(tenant, aad), b.Prefix.TeamsAlias(tenant, fromID)

			if _, err := refs.Load(ctx, u); !errors.Is(err, conversation.ErrNoTeamsReference) {
				t.Fatalf("unknown user: %v, want ErrNoTeamsReference", err)
			}
			if id, err := refs.Alias(ctx, tenant, fromID); err != nil || id != "" {
				t.Fatalf("unknown alias: %q, %v", id, err)
			}

			const channel = "19:c@thread.tacv2"
			inChannel := conversation.TeamsReference{
				ServiceURL: "https://smba.example/", ChannelID: "msteams", ConversationID: channel + ";messageid=1",
				ConversationType: conversation.TeamsChannel, BotID: "28:bot", BotName: "itfit", TenantID: tenant,
				UserID: fromID, AADObjectID: aad, UserName: "Ana Ruiz", UpdatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
			}
			if err := refs.Save(ctx, u, inChannel); err != nil {
				t.Fatal(err)
			}
			if got, err := refs.Load(ctx, u); err != nil || got != inChannel {
				t.Fatalf("Load = %+v, %v; want the channel's %+v", got, err, inChannel)
			}
			if id, err := refs.Alias(ctx, tenant, fromID); err != nil || id != aad {
				t.Fatalf("Alias = %q, %v; want %q", id, err, aad)
			}
			if th, err := refs.Thread(ctx, u, channel+";messageid=2"); err != nil || th != inChannel.ConversationID {
				t.Fatalf("Thread = %q, %v; want the thread written in", th, err)
			}
			if th, err := refs.Thread(ctx, u, "19:other@thread.tacv2"); err != nil || th != "" {
				t.Fatalf("Thread of another channel = %q, %v", th, err)
			}
			if err := refs.MoveThread(ctx, u, channel+";messageid=3"); err != nil {
				t.Fatal(err)
			}
			if th, err := refs.Thread(ctx, u, channel); err != nil || th != channel+";messageid=3" {
				t.Fatalf("Thread after MoveThread = %q, %v", th, err)
			}

			personal := inChannel
			personal.ConversationID, personal.ConversationType = "a:1personal", conversation.TeamsPersonal
			if err := refs.Save(ctx, u, personal); err != nil {
				t.Fatal(err)
			}
			// A later message in a group chat does not take the personal
			// chat's place.
			group := inChannel
			group.ConversationID, group.ConversationType, group.UserName = "19:g@thread.v2", "groupChat", "Ana R."
			if err := refs.Save(ctx, u, group); err != nil {
				t.Fatal(err)
			}
			if got, err := refs.Load(ctx, u); err != nil || got != personal {
				t.Fatalf("Load = %+v, %v; want the personal chat", got, err)
			}
			if names := refs.Names(ctx, []conversation.UserKey{u, other}); len(names) != 2 || names[0] != "Ana Ruiz" || names[1] != "" {
				t.Fatalf("Names = %q", names)
			}

			// The layout: one hash under the user's tag, the alias apart.
			fields, err := b.Client.HKeys(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"personal": true, "last": true, "thread:" + channel: true}
			if len(fields) != len(want) {
				t.Errorf("fields %q, want %v", fields, want)
			}
			for _, f := range fields {
				if !want[f] {
					t.Errorf("field %q, want %v", f, want)
				}
			}
			for _, k := range []string{key, alias} {
				if ttl := b.Client.PTTL(ctx, k).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
					t.Errorf("%s: TTL %v, want the retention (1h)", k, ttl)
				}
			}

			if n, err := refs.Erase(ctx, u); err != nil || n != 2 {
				t.Fatalf("Erase = %d, %v; want the hash and the alias", n, err)
			}
			if n := b.Client.Exists(ctx, key).Val() + b.Client.Exists(ctx, alias).Val(); n != 0 {
				t.Errorf("%d keys outlived Erase", n)
			}
			if _, err := refs.Load(ctx, u); !errors.Is(err, conversation.ErrNoTeamsReference) {
				t.Errorf("after Erase: %v, want ErrNoTeamsReference", err)
			}
			if n, err := refs.Erase(ctx, u); err != nil || n != 0 {
				t.Errorf("second Erase = %d, %v", n, err)
			}
		})
	}
}

// A user known only by their Teams ID keeps no alias to themselves.
func TestTeamsReferencesWithoutEntraID(t *testing.T) {
	b := redistest.Embedded(t)
	ctx := t.Context()
	refs := conversation.NewTeamsReferences(b.Client, b.Prefix, 0)
	u := conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "29:1bob"}
	ref := conversation.TeamsReference{ConversationID: "a:1bob", ConversationType: conversation.TeamsPersonal, TenantID: "t1", UserID: "29:1bob"}
	if err := refs.Save(ctx, u, ref); err != nil {
		t.Fatal(err)
	}
	if b.Client.Exists(ctx, b.Prefix.TeamsAlias("t1", "29:1bob")).Val() != 0 {
		t.Error("an alias from a user's ID to itself")
	}
	if ttl := b.Client.PTTL(ctx, b.Prefix.TeamsReferences("t1", "29:1bob")).Val(); ttl < 365*24*time.Hour {
		t.Errorf("default retention %v", ttl)
	}
	if n, err := refs.Erase(ctx, u); err != nil || n != 1 {
		t.Errorf("Erase = %d, %v", n, err)
	}
}

// Every storage failure is ErrUnavailable, never "no reference".
func TestTeamsReferencesUnavailable(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	_ = rdb.Close() // every command fails at once
	ctx := t.Context()
	refs := conversation.NewTeamsReferences(rdb, "", time.Hour)
	u := conversation.UserKey{Platform: conversation.Teams, Workspace: "t1", User: "aad-ana"}
	_, err := refs.Load(ctx, u)
	if !errors.Is(err, conversation.ErrUnavailable) || errors.Is(err, conversation.ErrNoTeamsReference) {
		t.Errorf("Load: %v", err)
	}
	if err := refs.Save(ctx, u, conversation.TeamsReference{UserID: "29:1ana"}); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("Save: %v", err)
	}
	if _, err := refs.Alias(ctx, "t1", "29:1ana"); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("Alias: %v", err)
	}
	if _, err := refs.Erase(ctx, u); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("Erase: %v", err)
	}
}

func TestTeamsChannelOf(t *testing.T) {
	for in, want := range map[string]string{
		"19:abc@thread.tacv2;messageid=1700000000000": "19:abc@thread.tacv2",
		"19:abc@thread.tacv2":                         "19:abc@thread.tacv2",
		"a:1personal":                                 "a:1personal",
		"":                                            "",
	} {
		if got := conversation.TeamsChannelOf(in); got != want {
			t.Errorf("TeamsChannelOf(%q) = %q, want %q", in, got, want)
		}
	}
}
