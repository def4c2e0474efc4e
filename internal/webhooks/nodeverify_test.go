package webhooks_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/webhooks"
)

// A receiver written with the Standard Webhooks JavaScript library (npm
// standardwebhooks, pinned in testdata/swverify) accepts every delivery:
// each of the five events, signed with two secrets, each secret verified
// on its own, the timestamp within the library's five minutes. Without
// node the test is skipped; in CI, node without the package fails it, so
// the check cannot silently disappear.
func TestStandardWebhooksJavaScriptReceiverAcceptsEveryDelivery(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: skipping the Standard Webhooks JavaScript receiver")
	}
	dir := filepath.Join("testdata", "swverify")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		msg := "standardwebhooks is not installed; run: npm ci --prefix internal/webhooks/testdata/swverify"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	certFile, keyFile, roots := selfSigned(t)
	cmd := exec.Command(node, filepath.Join(dir, "receiver.js"), certFile, keyFile, secretOld, secretNew)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the receiver exits when its stdin ends
		_ = cmd.Wait()
	})
	var mu sync.Mutex
	var lines []string
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l := sc.Text()
			if p, ok := strings.CutPrefix(l, "listening "); ok {
				port <- p
				continue
			}
			mu.Lock()
			lines = append(lines, l)
			mu.Unlock()
		}
	}()
	var url string
	select {
	case p := <-port:
		url = "https://127.0.0.1:" + p + "/itfit"
	case <-time.After(30 * time.Second):
		t.Fatal("the node receiver did not start")
	}
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}

	ana := user("U0ANA")
	ep := webhooks.Endpoint{Name: "js", URL: url, Secrets: []string{secretOld, secretNew}, Events: webhooks.Types,
		Timeout: 5 * time.Second, MaxAttempts: 3, AllowPrivate: true}
	// The library checks the timestamp against its own clock: the fake
	// one starts at the wall clock's now and moves by seconds.
	h := newHarness(t, setup{endpoints: []webhooks.Endpoint{ep}, managers: assigned(ana), roots: roots, start: time.Now()})
	h.svc.Completed(ctx, ana, "Ana Ruiz", h.completion(-1, true))
	h.svc.Shared(ctx, ana, "Ana Ruiz")
	if err := h.svc.RevisitDue(ctx, conversation.Key{UserKey: ana}, result(t, -1, time.Now()), time.Now(), "user/slack/T0CLIENT/U0ANA@1"); err != nil {
		t.Fatal(err)
	}
	h.until("four deliveries", time.Second, time.Minute, func() bool { return h.metric("js", "delivered") == 4 })
	if _, err := h.svc.Erase(ctx, ana); err != nil {
		t.Fatal(err)
	}
	h.until("user.forgotten", time.Second, time.Minute, func() bool { return h.metric("js", "delivered") == 5 })
	waitFor(t, "the receiver's lines", func() bool { return len(seen()) >= 5 })

	want := []string{"audit.completed", "verdict.changed", "result.shared", "revisit.due", "user.forgotten"}
	got := seen()
	if len(got) != len(want) {
		t.Fatalf("the JavaScript receiver saw %d deliveries, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, l := range got {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != "accepted" || f[2] != want[i] {
			t.Errorf("delivery %d: %s (want accepted %s)", i+1, l, want[i])
		}
	}
	if n := h.metric("js", "retried"); n != 0 {
		t.Errorf("%v deliveries were refused and retried", n)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "itfit test receiver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}
