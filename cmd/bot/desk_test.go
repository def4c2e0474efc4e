package main

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/itfit/itfit/internal/adapters/slackapp"
	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat/chattest"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/portfolio"
)

// These tests run `bot serve` with Slack on against real Redis and a fake
// Web API, and drive the account managers' desk only through the HTTP
// endpoints: clients finish the audit with signed clicks, managers open
// their App Home (a signed app_home_opened event) and press its buttons,
// and downloads are fetched from GET /export/….

const deskSecret = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// deskSlack is the Web API as the desk uses it: DMs, messages, the Home
// tab, users' names and the three steps of a file upload.
type deskSlack struct {
	srv   *httptest.Server
	posts chan postedMsg

	mu      sync.Mutex
	ts      int
	homes   map[string][]map[string]any // user -> the blocks of each views.publish
	uploads map[string][]byte           // file ID -> bytes
	shared  []url.Values                // files.completeUploadExternal forms
}

func newDeskSlack(t *testing.T) *deskSlack {
	f := &deskSlack{posts: make(chan postedMsg, 1024), homes: map[string][]map[string]any{}, uploads: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *deskSlack) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		file, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(file)
		f.mu.Lock()
		f.uploads[strings.TrimPrefix(r.URL.Path, "/upload/")] = b
		f.mu.Unlock()
		fmt.Fprint(w, "OK")
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	parseWebAPI(r)
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	f.mu.Unlock()
	switch method {
	case "conversations.open":
		fmt.Fprintf(w, `{"ok":true,"channel":{"id":"D%s"}}`, r.PostForm.Get("users"))
	case "chat.postMessage", "chat.postEphemeral":
		m := postedMsg{Channel: r.PostForm.Get("channel"), TS: ts, Text: r.PostForm.Get("text")}
		_ = json.Unmarshal([]byte(r.PostForm.Get("blocks")), &m.Blocks)
		f.posts <- m
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, m.Channel, ts)
	case "chat.update":
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, r.PostForm.Get("channel"), r.PostForm.Get("ts"))
	case "users.info":
		fmt.Fprintf(w, `{"ok":true,"user":{"id":%q,"name":"n","profile":{"display_name":"Person %s"}}}`, r.PostForm.Get("user"), r.PostForm.Get("user"))
	case "views.publish":
		var v struct {
			Blocks []map[string]any `json:"blocks"`
		}
		_ = json.Unmarshal([]byte(r.PostForm.Get("view")), &v)
		f.mu.Lock()
		user := r.PostForm.Get("user_id")
		f.homes[user] = append(f.homes[user], map[string]any{"blocks": v.Blocks})
		f.mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"view":{"id":"V1"}}`)
	case "files.getUploadURLExternal":
		id := "F" + strings.TrimPrefix(ts, "1700000000.")
		fmt.Fprintf(w, `{"ok":true,"upload_url":%q,"file_id":%q}`, f.srv.URL+"/upload/"+id, id)
	case "files.completeUploadExternal":
		f.mu.Lock()
		f.shared = append(f.shared, r.PostForm)
		f.mu.Unlock()
		var files []map[string]any
		_ = json.Unmarshal([]byte(r.PostForm.Get("files")), &files)
		b, _ := json.Marshal(map[string]any{"ok": true, "files": files})
		w.Write(b)
	default:
		fmt.Fprint(w, `{"ok":true}`)
	}
}

func (f *deskSlack) next(t *testing.T) postedMsg {
	t.Helper()
	select {
	case m := <-f.posts:
		return m
	case <-time.After(60 * time.Second):
		t.Fatal("the bot posted nothing")
		return postedMsg{}
	}
}

// deskRun is one served bot and this run's workspace and user IDs.
type deskRun struct {
	t    *testing.T
	bot  *servedBot
	api  *deskSlack
	rdb  redis.UniversalClient
	suf  string
	seq  int
	cfg  Config
	mu   sync.Mutex
	seen map[string]int // user -> views.publish calls read
}

func (d *deskRun) id(s string) string { return s + d.suf }

func newDeskRun(t *testing.T, managers func(id func(string) string) string) *deskRun {
	t.Helper()
	suf := fmt.Sprintf("%06d", rand.IntN(1e6))
	u, rdb := serveRedis(t, suf)
	d := &deskRun{t: t, api: newDeskSlack(t), rdb: rdb, suf: suf, seen: map[string]int{}}
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedisURL = u
	cfg.Slack = slackapp.Config{SigningSecret: faultSecret, BotToken: "xoxb-desk-test", APIURL: d.api.srv.URL + "/api"}
	cfg.AccountManagers = managers(d.id)
	cfg.PublicURL = "https://itfit.example.com"
	cfg.LinkSecret = deskSecret
	d.cfg = cfg
	d.bot = startServed(t, cfg)
	return d
}

// finish takes the audit as user of team, clicking the first answer of
// every question, and returns the card.
func (d *deskRun) finish(team, user string) postedMsg {
	d.t.Helper()
	if code, body := postSlash(d.t, d.bot.base, team, user, ""); code != http.StatusOK {
		d.t.Fatalf("/itfit: %d %s", code, body)
	}
	for range 30 {
		m := d.api.next(d.t)
		if strings.HasPrefix(m.Text, "Recommendation") {
			return m
		}
		if questionNo(m) > 0 {
			clickFirstAnswer(d.t, d.bot.base, team, user, m)
		}
	}
	d.t.Fatalf("%s never got a card", user)
	return postedMsg{}
}

// home opens the App Home tab of user in team and returns what was
// published.
func (d *deskRun) home(team, user string) []map[string]any {
	d.t.Helper()
	d.seq++
	ev := map[string]any{"type": "event_callback", "team_id": team, "event_id": fmt.Sprintf("Ev%s%d", d.suf, d.seq),
		"event": map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}}
	b, _ := json.Marshal(ev)
	if code, body := postSigned(d.t, d.bot.base, "/slack/events", "application/json", b, faultSecret); code != http.StatusOK {
		d.t.Fatalf("app_home_opened: %d %s", code, body)
	}
	return d.published(user)
}

// published waits for the next views.publish for user.
func (d *deskRun) published(user string) []map[string]any {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		d.api.mu.Lock()
		hs := d.api.homes[user]
		d.api.mu.Unlock()
		d.mu.Lock()
		n := d.seen[user]
		if len(hs) > n {
			d.seen[user] = n + 1
			d.mu.Unlock()
			bs, _ := hs[n]["blocks"].([]map[string]any)
			return bs
		}
		d.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	d.t.Fatalf("no App Home published for %s", user)
	return nil
}

// pressHome presses a button of the App Home tab as Slack sends it (the
// container is the view).
func (d *deskRun) pressHome(team, user string, el map[string]any) {
	d.t.Helper()
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": user, "team_id": team}, "team": map[string]any{"id": team},
		"container": map[string]any{"type": "view", "view_id": "V1"}, "view": map[string]any{"id": "V1", "type": "home"},
		"actions": []any{map[string]any{"action_id": el["action_id"], "value": el["value"], "type": "button"}},
	}
	b, _ := json.Marshal(p)
	if code, body := postSigned(d.t, d.bot.base, "/slack/interactions", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(b)}}.Encode()), faultSecret); code != http.StatusOK {
		d.t.Fatalf("press: %d %s", code, body)
	}
}

// elements are the buttons of some blocks whose action_id starts with
// prefix.
func elements(blocks []map[string]any, prefix string) []map[string]any {
	var out []map[string]any
	for _, b := range blocks {
		els, _ := b["elements"].([]any)
		for _, e := range els {
			el, _ := e.(map[string]any)
			if id, _ := el["action_id"].(string); strings.HasPrefix(id, prefix) {
				out = append(out, el)
			}
		}
	}
	return out
}

// clientsOn is the clients a desk's rows name ("TEAM/USER"), in order.
func clientsOn(blocks []map[string]any) []string {
	var out []string
	for _, el := range elements(blocks, "itfit_client_invite") {
		v, _ := el["value"].(string)
		c, _, _ := strings.Cut(v, "|")
		out = append(out, c)
	}
	return out
}

func blocksText(blocks []map[string]any) string {
	b, _ := json.Marshal(blocks)
	return string(b)
}

// get fetches a download link's path from the served bot.
func (d *deskRun) get(link string) (int, string, []byte) {
	d.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		d.t.Fatal(err)
	}
	resp, err := http.Get(d.bot.base + u.Path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// signer is a second replica's signer: same secret, its own clock.
func (d *deskRun) signer(now func() time.Time) *links.Signer {
	d.t.Helper()
	secret, _ := base64.StdEncoding.DecodeString(deskSecret)
	s, err := links.New(links.Options{Secret: secret, PublicURL: d.cfg.PublicURL, Redis: d.rdb, Now: now})
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

func (d *deskRun) keys() []string {
	d.t.Helper()
	ks, err := d.rdb.Keys(context.Background(), "itfit:*").Result()
	if err != nil {
		d.t.Fatal(err)
	}
	sort.Strings(ks)
	return ks
}

func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, b)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], portfolio.Columns) {
		t.Fatalf("CSV header = %v, want %v", rows[0], portfolio.Columns)
	}
	return rows[1:]
}

// TestDeskShowsEachManagerExactlyTheirClients: a manager in the
// provider's workspace with two client workspaces sees exactly the three
// clients who finished there; the manager of a third workspace sees only
// its client; the CSV export lands in the manager's DM with one row per
// client; a client who forgets leaves every desk and every key.
func TestDeskShowsEachManagerExactlyTheirClients(t *testing.T) {
	d := newDeskRun(t, func(id func(string) string) string {
		return "slack:" + id("TA") + "=" + id("TP") + "/" + id("UMGR") + ",slack:" + id("TB") + "=" + id("TP") + "/" + id("UMGR") +
			",slack:" + id("TC") + "=" + id("TP") + "/" + id("UOTHER")
	})
	ta, tb, tc, tp := d.id("TA"), d.id("TB"), d.id("TC"), d.id("TP")
	mgr, other := d.id("UMGR"), d.id("UOTHER")
	clients := map[string]string{d.id("UA1"): ta, d.id("UA2"): ta, d.id("UB1"): tb, d.id("UC1"): tc}
	for _, u := range []string{d.id("UA1"), d.id("UA2"), d.id("UB1"), d.id("UC1")} {
		d.finish(clients[u], u)
	}
	want := []string{ta + "/" + d.id("UA1"), ta + "/" + d.id("UA2"), tb + "/" + d.id("UB1")}
	home := d.home(tp, mgr)
	if got := clientsOn(home); !sameSet(got, want) {
		t.Fatalf("the manager's desk lists %v, want exactly %v", got, want)
	}
	txt := blocksText(home)
	if !strings.Contains(txt, "Clients 1–3 of 3") || !strings.Contains(txt, "Person "+d.id("UA1")) || !strings.Contains(txt, "First result") {
		t.Fatalf("the desk does not read as expected: %s", txt)
	}
	if strings.Contains(txt, d.id("UC1")) {
		t.Fatal("another manager's client is on the desk")
	}
	if got := clientsOn(d.home(tp, other)); !sameSet(got, []string{tc + "/" + d.id("UC1")}) {
		t.Fatalf("the other manager's desk lists %v", got)
	}
	if got := clientsOn(d.home(ta, d.id("UA1"))); len(got) != 0 {
		t.Fatalf("a client who is nobody's manager sees a desk: %v", got)
	}

	// Export CSV, pressed on the Home tab: a file in the manager's DM.
	csvBtn := elements(home, "itfit_export:csv")
	if len(csvBtn) != 1 {
		t.Fatalf("no Export CSV button: %s", txt)
	}
	d.pressHome(tp, mgr, csvBtn[0])
	if m := d.api.next(t); m.Channel != "D"+mgr || !strings.Contains(m.Text, "export of your 3 clients") {
		t.Fatalf("after the export: %+v", m)
	}
	d.api.mu.Lock()
	if len(d.api.shared) != 1 || d.api.shared[0].Get("channel_id") != "D"+mgr || len(d.api.uploads) != 1 {
		t.Fatalf("upload: %v, %d files", d.api.shared, len(d.api.uploads))
	}
	var file []byte
	for _, b := range d.api.uploads {
		file = b
	}
	d.api.mu.Unlock()
	rows := csvRows(t, file)
	var users []string
	for _, r := range rows {
		users = append(users, r[1]+"/"+r[3])
		if r[0] != "slack" || r[5] == "" || r[8] == "" || r[12] == "" {
			t.Errorf("row %v lacks a column", r)
		}
	}
	if !sameSet(users, want) {
		t.Fatalf("CSV rows are %v, want one per client %v", users, want)
	}

	// UA2 forgets: gone from the desk, the export, and Redis.
	before := d.keys()
	forget := postedMsg{Channel: "C1", TS: "1.1"}
	act := map[string]any{"action_id": "itfit_forget", "value": "erase", "type": "button"}
	if code, body := postSigned(t, d.bot.base, "/slack/interactions", "application/x-www-form-urlencoded", blockActions(t, ta, d.id("UA2"), forget, act, nil), faultSecret); code != http.StatusOK {
		t.Fatalf("forget: %d %s", code, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if !slices.ContainsFunc(d.keys(), func(k string) bool { return strings.Contains(k, d.id("UA2")) }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("forget did not finish")
		}
	}
	if got := clientsOn(d.home(tp, mgr)); !sameSet(got, []string{ta + "/" + d.id("UA1"), tb + "/" + d.id("UB1")}) {
		t.Fatalf("after forget the desk lists %v", got)
	}
	for _, k := range d.keys() {
		if strings.Contains(k, d.id("UA2")) {
			t.Errorf("key %s left after forget (before: %d keys)", k, len(before))
		}
	}
	members, _ := d.rdb.ZRange(context.Background(), "itfit:{desk}:due:w:slack:"+ta, 0, -1).Result()
	if slices.ContainsFunc(members, func(m string) bool { return strings.Contains(m, d.id("UA2")) }) {
		t.Fatalf("the forgotten client is still in the workspace's set: %v", members)
	}
}

// TestDownloadLinksWorkOnceForTheirOwner: a link works once, serves only
// what its owner may see, and a forged, replayed or expired one gets 404
// and changes nothing in Redis. The card's PDF link, pressed by the
// client, serves their recommendation.
func TestDownloadLinksWorkOnceForTheirOwner(t *testing.T) {
	d := newDeskRun(t, func(id func(string) string) string {
		return "slack:" + id("TA") + "=" + id("TP") + "/" + id("UMGR") + ",slack:" + id("TC") + "=" + id("TP") + "/" + id("UOTHER")
	})
	ta, tc, tp := d.id("TA"), d.id("TC"), d.id("TP")
	card := d.finish(ta, d.id("UA1"))
	d.finish(tc, d.id("UC1"))
	mint := func(s *links.Signer, user string, kind links.Kind) string {
		u, _, err := s.Mint(links.Claims{Kind: kind, Platform: conversation.Slack, Workspace: conversation.WorkspaceID(tp), Users: []conversation.UserID{conversation.UserID(user)}, Sort: "due"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	replica := d.signer(time.Now)
	link := mint(replica, d.id("UMGR"), links.ExportCSV)
	code, ctype, body := d.get(link)
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/csv") {
		t.Fatalf("first use: %d %s %s", code, ctype, body)
	}
	if rows := csvRows(t, body); len(rows) != 1 || rows[0][3] != d.id("UA1") {
		t.Fatalf("the manager's export = %v, want their one client", rows)
	}
	code, ctype, body = d.get(mint(replica, d.id("UOTHER"), links.ExportJSON))
	var js struct{ Clients []portfolio.Row }
	if code != http.StatusOK || ctype != "application/json" || json.Unmarshal(body, &js) != nil || len(js.Clients) != 1 || js.Clients[0].User != d.id("UC1") {
		t.Fatalf("the other manager's export: %d %s %s", code, ctype, body)
	}

	stale := mint(d.signer(func() time.Time { return time.Now().Add(-links.TTL - time.Second) }), d.id("UMGR"), links.ExportCSV)
	payload, sig, _ := strings.Cut(strings.TrimPrefix(mint(replica, d.id("UOTHER"), links.ExportCSV), "https://itfit.example.com/export/"), ".")
	claims, _ := base64.RawURLEncoding.DecodeString(payload)
	forgedClaims := strings.Replace(string(claims), d.id("UOTHER"), d.id("UMGR"), 1)
	forged := "https://itfit.example.com/export/" + base64.RawURLEncoding.EncodeToString([]byte(forgedClaims)) + "." + sig
	before := dumpRedis(t, d.rdb, d.keys())
	for name, l := range map[string]string{"replayed": link, "expired": stale, "forged": forged, "unsigned": "https://itfit.example.com/export/" + payload} {
		if code, _, body := d.get(l); code != http.StatusNotFound {
			t.Errorf("%s link: %d %s, want 404", name, code, body)
		}
	}
	if after := dumpRedis(t, d.rdb, d.keys()); !sameDump(before, after) {
		t.Fatal("refused links changed Redis")
	}

	// The card's PDF: the client presses it and gets a link in their DM.
	var pdfBtn map[string]any
	for _, el := range elements(card.Blocks, "itfit_report") {
		pdfBtn = map[string]any{"action_id": el["action_id"], "value": el["value"], "type": "button"}
	}
	if pdfBtn == nil {
		t.Fatalf("the card has no PDF button: %s", blocksText(card.Blocks))
	}
	if code, body := postSigned(t, d.bot.base, "/slack/interactions", "application/x-www-form-urlencoded", blockActions(t, ta, d.id("UA1"), card, pdfBtn, nil), faultSecret); code != http.StatusOK {
		t.Fatalf("PDF press: %d %s", code, body)
	}
	note := d.api.next(t)
	i := strings.Index(note.Text, "https://itfit.example.com/export/")
	if i < 0 {
		t.Fatalf("no link in %q", note.Text)
	}
	pdfLink := note.Text[i:]
	pdfLink = pdfLink[:strings.IndexAny(pdfLink, "|> ")]
	if code, ctype, body := d.get(pdfLink); code != http.StatusOK || ctype != "application/pdf" || !strings.HasPrefix(string(body), "%PDF") {
		t.Fatalf("PDF: %d %s", code, ctype)
	}
	if code, _, _ := d.get(pdfLink); code != http.StatusNotFound {
		t.Fatalf("the PDF link worked twice: %d", code)
	}
}

// TestDeskOfFiveHundredClientsPages: a manager with 500 clients gets the
// App Home and the DM desk in pages within Slack's limits (100 blocks in a
// view, 50 in a message), Next and Previous walking them.
func TestDeskOfFiveHundredClientsPages(t *testing.T) {
	d := newDeskRun(t, func(id func(string) string) string {
		return "slack:" + id("TD") + "=" + id("TP") + "/" + id("UBIG")
	})
	td, tp, big := d.id("TD"), d.id("TP"), d.id("UBIG")
	// Seeding goes through the real engine and desk on the same Redis: 500
	// audits clicked through HTTP would only make the test slow.
	a := advisor.Default()
	engine := conversation.New(d.rdb, a, conversation.Options{})
	desk := portfolio.New(d.rdb, "")
	answers := chattest.Situations(a)["comanaged"]
	ctx := context.Background()
	for i := range 500 {
		k := conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: conversation.WorkspaceID(td), User: conversation.UserID(fmt.Sprintf("U%03d%s", i, d.suf))}, Conversation: "D1"}
		r, err := engine.Start(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, an := range answers {
			if r, err = engine.Answer(ctx, k, conversation.Answer{Rev: r.Rev, Question: an.Question, Options: an.Options}); err != nil {
				t.Fatal(err)
			}
		}
		if r.Result == nil {
			t.Fatal("seeded audit did not complete")
		}
		due := r.Result.RevisitOn.Add(time.Duration(i%7) * time.Hour)
		if err := desk.Record(ctx, k.UserKey, r.Result.CompletedAt, due); err != nil {
			t.Fatal(err)
		}
	}
	home := d.home(tp, big)
	seen := map[string]bool{}
	for page := 1; page <= 3; page++ {
		if len(home) > 100 {
			t.Fatalf("page %d: %d blocks, Slack's Home allows 100", page, len(home))
		}
		rows := clientsOn(home)
		if len(rows) != 10 {
			t.Fatalf("page %d: %d clients", page, len(rows))
		}
		for _, r := range rows {
			if seen[r] {
				t.Fatalf("%s on two pages", r)
			}
			seen[r] = true
		}
		if want := fmt.Sprintf("Clients %d–%d of 500", page*10-9, page*10); !strings.Contains(blocksText(home), want) {
			t.Fatalf("page %d does not say %q", page, want)
		}
		next := elements(home, "itfit_clients:due:n")
		if len(next) != 1 {
			t.Fatalf("page %d has no Next", page)
		}
		d.pressHome(tp, big, next[0])
		home = d.published(big)
	}
	prev := elements(home, "itfit_clients:due:p")
	d.pressHome(tp, big, prev[0])
	if home = d.published(big); !strings.Contains(blocksText(home), "Clients 21–30 of 500") {
		t.Fatalf("Previous did not go back a page: %s", blocksText(home))
	}
	// The same desk in the DM, as /itfit clients posts it: within 50 blocks.
	if code, body := postSlash(t, d.bot.base, tp, big, "clients"); code != http.StatusOK {
		t.Fatalf("/itfit clients: %d %s", code, body)
	}
	m := d.api.next(t)
	if len(m.Blocks) > 50 || len(clientsOn(m.Blocks)) != 10 || m.Channel != "D"+big {
		t.Fatalf("the DM desk: %d blocks, %d clients, in %s", len(m.Blocks), len(clientsOn(m.Blocks)), m.Channel)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
