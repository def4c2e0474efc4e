package slackauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/secretbox"
	"github.com/itfit/itfit/internal/slackauth"
)

func installation(enterprise, team, token string) slackauth.Installation {
	return slackauth.Installation{
		Workspace: slackauth.Workspace{Enterprise: enterprise, Team: team},
		TeamName:  "Team " + team, AppID: "A0APP", BotUserID: "UBOT", Installer: "UINSTALLER",
		Scopes: []string{"commands", "chat:write"}, BotToken: slackauth.Secret(token),
	}
}

// TestTwoWorkspaces: each workspace gets its own token, and a sealed record
// moved to the other workspace's key does not open there.
func TestTwoWorkspaces(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := installation("E1", "TA", "xoxb-TOKEN-A")
	b := installation("", "TB", "xoxb-TOKEN-B")
	for _, in := range []slackauth.Installation{a, b} {
		if err := e.store.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ ent, team, want string }{{"E1", "TA", "xoxb-TOKEN-A"}, {"", "TB", "xoxb-TOKEN-B"}} {
		if got, err := e.store.TokenFor(ctx, tc.ent, tc.team); err != nil || got != tc.want {
			t.Errorf("TokenFor(%q, %q) = %q, %v; want %q", tc.ent, tc.team, got, err, tc.want)
		}
	}
	// Not installed: another team, the Grid team without its enterprise.
	for _, w := range [][2]string{{"", "TC"}, {"", "TA"}, {"E2", "TB"}, {"", ""}} {
		if _, err := e.store.TokenFor(ctx, w[0], w[1]); !errors.Is(err, slackauth.ErrNotInstalled) {
			t.Errorf("TokenFor(%q, %q): %v, want ErrNotInstalled", w[0], w[1], err)
		}
	}

	// Copy A's record over B's, as a Redis-level attacker or a bad
	// migration might: B's key must not yield A's token.
	keyA, keyB := e.prefix.SlackInstallation("E1", "TA"), e.prefix.SlackInstallation("", "TB")
	recA := e.rdb.HGet(ctx, keyA, "rec").Val()
	fresh := e.newStore(t) // no cache
	e.rdb.HSet(ctx, keyB, "rec", recA)
	if got, err := fresh.TokenFor(ctx, "", "TB"); !errors.Is(err, slackauth.ErrCorrupt) || got != "" {
		t.Errorf("A's record under B's key: %q, %v; want ErrCorrupt", got, err)
	}
	// Even with the identity fields rewritten to B's, the sealed token
	// (bound to A by its context) does not open under B's key.
	var r map[string]any
	if err := json.Unmarshal([]byte(recA), &r); err != nil {
		t.Fatal(err)
	}
	delete(r, "enterprise_id")
	r["team_id"] = "TB"
	forged, _ := json.Marshal(r)
	e.rdb.HSet(ctx, keyB, "rec", forged)
	got, err := fresh.TokenFor(ctx, "", "TB")
	if !errors.Is(err, slackauth.ErrCorrupt) || got != "" {
		t.Errorf("A's sealed token under B's identity: %q, %v; want ErrCorrupt", got, err)
	}
	if err != nil && strings.Contains(err.Error(), "TOKEN-A") {
		t.Error("error carries the token")
	}
	// A is untouched.
	if got, err := fresh.TokenFor(ctx, "E1", "TA"); err != nil || got != "xoxb-TOKEN-A" {
		t.Errorf("A after the tampering: %q, %v", got, err)
	}
}

