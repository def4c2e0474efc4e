package slackapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/chat/parity"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/keys"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/revisit"
)

// TestParity runs the parity scripts through the signed Request URLs and
// through Socket Mode over a real WebSocket, on real Redis, with the real
// revisit service and scheduler.
func TestParity(t *testing.T) {
	for _, l := range locale.All {
		langs := withLanguages{locale: slackLocales[l]}
		t.Run("http/"+string(l), func(t *testing.T) {
			parity.RunIn(t, "slack-http", l, func(t *testing.T) parity.Driver {
				r := &rig{clock: &clock{t: testNow}}
				r.harness = newHarness(t, r.revisits(t, ""), langs)
				r.register()
				return newSlackDriver(r, nil, l)
			})
		})
		t.Run("socket mode/"+string(l), func(t *testing.T) {
			parity.RunIn(t, "slack-socket-mode", l, func(t *testing.T) parity.Driver {
				r := &rig{clock: &clock{t: testNow}}
				sr := newSocketRun(t, r.revisits(t, ""), langs)
				r.harness = sr.harness
				r.register()
				sr.conn = sr.slack.next()
				sr.conn.hello()
				return newSlackDriver(r, sr, l)
			})
		})
	}
}

// slackLocales are what users.info says of a person whose Slack is in
// each language.
var slackLocales = map[locale.Lang]string{locale.English: "en-US", locale.French: "fr-CA"}

// slackDriver is a person in a Slack workspace: they type /itfit and press
// buttons as Slack sends them (signed HTTP, or Socket Mode envelopes), and
// read what the bot posted at the fake Web API, its response_url and its
// acknowledgements.
type slackDriver struct {
	r    *rig
	sock *socketRun   // nil: the Request URLs
	w    parity.Words // the chat layer's words in the person's language

	// what Seen has read so far, and every message that can be pressed
	posts, updates, replies, ephemerals int
	acks                                []string
	pressable                           []shown
	firstQuestion                       *shown
	seq                                 int
}

// shown is a message on the person's screen.
type shown struct {
	msg apiCall
	ts  string
}

const (
	parityUser    = "U1"
	parityDM      = "DU1"
	parityManager = "UMGR"
)

func newSlackDriver(r *rig, sock *socketRun, l locale.Lang) *slackDriver {
	return &slackDriver{r: r, sock: sock, w: parity.In(l)}
}

func (d *slackDriver) Can(parity.Capability) bool { return true }

// command sends /itfit with text, as a form (HTTP) or an envelope.
func (d *slackDriver) command(t *testing.T, user, text string) {
	t.Helper()
	if d.sock == nil {
		_, body := d.r.command(user, text)
		d.acks = append(d.acks, body)
		d.r.wait()
		return
	}
	d.seq++
	p := slashPayload(d.r.sink.srv.URL + "/commands/T1/" + user + "/x")
	p["user_id"], p["text"] = user, text
	a := d.sock.deliver("slash_commands", fmt.Sprintf("cmd-%d", d.seq), p, 0)
	d.acks = append(d.acks, string(a.Payload))
	d.r.wait()
}

// click presses an element of a message.
func (d *slackDriver) click(t *testing.T, user string, m shown, act map[string]any, checked []string) {
	t.Helper()
	if d.sock == nil {
		if code := d.r.click(user, m.msg, m.ts, act, checked); code != 200 {
			t.Fatalf("click: %d", code)
		}
		d.r.wait()
		return
	}
	v, err := url.ParseQuery(d.r.clickBody(user, m.msg, m.ts, act, checked))
	if err != nil {
		t.Fatal(err)
	}
	d.seq++
	d.sock.deliver("interactive", fmt.Sprintf("act-%d", d.seq), json.RawMessage(v.Get("payload")), 0)
	d.sock.settle()
}

func (d *slackDriver) Say(t *testing.T, word string) { d.command(t, parityUser, word) }

