package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// sign is Slack's v0 request signature: HMAC-SHA256 over "v0:ts:body". It
// is written out here (rather than taken from slackapp.Sign) so that the
// load tool does not build the adapter it measures.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// slackSim is the Slack side: a fake Web API that captures what the bot
// posts, and users who send signed slash commands and block_actions.
type slackSim struct {
	cfg    config
	bot    *http.Client
	srv    *fakeServer
	apiURL string

	users     []*slackUser
	byChannel map[string]*slackUser // read-only once the run starts
	byUser    map[string]*slackUser
	ts        atomic.Int64
	strays    atomic.Int64
}

type slackUser struct {
	id, dm string
	team   string // the workspace (team_id) the user is in
	inbox  chan slackPost
	rng    *rand.Rand
}

// slackPost is a chat.postMessage the bot made in a user's DM.
type slackPost struct {
	at     time.Time
	ts     string
	text   string
	blocks string // the JSON array as the bot sent it
}

func newSlackSim(cfg config, c *ca, bot *http.Client, conns *connStats) (*slackSim, error) {
	s := &slackSim{cfg: cfg, bot: bot, byChannel: make(map[string]*slackUser, cfg.users), byUser: make(map[string]*slackUser, cfg.users)}
	for i := range cfg.users {
		u := &slackUser{
			id:    "U" + strings.ToUpper(strconv.FormatInt(int64(i)+1, 36)) + "LOAD",
			dm:    "D" + strings.ToUpper(strconv.FormatInt(int64(i)+1, 36)) + "LOAD",
			team:  cfg.workspace(i),
			inbox: make(chan slackPost, 4),
			rng:   rand.New(rand.NewPCG(uint64(cfg.seed), uint64(i))),
		}
		s.users = append(s.users, u)
		s.byChannel[u.dm] = u
		s.byUser[u.id] = u
	}
	ln, err := net.Listen("tcp", cfg.slackAddr)
	if err != nil {
		return nil, fmt.Errorf("fake Slack Web API: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.api)
	scheme, tlsCfg := "http", (*tls.Config)(nil)
	if cfg.slackTLS {
		scheme, tlsCfg = "https", c.serverTLS()
	}
	s.srv = newFakeServer(mux, tlsCfg, cfg.http1, conns)
	go s.srv.serve(ln)
	s.apiURL = scheme + "://" + ln.Addr().String() + "/api/"
	return s, nil
}

func (s *slackSim) Env() []string {
	env := []string{
		"SLACK_API_URL=" + s.apiURL,
		"SLACK_SIGNING_SECRET=" + s.cfg.secret,
		"SLACK_BOT_TOKEN=xoxb-loadgen",
	}
	if s.cfg.slackTLS && s.cfg.certFile != "" {
		env = append(env, "SSL_CERT_FILE="+s.cfg.certFile)
	}
	return env
}

func (s *slackSim) Close() { s.srv.Close() }

// api is the fake Web API. It answers every method the adapter calls with
// the fields slack-go reads, and hands chat.postMessage to the user whose DM
// it is addressed to.
func (s *slackSim) api(w http.ResponseWriter, r *http.Request) {
	var f url.Values
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// chat.postMessage and chat.update, with a Bearer token. The fields
		// are picked out without decoding the blocks, which the user
		// decodes later: a full decode here was a fifth of loadgen's CPU.
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		fields, err := topFields(b)
		if err != nil {
			http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
			return
		}
		f = url.Values{}
		for _, k := range []string{"channel", "ts", "text", "blocks"} {
			v := fields[k]
			if len(v) > 1 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
				f.Set(k, string(v[1:len(v)-1])) // nothing to unescape
			} else if len(v) > 0 && v[0] == '"' {
				var str string
				if err := json.Unmarshal(v, &str); err != nil {
					http.Error(w, "bad JSON string", http.StatusBadRequest)
					return
				}
				f.Set(k, str)
			} else if v != nil {
				f.Set(k, string(v))
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		f = r.PostForm
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.PathValue("method") {
	case "conversations.open":
		u := s.byUser[f.Get("users")]
		if u == nil {
			s.strays.Add(1)
			io.WriteString(w, `{"ok":false,"error":"user_not_found"}`)
			return
		}
		io.WriteString(w, `{"ok":true,"no_op":true,"already_open":true,"channel":{"id":"`+u.dm+`"}}`)
	case "chat.postMessage":
		at := time.Now()
		ts := s.nextTS()
		ch := f.Get("channel")
		if u := s.byChannel[ch]; u != nil {
			select {
			case u.inbox <- slackPost{at: at, ts: ts, text: f.Get("text"), blocks: f.Get("blocks")}:
			default:
				s.strays.Add(1) // the user is not waiting: counted, not blocking the bot
			}
		} else {
			s.strays.Add(1)
		}
		io.WriteString(w, `{"ok":true,"channel":"`+ch+`","ts":"`+ts+`"}`)
	case "chat.update":
		io.WriteString(w, `{"ok":true,"channel":"`+f.Get("channel")+`","ts":"`+f.Get("ts")+`","text":""}`)
	case "chat.postEphemeral":
		io.WriteString(w, `{"ok":true,"message_ts":"`+s.nextTS()+`"}`)
	case "users.info":
		io.WriteString(w, `{"ok":true,"user":{"id":"`+f.Get("user")+`","tz":"Europe/London"}}`)
	case "views.publish":
		io.WriteString(w, `{"ok":true,"view":{"id":"VLOAD"}}`)
	default:
		io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

// topFields splits a JSON object into its top-level members' raw values.
// It checks the nesting and strings it walks through, not every literal:
// the fake trusts the bot to send JSON (the real Web API would refuse it).
func topFields(b []byte) (map[string][]byte, error) {
	out := make(map[string][]byte, 4)
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, errors.New("not an object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, errors.New("expected a key")
		}
		end, err := endOfString(b, i)
		if err != nil {
			return nil, err
		}
		key := b[i+1 : end-1]
		i = skipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, errors.New("expected ':'")
		}
		i = skipWS(b, i+1)
		end, err = endOfValue(b, i)
		if err != nil {
			return nil, err
		}
		out[string(key)] = b[i:end]
		i = skipWS(b, end)
		if i >= len(b) {
			return nil, errors.New("unterminated object")
		}
		if b[i] == '}' {
			return out, nil
		}
		if b[i] != ',' {
			return nil, errors.New("expected ','")
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index after the string starting at b[i] == '"'.
func endOfString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// endOfValue returns the index after the value starting at b[i].
func endOfValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '[', '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := endOfString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errors.New("missing value")
	}
	return j, nil
}

func (s *slackSim) nextTS() string {
	n := s.ts.Add(1)
	return "1700000000." + fmt.Sprintf("%06d", n%1_000_000)
}

// block is the part of a Block Kit block the simulated user reads.
type block struct {
	Type     string    `json:"type"`
	BlockID  string    `json:"block_id"`
	Elements []element `json:"elements"`
}

type element struct {
	Type     string `json:"type"`
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
	// Text is a text object on a button, a plain string on a context
	// block's element: read only where it is a button's.
	Text    json.RawMessage `json:"text"`
	Options []struct {
		Value string `json:"value"`
		Text  struct {
			Text string `json:"text"`
		} `json:"text"`
	} `json:"options"`
}

// Audit runs one user: /itfit, then a click per question until the card.
func (s *slackSim) Audit(ctx context.Context, i int, rec *recorder, pace func(context.Context) error) error {
	u := s.users[i]
	form := url.Values{
		"token": {"loadgen"}, "team_id": {u.team}, "team_domain": {"loadgen"},
		"channel_id": {"C0LOADGEN"}, "channel_name": {"general"},
		"user_id": {u.id}, "user_name": {"user" + u.id}, "command": {"/itfit"}, "text": {""},
		"api_app_id": {"A0LOADGEN"}, "is_enterprise_install": {"false"}, "trigger_id": {"1.2.3"},
		// No response_url: the bot only posts there when something failed,
		// and Slack's hooks are not on loopback. Without one, the bot
		// tells the user in the DM, which this user reads as an error.
	}
	if err := pace(ctx); err != nil {
		return err
	}
	t0 := time.Now()
	if err := s.post(ctx, "/slack/commands", []byte(form.Encode())); err != nil {
		return fmt.Errorf("user %d: /itfit: %w", i, err)
	}
	p, err := await(ctx, u.inbox, s.cfg.timeout, "message")
	if err != nil {
		return fmt.Errorf("user %d: first question: %w", i, err)
	}
	rec.began(p.at.Sub(t0))
	for step := 0; step < 64; step++ {
		var blocks []block
		if err := json.Unmarshal([]byte(p.blocks), &blocks); err != nil {
			return fmt.Errorf("user %d: blocks: %w", i, err)
		}
		payload, done, err := s.click(u, p, blocks)
		if err != nil {
			return fmt.Errorf("user %d step %d: %w (message %q)", i, step, err, p.text)
		}
		if done {
			return nil
		}
		if err := pace(ctx); err != nil {
			return err
		}
		t0 := time.Now()
		body := []byte("payload=" + url.QueryEscape(string(payload)))
		if err := s.post(ctx, "/slack/interactions", body); err != nil {
			return fmt.Errorf("user %d step %d: click: %w", i, step, err)
		}
		if p, err = await(ctx, u.inbox, s.cfg.timeout, "message"); err != nil {
			return fmt.Errorf("user %d step %d: next question: %w", i, step, err)
		}
		rec.answered(p.at.Sub(t0))
	}
	return fmt.Errorf("user %d: no card after 64 clicks", i)
}

// post sends a signed request and expects Slack's acknowledgement, a 200.
func (s *slackSim) post(ctx context.Context, path string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.botURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sign(s.cfg.secret, ts, body))
	resp, err := s.bot.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}

// Block-kit payload shapes, as Slack sends a block_actions interaction.
type (
	textObj struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	selOption struct {
		Text  textObj `json:"text"`
		Value string  `json:"value"`
	}
	clickAction struct {
		ActionID string  `json:"action_id"`
		BlockID  string  `json:"block_id"`
		Text     textObj `json:"text"`
		Value    string  `json:"value"`
		Type     string  `json:"type"`
		ActionTS string  `json:"action_ts"`
	}
	blockActions struct {
		Type string `json:"type"`
		User struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			TeamID   string `json:"team_id"`
		} `json:"user"`
		APIAppID  string `json:"api_app_id"`
		Token     string `json:"token"`
		Container struct {
			Type        string `json:"type"`
			MessageTS   string `json:"message_ts"`
			ChannelID   string `json:"channel_id"`
			IsEphemeral bool   `json:"is_ephemeral"`
		} `json:"container"`
		TriggerID string `json:"trigger_id"`
		Team      struct {
			ID     string `json:"id"`
			Domain string `json:"domain"`
		} `json:"team"`
		Channel struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"channel"`
		Message struct {
			Type   string          `json:"type"`
			User   string          `json:"user"`
			TS     string          `json:"ts"`
			Text   string          `json:"text"`
			Blocks json.RawMessage `json:"blocks"`
		} `json:"message"`
		State struct {
			Values map[string]map[string]any `json:"values"`
		} `json:"state"`
		Actions []clickAction `json:"actions"`
	}
)

// click reads the question in blocks and returns the block_actions payload
// of an answer; done when the blocks are the recommendation card.
func (s *slackSim) click(u *slackUser, p slackPost, blocks []block) (payload []byte, done bool, err error) {
	var buttons []element
	var checks *element
	var cont *element
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		switch b.BlockID {
		case "itfit_card":
			return nil, true, nil
		case "itfit_options":
			buttons = b.Elements
		case "itfit_choices":
			for j := range b.Elements {
				if b.Elements[j].Type == "checkboxes" {
					checks = &b.Elements[j]
				}
			}
		case "itfit_nav":
			for j := range b.Elements {
				if b.Elements[j].ActionID == "itfit_continue" {
					cont = &b.Elements[j]
				}
			}
		}
	}
	var pl blockActions
	pl.Type = "block_actions"
	pl.User.ID, pl.User.Username, pl.User.TeamID = u.id, "user"+u.id, u.team
	pl.APIAppID, pl.Token, pl.TriggerID = "A0LOADGEN", "loadgen", "1.2.3"
	pl.Container.Type, pl.Container.MessageTS, pl.Container.ChannelID = "message", p.ts, u.dm
	pl.Team.ID, pl.Team.Domain = u.team, "loadgen"
	pl.Channel.ID, pl.Channel.Name = u.dm, "directmessage"
	pl.Message.Type, pl.Message.User, pl.Message.TS, pl.Message.Text = "message", "U0ITFITBOT", p.ts, p.text
	pl.Message.Blocks = json.RawMessage(p.blocks)
	pl.State.Values = map[string]map[string]any{}
	actionTS := strconv.FormatFloat(float64(time.Now().UnixMicro())/1e6, 'f', 6, 64)
	switch {
	case len(buttons) > 0:
		b := buttons[s.pick(u, len(buttons))]
		var label textObj
		if err := json.Unmarshal(b.Text, &label); err != nil {
			return nil, false, fmt.Errorf("answer button text: %w", err)
		}
		pl.Actions = []clickAction{{ActionID: b.ActionID, BlockID: "itfit_options", Text: textObj{"plain_text", label.Text},
			Value: b.Value, Type: "button", ActionTS: actionTS}}
	case checks != nil && cont != nil:
		var sel []selOption
		for _, j := range s.pickMany(u, checks) {
			o := checks.Options[j]
			sel = append(sel, selOption{Text: textObj{"plain_text", o.Text.Text}, Value: o.Value})
		}
		pl.State.Values["itfit_choices"] = map[string]any{"itfit_check": map[string]any{"type": "checkboxes", "selected_options": sel}}
		pl.Actions = []clickAction{{ActionID: cont.ActionID, BlockID: "itfit_nav", Text: textObj{"plain_text", "Continue"},
			Value: cont.Value, Type: "button", ActionTS: actionTS}}
	default:
		return nil, false, errors.New("the bot posted neither a question nor the card")
	}
	payload, err = json.Marshal(pl)
	return payload, false, err
}

// pick chooses one of n options by the profile.
func (s *slackSim) pick(u *slackUser, n int) int { return pickIndex(s.cfg.profile, u.rng, n) }

func pickIndex(profile string, rng *rand.Rand, n int) int {
	switch profile {
	case "comanaged":
		return 0
	case "managed":
		return n - 1
	}
	return rng.IntN(n)
}

// pickMany chooses options of a "tick all that apply" question: "none" (the
// audit's exclusive option) alone, or one to three of the others.
func (s *slackSim) pickMany(u *slackUser, checks *element) []int {
	values := make([]string, len(checks.Options))
	for i, o := range checks.Options {
		values[i] = o.Value
	}
	return pickSet(s.cfg.profile, u.rng, values)
}

func pickSet(profile string, rng *rand.Rand, values []string) []int {
	var others []int
	none := -1
	for i, v := range values {
		if v == "none" {
			none = i
		} else {
			others = append(others, i)
		}
	}
	switch profile {
	case "comanaged":
		return []int{0}
	case "managed":
		return []int{len(values) - 1}
	}
	if none >= 0 && rng.IntN(len(values)) == 0 || len(others) == 0 {
		return []int{max(none, 0)}
	}
	rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	return others[:1+rng.IntN(min(3, len(others)))]
}
