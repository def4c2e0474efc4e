// Package keys builds every Redis key itfit uses, in one place.
//
// Keys that belong together share a hash tag (the part in braces), so that a
// Lua script or MULTI touching them works unchanged on Redis Cluster: all of
// one user's keys (their sessions, history and conversation references) hash
// to the same slot. Platform IDs are escaped so that an ID holding ':', '{' or
// '}' (Teams IDs do) can neither break the tag nor collide with another key.
package keys

import "strings"

// Prefix starts every key; tests give each run its own prefix so that they
// can share a Redis database and clean up after themselves.
type Prefix string

// Default is the prefix used in production.
const Default Prefix = "itfit"

// escaper keeps key separators and hash-tag braces out of platform IDs.
var escaper = strings.NewReplacer("%", "%25", ":", "%3A", "{", "%7B", "}", "%7D")

func esc(s string) string { return escaper.Replace(s) }

// userTag is the hash tag shared by every key of one user on one workspace.
func (p Prefix) userTag(platform, workspace, user string) string {
	return string(p) + ":{" + esc(platform) + ":" + esc(workspace) + ":" + esc(user) + "}"
}

// Session is the hash holding one user's audit in one conversation.
func (p Prefix) Session(platform, workspace, user, conversation string) string {
	return p.userTag(platform, workspace, user) + ":session:" + esc(conversation)
}

// History is the list of one user's completed audits, newest first.
func (p Prefix) History(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":history"
}

// ---------------------------------------------------------------------------
// Scheduler keys
//
// Every key of the scheduler (internal/schedule) shares the one hash tag
// "{schedule}", so its Lua scripts, which touch the due set, the job records
// and the claims together, run unchanged on Redis Cluster. The price is that
// the whole schedule lives in one slot; at a few hundred bytes a job that is
// fine for millions of nudges.
// ---------------------------------------------------------------------------

// scheduleTag is the hash tag shared by every scheduler key.
func (p Prefix) scheduleTag() string { return string(p) + ":{schedule}" }

// ScheduleDue is the sorted set of job IDs scored by the Unix millisecond at
// which each is next due (or, while claimed, at which its lease ends).
func (p Prefix) ScheduleDue() string { return p.scheduleTag() + ":due" }

// ScheduleJobs is the hash from job ID to the job's encoded record.
func (p Prefix) ScheduleJobs() string { return p.scheduleTag() + ":jobs" }

// ScheduleClaims is the hash from job ID to the token of the worker claim
// that currently holds it; only jobs being delivered have an entry.
func (p Prefix) ScheduleClaims() string { return p.scheduleTag() + ":claims" }

// ScheduleSent is the hash of one job's delivered occurrences: field = the
// due time (Unix ms) each occurrence was scheduled for. Its TTL is renewed
// at every delivery, so everything one job ID left behind is this one key
// (forget deletes it without a SCAN).
func (p Prefix) ScheduleSent(id string) string {
	return p.scheduleTag() + ":sent:" + esc(id)
}

// ScheduleDead is the list of jobs that ran out of attempts, newest first,
// capped in length and in age.
func (p Prefix) ScheduleDead() string { return p.scheduleTag() + ":dead" }

// SchedulePattern matches every scheduler key (for tests and cleanup).
func (p Prefix) SchedulePattern() string {
	return globEscaper.Replace(p.scheduleTag()) + ":*"
}

