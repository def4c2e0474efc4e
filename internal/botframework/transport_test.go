package botframework_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/itfit/itfit/internal/botframework"
)

// The child process of TestDefaultClientPoolsConnections reads these.
const (
	envChildURL   = "BOTFRAMEWORK_TRANSPORT_CHILD_URL"
	childRounds   = 10
	childInFlight = 16
)

// TestDefaultClientPoolsConnections proves that a Validator, TokenSource
// and Connector given no HTTPClient share one transport whose idle pool
// holds a connection per call in flight, and that it attempts HTTP/2. A
// child process (this test binary) builds them with no client and trusts
// the local Microsoft through SSL_CERT_FILE, exactly as `bot serve` trusts
// loadgen's fakes; the server here counts the TLS handshakes. With
// http.DefaultTransport (2 idle connections per host), 10 rounds of 16
// concurrent sends over HTTP/1.1 open about 150 connections.
func TestDefaultClientPoolsConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	for _, tc := range []struct {
		name        string
		http2       bool
		maxConns    int64
		wantProto   int
		wantOneConn bool
	}{
		// Up to one connection per call in flight, plus a few that a call
		// dials while another's connection is on its way back to the pool.
		{"HTTP/1.1 server", false, 2 * childInFlight, 1, false},
		{"server offering HTTP/2", true, 4, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var handshakes atomic.Int64
			var mu sync.Mutex
			protos := map[int]int{}
			key := testRSAKey(t, 0)
			var srv *httptest.Server
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, map[string]any{"issuer": "https://api.botframework.com", "jwks_uri": srv.URL + "/v1/.well-known/keys"})
			})
			mux.HandleFunc("GET /v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, map[string]any{"keys": []map[string]any{jwkOf("k1", key)}})
			})
			mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "bot-token"})
			})
			mux.HandleFunc("POST /connector/v3/conversations/{conv}/activities", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				protos[r.ProtoMajor]++
				mu.Unlock()
				time.Sleep(2 * time.Millisecond) // keep the calls of a round in flight together
				writeJSON(w, map[string]any{"id": "1"})
			})
			srv = httptest.NewUnstartedServer(mux)
			srv.EnableHTTP2 = tc.http2
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					handshakes.Add(1)
				}
			}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)

			ca := filepath.Join(t.TempDir(), "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultClientChild$", "-test.v")
			cmd.Env = append(os.Environ(), envChildURL+"="+srv.URL, "SSL_CERT_FILE="+ca)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestDefaultClientChild") {
				t.Fatalf("child: %v\n%s", err, out)
			}
			n := handshakes.Load()
			mu.Lock()
			defer mu.Unlock()
			sends := childRounds * childInFlight
			t.Logf("%d TLS handshakes for %d sends, a token and a key fetch; requests by HTTP major version: %v", n, sends, protos)
			if n < 1 || n > tc.maxConns {
				t.Errorf("%d TLS handshakes, want 1..%d", n, tc.maxConns)
			}
			if protos[tc.wantProto] != sends {
				t.Errorf("sends by HTTP major version %v, want all %d over HTTP/%d", protos, sends, tc.wantProto)
			}
		})
	}
}

// TestDefaultClientChild is the child process: the key fetch, the token
// and the sends all go through clients the package made itself.
func TestDefaultClientChild(t *testing.T) {
	base := os.Getenv(envChildURL)
	if base == "" {
		t.Skip("run by TestDefaultClientPoolsConnections")
	}
	ctx := context.Background()
	v, err := botframework.NewValidator(botframework.ValidatorConfig{AppID: testAppID, MetadataURL: base + "/v1/.well-known/openidconfiguration"})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ts, err := botframework.NewTokenSource(botframework.TokenSourceConfig{AppID: testAppID, AppPassword: "secret", TokenURL: base + "/token"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := botframework.NewConnector(botframework.ConnectorConfig{Tokens: ts})
	if err != nil {
		t.Fatal(err)
	}
	for round := range childRounds {
		var wg sync.WaitGroup
		errs := make(chan error, childInFlight)
		for i := range childInFlight {
			wg.Go(func() {
				conv := "a:" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
				if _, err := conn.SendToConversation(ctx, base+"/connector/", conv, schema.Activity{Type: schema.Message, Text: "hi"}); err != nil {
					errs <- fmt.Errorf("send %s: %w", conv, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}

func jwkOf(kid string, k *rsa.PrivateKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "kid": kid, "endorsements": []string{testChannel},
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
	}
}
