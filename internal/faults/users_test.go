package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/slackapi"
)

const signingSecret = "faults-signing-secret-0123456789"

// simUser is one person in Slack: their DM with itfit is where the fake
// hands them what the bot posts.
type simUser struct {
	team, id, dm string
	rng          *rand.Rand

	mu    sync.Mutex
	inbox []fakePost
	wake  chan struct{}

	// What happened to them (read once the run is over).
	cards     int
	tookTwice int               // a first question again after they had answered one, unasked
	deadEnds  []string          // notes without a question or card, other than "try again"
	retries   int               // notes that said "try again" (the store or the pool could not)
	accepted  map[string]string // question -> option(s) the bot moved on from
	lastClick time.Time
}

func newUser(team string, i int, seed uint64) *simUser {
	id := fmt.Sprintf("U%s%04d", strings.TrimPrefix(team, "T"), i)
	return &simUser{team: team, id: id, dm: "D" + id, rng: rand.New(rand.NewPCG(seed, uint64(i))),
		wake: make(chan struct{}, 1), accepted: map[string]string{}}
}

func (u *simUser) deliver(p fakePost) {
	u.mu.Lock()
	u.inbox = append(u.inbox, p)
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// next waits up to d for what the bot posted, and returns all of it.
func (u *simUser) next(ctx context.Context, d time.Duration) []fakePost {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		u.mu.Lock()
		if len(u.inbox) > 0 {
			ps := u.inbox
			u.inbox = nil
			u.mu.Unlock()
			return ps
		}
		u.mu.Unlock()
		select {
		case <-u.wake:
		case <-t.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// kind of a message, read from its action blocks.
type msgKind int

const (
	kindNote msgKind = iota
	kindQuestion
	kindCard
	kindNudge
)

func kindOf(p fakePost) msgKind {
	for _, b := range p.Blocks {
		if b.Type != "actions" {
			continue
		}
		switch b.BlockID {
		case "itfit_options", "itfit_choices":
			return kindQuestion
		case "itfit_card":
			return kindCard
		case "itfit_nudge", "itfit_manager":
			return kindNudge
		}
	}
	return kindNote
}

// questionNo reads "Question 3 of 10"; 0 when it is not there.
func questionNo(p fakePost) int {
	var n, total int
	if i := strings.Index(p.Text, "Question "); i >= 0 {
		fmt.Sscanf(p.Text[i:], "Question %d of %d", &n, &total)
	}
	return n
}

// tryAgain is a note that says to try again: the store did not answer, or
// the work was shed. The person does.
func tryAgain(text string) bool {
	return strings.Contains(text, "temporarily unavailable") || strings.Contains(text, "busy")
}

// driver plays Slack's side of the requests: signed slash commands and
// block_actions, measured from send to acknowledgement.
type driver struct {
	t      *testing.T
	base   string // the bot, or its load balancer's address
	client *http.Client
	// silence is how long a person waits for a reply before they click
	// again (or type /itfit again, every other person after the last
	// question). It is longer than the chat layer's double-press window
	// (5 s), so a click again counts as a retry.
	silence time.Duration
	// pace, when set, spaces every request (open loop).
	pace func(ctx context.Context) error

	acks      latencies
	ackFailed atomic.Int64 // no acknowledgement at all (the bot was down)
	told      latencies    // click -> the first message it got, question or note
	answers   atomic.Int64
	reclicks  atomic.Int64 // the same answer again after silence
	retypes   atomic.Int64 // /itfit again after silence
	retried   atomic.Int64 // again after "try again"
}

func newDriver(t *testing.T, base string, inFlight int) *driver {
	return &driver{t: t, base: base, silence: 6 * time.Second, client: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: inFlight + 16, MaxIdleConnsPerHost: inFlight + 16, IdleConnTimeout: 30 * time.Second},
	}}
}

// send posts a signed request and says whether it was acknowledged (a 200).
func (d *driver) send(ctx context.Context, path string, body []byte) bool {
	ok, _, _ := d.sendRead(ctx, path, body)
	return ok
}

// sendRead is send, with the acknowledgement's body and how long it took.
func (d *driver) sendRead(ctx context.Context, path string, body []byte) (bool, string, time.Duration) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+path, bytes.NewReader(body))
	if err != nil {
		return false, "", 0
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(slackapi.HeaderTimestamp, ts)
	req.Header.Set(slackapi.HeaderSignature, slackapi.Sign(signingSecret, ts, body))
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() == nil { // not the run ending
			d.ackFailed.Add(1)
		}
		return false, "", 0
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	took := time.Since(start)
	d.acks.add(took)
	if resp.StatusCode != http.StatusOK {
		d.ackFailed.Add(1)
		return false, string(b), took
	}
	return true, string(b), took
}

