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

// UserPattern matches every key of one user (for forget); it is used with
// SCAN, which on a Cluster visits the one slot the tag names.
func (p Prefix) UserPattern(platform, workspace, user string) string {
	return globEscaper.Replace(p.userTag(platform, workspace, user)) + ":*"
}

var globEscaper = strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`, `\`, `\\`)
