// Package links makes and checks itfit's download links: an account
// manager's export and a client's PDF, served at GET /export/<token>.
//
// A token is its claims (what it downloads, for whom, until when, and a
// random ID) and an HMAC-SHA256 of them under the server's secret
// (ITFIT_LINK_SECRET), so only itfit can make one and nobody can change
// whom it is for. Checking a token needs no Redis; using it does: the
// first use sets a marker (SET NX) named by the link's random ID that
// lives until the link would have expired, so a second use finds it and
// fails. A forged, altered, expired or used link changes nothing in Redis.
package links

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
)

// Kind is what a link downloads.
type Kind string

const (
	ExportCSV  Kind = "csv"  // a manager's portfolio as CSV
	ExportJSON Kind = "json" // a manager's portfolio as JSON
	Report     Kind = "pdf"  // a client's recommendation as a PDF
)

// TTL is how long a link works.
const TTL = 15 * time.Minute

// MinSecret is the shortest secret accepted, in bytes.
const MinSecret = 32

// Claims are what a link is for. Platform, Workspace and Users name its
// owner as the platform verified them when the link was made (every ID the
// platform vouched for: Teams has two); only what that owner may see is
// served.
type Claims struct {
	Kind      Kind                     `json:"k"`
	Platform  conversation.Platform    `json:"p"`
	Workspace conversation.WorkspaceID `json:"w"`
	Users     []conversation.UserID    `json:"u"`
	// Sort is the export's order ("due", "changed").
	Sort string `json:"s,omitempty"`
	// Result is the completion time (Unix seconds) of the result a
	// report is of: a client who forgets, or whose result is replaced,
	// has no such result any more.
	Result int64 `json:"r,omitempty"`
	// Expires is Unix seconds; ID is random, naming the use marker.
	Expires int64  `json:"e"`
	ID      string `json:"i"`
}

// Owner is the claims' owner as a key.
func (c Claims) Owner() conversation.UserKey {
	u := conversation.UserKey{Platform: c.Platform, Workspace: c.Workspace}
	if len(c.Users) > 0 {
		u.User = c.Users[0]
	}
	return u
}

// Errors a link is refused with; the handler answers each with 404.
var (
	ErrInvalid = errors.New("links: not a link itfit made")
	ErrExpired = errors.New("links: expired")
	ErrUsed    = errors.New("links: already used")
)

// Signer makes and checks links.
type Signer struct {
	secret []byte
	base   string // the public URL, without a trailing slash
	rdb    redis.UniversalClient
	p      keys.Prefix
	now    func() time.Time
}

// Options build a Signer.
type Options struct {
	// Secret is ITFIT_LINK_SECRET's bytes (at least MinSecret).
	Secret []byte
	// PublicURL is itfit's public address (ITFIT_PUBLIC_URL).
	PublicURL string
	Redis     redis.UniversalClient
	Prefix    keys.Prefix
	Now       func() time.Time
}

// New returns a Signer.
func New(o Options) (*Signer, error) {
	if len(o.Secret) < MinSecret {
		return nil, fmt.Errorf("links: the secret must be at least %d bytes", MinSecret)
	}
	if o.PublicURL == "" || o.Redis == nil {
		return nil, errors.New("links: a public URL and Redis are required")
	}
	if o.Prefix == "" {
		o.Prefix = keys.Default
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Signer{secret: o.Secret, base: strings.TrimRight(o.PublicURL, "/"), rdb: o.Redis, p: o.Prefix, now: o.Now}, nil
}

// ParseSecret reads ITFIT_LINK_SECRET: the base64 of at least 32 random
// bytes (head -c32 /dev/urandom | base64).
func ParseSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("want the base64 of at least 32 random bytes, such as the output of head -c32 /dev/urandom | base64")
	}
	if len(b) < MinSecret {
		return nil, fmt.Errorf("got %d bytes, want at least %d (head -c32 /dev/urandom | base64)", len(b), MinSecret)
	}
	return b, nil
}

// Mint makes a link for c (its Expires and ID are set here) and returns
// its address and when it expires.
func (s *Signer) Mint(c Claims) (string, time.Time, error) {
	exp := s.now().Add(TTL)
	c.Expires = exp.Unix()
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", time.Time{}, fmt.Errorf("links: %w", err)
	}
	c.ID = hex.EncodeToString(id)
	body, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("links: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return s.base + "/export/" + payload + "." + s.sign(payload), exp, nil
}

func (s *Signer) sign(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("itfit-link-v1."))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Open checks a token's signature and expiry, without Redis.
func (s *Signer) Open(token string) (Claims, error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 {
		return Claims{}, ErrInvalid
	}
	if !hmac.Equal([]byte(sig), []byte(s.sign(payload))) {
		return Claims{}, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.ID == "" || len(c.Users) == 0 || c.Workspace == "" {
		return Claims{}, ErrInvalid
	}
	if !s.now().Before(time.Unix(c.Expires, 0)) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// Use opens a token and marks it used, atomically: of two uses, one
// succeeds. A token Open refuses writes nothing.
func (s *Signer) Use(ctx context.Context, token string) (Claims, error) {
	c, err := s.Open(token)
	if err != nil {
		return Claims{}, err
	}
	first, err := s.rdb.SetNX(ctx, s.p.LinkUsed(c.ID), "1", time.Unix(c.Expires, 0).Sub(s.now())+time.Minute).Result()
	if err != nil {
		return Claims{}, fmt.Errorf("links: mark used: %w: %w", conversation.ErrUnavailable, err)
	}
	if !first {
		return Claims{}, ErrUsed
	}
	return c, nil
}
