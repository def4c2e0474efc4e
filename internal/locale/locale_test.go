package locale_test

import (
	"testing"
	"time"

	"github.com/itfit/itfit/internal/locale"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want locale.Lang
		ok   bool
	}{
		{"fr-CA", locale.French, true},
		{"fr-ca", locale.French, true},
		{"fr_CA.UTF-8", locale.French, true},
		{"fr_FR.UTF-8", locale.French, true},
		{"fr-BE", locale.French, true},
		{"fr", locale.French, true},
		{"en-US", locale.English, true},
		{"en_GB.UTF-8", locale.English, true},
		{"en", locale.English, true},
		{"de-DE", "", false},
		{"ja-JP", "", false},
		{"C", "", false},
		{"C.UTF-8", "", false},
		{"POSIX", "", false},
		{"", "", false},
		{"not a locale!", "", false},
	} {
		got, ok := locale.Match(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want locale.Lang
		ok   bool
	}{
		{"fr", locale.French, true},
		{"Français", locale.French, true},
		{"francais", locale.French, true},
		{"french", locale.French, true},
		{"fr-CA", locale.French, true},
		{"en", locale.English, true},
		{"English", locale.English, true},
		{"anglais", locale.English, true},
		{"klingon", "", false},
		{"", "", false},
	} {
		got, ok := locale.Parse(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 30, 0, 0, time.UTC) }
	for _, tc := range []struct {
		l    locale.Lang
		t    time.Time
		want string
	}{
		{locale.English, day(2027, time.December, 1), "1 December 2027"},
		{locale.French, day(2027, time.December, 1), "1er décembre 2027"},
		{locale.French, day(2027, time.December, 2), "2 décembre 2027"},
		{locale.French, day(2028, time.February, 29), "29 février 2028"},
		{locale.French, day(2026, time.August, 11), "11 août 2026"},
		{locale.French, time.Date(2026, 3, 1, 22, 0, 0, 0, time.FixedZone("EST", -5*3600)), "2 mars 2026"}, // a day in UTC
	} {
		if got := tc.l.Date(tc.t); got != tc.want {
			t.Errorf("%s.Date(%v) = %q, want %q", tc.l, tc.t, got, tc.want)
		}
	}
}

func TestMatchAccept(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want locale.Lang
		ok   bool
	}{
		{"fr-CA,fr;q=0.9,en;q=0.8", locale.French, true},
		{"en-US,en;q=0.9", locale.English, true},
		{"de-DE,fr;q=0.5", locale.French, true},
		{"de-DE", "", false},
		{"", "", false},
		{"garbage;;q=x", "", false},
	} {
		got, ok := locale.MatchAccept(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MatchAccept(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
