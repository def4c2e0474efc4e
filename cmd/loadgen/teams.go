package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	rnd "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The public-cloud Bot Connector's issuer and the key the fake signs with.
const (
	teamsIssuer = "https://api.botframework.com"
	teamsKeyID  = "loadgen-key"
)

// teamsSim is the Microsoft side: one https server that is the OpenID
// metadata and key set, the token endpoint and the Bot Connector (the
// activities' serviceUrl), and users who send signed activities. It is a
// small standalone twin of internal/botframework/bftest, which is built on
// testing.TB and records every request, neither of which suits a load run.
type teamsSim struct {
	cfg        config
	bot        *http.Client
	srv        *fakeServer
	base       string
	serviceURL string
	key        *rsa.PrivateKey
	auth       atomic.Pointer[string] // "Bearer ..." for inbound activities

	users  []*teamsUser
	byConv map[string]*teamsUser // read-only once the run starts
	next   atomic.Int64
	strays atomic.Int64
	tokens atomic.Int64
}

type teamsUser struct {
	id, aad, name, conv string
	tenant              string
	inbox               chan teamsPost
	rng                 *rnd.Rand
}

// teamsPost is an activity the bot sent to the user's conversation.
type teamsPost struct {
	at   time.Time
	id   string
	body []byte
}

func newTeamsSim(cfg config, c *ca, bot *http.Client, conns *connStats) (*teamsSim, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	s := &teamsSim{cfg: cfg, bot: bot, key: key, byConv: make(map[string]*teamsUser, cfg.users)}
	for i := range cfg.users {
		n := strconv.Itoa(i + 1)
		u := &teamsUser{
			id:     "29:loadgen-user-" + n,
			aad:    fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1),
			name:   "Load User " + n,
			conv:   "a:loadgen-" + strings.ToLower(cfg.teamID) + "-" + n,
			tenant: cfg.workspace(i),
			inbox:  make(chan teamsPost, 4),
			rng:    rnd.New(rnd.NewPCG(uint64(cfg.seed), uint64(i))),
		}
		s.users = append(s.users, u)
		s.byConv[u.conv] = u
	}
	ln, err := net.Listen("tcp", cfg.teamsAddr)
	if err != nil {
		return nil, fmt.Errorf("fake Microsoft endpoints: %w", err)
	}
	s.base = "https://" + ln.Addr().String()
	s.serviceURL = s.base + "/connector/"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", s.metadata)
	mux.HandleFunc("GET /v1/.well-known/keys", s.keys)
	mux.HandleFunc("POST /tenant/oauth2/v2.0/token", s.token)
	mux.HandleFunc("POST /connector/v3/conversations/{conv}/activities", s.send)
	mux.HandleFunc("POST /connector/v3/conversations/{conv}/activities/{id}", s.send)
	mux.HandleFunc("PUT /connector/v3/conversations/{conv}/activities/{id}", s.update)
	s.srv = newFakeServer(mux, c.serverTLS(), cfg.http1, conns)
	go s.srv.serve(ln)
	// The Bot Connector signs a token once and sends it with every activity
	// until it nears expiry; so does this one.
	tok, err := s.sign()
	if err != nil {
		return nil, err
	}
	s.auth.Store(&tok)
	return s, nil
}

func (s *teamsSim) sign() (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":        teamsIssuer,
		"aud":        s.cfg.appID,
		"exp":        now.Add(time.Hour).Unix(),
		"nbf":        now.Add(-time.Minute).Unix(),
		"serviceurl": s.serviceURL,
	})
	t.Header["kid"] = teamsKeyID
	raw, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return "Bearer " + raw, nil
}

