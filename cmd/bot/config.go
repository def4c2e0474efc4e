package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kelseyhightower/envconfig"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/adapters/teams"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/revisit"
	"github.com/itfit/itfit/internal/slackauth"
	"github.com/itfit/itfit/internal/webhooks"
)

// Config is every setting itfit reads, all from the environment. `bot help`
// prints this table; README.md repeats it.
type Config struct {
	Port            int           `envconfig:"PORT" default:"3000" desc:"HTTP port for bot serve"`
	RedisURL        string        `envconfig:"REDIS_URL" desc:"redis://host:6379/0; ?master_name=NAME for Sentinel, ?cluster=true for Cluster; unset: an embedded store that keeps nothing across restarts"`
	LogLevel        slog.Level    `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	AuditFile       string        `envconfig:"ITFIT_AUDIT_FILE" desc:"a YAML audit replacing the built-in one"`
	SessionTTL      time.Duration `envconfig:"ITFIT_SESSION_TTL" default:"168h" desc:"abandoned audits expire after this long"`
	HistoryTTL      time.Duration `envconfig:"ITFIT_HISTORY_TTL" default:"17520h" desc:"completed results are kept this long; 17520h is 2 years"`
	RevisitAfter    time.Duration `envconfig:"ITFIT_REVISIT_AFTER" desc:"a Go duration replacing the 12-month revisit interval (demos and tests)"`
	AccountManagers string        `envconfig:"ITFIT_ACCOUNT_MANAGERS" desc:"who nudges whom: slack:TCLIENT=UMANAGER (or =TPROVIDER/UMANAGER or /CCHANNEL), teams:TENANT=USER, comma-separated"`
	NudgeResends    int           `envconfig:"ITFIT_NUDGE_RESENDS" default:"0" desc:"how many times a nudge is sent again when its delivery may have gone through and the platform cannot check (Teams; Slack without the history scopes): 0 never twice, the nudge is dead-lettered instead; 1 at most twice"`
	Webhooks        string        `envconfig:"ITFIT_WEBHOOKS" desc:"signed outgoing webhooks: a JSON array of endpoints, each with name, url (https), secrets (whsec_...), events, and optional timeout, max_attempts, allow_private; it holds secrets (README, Webhooks)"`
	ShutdownTimeout time.Duration `envconfig:"ITFIT_SHUTDOWN_TIMEOUT" default:"20s" desc:"how long shutdown waits for requests in flight"`
	PprofAddr       string        `envconfig:"ITFIT_PPROF_ADDR" desc:"a loopback host:port serving net/http/pprof, for profiling load runs; off when unset"`
	AdminAddr       string        `envconfig:"ITFIT_ADMIN_ADDR" desc:"host:port (e.g. :9090) of a listener of their own for /healthz, /readyz and /metrics, which PORT then does not serve; unset: they are on PORT"`
	DrainDelay      time.Duration `envconfig:"ITFIT_DRAIN_DELAY" default:"3s" desc:"after SIGTERM, how long /readyz fails before the listener closes"`
	PublicURL       string        `envconfig:"ITFIT_PUBLIC_URL" desc:"itfit's public https:// address; with SLACK_CLIENT_ID, Slack redirects installs back to it (/slack/oauth/callback)"`
	EncryptionKey   string        `envconfig:"ITFIT_ENCRYPTION_KEY" desc:"seals Slack workspace tokens in Redis: ID:BASE64 of 32 random bytes, newest first, comma-separated to rotate"`
	TeamsTenants    string        `envconfig:"ITFIT_TEAMS_TENANTS" desc:"the only Microsoft tenant IDs a multi-tenant Teams bot serves, comma-separated; unset: every tenant (a single-tenant bot serves MICROSOFT_APP_TENANT_ID only)"`
	LinkSecret      string        `envconfig:"ITFIT_LINK_SECRET" desc:"signs download links (exports, the card's PDF) served at ITFIT_PUBLIC_URL/export/: BASE64 of at least 32 random bytes; unset: no links"`

	Slack        slackapp.Config  `envconfig:"SLACK"`
	SlackInstall slackauth.Config `envconfig:"SLACK"`
	Teams        teams.Config     `envconfig:"MICROSOFT"`
}

// slackConfigs completes the two Slack settings from each other: the
// install flow needs the public URL, the encryption key and the Web API URL
// read elsewhere, and the adapter needs to know whether tokens come from
// installations rather than SLACK_BOT_TOKEN.
func (c Config) slackConfigs() (slackapp.Config, slackauth.Config) {
	sc, ic := c.Slack, c.SlackInstall
	ic.PublicURL, ic.EncryptionKey, ic.APIURL = c.PublicURL, c.EncryptionKey, sc.APIURL
	sc.Distributed = ic.Enabled()
	return sc, ic
}

// validateSlack names whatever a half-set Slack configuration lacks.
func (c Config) validateSlack() error {
	sc, ic := c.slackConfigs()
	if !sc.Enabled() {
		return nil
	}
	if err := sc.Validate(); err != nil {
		return err
	}
	if sc.Distributed {
		return ic.Validate()
	}
	return nil
}

func loadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", explainParseError(err))
	}
	if c.Port < 0 || c.Port > 65535 {
		return Config{}, fmt.Errorf("configuration: PORT: got %d, want a TCP port from 0 to 65535", c.Port)
	}
	if c.PprofAddr != "" {
		if err := checkLoopback(c.PprofAddr); err != nil {
			return Config{}, fmt.Errorf("configuration: %w", err)
		}
	}
	if c.DrainDelay < 0 {
		return Config{}, fmt.Errorf("configuration: ITFIT_DRAIN_DELAY: got %s, want zero or more, such as 3s", c.DrainDelay)
	}
	if c.NudgeResends < 0 || c.NudgeResends > 3 {
		return Config{}, fmt.Errorf("configuration: ITFIT_NUDGE_RESENDS: got %d, want 0 (never twice) to 3", c.NudgeResends)
	}
	if c.ShutdownTimeout <= 0 {
		return Config{}, fmt.Errorf("configuration: ITFIT_SHUTDOWN_TIMEOUT: got %s, want a positive duration such as 20s", c.ShutdownTimeout)
	}
	if err := c.validateSlack(); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if err := c.Teams.Validate(); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if _, err := c.teamsTenants(); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if _, err := revisit.ParseDirectory(c.AccountManagers, platformRules()); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if _, err := webhooks.Parse(c.Webhooks); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	if c.RevisitAfter < 0 {
		return Config{}, fmt.Errorf("configuration: ITFIT_REVISIT_AFTER: got %s, want a positive duration such as 720h (unset: 12 months)", c.RevisitAfter)
	}
	if c.LinkSecret != "" {
		if _, err := links.ParseSecret(c.LinkSecret); err != nil {
			return Config{}, fmt.Errorf("configuration: ITFIT_LINK_SECRET: %w", err)
		}
		if c.PublicURL == "" {
			return Config{}, errors.New("configuration: ITFIT_LINK_SECRET is set but ITFIT_PUBLIC_URL is not: links need the address they are served at")
		}
	}
	if c.SessionTTL <= 0 {
		return Config{}, fmt.Errorf("configuration: ITFIT_SESSION_TTL: got %s, want a positive duration such as 168h", c.SessionTTL)
	}
	if c.HistoryTTL <= 0 {
		return Config{}, fmt.Errorf("configuration: ITFIT_HISTORY_TTL: got %s, want a positive duration such as 17520h", c.HistoryTTL)
	}
	return c, nil
}

// teamsTenants are the tenants the Teams bot serves; nil: every tenant. A
// single-tenant bot serves its own (its token is good there only), and
// ITFIT_TEAMS_TENANTS may name that one and no other.
func (c Config) teamsTenants() ([]string, error) {
	list, err := teams.ParseTenants(c.TeamsTenants)
	if err != nil {
		return nil, fmt.Errorf("ITFIT_TEAMS_TENANTS: %w", err)
	}
	if len(list) > 0 && !c.Teams.Enabled() {
		return nil, errors.New("Teams is half configured: ITFIT_TEAMS_TENANTS is set but MICROSOFT_APP_ID is not")
	}
	own := strings.ToLower(strings.TrimSpace(c.Teams.TenantID))
	if own == "" {
		return list, nil
	}
	for _, t := range list {
		if t != own {
			return nil, fmt.Errorf("ITFIT_TEAMS_TENANTS: got %q, but a single-tenant bot (MICROSOFT_APP_TENANT_ID) serves its own tenant only: unset it, or make the bot multi-tenant", t)
		}
	}
	return []string{own}, nil
}

// explainParseError words envconfig's "envconfig.Process: assigning PORT to
// Port: converting 'abc' to type int" for the person who set the variable:
// which variable, what it got and what it takes. Only non-string settings
// can fail to parse, and none of them is a secret, so the value is shown.
func explainParseError(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	want := "a value of type " + pe.TypeName
	switch pe.TypeName {
	case "int", "int64", "uint", "uint64":
		want = "a whole number"
	case "time.Duration":
		want = "a duration with its unit, such as 90s, 15m or 168h"
	case "slog.Level":
		want = "debug, info, warn or error"
	case "bool":
		want = "true or false"
	}
	return fmt.Errorf("%s: got %q, want %s", pe.KeyName, pe.Value, want)
}

// helpWidth is the width `bot help` is laid out for: every line fits an
// 80-column terminal.
const helpWidth = 80

// setting is one variable as `bot help` lists it.
type setting struct{ key, def, desc string }

// settings lists every variable of Config, in order, from its tags.
func settings() ([]setting, error) {
	var b strings.Builder
	err := envconfig.Usagef("", &Config{}, &b, "{{range .}}{{usage_key .}}\t{{usage_default .}}\t{{usage_description .}}\n{{end}}")
	if err != nil {
		return nil, err
	}
	var out []setting
	for l := range strings.SplitSeq(strings.TrimSuffix(b.String(), "\n"), "\n") {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("help: cannot read %q", l)
		}
		out = append(out, setting{f[0], f[1], f[2]})
	}
	return out, nil
}

// meaning is a setting's description with its default, as help prints it.
func (s setting) meaning() string {
	if s.def == "" {
		return s.desc
	}
	return s.desc + " (default " + s.def + ")"
}

// printHelp lists the commands and every variable with its default, laid
// out for 80 columns: the name on its own line, the meaning wrapped under
// it (a table with a defaults column was 239 columns wide).
func printHelp(w io.Writer) error {
	list, err := settings()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(`itfit: co-managed or fully managed IT? A chat bot that runs the audit.

Usage:
  bot chat      run the audit in this terminal (--lang en or fr; default: the
                language chosen before, else LANG's, else English)
  bot serve     run the HTTP server for Slack and Teams
  bot check     try Redis, Slack and Teams with this configuration; non-zero
                on failure (--config-only: the settings alone, no network)
  bot webhooks  list, replay or drop the webhook deliveries that ran out of
                attempts: list | replay KEY... | drop KEY... (or --all)
  bot version   print the version
  bot help      print this help

Environment:
`)
	for _, s := range list {
		b.WriteString("  " + s.key + "\n")
		for _, l := range wrap(s.meaning(), helpWidth-6) {
			b.WriteString("      " + l + "\n")
		}
	}
	b.WriteString("\nSecrets are read from the environment only and never logged.\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// wrap breaks text into lines of at most width characters, between words;
// a word longer than width is broken after its commas (a list such as
// SLACK_SCOPES' default), else gets a line of its own.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if utf8.RuneCountInString(word) > width && strings.Contains(word, ",") {
			if line != "" {
				lines = append(lines, line)
			}
			line = ""
			for _, part := range strings.SplitAfter(word, ",") {
				if line != "" && utf8.RuneCountInString(line)+utf8.RuneCountInString(part) > width {
					lines = append(lines, line)
					line = ""
				}
				line += part
			}
			continue
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
