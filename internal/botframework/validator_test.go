package botframework_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/itfit/itfit/internal/botframework"
)

type validatorFixture struct {
	idp   *fakeIDP
	clock *fakeClock
	v     *botframework.Validator
}

func newValidatorFixture(t testing.TB, keys ...idpKey) *validatorFixture {
	t.Helper()
	if len(keys) == 0 {
		keys = []idpKey{{kid: "key-a", priv: testRSAKey(t, 0), endorsements: []string{"msteams", "webchat"}}}
	}
	f := &validatorFixture{idp: newFakeIDP(t, keys...), clock: newFakeClock()}
	v, err := botframework.NewValidator(botframework.ValidatorConfig{
		AppID:       testAppID,
		MetadataURL: f.idp.metadataURL(),
		HTTPClient:  f.idp.srv.Client(),
		Now:         f.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	f.v = v
	return f
}

func (f *validatorFixture) validate(header string) (botframework.Claims, error) {
	return f.v.Validate(context.Background(), header, testChannel, testServiceURL)
}

func TestValidateAcceptsValidToken(t *testing.T) {
	f := newValidatorFixture(t)
	tok := signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))
	c, err := f.validate("Bearer " + tok)
	if err != nil {
		t.Fatalf("valid token rejected: %v", err)
	}
	if c.ServiceURL != testServiceURL || c.ChannelID != testChannel || c.AppID != testAppID || c.KeyID != "key-a" || c.Issuer != botframework.DefaultIssuer {
		t.Errorf("claims = %+v", c)
	}
	if want := f.clock.Now().Add(time.Hour).Truncate(time.Second); !c.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", c.ExpiresAt, want)
	}
}