func (s *teamsSim) Env() []string {
	env := []string{
		"MICROSOFT_APP_ID=" + s.cfg.appID,
		"MICROSOFT_APP_PASSWORD=" + s.cfg.appPassword,
		"MICROSOFT_OPENID_METADATA_URL=" + s.base + "/v1/.well-known/openidconfiguration",
		"MICROSOFT_TOKEN_URL=" + s.base + "/tenant/oauth2/v2.0/token",
	}
	if s.cfg.certFile != "" {
		env = append(env, "SSL_CERT_FILE="+s.cfg.certFile)
	}
	return env
}

func (s *teamsSim) Close() { s.srv.Close() }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *teamsSim) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                teamsIssuer,
		"jwks_uri":                              s.base + "/v1/.well-known/keys",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (s *teamsSim) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": teamsKeyID,
		"n":            base64.RawURLEncoding.EncodeToString(s.key.N.Bytes()),
		"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.key.E)).Bytes()),
		"endorsements": []string{"msteams"},
	}}})
}

func (s *teamsSim) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_id") != s.cfg.appID || r.PostForm.Get("client_secret") != s.cfg.appPassword {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	n := s.tokens.Add(1)
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": "loadgen-bot-token-" + strconv.FormatInt(n, 10)})
}

// send is SendToConversation and ReplyToActivity: the activity goes to the
// user whose conversation it names.
func (s *teamsSim) send(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer loadgen-bot-token-") {
		http.Error(w, `{"error":{"code":"Unauthorized"}}`, http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	id := "loadgen-act-" + strconv.FormatInt(s.next.Add(1), 10)
	if u := s.byConv[r.PathValue("conv")]; u != nil {
		select {
		case u.inbox <- teamsPost{at: at, id: id, body: body}:
		default:
			s.strays.Add(1)
		}
	} else {
		s.strays.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"`+id+`"}`)
}

func (s *teamsSim) update(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"`+r.PathValue("id")+`"}`)
}

// activity is what the simulated Teams client sends, in Teams' shape.
type activity struct {
	Type         string           `json:"type"`
	ID           string           `json:"id"`
	Timestamp    string           `json:"timestamp"`
	LocalTS      string           `json:"localTimestamp"`
	LocalTZ      string           `json:"localTimezone"`
	ServiceURL   string           `json:"serviceUrl"`
	ChannelID    string           `json:"channelId"`
	From         account          `json:"from"`
	Conversation conversationAcct `json:"conversation"`
	Recipient    account          `json:"recipient"`
	TextFormat   string           `json:"textFormat"`
	Locale       string           `json:"locale"`
	Text         string           `json:"text,omitempty"`
	ReplyToID    string           `json:"replyToId,omitempty"`
	Value        map[string]any   `json:"value,omitempty"`
	Entities     []map[string]any `json:"entities"`
	ChannelData  map[string]any   `json:"channelData"`
}

type account struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	AadObjectID string `json:"aadObjectId,omitempty"`
}

type conversationAcct struct {
	ConversationType string `json:"conversationType"`
	TenantID         string `json:"tenantId"`
	ID               string `json:"id"`
}