// question is the newest question message the person was shown.
func (d *slackDriver) question(t *testing.T) shown {
	t.Helper()
	for i := len(d.pressable) - 1; i >= 0; i-- {
		bs := d.pressable[i].msg.blocks(t)
		if element(t, bs, actAnswer) != nil || element(t, bs, actCheck) != nil {
			return d.pressable[i]
		}
	}
	t.Fatal("no question on screen")
	return shown{}
}

// Answer presses the option's button, or ticks the boxes and presses
// Continue. Options the message does not have are sent as a crafted
// client would send them.
func (d *slackDriver) Answer(t *testing.T, opts ...advisor.OptionID) {
	d.Seen(t) // what was posted so far is on screen
	q := d.question(t)
	bs := q.msg.blocks(t)
	if element(t, bs, actCheck) != nil {
		var checked []string
		for _, o := range opts {
			checked = append(checked, string(o))
		}
		d.click(t, parityUser, q, btn(t, bs, actContinue), checked)
		return
	}
	opt := element(t, bs, actAnswer)
	ov, _ := cutLang(opt["value"].(string))
	c, _ := parseChoice(ov, true)
	if len(opts) == 1 {
		if e := element(t, bs, actAnswer+string(opts[0])); e != nil {
			d.click(t, parityUser, q, map[string]any{"action_id": e["action_id"], "value": e["value"], "type": "button"}, nil)
			return
		}
		c.Option = opts[0]
		d.click(t, parityUser, q, map[string]any{"action_id": actAnswer + string(opts[0]), "value": c.String(), "type": "button"}, nil)
		return
	}
	// Several options on a single-choice question: Continue, crafted.
	c.Option = ""
	var checked []string
	for _, o := range opts {
		checked = append(checked, string(o))
	}
	d.click(t, parityUser, q, map[string]any{"action_id": actContinue, "value": c.String(), "type": "button"}, checked)
}

func (d *slackDriver) Press(t *testing.T, intent chat.Intent) {
	d.Seen(t)
	id := actionID(chat.Action{Intent: intent})
	for i := len(d.pressable) - 1; i >= 0; i-- {
		m := d.pressable[i]
		if e := element(t, m.msg.blocks(t), id); e != nil {
			d.click(t, parityUser, m, map[string]any{"action_id": e["action_id"], "value": e["value"], "type": "button"}, nil)
			return
		}
		if intent == chat.IntentBack && (element(t, m.msg.blocks(t), actAnswer) != nil || element(t, m.msg.blocks(t), actCheck) != nil) {
			// The first question has no Back: press it as a crafted client
			// would, with the question's own value.
			v := btn(t, m.msg.blocks(t), actRestart)["value"]
			d.click(t, parityUser, m, map[string]any{"action_id": actBack, "value": v, "type": "button"}, nil)
			return
		}
	}
	t.Fatalf("no %s button on screen", id)
}

func (d *slackDriver) PressStale(t *testing.T) {
	d.Seen(t)
	if d.firstQuestion == nil {
		t.Fatal("no question was shown")
	}
	q := *d.firstQuestion
	d.click(t, parityUser, q, btn(t, q.msg.blocks(t), actAnswer), nil)
}

func (d *slackDriver) Share(t *testing.T) {
	d.Seen(t)
	for i := len(d.pressable) - 1; i >= 0; i-- {
		m := d.pressable[i]
		if element(t, m.msg.blocks(t), actShare) != nil {
			d.click(t, parityUser, m, map[string]any{"action_id": actShare, "type": "users_select", "selected_user": parityManager}, nil)
			return
		}
	}
	t.Fatal("no share picker on screen")
}

