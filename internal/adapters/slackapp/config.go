// Package slackapp runs the audit in Slack: the /itfit slash command, block
// actions, the Events API and Socket Mode, rendering questions and the
// recommendation as Block Kit.
package slackapp

import (
	"errors"
	"strings"

	"github.com/itfit/itfit/internal/slackapi"
)

// Config is read from SLACK_* variables.
type Config struct {
	SigningSecret string `envconfig:"SIGNING_SECRET" desc:"Slack app signing secret; with SLACK_BOT_TOKEN it switches Slack on"`
	BotToken      string `envconfig:"BOT_TOKEN" desc:"bot token (xoxb-...) for a single-workspace install"`
	AppToken      string `envconfig:"APP_TOKEN" desc:"app-level token (xapp-...); set it to use Socket Mode instead of public Request URLs"`
	APIURL        string `envconfig:"API_URL" desc:"Slack Web API base URL, for GovSlack or tests (default https://slack.com/api/)"`

	// Distributed is set when workspaces install itfit through "Add to
	// Slack" (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, read elsewhere):
	// each workspace's token then comes from its installation, and
	// SLACK_BOT_TOKEN is not used.
	Distributed bool `ignored:"true"`
}

// Enabled reports whether any Slack setting is present.
func (c Config) Enabled() bool {
	return c.SigningSecret != "" || c.BotToken != "" || c.AppToken != "" || c.Distributed
}

// Validate names whatever a half-set configuration is missing.
func (c Config) Validate() error {
	var missing []string
	if c.SigningSecret == "" && c.AppToken == "" {
		missing = append(missing, "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
	}
	if c.BotToken == "" && !c.Distributed {
		missing = append(missing, "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install in many workspaces)")
	}
	if len(missing) > 0 {
		return errors.New("Slack is half configured: set " + strings.Join(missing, " and "))
	}
	if c.Distributed && c.BotToken != "" {
		// Static would hand that one token to every workspace, including
		// ones it does not belong to.
		return errors.New("SLACK_BOT_TOKEN is for one workspace and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET for many: set one or the other " +
			"(to move a workspace to Add to Slack, unset SLACK_BOT_TOKEN and install it again at /slack/install)")
	}
	if c.BotToken != "" && !strings.HasPrefix(c.BotToken, "xoxb-") {
		return errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-...)")
	}
	if c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-") {
		return errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-...)")
	}
	return nil
}

// APIBase is the Web API's base URL (SLACK_API_URL, else slack.com's),
// ending in '/'.
func (c Config) APIBase() string { return slackapi.APIBase(c.APIURL) }
