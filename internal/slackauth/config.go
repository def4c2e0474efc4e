package slackauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/itfit/itfit/internal/secretbox"
)

// DefaultScopes are the bot scopes the install asks for; they match
// deploy/slack/manifest.yaml.
const DefaultScopes = "commands,chat:write,im:write,users:read,app_mentions:read,files:write,im:history,channels:history,groups:history"

// DefaultAuthorizeURL is Slack's OAuth v2 consent page.
const DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"

// Config is the "Add to Slack" flow's settings. The envconfig tags are
// meant for a field under the SLACK prefix (SLACK_CLIENT_ID, ...). The
// public URL, the encryption key and the Web API URL are read elsewhere
// (ITFIT_PUBLIC_URL, ITFIT_ENCRYPTION_KEY, SLACK_API_URL) and copied in
// before Validate, hence ignored here.
type Config struct {
	ClientID     string `envconfig:"CLIENT_ID" desc:"Slack app client ID; with SLACK_CLIENT_SECRET it switches on Add to Slack (GET /slack/install) for many workspaces"`
	ClientSecret string `envconfig:"CLIENT_SECRET" desc:"Slack app client secret, for oauth.v2.access"`
	Scopes       string `envconfig:"SCOPES" default:"commands,chat:write,im:write,users:read,app_mentions:read,files:write,im:history,channels:history,groups:history" desc:"bot scopes requested at install, comma-separated"`
	AuthorizeURL string `envconfig:"AUTHORIZE_URL" desc:"Slack's consent page (default https://slack.com/oauth/v2/authorize; GovSlack and tests change it)"`

	PublicURL     string `ignored:"true"` // ITFIT_PUBLIC_URL
	EncryptionKey string `ignored:"true"` // ITFIT_ENCRYPTION_KEY
	APIURL        string `ignored:"true"` // SLACK_API_URL
}

// Routes the install flow serves, relative to the public URL.
const (
	InstallPath  = "/slack/install"
	CallbackPath = "/slack/oauth/callback"
)

// Enabled reports whether the install flow is asked for.
func (c Config) Enabled() bool { return c.ClientID != "" || c.ClientSecret != "" }

// Validate names every missing or malformed setting of an enabled flow.
func (c Config) Validate() error {
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, "SLACK_CLIENT_ID")
	}
	if c.ClientSecret == "" {
		missing = append(missing, "SLACK_CLIENT_SECRET")
	}
	if c.PublicURL == "" {
		missing = append(missing, "ITFIT_PUBLIC_URL (the https:// address Slack redirects back to)")
	}
	if c.EncryptionKey == "" {
		missing = append(missing, "ITFIT_ENCRYPTION_KEY (to seal workspace tokens; generate with: head -c32 /dev/urandom | base64, set as k1:BASE64)")
	}
	if len(missing) > 0 {
		return errors.New("Slack install (Add to Slack) is half configured: set " + strings.Join(missing, ", "))
	}
	if err := checkPublicURL("ITFIT_PUBLIC_URL", c.PublicURL); err != nil {
		return err
	}
	if c.AuthorizeURL != "" {
		if err := checkPublicURL("SLACK_AUTHORIZE_URL", c.AuthorizeURL); err != nil {
			return err
		}
	}
	if _, err := secretbox.Parse(c.EncryptionKey); err != nil {
		return fmt.Errorf("ITFIT_ENCRYPTION_KEY: %w", err)
	}
	if len(c.scopes()) == 0 {
		return errors.New("SLACK_SCOPES must name at least one bot scope")
	}
	return nil
}

// checkPublicURL wants https; Slack accepts plain http only for localhost.
func checkPublicURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an absolute URL such as https://itfit.example.com", name)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || net.ParseIP(h).IsLoopback() {
			return nil
		}
	}
	return fmt.Errorf("%s must use https (Slack only redirects to http on localhost)", name)
}

// RedirectURL is the callback address given to Slack: it must be listed
// under oauth_config.redirect_urls in the app manifest, and be identical in
// the authorize request and the code exchange.
func (c Config) RedirectURL() string {
	return strings.TrimRight(c.PublicURL, "/") + CallbackPath
}

// InstallURL is the "Add to Slack" link to publish.
func (c Config) InstallURL() string {
	return strings.TrimRight(c.PublicURL, "/") + InstallPath
}

func (c Config) authorizeURL() string {
	if c.AuthorizeURL == "" {
		return DefaultAuthorizeURL
	}
	return c.AuthorizeURL
}

func (c Config) scopes() []string {
	var out []string
	for _, s := range strings.Split(c.Scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
