package slackapp

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/itfit/itfit/internal/slackauth"
)

// The distributed manifest must send installs back to the route the
// install flow serves and ask for exactly the scopes it requests.
func TestDistributedManifestMatchesTheInstallFlow(t *testing.T) {
	b, err := os.ReadFile("../../../deploy/slack/manifest-distributed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Redirects []string               `json:"redirect_urls"`
			Scopes    struct{ Bot []string } `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Events struct {
				Events []string `json:"bot_events"`
			} `json:"event_subscriptions"`
		} `json:"settings"`
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.OAuth.Redirects) != 1 || !strings.HasSuffix(m.OAuth.Redirects[0], slackauth.CallbackPath) {
		t.Errorf("redirect_urls = %v, want the callback %s", m.OAuth.Redirects, slackauth.CallbackPath)
	}
	want := strings.Split(slackauth.DefaultScopes, ",")
	got := slices.Clone(m.OAuth.Scopes.Bot)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("bot scopes = %v, want SLACK_SCOPES' default %v", got, want)
	}
	for _, e := range []string{"app_uninstalled", "tokens_revoked"} {
		if !slices.Contains(m.Settings.Events.Events, e) {
			t.Errorf("event %s not subscribed: an uninstall would leave tokens and nudges behind", e)
		}
	}
}
