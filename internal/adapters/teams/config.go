// Package teams runs the audit in Microsoft Teams: personal chats, and
// channels or group chats where the bot is @mentioned, rendering questions
// and the recommendation as Adaptive Cards.
package teams

import (
	"errors"
	"fmt"
	"strings"
)

// Config is read from MICROSOFT_* variables.
type Config struct {
	AppID             string `envconfig:"APP_ID" desc:"Azure Bot app ID; setting it switches Teams on"`
	AppPassword       string `envconfig:"APP_PASSWORD" desc:"Azure Bot client secret"`
	TenantID          string `envconfig:"APP_TENANT_ID" desc:"tenant of a single-tenant bot; empty for a multi-tenant one"`
	OpenIDMetadataURL string `envconfig:"OPENID_METADATA_URL" default:"https://login.botframework.com/v1/.well-known/openidconfiguration" desc:"where inbound token keys are published"`
	TokenURL          string `envconfig:"TOKEN_URL" desc:"OAuth token endpoint for outbound calls (default: the tenant's, or botframework.com's when multi-tenant)"`
}

// Enabled reports whether Teams is switched on.
func (c Config) Enabled() bool { return c.AppID != "" }

// Validate names whatever a half-set configuration is missing.
func (c Config) Validate() error {
	if c.AppID != "" && c.AppPassword == "" {
		return errors.New("Teams is half configured: MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not")
	}
	if c.AppID == "" && (c.AppPassword != "" || c.TenantID != "") {
		return errors.New("Teams is half configured: set MICROSOFT_APP_ID")
	}
	return nil
}

// ParseTenants reads a comma-separated list of Microsoft tenant IDs (GUIDs,
// in any case) into lower case; empty is none.
func ParseTenants(s string) ([]string, error) {
	var out []string
	for t := range strings.SplitSeq(s, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !isEntraID(t) {
			return nil, fmt.Errorf("got %q, want Microsoft tenant IDs (GUIDs such as 72f988bf-86f1-41af-91ab-2d7cd011db47), comma-separated", t)
		}
		out = append(out, t)
	}
	return out, nil
}