// TestValidateRules has one case per rule in Microsoft's list: each token is
// valid except for the one thing the case breaks.
func TestValidateRules(t *testing.T) {
	f := newValidatorFixture(t, idpKey{kid: "key-a", priv: testRSAKey(t, 0), endorsements: []string{"msteams"}},
		idpKey{kid: "key-skype", priv: testRSAKey(t, 2), endorsements: []string{"skype"}})
	now := f.clock.Now()
	keyA := testRSAKey(t, 0)
	with := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := validClaims(now)
		mut(c)
		return c
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&keyA.PublicKey))})

	cases := []struct {
		name       string
		header     string
		channel    string // default testChannel
		serviceURL string // default testServiceURL
		want       error  // nil means accepted
	}{
		{name: "missing header", header: "", want: botframework.ErrMissingAuthHeader},
		{name: "token without Bearer scheme", header: signRS256(t, "key-a", keyA, validClaims(now)), want: botframework.ErrBadAuthScheme},
		{name: "Basic scheme", header: "Basic " + signRS256(t, "key-a", keyA, validClaims(now)), want: botframework.ErrBadAuthScheme},
		{name: "Bearer without token", header: "Bearer ", want: botframework.ErrMalformedToken},
		{name: "garbage token", header: "Bearer not.a.jwt", want: botframework.ErrMalformedToken},
		{name: "lower-case scheme is the same scheme", header: "bearer " + signRS256(t, "key-a", keyA, validClaims(now))},
		{name: "wrong issuer", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/evil/" })), want: botframework.ErrInvalidIssuer},
		{name: "missing issuer", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { delete(c, "iss") })), want: botframework.ErrInvalidIssuer},
		{name: "wrong audience", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["aud"] = "another-bot" })), want: botframework.ErrInvalidAudience},
		{name: "missing audience", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { delete(c, "aud") })), want: botframework.ErrMissingClaim},
		{name: "array audience containing app ID", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["aud"] = []string{"other", testAppID} }))},
		{name: "array audience without app ID", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["aud"] = []string{"other", "third"} })), want: botframework.ErrInvalidAudience},
		{name: "numeric audience", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["aud"] = 42 })), want: botframework.ErrMalformedToken},
		{name: "expired beyond skew", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-6 * time.Minute).Unix() })), want: botframework.ErrTokenExpired},
		{name: "expired within skew", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-4 * time.Minute).Unix() }))},
		{name: "nbf beyond skew", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(6 * time.Minute).Unix() })), want: botframework.ErrTokenNotYetValid},
		{name: "nbf within skew", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(4 * time.Minute).Unix() }))},
		{name: "missing exp", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { delete(c, "exp") })), want: botframework.ErrMissingClaim},
		{name: "alg none", header: "Bearer " + sign(t, jwt.SigningMethodNone, "key-a", jwt.UnsafeAllowNoneSignatureType, validClaims(now)), want: botframework.ErrUnsupportedAlg},
		{name: "alg none without signature part", header: "Bearer " + strings.TrimSuffix(sign(t, jwt.SigningMethodNone, "key-a", jwt.UnsafeAllowNoneSignatureType, validClaims(now)), "."), want: botframework.ErrMalformedToken},
		{name: "HS256 keyed with the public key PEM", header: "Bearer " + sign(t, jwt.SigningMethodHS256, "key-a", pubPEM, validClaims(now)), want: botframework.ErrUnsupportedAlg},
		{name: "RS512 by a trusted key", header: "Bearer " + sign(t, jwt.SigningMethodRS512, "key-a", keyA, validClaims(now)), want: botframework.ErrUnsupportedAlg},
		{name: "unknown alg name", header: "Bearer " + forgeHeader(t, `{"alg":"XX999","kid":"key-a","typ":"JWT"}`, signRS256(t, "key-a", keyA, validClaims(now))), want: botframework.ErrUnsupportedAlg},
		{name: "signed by unknown kid", header: "Bearer " + signRS256(t, "key-zzz", testRSAKey(t, 1), validClaims(now)), want: botframework.ErrUnknownSigningKey},
		{name: "no kid", header: "Bearer " + signRS256(t, "", keyA, validClaims(now)), want: botframework.ErrUnknownSigningKey},
		{name: "known kid, other private key", header: "Bearer " + signRS256(t, "key-a", testRSAKey(t, 1), validClaims(now)), want: botframework.ErrInvalidSignature},
		{name: "payload tampered after signing", header: "Bearer " + tamper(t, signRS256(t, "key-a", keyA, validClaims(now))), want: botframework.ErrInvalidSignature},
		{name: "key does not endorse channel", header: "Bearer " + signRS256(t, "key-skype", testRSAKey(t, 2), validClaims(now)), want: botframework.ErrChannelNotEndorsed},
		{name: "activity without channelId", header: "Bearer " + signRS256(t, "key-a", keyA, validClaims(now)), channel: "-", want: botframework.ErrChannelNotEndorsed},
		{name: "missing serviceurl claim", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { delete(c, "serviceurl") })), want: botframework.ErrMissingClaim},
		{name: "serviceurl claim not a string", header: "Bearer " + signRS256(t, "key-a", keyA, with(func(c jwt.MapClaims) { c["serviceurl"] = []string{testServiceURL} })), want: botframework.ErrMalformedToken},
		{name: "serviceurl mismatch", header: "Bearer " + signRS256(t, "key-a", keyA, validClaims(now)), serviceURL: "https://evil.example/", want: botframework.ErrServiceURLMismatch},
		{name: "empty activity serviceUrl", header: "Bearer " + signRS256(t, "key-a", keyA, validClaims(now)), serviceURL: "-", want: botframework.ErrServiceURLMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			channel, svc := tc.channel, tc.serviceURL
			switch channel {
			case "":
				channel = testChannel
			case "-":
				channel = ""
			}
			switch svc {
			case "":
				svc = testServiceURL
			case "-":
				svc = ""
			}
			c, err := f.v.Validate(context.Background(), tc.header, channel, svc)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if c != (botframework.Claims{}) {
				t.Errorf("claims returned with an error: %+v", c)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// forgeHeader swaps a signed token's header for another.
func forgeHeader(t *testing.T, header, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	parts[0] = base64.RawURLEncoding.EncodeToString([]byte(header))
	return strings.Join(parts, ".")
}

// tamper changes the payload's serviceurl after signing.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	p := jwt.NewParser()
	body, err := p.DecodeSegment(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	body = []byte(strings.Replace(string(body), "emea", "amer", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(body)
	return strings.Join(parts, ".")
}

func TestValidateKeyRollover(t *testing.T) {
	f := newValidatorFixture(t)
	if _, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))); err != nil {
		t.Fatalf("first token: %v", err)
	}
	// Microsoft publishes a new key and starts signing with it.
	f.idp.addKey(idpKey{kid: "key-b", priv: testRSAKey(t, 1), endorsements: []string{"msteams"}})
	f.clock.Advance(botframework.DefaultMinKeyRefreshInterval + time.Second)
	if _, err := f.validate("Bearer " + signRS256(t, "key-b", testRSAKey(t, 1), validClaims(f.clock.Now()))); err != nil {
		t.Fatalf("token from rolled-over key: %v", err)
	}
	if got := f.idp.metadataHits.Load(); got != 2 {
		t.Errorf("metadata fetched %d times, want 2 (initial + rollover)", got)
	}
	// The old key keeps working without another fetch.
	if _, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))); err != nil {
		t.Fatalf("old key after rollover: %v", err)
	}
	if got := f.idp.metadataHits.Load(); got != 2 {
		t.Errorf("metadata fetched %d times, want still 2", got)
	}
}

