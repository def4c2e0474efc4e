// Package slackauth lets one itfit serve many Slack workspaces: the
// "Add to Slack" OAuth v2 flow, an installation store in Redis with the bot
// tokens sealed by secretbox, and the token provider the Slack adapter asks
// for the token of the workspace a request or a nudge concerns, refreshing
// rotating tokens before they expire (once, however many replicas ask).
//
// One-workspace deployments keep their single SLACK_BOT_TOKEN through
// Static, which answers TokenFor the same way.
package slackauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/secretbox"
)

// Errors. None of them carries a token.
var (
	// ErrNotInstalled: no installation for the workspace. The adapter
	// answers such a request with a polite "not installed" note.
	ErrNotInstalled = errors.New("slackauth: itfit is not installed in this workspace")
	// ErrCorrupt: the stored record does not decode or its token does not
	// open (tampered with, moved from another workspace's key, or sealed
	// with a key no longer in ITFIT_ENCRYPTION_KEY).
	ErrCorrupt = errors.New("slackauth: stored installation is unreadable")
	// ErrRefresh: a rotating token expired and could not be refreshed.
	ErrRefresh = errors.New("slackauth: the workspace's token could not be refreshed")
)

// Workspace identifies one installation. On Enterprise Grid a
// workspace-level install has both IDs; an org-wide install has the
// enterprise only. Outside Grid only Team is set.
type Workspace struct {
	Enterprise string
	Team       string
}

// ID is the workspace as the Slack adapter names it in conversation keys
// ("E:T" on Grid, "T" outside, "E:" for an org-wide install), so the
// uninstall hook can find the workspace's sessions and nudges.
func (w Workspace) ID() string {
	if w.Enterprise != "" {
		return w.Enterprise + ":" + w.Team
	}
	return w.Team
}

// LogValue logs the two IDs, never more.
func (w Workspace) LogValue() slog.Value {
	return slog.GroupValue(slog.String("enterprise", w.Enterprise), slog.String("team", w.Team))
}

func (w Workspace) valid() bool { return w.Team != "" || w.Enterprise != "" }

// Secret is a token. It prints, logs and marshals as "[redacted]" so that
// logging an Installation by mistake cannot leak it; Reveal gives the value
// to the one place that needs it (the Slack client).
type Secret string

const redacted = "[redacted]"

// Reveal returns the token itself.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the token.
func (s Secret) GoString() string { return `slackauth.Secret("` + s.String() + `")` }

// LogValue keeps slog from printing the token.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json from printing the token.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Installation is itfit installed in one workspace.
type Installation struct {
	Workspace
	// EnterpriseName and Installer come with Slack's answer at install
	// time, for the result page and the install's log line; they are not
	// stored (nothing reads them back), so a stored installation has them
	// empty. TeamName is stored: a manager in the provider's workspace is
	// told which client workspace a nudge is about by its name.
	EnterpriseName string
	TeamName       string
	// OrgWide is an Enterprise Grid org-wide install (Team is empty).
	OrgWide   bool
	AppID     string
	BotUserID string
	Scopes    []string
	// Installer is the Slack user ID of whoever installed it.
	Installer   string
	InstalledAt time.Time

	BotToken Secret
	// RefreshToken and ExpiresAt are set when the app has token rotation
	// on; a zero ExpiresAt means the bot token does not expire.
	RefreshToken Secret
	ExpiresAt    time.Time
}

// Rotating reports whether the bot token expires and can be refreshed.
func (i Installation) Rotating() bool { return i.RefreshToken != "" && !i.ExpiresAt.IsZero() }

// Name is the workspace's display name for pages and logs.
func (i Installation) Name() string {
	if i.TeamName != "" {
		return i.TeamName
	}
	if i.EnterpriseName != "" {
		return i.EnterpriseName
	}
	return i.ID()
}

// LogValue logs what identifies the installation, never its tokens.
func (i Installation) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("enterprise", i.Enterprise), slog.String("team", i.Team),
		slog.String("team_name", i.TeamName), slog.String("app", i.AppID),
		slog.Bool("org_wide", i.OrgWide), slog.Bool("rotating", i.Rotating()),
	)
}

