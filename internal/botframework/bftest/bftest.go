// Package bftest stands in for Microsoft's side of the Bot Framework in tests:
// one local https server that is at once the OpenID metadata and key set
// (login.botframework.com), the Entra ID token endpoint and a Bot Connector
// service (the serviceUrl of activities). Tests sign inbound tokens with its
// keys, exactly as the Bot Connector would, and read back every activity the
// bot sent. Nothing here turns validation off.
package bftest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Defaults that activities and tokens use unless a test says otherwise.
const (
	AppID   = "00000000-1111-2222-3333-444444444444"
	Channel = "msteams"
	Issuer  = "https://api.botframework.com"
	// KeyID is the key the server signs with; it endorses msteams.
	KeyID = "bftest-key"
)

// RSA key generation is slow; every server in a test binary shares one key.
var (
	keyOnce   sync.Once
	sharedKey *rsa.PrivateKey
	keyErr    error
)

func signingKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { sharedKey, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return sharedKey, keyErr
}

// Request is one call the bot made to the fake Bot Connector.
type Request struct {
	Method string
	// Path is the decoded path below the service URL, e.g.
	// "v3/conversations/a:1/activities/42".
	Path string
	// ConversationID and ActivityID are read from Path ("" when absent).
	ConversationID, ActivityID string
	Auth                       string
	Body                       []byte
	// ResponseID is the activity ID the fake answered with; a later card
	// submit names it as replyToId.
	ResponseID string
	// Status is what the fake answered (see FailWith).
	Status int
}

// Activity decodes the request body.
func (r Request) Activity() (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(r.Body, &m)
	return m, err
}

// Server is the fake identity provider, token endpoint and Bot Connector.
type Server struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	next atomic.Int64

	mu         sync.Mutex
	reqs       []Request
	failWith   int    // when non-zero, the connector answers with this status
	retryAfter string // Retry-After sent with failWith, if any
	failCreate int    // when non-zero, POST v3/conversations answers with this status
	tokens     int
}

// New starts a server that lives until the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	key, err := signingKey()
	if err != nil {
		t.Fatalf("bftest: generate key: %v", err)
	}
	s := &Server{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", s.metadata)
	mux.HandleFunc("GET /v1/.well-known/keys", s.keys)
	mux.HandleFunc("POST /tenant/oauth2/v2.0/token", s.token)
	mux.HandleFunc("/connector/", s.connector)
	s.srv = httptest.NewUnstartedServer(mux)
	// Handshakes cut off by Close are noise, not failures.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// Client trusts the server's certificate; give it to the Validator, the
// TokenSource and the Connector.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// MetadataURL is the OpenID metadata (MICROSOFT_OPENID_METADATA_URL).
func (s *Server) MetadataURL() string { return s.srv.URL + "/v1/.well-known/openidconfiguration" }

// TokenURL is the client-credentials endpoint (MICROSOFT_TOKEN_URL).
func (s *Server) TokenURL() string { return s.srv.URL + "/tenant/oauth2/v2.0/token" }

// ServiceURL is the Bot Connector base URL to put in activities.
func (s *Server) ServiceURL() string { return s.srv.URL + "/connector/" }

// Claims returns the claims of a token the Bot Connector would send now for
// an activity from serviceURL. Tests change them to forge bad tokens.
func (s *Server) Claims(serviceURL string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":        Issuer,
		"aud":        AppID,
		"exp":        now.Add(time.Hour).Unix(),
		"nbf":        now.Add(-time.Minute).Unix(),
		"serviceurl": serviceURL,
	}
}

// Sign signs claims with the published key.
func (s *Server) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return SignWith(t, s.key, KeyID, claims)
}

// Authorization returns a valid "Bearer ..." header for an activity from
// serviceURL.
func (s *Server) Authorization(t testing.TB, serviceURL string) string {
	t.Helper()
	return "Bearer " + s.Sign(t, s.Claims(serviceURL))
}

// SignWith signs claims with any RSA key under any kid, for forged tokens.
func SignWith(t testing.TB, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	out, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("bftest: sign: %v", err)
	}
	return out
}

// Requests returns what the bot sent to the connector so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// FailWith makes every connector call answer with status (0: succeed again).
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	s.failWith, s.retryAfter = status, ""
	s.mu.Unlock()
}

// FailCreateConversationWith makes only the creation of conversations
// (POST v3/conversations, opening a 1:1 chat) answer with status (0:
// succeed again), as Teams answers 403 for a person the app is not
// installed for while every other call goes through.
func (s *Server) FailCreateConversationWith(status int) {
	s.mu.Lock()
	s.failCreate = status
	s.mu.Unlock()
}

// FailWithRetryAfter is FailWith with a Retry-After header, as the Bot
// Connector sends with 429 when it throttles a bot.
func (s *Server) FailWithRetryAfter(status int, retryAfter string) {
	s.mu.Lock()
	s.failWith, s.retryAfter = status, retryAfter
	s.mu.Unlock()
}

// TokensIssued counts client-credentials tokens handed out.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                Issuer,
		"jwks_uri":                              s.srv.URL + "/v1/.well-known/keys",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (s *Server) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"keys": []map[string]any{{
		"kty":          "RSA",
		"use":          "sig",
		"kid":          KeyID,
		"n":            base64.RawURLEncoding.EncodeToString(s.key.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
		"endorsements": []string{Channel, "webchat"},
	}}})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != AppID {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.tokens++
	n := s.tokens
	s.mu.Unlock()
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": fmt.Sprintf("bot-token-%d", n)})
}

func (s *Server) connector(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	path := strings.TrimPrefix(r.URL.Path, "/connector/")
	req := Request{Method: r.Method, Path: path, Auth: r.Header.Get("Authorization"), Body: body}
	if parts := strings.Split(path, "/"); len(parts) >= 3 && parts[0] == "v3" && parts[1] == "conversations" {
		req.ConversationID = parts[2]
		if len(parts) >= 5 {
			req.ActivityID = parts[4]
		}
	}
	if r.Method == http.MethodPut {
		req.ResponseID = req.ActivityID
	} else {
		req.ResponseID = fmt.Sprintf("sent-%d", s.next.Add(1))
	}
	s.mu.Lock()
	fail, retryAfter := s.failWith, s.retryAfter
	if fail == 0 && r.Method == http.MethodPost && path == "v3/conversations" {
		fail = s.failCreate
	}
	req.Status = http.StatusOK
	if fail != 0 {
		req.Status = fail
	}
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	if fail != 0 {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(fail)
		_, _ = io.WriteString(w, `{"error":{"code":"BadArgument","message":"bftest failure"}}`)
		return
	}
	writeJSON(w, map[string]any{"id": req.ResponseID})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