// TestRotationRefreshesOnce: an expired access token is refreshed exactly
// once while 20 callers on two replicas ask for it at the same time; all
// of them get the new token.
func TestRotationRefreshesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := installation("", "T1", "xoxe.xoxb-OLD")
	in.RefreshToken = "xoxe-1-REFRESH-OLD"
	in.ExpiresAt = e.clock.Now().Add(-time.Minute)
	if err := e.store.Save(ctx, in); err != nil {
		t.Fatal(err)
	}
	e.slack.refresh = func(n int32, form url.Values) string {
		return fmt.Sprintf(`{"ok":true,"access_token":"xoxe.xoxb-NEW-%d","token_type":"bot","refresh_token":"xoxe-1-REFRESH-NEW-%d","expires_in":43200,"team":{"id":"T1"}}`, n, n)
	}
	replicas := []*slackauth.Store{e.store, e.newStore(t)}
	var wg sync.WaitGroup
	got := make([]string, 20)
	errs := make([]error, 20)
	start := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = replicas[i%2].TokenFor(ctx, "", "T1")
		}()
	}
	close(start)
	wg.Wait()
	if n := e.slack.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes at oauth.v2.access, want exactly 1", n)
	}
	for i := range got {
		if errs[i] != nil || got[i] != "xoxe.xoxb-NEW-1" {
			t.Errorf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	form := e.slack.forms[0]
	for k, want := range map[string]string{
		"grant_type": "refresh_token", "refresh_token": "xoxe-1-REFRESH-OLD", "client_id": clientID, "client_secret": clientSecret,
	} {
		if form.Get(k) != want {
			t.Errorf("refresh %s = %q, want %q", k, form.Get(k), want)
		}
	}
	stored, err := e.newStore(t).Get(ctx, "", "T1")
	if err != nil {
		t.Fatal(err)
	}
	if stored.BotToken.Reveal() != "xoxe.xoxb-NEW-1" || stored.RefreshToken.Reveal() != "xoxe-1-REFRESH-NEW-1" ||
		!stored.ExpiresAt.Equal(e.clock.Now().Add(12*time.Hour)) {
		t.Errorf("stored after refresh: expires %s, tokens changed: %v", stored.ExpiresAt,
			stored.BotToken.Reveal() == "xoxe.xoxb-NEW-1")
	}
	if n := e.rdb.Exists(ctx, e.prefix.SlackRefreshLock("", "T1")).Val(); n != 0 {
		t.Error("the refresh lock was left behind")
	}
	// Fresh now: no further refresh.
	for _, r := range replicas {
		if tok, err := r.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxe.xoxb-NEW-1" {
			t.Errorf("after refresh: %q, %v", tok, err)
		}
	}
	if n := e.slack.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes after the token was fresh", n)
	}
}

// TestRotationMargin: a token is refreshed once it expires within the
// margin, not before; a failed refresh of a token that still works keeps
// serving it, one that has expired is an error.
func TestRotationMargin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := installation("", "T1", "xoxe.xoxb-CURRENT")
	in.RefreshToken = "xoxe-1-REFRESH"
	in.ExpiresAt = e.clock.Now().Add(time.Hour)
	if err := e.store.Save(ctx, in); err != nil {
		t.Fatal(err)
	}
	if tok, err := e.store.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxe.xoxb-CURRENT" || e.slack.refreshes.Load() != 0 {
		t.Fatalf("an hour before expiry: %q, %v, %d refreshes", tok, err, e.slack.refreshes.Load())
	}

	// Within the margin, Slack failing: the current token still works.
	e.clock.Advance(55 * time.Minute)
	if tok, err := e.store.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxe.xoxb-CURRENT" {
		t.Errorf("refresh failing before expiry: %q, %v; want the current token", tok, err)
	}
	if e.slack.refreshes.Load() != 1 {
		t.Errorf("%d refreshes within the margin, want 1", e.slack.refreshes.Load())
	}

	// Expired, Slack still failing: an error, and no token. The lock left
	// by the failed attempt (a back-off) is released so this one retries.
	if e.rdb.Exists(ctx, e.prefix.SlackRefreshLock("", "T1")).Val() != 1 {
		t.Error("a failed refresh of a working token left no back-off lock")
	}
	e.rdb.Del(ctx, e.prefix.SlackRefreshLock("", "T1"))
	e.clock.Advance(10 * time.Minute)
	if tok, err := e.store.TokenFor(ctx, "", "T1"); !errors.Is(err, slackauth.ErrRefresh) || tok != "" {
		t.Errorf("expired and refresh failing: %q, %v; want ErrRefresh", tok, err)
	}

	// Slack back: refreshed.
	e.slack.refresh = func(int32, url.Values) string {
		return `{"ok":true,"access_token":"xoxe.xoxb-RENEWED","refresh_token":"xoxe-1-NEXT","expires_in":43200}`
	}
	if tok, err := e.store.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxe.xoxb-RENEWED" {
		t.Errorf("after Slack recovered: %q, %v", tok, err)
	}
}

