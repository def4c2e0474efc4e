package links_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/redistest"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestLinksWorkOnceForTheirOwnerUntilTheyExpire(t *testing.T) {
	b := redistest.Real(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := links.New(links.Options{Secret: secret, PublicURL: "https://itfit.example.com/", Redis: b.Client, Prefix: b.Prefix, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := links.New(links.Options{Secret: []byte(strings.Repeat("x", 32)), PublicURL: "https://itfit.example.com", Redis: b.Client, Prefix: b.Prefix, Now: clock})
	owner := links.Claims{Kind: links.ExportCSV, Platform: conversation.Slack, Workspace: "TP", Users: []conversation.UserID{"UM"}}
	mint := func(s *links.Signer) string {
		u, exp, err := s.Mint(owner)
		if err != nil || !exp.Equal(now.Add(links.TTL)) {
			t.Fatalf("mint: %v %v", exp, err)
		}
		const p = "https://itfit.example.com/export/"
		if !strings.HasPrefix(u, p) {
			t.Fatalf("link %q", u)
		}
		return strings.TrimPrefix(u, p)
	}
	tok := mint(s)
	payload, sig, _ := strings.Cut(tok, ".")
	// Another owner's claims under the same signature.
	forgedPayload := strings.Replace(payload, payload[:10], "eyJrIjoiY3N", 1)
	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"no signature", payload, links.ErrInvalid},
		{"another secret", mint(other), links.ErrInvalid},
		{"altered claims", forgedPayload + "." + sig, links.ErrInvalid},
		{"altered signature", payload + "." + strings.ToUpper(sig), links.ErrInvalid},
		{"garbage", "%%%.%%%", links.ErrInvalid},
	} {
		before := redistest.Keys(t, b.Client, b.Prefix)
		if _, err := s.Use(context.Background(), tc.token); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if after := redistest.Keys(t, b.Client, b.Prefix); len(after) != len(before) {
			t.Errorf("%s wrote to Redis: %v", tc.name, after)
		}
	}
	c, err := s.Use(context.Background(), tok)
	if err != nil || c.Owner() != (conversation.UserKey{Platform: conversation.Slack, Workspace: "TP", User: "UM"}) || c.Kind != links.ExportCSV {
		t.Fatalf("first use: %+v %v", c, err)
	}
	if _, err := s.Use(context.Background(), tok); !errors.Is(err, links.ErrUsed) {
		t.Fatalf("second use: %v", err)
	}
	late := mint(s)
	mu.Lock()
	now = now.Add(links.TTL)
	mu.Unlock()
	before := redistest.Keys(t, b.Client, b.Prefix)
	if _, err := s.Use(context.Background(), late); !errors.Is(err, links.ErrExpired) {
		t.Fatalf("expired use: %v", err)
	}
	if after := redistest.Keys(t, b.Client, b.Prefix); len(after) != len(before) {
		t.Fatalf("an expired link wrote to Redis: %v", after)
	}
}

func TestParseSecret(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", true},
		{"c2hvcnQ=", false},
		{"not base64!", false},
	} {
		if _, err := links.ParseSecret(tc.in); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.in, err)
		}
	}
}