// Invite presses Invite on the newest manager nudge: the manager in their
// DM, or someone else from theirs.
func (d *slackDriver) Invite(t *testing.T, asManager bool) {
	ms := d.r.postsTo("D" + parityManager)
	for i := len(ms) - 1; i >= 0; i-- {
		if !isManagerNudge(ms[i]) {
			continue
		}
		m := shown{msg: ms[i].call, ts: ms[i].ts}
		who := parityManager
		if !asManager {
			who = "U2"
			m.msg = apiCall{Form: url.Values{"channel": {"DU2"}, "blocks": {m.msg.Form.Get("blocks")}}}
		}
		d.click(t, who, m, btn(t, ms[i].call.blocks(t), actInvite), nil)
		return
	}
	t.Fatal("no manager nudge")
}

func (d *slackDriver) Deliver(t *testing.T) {
	d.r.clock.Add(revisitAfter + time.Second)
	d.r.deliver()
	d.r.wait()
}

func (d *slackDriver) User() conversation.UserKey { return userKey("T1", parityUser) }
func (d *slackDriver) Store() (redis.UniversalClient, keys.Prefix) {
	return d.r.rdb, d.r.prefix
}
func (d *slackDriver) Reminders(t *testing.T) []revisit.Reminder {
	rs, err := d.r.svc.List(context.Background(), d.User())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
func (d *slackDriver) Extra(string) bool { return false }

// Seen reads everything that reached the person since the last call: new
// messages in their DM, updates of them, ephemeral replies through the
// response_url or beside a mention, and acknowledgements; and what reached
// their manager.
func (d *slackDriver) Seen(t *testing.T) parity.Screen {
	var s parity.Screen
	posts := d.r.api.all("chat.postMessage")
	for i := d.posts; i < len(posts); i++ {
		c, ts := d.r.posted(i)
		switch c.Form.Get("channel") {
		case parityDM:
			m := shown{msg: c, ts: ts}
			d.read(t, &s, c.blocks(t))
			d.pressable = append(d.pressable, m)
			if d.firstQuestion == nil && element(t, c.blocks(t), actAnswer) != nil {
				d.firstQuestion = &m
			}
		case "D" + parityManager:
			bs := blocksOf(c)
			switch {
			case strings.Contains(bs, "itfit_shared"):
				s.Manager = append(s.Manager, "shared")
			case strings.Contains(bs, actInvite):
				s.Manager = append(s.Manager, "nudge")
			}
		}
	}
	d.posts = len(posts)
	ups := d.r.api.all("chat.update")
	for i := d.updates; i < len(ups); i++ {
		if ups[i].Form.Get("channel") == parityDM {
			s.Texts = append(s.Texts, texts(t, ups[i].blocks(t))...)
		}
	}
	d.updates = len(ups)
	eph := d.r.api.all("chat.postEphemeral")
	for i := d.ephemerals; i < len(eph); i++ {
		s.Texts = append(s.Texts, eph[i].Form.Get("text"))
	}
	d.ephemerals = len(eph)
	d.r.sink.mu.Lock()
	replies := append([]map[string]any(nil), d.r.sink.replies[d.replies:]...)
	paths := append([]string(nil), d.r.sink.paths[d.replies:]...)
	d.replies = len(d.r.sink.replies)
	d.r.sink.mu.Unlock()
	for i, rep := range replies {
		if strings.Contains(paths[i], "/"+parityUser+"/") {
			d.ephemeral(t, &s, rep)
		}
	}
	for _, a := range d.acks {
		var rep map[string]any
		if a != "" && json.Unmarshal([]byte(a), &rep) == nil {
			d.ephemeral(t, &s, rep)
		}
	}
	d.acks = nil
	return s
}

// ephemeral reads a reply only the person sees; with buttons, it can be
// pressed (in the channel the command came from).
func (d *slackDriver) ephemeral(t *testing.T, s *parity.Screen, rep map[string]any) {
	raw, _ := json.Marshal(rep["blocks"])
	var bs []map[string]any
	_ = json.Unmarshal(raw, &bs)
	text, _ := rep["text"].(string)
	s.Texts = append(s.Texts, text)
	s.Texts = append(s.Texts, texts(t, bs)...)
	if hasActions(bs) {
		d.seq++
		d.pressable = append(d.pressable, shown{
			msg: apiCall{Form: url.Values{"channel": {"C1"}, "blocks": {string(raw)}}, Ephemeral: true},
			ts:  fmt.Sprintf("1700000099.%06d", d.seq),
		})
	}
}

// read turns a message the person was posted into what they saw.
func (d *slackDriver) read(t *testing.T, s *parity.Screen, bs []map[string]any) {
	audit := parity.Audit(d.w.Lang)
	if e := element(t, bs, actAnswer); e != nil || element(t, bs, actCheck) != nil {
		var v string
		if e != nil {
			v = e["value"].(string)
		} else {
			v = btn(t, bs, actContinue)["value"].(string)
		}
		v, _ = cutLang(v)
		c, ok := parseChoice(v, e != nil)
		if !ok {
			t.Fatalf("question value %q", v)
		}
		s.Questions = append(s.Questions, parity.Asked{ID: c.Question, Pos: c.Pos, Total: c.Total})
	}
	if h := header(bs); strings.HasPrefix(h, d.w.Prefix("Recommendation: %s")) {
		c := parity.Card{}
		name := strings.TrimPrefix(h, d.w.Prefix("Recommendation: %s"))
		for v, vt := range audit.Verdicts {
			if vt.Name == name {
				c.Verdict = v
			}
		}
		all := strings.Join(texts(t, bs), "\n")
		for _, st := range []advisor.Strength{advisor.Strong, advisor.Moderate, advisor.Close} {
			if strings.Contains(all, "*"+strings.TrimRight(fmt.Sprintf(d.w.T(" is %s. "), d.w.Strength(st)), " ")) {
				c.Strength = st
			}
		}
		c.Since = strings.Contains(all, "*"+d.w.T("Since last time")+"*")
		parity.ReadCardIn(d.w.Lang, &c, cardParts(bs))
		s.Cards = append(s.Cards, c)
	}
	for _, b := range bs {
		if b["block_id"] == "itfit_nudge" {
			kind := "due"
			if strings.Contains(strings.Join(texts(t, bs), " "), d.w.T("Your account manager invited you to retake the audit")) {
				kind = "invited"
			}
			s.Nudges = append(s.Nudges, kind)
		}
	}
	s.Texts = append(s.Texts, texts(t, bs)...)
}

// cardParts reads a card's sections, in order, as parity's parts: a
// section (or field) whose first line is bold opens a part with that title,
// one that does not continues the part before; bullets, numbers, quote
// marks, bold and Slack's escaping come off each line.
func cardParts(bs []map[string]any) []parity.Part {
	var parts []parity.Part
	for _, b := range bs {
		if b["type"] != "section" {
			continue
		}
		var pieces []string
		if tx, ok := b["text"].(map[string]any); ok {
			pieces = append(pieces, tx["text"].(string))
		}
		fs, _ := b["fields"].([]any)
		for _, f := range fs {
			pieces = append(pieces, f.(map[string]any)["text"].(string))
		}
		for _, piece := range pieces {
			for i, l := range strings.Split(piece, "\n") {
				l = strings.TrimPrefix(l, ">")
				if i == 0 && len(l) > 2 && strings.HasPrefix(l, "*") && strings.HasSuffix(l, "*") && !strings.Contains(l[1:len(l)-1], "*") {
					parts = append(parts, parity.Part{Title: unescape(l[1 : len(l)-1])})
					continue
				}
				if len(parts) == 0 {
					parts = append(parts, parity.Part{})
				}
				l = numbered.ReplaceAllString(strings.TrimPrefix(l, "• "), "")
				parts[len(parts)-1].Lines = append(parts[len(parts)-1].Lines, unescape(strings.ReplaceAll(l, "*", "")))
			}
		}
	}
	return parts
}

var numbered = regexp.MustCompile(`^\d+\. `)

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// texts is every text of some blocks, as written.
func texts(t *testing.T, bs []map[string]any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				out = append(out, s)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, b := range bs {
		walk(map[string]any(b))
	}
	return out
}
