package botframework

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"time"
)

// maxDocumentSize bounds what we read from the identity provider; the real
// documents are a few kilobytes.
const maxDocumentSize = 1 << 20

// minRSABits rejects weak keys even if a metadata document lists them.
const minRSABits = 2048

// signingKey is one verification key from the JWKS together with the channels
// it endorses.
type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

// keySet is an immutable snapshot; a refresh replaces it whole so readers
// never need a lock.
type keySet struct {
	keys      map[string]signingKey
	fetchedAt time.Time
}

type openIDMetadata struct {
	JWKSURI string `json:"jwks_uri"`
}

type jwkDocument struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty          string   `json:"kty"`
	Use          string   `json:"use"`
	Kid          string   `json:"kid"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

// fetchKeySet reads the OpenID metadata, then the JWKS it points to.
func fetchKeySet(ctx context.Context, client *http.Client, metadataURL string, now time.Time) (*keySet, error) {
	var md openIDMetadata
	if err := getJSON(ctx, client, metadataURL, &md); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	jwksURL, err := checkJWKSURL(metadataURL, md.JWKSURI)
	if err != nil {
		return nil, err
	}
	var doc jwkDocument
	if err := getJSON(ctx, client, jwksURL, &doc); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	set := &keySet{keys: make(map[string]signingKey, len(doc.Keys)), fetchedAt: now}
	for _, k := range doc.Keys {
		if k.Kid == "" || k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := rsaPublicKey(k.N, k.E)
		if err != nil {
			// One bad entry must not take the good ones down with it.
			continue
		}
		set.keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(set.keys) == 0 {
		return nil, errors.New("jwks: no usable RSA signing keys")
	}
	return set, nil
}

// checkJWKSURL makes sure the metadata points somewhere sensible and never
// downgrades from https to plain http.
func checkJWKSURL(metadataURL, jwksURI string) (string, error) {
	if jwksURI == "" {
		return "", errors.New("openid metadata: no jwks_uri")
	}
	u, err := url.Parse(jwksURI)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("openid metadata: bad jwks_uri %q", jwksURI)
	}
	m, err := url.Parse(metadataURL)
	if err != nil {
		return "", fmt.Errorf("openid metadata url: %w", err)
	}
	if m.Scheme == "https" && u.Scheme != "https" {
		return "", fmt.Errorf("openid metadata: jwks_uri %q is not https", jwksURI)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("openid metadata: jwks_uri %q has unsupported scheme", jwksURI)
	}
	return u.String(), nil
}

func getJSON(ctx context.Context, client *http.Client, rawURL string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocumentSize))
		return fmt.Errorf("GET %s: HTTP %d", rawURL, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocumentSize)).Decode(into); err != nil {
		return fmt.Errorf("GET %s: decode: %w", rawURL, err)
	}
	return nil
}

func rsaPublicKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n64)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e64)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("modulus of %d bits is too small", n.BitLen())
	}
	if len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("exponent out of range")
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	if e < 3 || e%2 == 0 {
		return nil, errors.New("exponent out of range")
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}
