// Package secretbox encrypts secrets kept in Redis (Slack workspace tokens)
// with AES-256-GCM under keys from the environment, with rotation: several
// keys may be configured, the first encrypts, any of them decrypts.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Errors. None of them carries key material or plaintext.
var (
	ErrNoKey      = errors.New("secretbox: ITFIT_ENCRYPTION_KEY is not set")
	ErrBadKey     = errors.New("secretbox: ITFIT_ENCRYPTION_KEY entries must be ID:BASE64 of 32 random bytes")
	ErrUnknownKey = errors.New("secretbox: sealed with a key that is no longer configured")
	ErrOpen       = errors.New("secretbox: ciphertext is corrupt or was tampered with")
)

// Box seals and opens values.
type Box struct {
	current string
	aeads   map[string]cipher.AEAD
}

// Parse reads ITFIT_ENCRYPTION_KEY: comma-separated "ID:BASE64KEY" entries,
// newest first. To rotate, put a new key first, let every value be
// re-sealed (tokens are re-sealed whenever they are written), then drop the
// old key. Generate a key with: head -c32 /dev/urandom | base64.
func Parse(spec string) (*Box, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, ErrNoKey
	}
	b := &Box{aeads: map[string]cipher.AEAD{}}
	for _, entry := range strings.Split(spec, ",") {
		id, enc, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || id == "" || strings.ContainsAny(id, ".") {
			return nil, ErrBadKey
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(key) != 32 {
			return nil, ErrBadKey
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, ErrBadKey
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, ErrBadKey
		}
		if _, dup := b.aeads[id]; dup {
			return nil, fmt.Errorf("%w (key ID %q appears twice)", ErrBadKey, id)
		}
		b.aeads[id] = aead
		if b.current == "" {
			b.current = id
		}
	}
	return b, nil
}

// Seal encrypts plaintext; context binds the value to where it is stored
// (e.g. the workspace ID), so a sealed token copied to another workspace's
// record does not open.
func (b *Box) Seal(plaintext, context []byte) (string, error) {
	aead := b.aeads[b.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, plaintext, context)
	return b.current + "." + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts a value sealed by Seal with the same context.
func (b *Box) Open(sealed string, context []byte) ([]byte, error) {
	id, enc, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, ErrOpen
	}
	aead, ok := b.aeads[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	ct, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(ct) < aead.NonceSize() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], context)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Current is the ID of the key that seals; a stored value sealed with
// another should be re-sealed.
func (b *Box) Current() string { return b.current }