// record is the stored form. Plain metadata stays readable (uninstall can
// report what it deleted even if the tokens no longer open); the tokens
// are sealed. It keeps what itfit reads back and no more: not the
// installer's user ID nor the org's name (records written before kept
// them as "installer" and "enterprise_name"; they are ignored when read,
// and gone at the next write).
type record struct {
	Enterprise  string   `json:"enterprise_id,omitempty"`
	Team        string   `json:"team_id,omitempty"`
	TeamName    string   `json:"team_name,omitempty"`
	OrgWide     bool     `json:"org_wide,omitempty"`
	AppID       string   `json:"app_id,omitempty"`
	BotUserID   string   `json:"bot_user_id,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
	InstalledAt int64    `json:"installed_at_ms,omitempty"`
	Token       string   `json:"token"`
	Refresh     string   `json:"refresh,omitempty"`
	ExpiresAt   int64    `json:"expires_at_ms,omitempty"`
}

// Hash fields of an installation key: the record and a version that every
// write bumps, so a refresh can compare-and-set against the record it read.
const (
	fieldRecord  = "rec"
	fieldVersion = "v"
)

// sealContext binds a sealed token to its workspace and its field: a token
// copied to another workspace's record, or a refresh token swapped into the
// bot token's place, does not open.
func sealContext(field string, w Workspace) []byte {
	return []byte("itfit/slackauth/v1\x00" + field + "\x00" + w.Enterprise + "\x00" + w.Team)
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toRecord(box *secretbox.Box, in Installation) (record, error) {
	r := record{
		Enterprise: in.Enterprise, Team: in.Team, TeamName: in.TeamName, OrgWide: in.OrgWide,
		AppID: in.AppID, BotUserID: in.BotUserID, Scopes: in.Scopes,
		InstalledAt: unixMilli(in.InstalledAt), ExpiresAt: unixMilli(in.ExpiresAt),
	}
	var err error
	if r.Token, err = box.Seal([]byte(in.BotToken), sealContext("bot", in.Workspace)); err != nil {
		return record{}, fmt.Errorf("seal bot token: %w", err)
	}
	if in.RefreshToken != "" {
		if r.Refresh, err = box.Seal([]byte(in.RefreshToken), sealContext("refresh", in.Workspace)); err != nil {
			return record{}, fmt.Errorf("seal refresh token: %w", err)
		}
	}
	return r, nil
}

// metadata is the installation without its tokens.
func (r record) metadata() Installation {
	return Installation{
		Workspace: Workspace{Enterprise: r.Enterprise, Team: r.Team},
		TeamName:  r.TeamName, OrgWide: r.OrgWide,
		AppID: r.AppID, BotUserID: r.BotUserID, Scopes: r.Scopes,
		InstalledAt: fromMilli(r.InstalledAt), ExpiresAt: fromMilli(r.ExpiresAt),
	}
}

// open decodes a stored record read from the key of workspace w. The
// record's own IDs must match the key's, and the tokens are opened with the
// key's workspace as context, so a record copied between keys is refused
// either way.
func open(box *secretbox.Box, w Workspace, raw string) (Installation, bool, error) {
	var r record
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return Installation{}, false, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if r.Enterprise != w.Enterprise || r.Team != w.Team {
		return Installation{}, false, fmt.Errorf("%w: record belongs to another workspace", ErrCorrupt)
	}
	in := r.metadata()
	tok, err := box.Open(r.Token, sealContext("bot", w))
	if err != nil {
		return Installation{}, false, fmt.Errorf("%w: bot token: %w", ErrCorrupt, err)
	}
	in.BotToken = Secret(tok)
	// stale: sealed under a key that is no longer the first; rewrite it so
	// the old key can be dropped from ITFIT_ENCRYPTION_KEY.
	stale := !strings.HasPrefix(r.Token, box.Current()+".")
	if r.Refresh != "" {
		rt, err := box.Open(r.Refresh, sealContext("refresh", w))
		if err != nil {
			return Installation{}, false, fmt.Errorf("%w: refresh token: %w", ErrCorrupt, err)
		}
		in.RefreshToken = Secret(rt)
		stale = stale || !strings.HasPrefix(r.Refresh, box.Current()+".")
	}
	return in, stale, nil
}

// normalize makes an org-wide install's identity the enterprise alone.
func normalize(in Installation) Installation {
	if in.OrgWide {
		in.Team = ""
	}
	return in
}

// casScript replaces the record only if its version is still the one the
// caller read: a refresh (or a re-seal) that raced a re-install or an
// uninstall must not write back over it or resurrect it.
var casScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'v', 1)
return 1`)

// unlockScript releases the refresh lock only if this caller still holds it.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

func installKey(p keys.Prefix, w Workspace) string { return p.SlackInstallation(w.Enterprise, w.Team) }
