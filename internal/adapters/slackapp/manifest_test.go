package slackapp

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The manifest an operator pastes must point at the routes Mount serves
// and ask for what the adapter uses, no more.
func TestManifestMatchesTheApp(t *testing.T) {
	b, err := os.ReadFile("../../../deploy/slack/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			AppHome struct {
				HomeTab bool `json:"home_tab_enabled"`
			} `json:"app_home"`
			SlashCommands []struct{ Command, URL string } `json:"slash_commands"`
			Shortcuts     []struct {
				Type       string `json:"type"`
				CallbackID string `json:"callback_id"`
			} `json:"shortcuts"`
		} `json:"features"`
		OAuth struct {
			Scopes struct{ Bot []string } `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Events struct {
				URL    string   `json:"request_url"`
				Events []string `json:"bot_events"`
			} `json:"event_subscriptions"`
			Interactivity struct {
				Enabled bool   `json:"is_enabled"`
				URL     string `json:"request_url"`
			} `json:"interactivity"`
			SocketMode bool `json:"socket_mode_enabled"`
		} `json:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f, s := m.Features, m.Settings
	if len(f.SlashCommands) != 1 || f.SlashCommands[0].Command != "/itfit" || !strings.HasSuffix(f.SlashCommands[0].URL, "/slack/commands") {
		t.Errorf("slash command = %+v", f.SlashCommands)
	}
	if !strings.HasSuffix(s.Events.URL, "/slack/events") || !s.Interactivity.Enabled || !strings.HasSuffix(s.Interactivity.URL, "/slack/interactions") {
		t.Errorf("request URLs = %q, %q", s.Events.URL, s.Interactivity.URL)
	}
	for _, e := range []string{"app_home_opened", "app_mention", "app_uninstalled", "tokens_revoked"} {
		if !slices.Contains(s.Events.Events, e) {
			t.Errorf("event %s not subscribed", e)
		}
	}
	want := []string{"app_mentions:read", "channels:history", "chat:write", "commands", "files:write", "groups:history", "im:history", "im:write", "users:read"}
	got := slices.Clone(m.OAuth.Scopes.Bot)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("bot scopes = %v, want exactly %v", got, want)
	}
	if len(f.Shortcuts) != 1 || f.Shortcuts[0].Type != "global" || f.Shortcuts[0].CallbackID != shortcutStart {
		t.Errorf("shortcuts = %+v, want the global %s", f.Shortcuts, shortcutStart)
	}
	if !f.AppHome.HomeTab || s.SocketMode {
		t.Error("want the Home tab on and Socket Mode off by default")
	}
}
