package botframework_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/itfit/itfit/internal/botframework"
)

// FuzzValidate gives the inbound validator arbitrary Authorization headers,
// channel IDs and service URLs. It must never panic, every refusal must name
// one of the package's reasons, and the only thing it may ever accept is the
// one genuine token the test signed, for the activity it was signed for.
func FuzzValidate(f *testing.F) {
	clock := newFakeClock()
	idp := newFakeIDP(f, idpKey{kid: "k1", priv: testRSAKey(f, 0), endorsements: []string{testChannel}})
	v, err := botframework.NewValidator(botframework.ValidatorConfig{
		AppID: testAppID, MetadataURL: idp.metadataURL(), HTTPClient: idp.srv.Client(), Now: clock.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := v.Refresh(context.Background()); err != nil {
		f.Fatal(err)
	}
	genuine := signRS256(f, "k1", testRSAKey(f, 0), validClaims(clock.Now()))
	// Near misses: each differs from the genuine token in one rule.
	forged := map[string]string{
		"other key":       signRS256(f, "k1", testRSAKey(f, 1), validClaims(clock.Now())),
		"unknown kid":     signRS256(f, "k9", testRSAKey(f, 0), validClaims(clock.Now())),
		"no kid":          signRS256(f, "", testRSAKey(f, 0), validClaims(clock.Now())),
		"hs256 with n":    sign(f, jwt.SigningMethodHS256, "k1", testRSAKey(f, 0).N.Bytes(), validClaims(clock.Now())),
		"alg none":        unsignedNone(validClaims(clock.Now())),
		"array aud":       signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "aud", []any{"x", 7})),
		"numeric su":      signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "serviceurl", 42)),
		"no serviceurl":   signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "serviceurl", nil)),
		"no exp":          signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "exp", nil)),
		"huge exp":        signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "exp", 1e300)),
		"string exp":      signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "exp", "tomorrow")),
		"other issuer":    signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "iss", "https://evil.example")),
		"other audience":  signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "aud", "someone-else")),
		"object audience": signRS256(f, "k1", testRSAKey(f, 0), with(validClaims(clock.Now()), "aud", map[string]any{"a": 1})),
	}
	f.Add("Bearer "+genuine, testChannel, testServiceURL)
	f.Add("bearer "+genuine+"  ", testChannel, testServiceURL)
	f.Add(genuine, testChannel, testServiceURL)
	f.Add("Bearer "+genuine, "webchat", testServiceURL)
	f.Add("Bearer "+genuine, testChannel, testServiceURL+"x")
	f.Add("Bearer "+genuine, "", "")
	for _, tok := range forged {
		f.Add("Bearer "+tok, testChannel, testServiceURL)
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Bearer a.b.c", "Bearer ...", "Basic dXNlcjpwYXNz",
		"Bearer " + strings.Repeat("A", 10000), "Bearer e30.e30.", "Bearer \xff\xfe.\x00.\x00", "Bearer eyJhbGciOiJSUzI1NiJ9.bnVsbA.x"} {
		f.Add(h, testChannel, testServiceURL)
	}

	f.Fuzz(func(t *testing.T, auth, channel, serviceURL string) {
		claims, err := v.Validate(context.Background(), auth, channel, serviceURL)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("refusal names no reason: %v", err)
			}
			if strings.Contains(err.Error(), genuine) {
				t.Fatalf("the error repeats the token: %v", err)
			}
			return
		}
		tok := strings.TrimSpace(auth[len("Bearer "):])
		if tok != genuine || channel != testChannel || serviceURL != testServiceURL {
			t.Fatalf("accepted %q for channel %q, serviceUrl %q", auth, channel, serviceURL)
		}
		if claims.ServiceURL != serviceURL || claims.ChannelID != channel || claims.AppID != testAppID {
			t.Fatalf("claims %+v", claims)
		}
	})
}

func isSentinel(err error) bool {
	for _, s := range []error{
		botframework.ErrMissingAuthHeader, botframework.ErrBadAuthScheme, botframework.ErrMalformedToken,
		botframework.ErrUnsupportedAlg, botframework.ErrUnknownSigningKey, botframework.ErrInvalidSignature,
		botframework.ErrInvalidIssuer, botframework.ErrInvalidAudience, botframework.ErrTokenExpired,
		botframework.ErrTokenNotYetValid, botframework.ErrMissingClaim, botframework.ErrChannelNotEndorsed,
		botframework.ErrServiceURLMismatch, botframework.ErrKeySetUnavailable,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	if v == nil {
		delete(c, k)
		return c
	}
	c[k] = v
	return c
}

// unsignedNone builds an alg=none token by hand (jwt refuses to sign one
// without its explicit opt-in constant).
func unsignedNone(c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{}`)) + "."
	}
	return s
}