// TestUninstall: Delete removes the installation and everything under its
// tag, says what it removed, and TokenFor then answers ErrNotInstalled,
// even from the cache of the process that handled the event.
func TestUninstall(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keep := installation("", "TKEEP", "xoxb-KEEP")
	gone := installation("E1", "T1", "xoxb-GONE")
	gone.RefreshToken, gone.ExpiresAt = "xoxe-1-R", e.clock.Now().Add(time.Hour)
	for _, in := range []slackauth.Installation{keep, gone} {
		if err := e.store.Save(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if tok, err := e.store.TokenFor(ctx, "E1", "T1"); err != nil || tok != "xoxb-GONE" {
		t.Fatalf("before: %q, %v", tok, err) // and now cached
	}
	deleted, err := e.store.Delete(ctx, "E1", "T1")
	if err != nil {
		t.Fatal(err)
	}
	if deleted.Workspace != (slackauth.Workspace{Enterprise: "E1", Team: "T1"}) || deleted.ID() != "E1:T1" || deleted.TeamName != "Team T1" {
		t.Errorf("Delete returned %+v", deleted)
	}
	if deleted.BotToken != "" || deleted.RefreshToken != "" {
		t.Error("Delete returned tokens")
	}
	if _, err := e.store.TokenFor(ctx, "E1", "T1"); !errors.Is(err, slackauth.ErrNotInstalled) {
		t.Errorf("TokenFor after uninstall: %v, want ErrNotInstalled", err)
	}
	if _, err := e.store.Delete(ctx, "E1", "T1"); !errors.Is(err, slackauth.ErrNotInstalled) {
		t.Errorf("second Delete (a redelivered event): %v, want ErrNotInstalled", err)
	}
	for _, k := range redistest.Keys(t, e.rdb, e.prefix) {
		if strings.Contains(k, "E1") {
			t.Errorf("key %s left after uninstall", k)
		}
	}
	if tok, err := e.store.TokenFor(ctx, "", "TKEEP"); err != nil || tok != "xoxb-KEEP" {
		t.Errorf("the other workspace: %q, %v", tok, err)
	}
}

// TestKeyRotation: a record sealed under an old key is re-sealed under the
// current one on read, so the old key can then be dropped.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.Save(ctx, installation("", "T1", "xoxb-ROTATE")); err != nil {
		t.Fatal(err)
	}
	newSpec := newKey(t, "k2")
	both, err := secretbox.Parse(newSpec + "," + e.key)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := slackauth.NewStore(slackauth.StoreOptions{Redis: e.rdb, Prefix: e.prefix, Box: both, Now: e.clock.Now, CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := s2.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxb-ROTATE" {
		t.Fatalf("with both keys: %q, %v", tok, err)
	}
	onlyNew, _ := secretbox.Parse(newSpec)
	s3, _ := slackauth.NewStore(slackauth.StoreOptions{Redis: e.rdb, Prefix: e.prefix, Box: onlyNew, Now: e.clock.Now})
	if tok, err := s3.TokenFor(ctx, "", "T1"); err != nil || tok != "xoxb-ROTATE" {
		t.Errorf("old key dropped after the re-seal: %q, %v", tok, err)
	}
}

// TestStatic: the single-workspace configuration answers every workspace
// with SLACK_BOT_TOKEN.
func TestStatic(t *testing.T) {
	s := slackauth.NewStatic("xoxb-SINGLE")
	if tok, err := s.TokenFor(context.Background(), "E9", "T9"); err != nil || tok != "xoxb-SINGLE" {
		t.Errorf("Static: %q, %v", tok, err)
	}
	if _, err := slackauth.NewStatic("").TokenFor(context.Background(), "", "T1"); !errors.Is(err, slackauth.ErrNotInstalled) {
		t.Errorf("empty Static: %v", err)
	}
}

// TestSecretsNeverPrinted: an Installation logged or printed by mistake
// shows no token.
func TestSecretsNeverPrinted(t *testing.T) {
	in := installation("E1", "T1", "xoxb-PRINTME")
	in.RefreshToken = "xoxe-1-PRINTME"
	var sb strings.Builder
	log := slog.New(slog.NewJSONHandler(&sb, nil))
	log.Info("x", "inst", in, "tok", in.BotToken)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "inst", in)
	b, _ := json.Marshal(in)
	out := sb.String() + fmt.Sprintf("%v %+v %#v %s", in, in, in, in.BotToken) + string(b)
	if strings.Contains(out, "PRINTME") {
		t.Errorf("a token was printed:\n%s", out)
	}
}