var triggers atomic.Int64

// paced waits for the request's turn in an open-loop run.
func (d *driver) paced(ctx context.Context) error {
	if d.pace == nil {
		return nil
	}
	return d.pace(ctx)
}

// command is /itfit with text, typed in a channel.
func (d *driver) command(ctx context.Context, u *simUser, text string) bool {
	ok, _, _ := d.commandRead(ctx, u, text)
	return ok
}

// commandRead is command, with the acknowledgement's body and latency.
func (d *driver) commandRead(ctx context.Context, u *simUser, text string) (bool, string, time.Duration) {
	form := url.Values{"team_id": {u.team}, "user_id": {u.id}, "channel_id": {"CFAULTS"}, "command": {"/itfit"},
		"text": {text}, "trigger_id": {strconv.FormatInt(triggers.Add(1), 10) + ".faults"}}
	if d.paced(ctx) != nil {
		return false, "", 0
	}
	u.lastClick = time.Now()
	return d.sendRead(ctx, "/slack/commands", []byte(form.Encode()))
}

// click presses an action as Slack sends it; every press has its own
// action_ts, so two presses of one button are two deliveries.
func (d *driver) click(ctx context.Context, u *simUser, on fakePost, act fElement, block string, checked []string) bool {
	sel := []map[string]any{}
	for _, c := range checked {
		sel = append(sel, map[string]any{"value": c})
	}
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": u.id, "team_id": u.team}, "team": map[string]any{"id": u.team},
		"container": map[string]any{"type": "message", "message_ts": on.TS, "channel_id": u.dm},
		"channel":   map[string]any{"id": u.dm},
		"state":     map[string]any{"values": map[string]any{"itfit_choices": map[string]any{"itfit_check": map[string]any{"type": "checkboxes", "selected_options": sel}}}},
		"actions": []any{map[string]any{"action_id": act.ActionID, "block_id": block, "value": act.Value, "type": "button",
			"action_ts": strconv.FormatFloat(float64(time.Now().UnixMicro())/1e6, 'f', 6, 64)}},
	}
	b, err := json.Marshal(p)
	if err != nil {
		d.t.Error(err)
		return false
	}
	if d.paced(ctx) != nil {
		return false
	}
	u.lastClick = time.Now()
	return d.send(ctx, "/slack/interactions", []byte("payload="+url.QueryEscape(string(b))))
}

// press is one answer: the button pressed (and boxes ticked), and what it
// answers.
type press struct {
	on       fakePost
	act      fElement
	block    string
	checked  []string
	question string
	option   string
}

// choose picks an answer on a question at random: a button, or one box and
// Continue.
func choose(u *simUser, p fakePost) (press, error) {
	var buttons []fElement
	var checks, cont *fElement
	for _, b := range p.Blocks {
		for i := range b.Elements {
			e := &b.Elements[i]
			switch {
			case b.BlockID == "itfit_options":
				buttons = append(buttons, *e)
			case e.ActionID == "itfit_check":
				checks = e
			case e.ActionID == "itfit_continue":
				cont = e
			}
		}
	}
	switch {
	case len(buttons) > 0:
		b := buttons[u.rng.IntN(len(buttons))]
		return press{on: p, act: b, block: "itfit_options", question: valueQuestion(b.Value), option: strings.TrimPrefix(b.ActionID, "itfit_answer:")}, nil
	case checks != nil && cont != nil && len(checks.Options) > 0:
		o := checks.Options[u.rng.IntN(len(checks.Options))].Value
		return press{on: p, act: *cont, block: "itfit_nav", checked: []string{o}, question: valueQuestion(cont.Value), option: o}, nil
	}
	return press{}, fmt.Errorf("no answer in %q", p.Text)
}

// valueQuestion is the question a button's value ("rev:question:option:pos:total") answers.
func valueQuestion(v string) string {
	parts := strings.Split(v, ":")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// buttonOf finds an action by its action_id.
func buttonOf(p fakePost, actionID string) (fElement, string, bool) {
	for _, b := range p.Blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return e, b.BlockID, true
			}
		}
	}
	return fElement{}, "", false
}

// auditOpts says what a person does besides answering.
type auditOpts struct {
	remind bool // press "Remind me in 12 months" on the card
	// retype: after silence following their last answer, type /itfit
	// again instead of clicking again (a person who thinks it ended).
	retype bool
	// maxSilences bounds how often they try again before giving up.
	maxSilences int
}

