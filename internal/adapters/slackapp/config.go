// Package slackapp runs the audit in Slack: the /itfit slash command, block
// actions, the Events API and Socket Mode, rendering questions and the
// recommendation as Block Kit.
package slackapp

import (
	"errors"
	"strings"
)

// Config is read from SLACK_* variables.
type Config struct {
	SigningSecret string `envconfig:"SIGNING_SECRET" desc:"Slack app signing secret; with SLACK_BOT_TOKEN it switches Slack on"`
	BotToken      string `envconfig:"BOT_TOKEN" desc:"bot token (xoxb-...) for a single-workspace install"`
	AppToken      string `envconfig:"APP_TOKEN" desc:"app-level token (xapp-...); set it to use Socket Mode instead of public Request URLs"`
	APIURL        string `envconfig:"API_URL" desc:"Slack Web API base URL, for GovSlack or tests (default https://slack.com/api/)"`
}

// Enabled reports whether any Slack setting is present.
func (c Config) Enabled() bool {
	return c.SigningSecret != "" || c.BotToken != "" || c.AppToken != ""
}

// Validate names whatever a half-set configuration is missing.
func (c Config) Validate() error {
	var missing []string
	if c.SigningSecret == "" && c.AppToken == "" {
		missing = append(missing, "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
	}
	if c.BotToken == "" {
		missing = append(missing, "SLACK_BOT_TOKEN")
	}
	if len(missing) > 0 {
		return errors.New("Slack is half configured: set " + strings.Join(missing, " and "))
	}
	if !strings.HasPrefix(c.BotToken, "xoxb-") {
		return errors.New("SLACK_BOT_TOKEN must be a bot token (xoxb-...)")
	}
	if c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-") {
		return errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-...)")
	}
	return nil
}