func TestValidateRefreshIsRateLimited(t *testing.T) {
	f := newValidatorFixture(t)
	if _, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	f.clock.Advance(botframework.DefaultMinKeyRefreshInterval + time.Second)

	// A flood of tokens with made-up kids, concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			tok := signRS256(t, fmt.Sprintf("forged-%d", i), testRSAKey(t, 1), validClaims(f.clock.Now()))
			_, err := f.validate("Bearer " + tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, botframework.ErrUnknownSigningKey) {
			t.Fatalf("forged kid: err = %v, want ErrUnknownSigningKey", err)
		}
	}
	// And one after the other, so no request can ride on another's fetch.
	for i := range 50 {
		tok := signRS256(t, fmt.Sprintf("forged-seq-%d", i), testRSAKey(t, 1), validClaims(f.clock.Now()))
		if _, err := f.validate("Bearer " + tok); !errors.Is(err, botframework.ErrUnknownSigningKey) {
			t.Fatalf("forged kid: err = %v, want ErrUnknownSigningKey", err)
		}
	}
	if got := f.idp.metadataHits.Load(); got != 2 {
		t.Fatalf("metadata fetched %d times, want 2 (warm-up + one refresh for the flood)", got)
	}
	// The limit is a window, not a ban: later, one more refresh is allowed.
	f.clock.Advance(botframework.DefaultMinKeyRefreshInterval + time.Second)
	_, _ = f.validate("Bearer " + signRS256(t, "forged-late", testRSAKey(t, 1), validClaims(f.clock.Now())))
	if got := f.idp.metadataHits.Load(); got != 3 {
		t.Errorf("metadata fetched %d times after the window, want 3", got)
	}
}

func TestValidateRefreshesDailyAndSurvivesIDPOutage(t *testing.T) {
	f := newValidatorFixture(t)
	good := func() error {
		_, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now())))
		return err
	}
	if err := good(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(botframework.DefaultKeyRefreshInterval + time.Minute)
	if err := good(); err != nil {
		t.Fatal(err)
	}
	if got := f.idp.metadataHits.Load(); got != 2 {
		t.Fatalf("metadata fetched %d times, want 2 (daily refresh)", got)
	}
	// When the IdP is down at refresh time, the cached keys still serve.
	f.idp.setFail(true)
	f.clock.Advance(botframework.DefaultKeyRefreshInterval + time.Minute)
	if err := good(); err != nil {
		t.Fatalf("stale keys not used during outage: %v", err)
	}
	if got := f.idp.metadataHits.Load(); got != 3 {
		t.Errorf("metadata fetched %d times, want 3", got)
	}
}

func TestValidateFailsClosedWithoutKeys(t *testing.T) {
	f := newValidatorFixture(t)
	f.idp.setFail(true)
	_, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now())))
	if !errors.Is(err, botframework.ErrKeySetUnavailable) {
		t.Fatalf("err = %v, want ErrKeySetUnavailable", err)
	}
	if err := f.v.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh succeeded against a failing IdP")
	}
	// Once the IdP is back, a short retry window lets the bot recover.
	f.idp.setFail(false)
	f.clock.Advance(11 * time.Second)
	if _, err := f.validate("Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestValidateConcurrentColdStartFetchesOnce(t *testing.T) {
	f := newValidatorFixture(t)
	tok := "Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			_, err := f.validate(tok)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.idp.metadataHits.Load(); got != 1 {
		t.Errorf("metadata fetched %d times, want 1", got)
	}
}

func TestValidateHonoursContext(t *testing.T) {
	f := newValidatorFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.v.Validate(ctx, "Bearer "+signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now())), testChannel, testServiceURL)
	if !errors.Is(err, botframework.ErrKeySetUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrKeySetUnavailable wrapping context.Canceled", err)
	}
}

func TestValidatorConfig(t *testing.T) {
	if _, err := botframework.NewValidator(botframework.ValidatorConfig{}); err == nil {
		t.Error("NewValidator accepted an empty app ID")
	}
}

func TestValidateCustomIssuer(t *testing.T) {
	idp := newFakeIDP(t, idpKey{kid: "key-a", priv: testRSAKey(t, 0), endorsements: []string{"msteams"}})
	clock := newFakeClock()
	v, err := botframework.NewValidator(botframework.ValidatorConfig{
		AppID: testAppID, MetadataURL: idp.metadataURL(), HTTPClient: idp.srv.Client(), Now: clock.Now,
		AllowedIssuers: []string{"https://api.botframework.us"},
	})
	if err != nil {
		t.Fatal(err)
	}
	gov := validClaims(clock.Now())
	gov["iss"] = "https://api.botframework.us"
	if _, err := v.Validate(context.Background(), "Bearer "+signRS256(t, "key-a", testRSAKey(t, 0), gov), testChannel, testServiceURL); err != nil {
		t.Fatalf("configured issuer rejected: %v", err)
	}
	_, err = v.Validate(context.Background(), "Bearer "+signRS256(t, "key-a", testRSAKey(t, 0), validClaims(clock.Now())), testChannel, testServiceURL)
	if !errors.Is(err, botframework.ErrInvalidIssuer) {
		t.Fatalf("default issuer accepted when not configured: %v", err)
	}
}

// BenchmarkValidate validates the token the connector keeps sending: after
// the first sight it comes from the verified-token cache.
func BenchmarkValidate(b *testing.B) {
	f := newValidatorFixture(b)
	header := "Bearer " + signRS256(b, "key-a", testRSAKey(b, 0), validClaims(f.clock.Now()))
	if _, err := f.validate(header); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.v.Validate(ctx, header, testChannel, testServiceURL); err != nil {
			b.Fatal(err)
		}
	}
}