func (s *teamsSim) activity(u *teamsUser) activity {
	now := time.Now()
	return activity{
		Type: "message", ID: "1" + strconv.FormatInt(now.UnixNano(), 10),
		Timestamp: now.UTC().Format(time.RFC3339Nano), LocalTS: now.Format(time.RFC3339Nano), LocalTZ: "Europe/London",
		ServiceURL: s.serviceURL, ChannelID: "msteams",
		From:         account{ID: u.id, Name: u.name, AadObjectID: u.aad},
		Conversation: conversationAcct{ConversationType: "personal", TenantID: u.tenant, ID: u.conv},
		Recipient:    account{ID: "28:" + s.cfg.appID, Name: "itfit"},
		TextFormat:   "plain", Locale: "en-GB",
		Entities:    []map[string]any{{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web", "timezone": "Europe/London"}},
		ChannelData: map[string]any{"tenant": map[string]any{"id": u.tenant}},
	}
}

// card is the part of an outgoing activity the user reads.
type card struct {
	Text        string `json:"text"`
	Attachments []struct {
		ContentType string `json:"contentType"`
		Content     struct {
			Body    []cardElement `json:"body"`
			Actions []cardAction  `json:"actions"`
		} `json:"content"`
	} `json:"attachments"`
}

type cardElement struct {
	Type    string       `json:"type"`
	ID      string       `json:"id"`
	Actions []cardAction `json:"actions"`
	Choices []struct {
		Value string `json:"value"`
	} `json:"choices"`
}

type cardAction struct {
	Type  string         `json:"type"`
	Title string         `json:"title"`
	Data  map[string]any `json:"data"`
}

// Audit runs one user: a message in the personal chat, then a card submit
// per question until the recommendation card.
func (s *teamsSim) Audit(ctx context.Context, i int, rec *recorder, pace func(context.Context) error) error {
	u := s.users[i]
	first := s.activity(u)
	first.Text = "hi"
	if err := pace(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	if err := s.post(ctx, first); err != nil {
		return fmt.Errorf("user %d: first message: %w", i, err)
	}
	p, err := await(ctx, u.inbox, s.cfg.timeout, "activity")
	if err != nil {
		return fmt.Errorf("user %d: first question: %w", i, err)
	}
	rec.began(p.at.Sub(t0))
	for step := 0; step < 64; step++ {
		var c card
		if err := json.Unmarshal(p.body, &c); err != nil {
			return fmt.Errorf("user %d: activity: %w", i, err)
		}
		value, done, err := s.choose(u, c)
		if err != nil {
			return fmt.Errorf("user %d step %d: %w (text %q)", i, step, err, c.Text)
		}
		if done {
			return nil
		}
		a := s.activity(u)
		a.ReplyToID, a.Value = p.id, value
		if err := pace(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		if err := s.post(ctx, a); err != nil {
			return fmt.Errorf("user %d step %d: submit: %w", i, step, err)
		}
		if p, err = await(ctx, u.inbox, s.cfg.timeout, "activity"); err != nil {
			return fmt.Errorf("user %d step %d: next question: %w", i, step, err)
		}
		rec.answered(p.at.Sub(t0))
	}
	return fmt.Errorf("user %d: no recommendation after 64 submits", i)
}

// choose reads a question card and returns the Action.Submit value of an
// answer, as Teams builds it (the button's data plus the inputs); done when
// the card is the recommendation (it has no answer button).
func (s *teamsSim) choose(u *teamsUser, c card) (map[string]any, bool, error) {
	if len(c.Attachments) == 0 {
		return nil, false, errors.New("the bot sent a text, not a card")
	}
	body := c.Attachments[0].Content.Body
	var answers []cardAction
	var choices []string
	for _, e := range body {
		if e.Type == "Input.ChoiceSet" && e.ID == "options" {
			for _, ch := range e.Choices {
				choices = append(choices, ch.Value)
			}
		}
		for _, a := range e.Actions {
			if a.Type == "Action.Submit" && a.Data["itfit"] == "answer" {
				answers = append(answers, a)
			}
		}
	}
	if len(answers) == 0 {
		return nil, true, nil
	}
	var v map[string]any
	if len(choices) > 0 {
		v = clone(answers[0].Data)
		var picked []string
		for _, j := range pickSet(s.cfg.profile, u.rng, choices) {
			picked = append(picked, choices[j])
		}
		v["options"] = strings.Join(picked, ",")
	} else {
		v = clone(answers[pickIndex(s.cfg.profile, u.rng, len(answers))].Data)
	}
	return v, false, nil
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// post sends an activity as the Bot Connector does, with its token.
func (s *teamsSim) post(ctx context.Context, a activity) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.botURL+"/api/messages", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", *s.auth.Load())
	req.Header.Set("User-Agent", "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)")
	resp, err := s.bot.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("/api/messages: status %d", resp.StatusCode)
	}
	return nil
}