// globEscaper keeps glob characters in a prefix literal for SCAN MATCH.
var globEscaper = strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`, `\`, `\\`)

// Sessions is the set of conversations in which one user has an audit, so
// that forget can find them without scanning the keyspace.
func (p Prefix) Sessions(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":sessions"
}

// ---------------------------------------------------------------------------
// Teams keys
//
// The Teams adapter keeps each user's conversation references (where and how
// to reach them later) under the user's own hash tag, so forget deletes them
// with the user's sessions and history in one MULTI, on Redis Cluster too.
// ---------------------------------------------------------------------------

// TeamsReferences is the hash of one Teams user's conversation references:
// field "personal" for their 1:1 chat with the bot, "last" for wherever they
// last spoke to it. Each value is the reference encoded as JSON.
func (p Prefix) TeamsReferences(tenant, user string) string {
	return p.userTag("teams", tenant, user) + ":teams:refs"
}

// TeamsAlias maps a Teams user's from.id ("29:...", per bot) to their Entra
// object ID, the ID their audits are keyed by, so an activity that arrives
// without from.aadObjectId still reaches its sender's audit. It lives under
// the from.id's own tag (it is looked up before the Entra ID is known);
// forget deletes it by name, with the references that name the from.id.
func (p Prefix) TeamsAlias(tenant, fromID string) string {
	return p.userTag("teams", tenant, fromID) + ":teams:alias"
}

// TeamsActivity claims one activity the Bot Connector delivered (SET NX,
// minutes), so a redelivery has one effect. sum is a short hash of the
// tenant, conversation and activity ID, which keeps the key the same small
// size however long Teams' IDs are.
func (p Prefix) TeamsActivity(sum string) string {
	return string(p) + ":teams:activity:" + esc(sum)
}

// TeamsWelcome marks a conversation (a team, a group chat) as greeted when
// itfit was added to it (SET NX, a month), so Teams' conversationUpdate and
// installationUpdate for the same install, and their redeliveries, bring one
// welcome. sum is a short hash of the tenant and conversation ID.
func (p Prefix) TeamsWelcome(sum string) string {
	return string(p) + ":teams:welcome:" + esc(sum)
}

// ---------------------------------------------------------------------------
// Slack keys
//
// Slack delivers some things more than once (Events API retries, Socket Mode
// redeliveries, a replayed request). The adapter claims each delivery with
// SET NX and a TTL under these keys, so that only the first has an effect
// on any replica. What concerns one user (a double click, an answer's
// signature) is claimed in their Claims set instead, under their hash tag,
// so forget finds it and the answer script can take it.
// ---------------------------------------------------------------------------

// SlackEvent claims one Events API event (or Socket Mode envelope) by the ID
// Slack gave it; workspace keeps IDs of different installs apart.
func (p Prefix) SlackEvent(workspace, id string) string {
	return string(p) + ":slack:event:" + esc(workspace) + ":" + esc(id)
}

// ---------------------------------------------------------------------------
// Revisit keys
// ---------------------------------------------------------------------------

// Manager is the account manager a user chose to share results with (set by
// "Share with my account manager"); it overrides the configured one.
func (p Prefix) Manager(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":manager"
}

// Claims is the sorted set of one user's claims: things done once for
// them (a note about a stale button, a restart), scored by when each
// expires (conversation.Claims).
func (p Prefix) Claims(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":claims"
}

// Shares counts one user's "Share with my account manager" sends in the
// current day; it expires a day after the first.
func (p Prefix) Shares(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":shares"
}

// ForgetGuard is set while one user's forget runs and for a few seconds
// after, so that a burst of forgets runs one (erasure.Registry.Guard). It
// holds "1" and expires by itself.
func (p Prefix) ForgetGuard(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":forgetting"
}

// UserPattern matches every key of one user (tests check that forget left
// none).
func (p Prefix) UserPattern(platform, workspace, user string) string {
	return globEscaper.Replace(p.userTag(platform, workspace, user)) + ":*"
}

// ---------------------------------------------------------------------------
// Slack install keys
//
// A distributed Slack app keeps one installation per workspace (Enterprise
// Grid: per enterprise and team; an org-wide install has the enterprise
// only). The installation record and the lock that serialises its token
// refresh share the installation's hash tag, so the refresh's
// compare-and-set script runs unchanged on Redis Cluster. An empty
// enterprise or team escapes to nothing, and ':' inside an ID is escaped, so
// ("E1", "") and ("", "E1") cannot collide.
// ---------------------------------------------------------------------------

// slackInstallTag is the hash tag of one installation.
func (p Prefix) slackInstallTag(enterprise, team string) string {
	return string(p) + ":{slack:install:" + esc(enterprise) + ":" + esc(team) + "}"
}

// SlackInstallation is the hash holding one installation: its record (bot
// token sealed) and a version bumped on every write.
func (p Prefix) SlackInstallation(enterprise, team string) string {
	return p.slackInstallTag(enterprise, team) + ":installation"
}

// SlackRefreshLock is held (SET NX PX) by the one replica refreshing an
// installation's rotating token.
func (p Prefix) SlackRefreshLock(enterprise, team string) string {
	return p.slackInstallTag(enterprise, team) + ":refresh-lock"
}

// SlackOAuthState is one pending "Add to Slack" attempt, keyed by its
// random state parameter; it expires and is consumed with GETDEL.
func (p Prefix) SlackOAuthState(state string) string {
	return string(p) + ":slack:oauth-state:" + esc(state)
}

// SlackSignature marks one signed Slack request as seen, by a hash of its
// signature, until its timestamp leaves the 5-minute window, so that a
// replayed copy is refused. It has no user's hash tag: it is checked before
// the body is parsed, so before anyone is known.
func (p Prefix) SlackSignature(sum string) string {
	return string(p) + ":slack:sig:" + esc(sum)
}

// Language is the hash of one user's language: field "chosen" for what
// they picked with the language command, "seen" for what their platform
// last said they use (Slack's users.info locale, Teams' activity locale),
// each a BCP 47 tag.
func (p Prefix) Language(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":lang"
}

// ---------------------------------------------------------------------------
// Webhook keys
//
// Outgoing webhooks (internal/webhooks) keep one queue per user and
// endpoint, under the user's hash tag: the scripts that append an event,
// hand the head to one sender at a time and drop everything at forget
// touch only that user's keys, so they run unchanged on Redis Cluster, and
// forget finds them by name. The delivery triggers are a schedule of their
// own (WebhookSchedule); the dead letters are one capped list.
// ---------------------------------------------------------------------------

// WebhookQueue is the list of event IDs waiting to go to one endpoint about
// one user, oldest first: only its head is ever being sent.
func (p Prefix) WebhookQueue(platform, workspace, user, endpoint string) string {
	return p.userTag(platform, workspace, user) + ":webhooks:" + esc(endpoint) + ":queue"
}

// WebhookState is the hash beside a WebhookQueue: each waiting event's body
// (field "b:<id>"), the head's attempt count, next attempt and last error,
// and the lock held by the one sender of the head.
func (p Prefix) WebhookState(platform, workspace, user, endpoint string) string {
	return p.userTag(platform, workspace, user) + ":webhooks:" + esc(endpoint) + ":state"
}

// WebhookSeen is the sorted set of one user's recent event IDs, scored by
// when each was queued, so that an event queued twice (a revisit delivery
// retried) goes out once.
func (p Prefix) WebhookSeen(platform, workspace, user string) string {
	return p.userTag(platform, workspace, user) + ":webhooks:seen"
}

// WebhookSchedule is the prefix of the webhook deliveries' schedule: an
// internal/schedule Store of its own (its keys are <prefix>:webhooks:
// {schedule}:…), so that the nudge worker and the webhook worker never
// claim each other's jobs.
func (p Prefix) WebhookSchedule() Prefix { return p + ":webhooks" }

// WebhookDead is the list of webhook deliveries that ran out of attempts,
// newest first, capped in length and in age, for `bot webhooks`.
func (p Prefix) WebhookDead() string { return string(p) + ":{webhooks}:dead" }

// ---------------------------------------------------------------------------
// Account managers' desk keys
//
// The desk (internal/portfolio) keeps, for each source of a manager's
// clients, two sorted sets of client IDs: by when each client's revisit is
// due, and by when their latest result came (scored negated, so that the
// most recent sorts first). A source is a client workspace (what the
// operator assigns in ITFIT_ACCOUNT_MANAGERS) or a manager a client shared
// with. Every desk key shares the hash tag "{desk}", as the scheduler's
// share "{schedule}", so that one Lua script can merge the sources of a
// manager's page and move a client between them on Redis Cluster too.
// ---------------------------------------------------------------------------

// deskTag is the hash tag shared by every desk key.
func (p Prefix) deskTag() string { return string(p) + ":{desk}" }

// DeskWorkspace is the sorted set (by "due" or "changed") of the clients of
// one workspace who have a result.
func (p Prefix) DeskWorkspace(order, platform, workspace string) string {
	return p.deskTag() + ":" + esc(order) + ":w:" + esc(platform) + ":" + esc(workspace)
}

// DeskShared is the sorted set (by "due" or "changed") of the clients who
// shared their result with one manager.
func (p Prefix) DeskShared(order, platform, workspace, manager string) string {
	return p.deskTag() + ":" + esc(order) + ":s:" + esc(platform) + ":" + esc(workspace) + ":" + esc(manager)
}

// DeskClient is the hash of one client's place on the desk: the manager
// they shared with (which of the DeskShared sets holds them). It is kept
// beside the sets, not under the client's own tag, so that the scripts
// that move a client read and write it in the same slot.
func (p Prefix) DeskClient(platform, workspace, user string) string {
	return p.deskTag() + ":client:" + esc(platform) + ":" + esc(workspace) + ":" + esc(user)
}

// DeskPattern matches every desk key (for tests and cleanup).
func (p Prefix) DeskPattern() string { return globEscaper.Replace(p.deskTag()) + ":*" }

// LinkUsed marks one download link (by its random ID) as used, until the
// link would have expired: links are single use.
func (p Prefix) LinkUsed(id string) string {
	return string(p) + ":link:used:" + esc(id)
}
