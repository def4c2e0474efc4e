package botframework_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/botframework"
)

// TestValidateCachedTokenStillBindsToTheActivity: a token seen before is
// not verified again, but every rule that ties it to this activity still
// applies, and it expires like any other.
func TestValidateCachedTokenStillBindsToTheActivity(t *testing.T) {
	f := newValidatorFixture(t)
	tok := "Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))
	if _, err := f.validate(tok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.validate(tok); err != nil {
		t.Fatalf("the same token again: %v", err)
	}
	ctx := context.Background()
	if _, err := f.v.Validate(ctx, tok, testChannel, "https://evil.example.com/"); !errors.Is(err, botframework.ErrServiceURLMismatch) {
		t.Errorf("cached token with another serviceUrl: %v", err)
	}
	if _, err := f.v.Validate(ctx, tok, "slack", testServiceURL); !errors.Is(err, botframework.ErrChannelNotEndorsed) {
		t.Errorf("cached token for a channel the key does not endorse: %v", err)
	}
	if _, err := f.v.Validate(ctx, tok, "", testServiceURL); !errors.Is(err, botframework.ErrChannelNotEndorsed) {
		t.Errorf("cached token without a channel: %v", err)
	}
	f.clock.Advance(2 * time.Hour) // validClaims expire within the hour
	if _, err := f.validate(tok); !errors.Is(err, botframework.ErrTokenExpired) {
		t.Errorf("cached token after it expired: %v", err)
	}
}

// TestAuthenticIsATokenVerifiedBefore: Authentic holds for a token once
// Validate has passed it, and only while Validate would take it from its
// cache: not for a token that failed, a forged one, another header, or
// once the token has expired or its key has gone.
func TestAuthenticIsATokenVerifiedBefore(t *testing.T) {
	f := newValidatorFixture(t)
	tok := "Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))
	forged := "Bearer " + signRS256(t, "key-a", testRSAKey(t, 1), validClaims(f.clock.Now()))
	if f.v.Authentic(tok) {
		t.Fatal("a token never validated is authentic")
	}
	if _, err := f.validate(forged); err == nil {
		t.Fatal("a token signed with another key passed")
	}
	if f.v.Authentic(forged) {
		t.Error("a token that failed is authentic")
	}
	if _, err := f.v.Validate(context.Background(), tok, testChannel, "https://evil.example.com/"); err == nil {
		t.Fatal("a token for another serviceUrl passed")
	}
	if f.v.Authentic(tok) {
		t.Error("a token that failed its binding is authentic")
	}
	if _, err := f.validate(tok); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{tok, "bearer " + tok[len("Bearer "):]} {
		if !f.v.Authentic(h) {
			t.Errorf("%.20q: a token just validated is not authentic", h)
		}
	}
	for _, h := range []string{"", tok[len("Bearer "):], tok + "x", "Basic " + tok[len("Bearer "):]} {
		if f.v.Authentic(h) {
			t.Errorf("%.40q is authentic", h)
		}
	}
	f.clock.Advance(2 * time.Hour)
	if f.v.Authentic(tok) {
		t.Error("an expired token is authentic")
	}
}

// TestValidateCacheDropsTrustWhenTheKeyGoes: once a refresh no longer
// publishes the key that signed a cached token, the token fails.
func TestValidateCacheDropsTrustWhenTheKeyGoes(t *testing.T) {
	f := newValidatorFixture(t)
	tok := "Bearer " + signRS256(t, "key-a", testRSAKey(t, 0), validClaims(f.clock.Now()))
	if _, err := f.validate(tok); err != nil {
		t.Fatal(err)
	}
	f.idp.mu.Lock()
	f.idp.keys = []idpKey{{kid: "key-b", priv: testRSAKey(t, 1), endorsements: []string{"msteams"}}}
	f.idp.mu.Unlock()
	if err := f.v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.validate(tok); !errors.Is(err, botframework.ErrUnknownSigningKey) {
		t.Fatalf("a cached token whose key was withdrawn: %v", err)
	}
}

// BenchmarkValidateFirstSight validates tokens never seen before (the key
// is cached, the token is not): the full RS256 check, as on the first
// activity after the connector takes a new token.
func BenchmarkValidateFirstSight(b *testing.B) {
	f := newValidatorFixture(b)
	const n = 4096 // more than the verified-token cache holds
	headers := make([]string, n)
	for i := range headers {
		c := validClaims(f.clock.Now())
		c["jti"] = strconv.Itoa(i)
		headers[i] = "Bearer " + signRS256(b, "key-a", testRSAKey(b, 0), c)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := f.v.Validate(ctx, headers[i%n], testChannel, testServiceURL); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