// audit takes u from /itfit to the card as a person would: answer what the
// bot shows last; after silence click the same answer again (or type
// /itfit again); after "try again", try again a second later.
func (d *driver) audit(ctx context.Context, u *simUser, o auditOpts) error {
	if o.maxSilences == 0 {
		o.maxSilences = 30
	}
	var last *press // the answer given last, to give again
	answered := false
	silences := 0
	d.command(ctx, u, "")
	for ctx.Err() == nil {
		ps := u.next(ctx, d.silence)
		if len(ps) == 0 {
			if ctx.Err() != nil {
				break
			}
			silences++
			if silences > o.maxSilences {
				return fmt.Errorf("user %s: nothing after %d tries", u.id, silences)
			}
			switch {
			case last != nil && (!o.retype || silences%2 == 1):
				d.reclicks.Add(1)
				d.click(ctx, u, last.on, last.act, last.block, last.checked)
			default:
				d.retypes.Add(1)
				d.command(ctx, u, "")
			}
			continue
		}
		d.told.add(time.Since(u.lastClick))
		silences = 0
		// Whatever came, the person acts on the newest question or card.
		var act *fakePost
		for i := range ps {
			switch kindOf(ps[i]) {
			case kindNote:
				if tryAgain(ps[i].Text) {
					u.retries++
				} else {
					u.deadEnds = append(u.deadEnds, ps[i].Text)
				}
			case kindQuestion, kindCard:
				act = &ps[i]
			}
		}
		if act == nil {
			// Only notes: "try again" is taken at its word.
			d.retried.Add(1)
			time.Sleep(time.Second)
			if last != nil {
				d.click(ctx, u, last.on, last.act, last.block, last.checked)
			} else {
				d.command(ctx, u, "")
			}
			continue
		}
		if last != nil && (kindOf(*act) == kindCard || valueQuestionOf(*act) != last.question) {
			u.accepted[last.question] = last.option
			d.answers.Add(1)
		}
		if kindOf(*act) == kindCard {
			u.cards++
			if o.remind {
				return d.remind(ctx, u, *act)
			}
			return nil
		}
		if questionNo(*act) == 1 && answered && len(u.accepted) > 0 {
			// The audit began again though they had answers in it.
			u.tookTwice++
			clear(u.accepted)
		}
		p, err := choose(u, *act)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.id, err)
		}
		last, answered = &p, true
		d.click(ctx, u, p.on, p.act, p.block, p.checked)
	}
	return ctx.Err()
}

// valueQuestionOf is the question a question message asks.
func valueQuestionOf(p fakePost) string {
	for _, b := range p.Blocks {
		for _, e := range b.Elements {
			if strings.HasPrefix(e.ActionID, "itfit_answer:") || e.ActionID == "itfit_continue" {
				return valueQuestion(e.Value)
			}
		}
	}
	return ""
}

// remind presses "Remind me in 12 months" and waits for its note.
func (d *driver) remind(ctx context.Context, u *simUser, card fakePost) error {
	btn, block, ok := buttonOf(card, "itfit_remind")
	if !ok {
		return fmt.Errorf("user %s: no Remind button on the card", u.id)
	}
	for range 10 {
		d.click(ctx, u, card, btn, block, nil)
		for _, p := range u.next(ctx, d.silence) {
			if strings.Contains(p.Text, "remind you") {
				return nil
			}
		}
	}
	return fmt.Errorf("user %s: the reminder was never confirmed", u.id)
}

// runUsers runs every user's audit, inFlight at a time, and returns the
// errors.
func (d *driver) runUsers(ctx context.Context, users []*simUser, inFlight int, opts func(i int) auditOpts) []error {
	next := make(chan int, len(users))
	for i := range users {
		next <- i
	}
	close(next)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			for i := range next {
				if err := d.audit(ctx, users[i], opts(i)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// latencies collects durations.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// stats are the count, the 99th percentile and the maximum.
func (l *latencies) stats() (n int, p99, max time.Duration) {
	l.mu.Lock()
	ds := slices.Clone(l.d)
	l.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0, 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return len(ds), ds[len(ds)*99/100], ds[len(ds)-1]
}

func (l *latencies) over(limit time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, d := range l.d {
		if d > limit {
			n++
		}
	}
	return n
}

// pacer spaces requests at a fixed rate whatever the replies do (open
// loop): a request whose slot has passed goes at once.
type pacer struct {
	start    time.Time
	interval time.Duration
	n        atomic.Int64
}

func newPacer(rate float64) *pacer {
	return &pacer{start: time.Now(), interval: time.Duration(float64(time.Second) / rate)}
}

func (p *pacer) wait(ctx context.Context) error {
	at := p.start.Add(time.Duration(p.n.Add(1)-1) * p.interval)
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
