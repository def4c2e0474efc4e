package secretbox_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/secretbox"
)

func key(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestSealOpenRotate(t *testing.T) {
	k1, k2 := key(t), key(t)
	old, err := secretbox.Parse("k1:" + k1)
	if err != nil {
		t.Fatal(err)
	}
	token := []byte("xoxb-123-secret")
	sealed, err := old.Seal(token, []byte("T1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "xoxb") {
		t.Fatalf("sealed value shows the token: %s", sealed)
	}
	if again, _ := old.Seal(token, []byte("T1")); again == sealed {
		t.Error("two seals of the same token are equal: the nonce is not random")
	}
	rotated, err := secretbox.Parse("k2:" + k2 + ",k1:" + k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, []byte("T1")); err != nil || !bytes.Equal(got, token) {
		t.Fatalf("open after rotation: %q %v", got, err)
	}
	if rotated.Current() != "k2" {
		t.Errorf("current key %s", rotated.Current())
	}
	if _, err := rotated.Open(sealed, []byte("T2")); !errors.Is(err, secretbox.ErrOpen) {
		t.Errorf("opened under another workspace's context: %v", err)
	}
	dropped, _ := secretbox.Parse("k2:" + k2)
	if _, err := dropped.Open(sealed, []byte("T1")); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("opened with the old key dropped: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := old.Open(tampered, []byte("T1")); !errors.Is(err, secretbox.ErrOpen) {
		t.Errorf("tampered value opened: %v", err)
	}
}

func TestParseRefusesBadKeys(t *testing.T) {
	for _, spec := range []string{"", "nokey", "k1:notbase64!", "k1:" + base64.StdEncoding.EncodeToString([]byte("short")), "k1:" + key(t) + ",k1:" + key(t)} {
		b, err := secretbox.Parse(spec)
		if err == nil {
			t.Errorf("%q accepted", spec)
		}
		if b != nil {
			t.Errorf("%q gave a box", spec)
		}
		if err != nil && strings.Contains(err.Error(), spec) && spec != "" {
			t.Errorf("error repeats the key material: %v", err)
		}
	}
}

func FuzzOpen(f *testing.F) {
	b, _ := secretbox.Parse("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	s, _ := b.Seal([]byte("x"), nil)
	f.Add(s)
	f.Add("k1.")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = b.Open(in, nil)
	})
}
