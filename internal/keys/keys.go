// Package keys builds every Redis key itfit uses, in one place.
//
// Keys that belong together share a hash tag (the part in braces), so that a
// Lua script or MULTI touching them works unchanged on Redis Cluster: all of
// one user's keys (their sessions, history, conversation references and
// scheduled nudges' index) hash to the same slot.
package keys

// Prefix starts every key; tests give each run its own prefix so that they
// can share a Redis database and clean up after themselves.
type Prefix string

// Default is the prefix used in production.
const Default Prefix = "itfit"
