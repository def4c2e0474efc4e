package botframework_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testAppID      = "00000000-1111-2222-3333-444444444444"
	testChannel    = "msteams"
	testServiceURL = "https://smba.trafficmanager.net/emea/"
)

// RSA key generation is slow; every test shares the same few keys.
var (
	keysOnce sync.Once
	rsaKeys  [3]*rsa.PrivateKey
)

func testRSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for n := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err) // test set-up only
			}
			rsaKeys[n] = k
		}
	})
	return rsaKeys[i]
}

// fakeClock is a settable clock shared by the code under test and the test.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// idpKey is one key the fake identity provider publishes.
type idpKey struct {
	kid          string
	priv         *rsa.PrivateKey
	endorsements []string
}

// fakeIDP serves OpenID metadata and a JWKS over TLS, like
// login.botframework.com, and counts how often it is asked.
type fakeIDP struct {
	srv          *httptest.Server
	mu           sync.Mutex
	keys         []idpKey
	fail         bool
	metadataHits atomic.Int32
	jwksHits     atomic.Int32
}

func newFakeIDP(t testing.TB, keys ...idpKey) *fakeIDP {
	t.Helper()
	p := &fakeIDP{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
		p.metadataHits.Add(1)
		if p.failing() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		writeJSON(w, map[string]any{
			"issuer":                                "https://api.botframework.com",
			"jwks_uri":                              p.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		if p.failing() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		var out []map[string]any
		for _, k := range p.keys {
			out = append(out, map[string]any{
				"kty":          "RSA",
				"use":          "sig",
				"kid":          k.kid,
				"n":            base64.RawURLEncoding.EncodeToString(k.priv.N.Bytes()),
				"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.priv.E)).Bytes()),
				"endorsements": k.endorsements,
			})
		}
		p.mu.Unlock()
		writeJSON(w, map[string]any{"keys": out})
	})
	p.srv = newTLSServer(t, mux)
	return p
}

// newTLSServer starts an https test server whose shutdown noise (handshakes
// cut off by Close) stays out of the test log.
func newTLSServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func (p *fakeIDP) metadataURL() string { return p.srv.URL + "/v1/.well-known/openidconfiguration" }

func (p *fakeIDP) failing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fail
}

func (p *fakeIDP) setFail(f bool) {
	p.mu.Lock()
	p.fail = f
	p.mu.Unlock()
}

func (p *fakeIDP) addKey(k idpKey) {
	p.mu.Lock()
	p.keys = append(p.keys, k)
	p.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// validClaims are the claims of a token the Bot Connector would send now.
func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":        "https://api.botframework.com",
		"aud":        testAppID,
		"exp":        now.Add(time.Hour).Unix(),
		"nbf":        now.Add(-time.Minute).Unix(),
		"serviceurl": testServiceURL,
	}
}

func signRS256(t testing.TB, kid string, priv *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodRS256, kid, priv, claims)
}

func sign(t testing.TB, m jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// recordingSleep stands in for time.Sleep in retry loops: it records each
// wait and returns at once, so tests check the schedule without waiting.
type recordingSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recordingSleep) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recordingSleep) Waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}
