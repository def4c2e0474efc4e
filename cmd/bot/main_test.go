package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/itfit/itfit/internal/redisconn"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/testkit"
)

// TestChatFromFirstQuestionToCard drives `bot chat` through stdin, with
// typos on the way, against the embedded store and (when configured) the
// real Redis.
func TestChatFromFirstQuestionToCard(t *testing.T) {
	input := strings.Join([]string{
		"",      // empty: asked again
		"seven", // not a number
		"9",     // out of range
		"2",     // it_staff: one generalist
		"1",     // generalist_load: overwhelmed
		"back",  // take it back
		"1",     // overwhelmed again
		"1,2",   // skills: security, cloud
		"2",     // after_hours: team strained
		"1, 4",  // projects: exclusive "none" with another: refused by the engine
		"4",     // projects: none
		"8",     // frameworks: none of these (so no question about the expertise)
		"1",     // growth: outpacing
		"1",     // distraction: weekly
		"3",     // control: unsure
	}, "\n") + "\n"
	urls := []string{""}
	if u := os.Getenv(redistest.EnvURL); u != "" {
		urls = append(urls, u)
	}
	for _, url := range urls {
		t.Run("REDIS_URL="+url, func(t *testing.T) {
			t.Setenv("REDIS_URL", url)
			t.Setenv("LC_ALL", "C") // English, whatever this machine's locale
			user := "chat-test-" + time.Now().Format("150405.000000")
			t.Setenv("USER", user)
			if url != "" {
				t.Cleanup(func() { deleteUserKeys(t, url, user) })
			}
			var out, errOut bytes.Buffer
			if err := run(context.Background(), []string{"chat"}, strings.NewReader(input), &out, &errOut); err != nil {
				t.Fatalf("chat: %v\n%s", err, errOut.String())
			}
			got := out.String()
			for _, want := range []string{
				"Question 1 of 11",
				"Please type the number of an option.",
				"Please answer with option numbers from 1 to 4",
				"There is no option 9; choose from 1 to 4.",
				"You went back. Your earlier answer was: Overwhelmed, doing everything.",
				"Option 4 cannot be combined with others",
				"Recommendation: Fully managed IT",
				"Fully managed IT is a likely fit.",
				"Your one IT person is overwhelmed",
				"What the provider would cover",
				"Revisit this decision by",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if strings.Contains(got, "{") {
				t.Errorf("the card must be text, not JSON:\n%s", got)
			}
		})
	}
}

// TestChatInFrench drives `bot chat --lang fr` (and, without the flag, a
// French $LANG) through the whole audit, with French command words: every
// sentence of the bot's own is French, dates and counts French-style.
func TestChatInFrench(t *testing.T) {
	input := strings.Join([]string{
		"",       // empty: asked again
		"9",      // out of range
		"2",      // it_staff: one generalist
		"1",      // generalist_load: overwhelmed
		"retour", // take it back
		"1",      // overwhelmed again
		"1,2",    // skills: security, cloud
		"2",      // after_hours: team strained
		"1, 4",   // projects: exclusive "none" with another
		"4",      // projects: none
		"8",      // frameworks: none of these
		"1",      // growth: outpacing
		"1",      // distraction: weekly
		"3",      // control: unsure
		"état",
		"aide",
		"quitter",
	}, "\n") + "\n"
	for _, tc := range []struct {
		name string
		args []string
		lang string
	}{
		{"--lang fr", []string{"chat", "--lang", "fr"}, "C"},
		{"LANG=fr_CA.UTF-8", []string{"chat"}, "fr_CA.UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("REDIS_URL", "")
			t.Setenv("LC_ALL", "")
			t.Setenv("LC_MESSAGES", "")
			t.Setenv("LANG", tc.lang)
			var out, errOut bytes.Buffer
			if err := run(context.Background(), tc.args, strings.NewReader(input), &out, &errOut); err != nil {
				t.Fatalf("chat: %v\n%s", err, errOut.String())
			}
			// French puts a non-breaking space before a colon.
			got := strings.ReplaceAll(out.String(), "\u00a0", " ")
			for _, want := range []string{
				"Stockage intégré",
				"Question 1 sur 11",
				"Veuillez taper le numéro d'une option.",
				"Il n'y a pas d'option 9; choisissez de 1 à 4.",
				"Avec cette réponse, 1 question ne s'applique plus",
				"Retour à la question précédente. Votre réponse était :",
				"L'option 4 ne peut pas être combinée à d'autres",
				"Recommandation : ",
				"Réévaluez cette décision d'ici le",
				"Vous avez terminé l'audit",
				"recommencer : effacer vos réponses et recommencer",
				"Au revoir.",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			for _, english := range []string{"Question 1 of", "Please ", "Bye.", "You went back", "What the provider would cover"} {
				if strings.Contains(got, english) {
					t.Errorf("output has the English %q:\n%s", english, got)
				}
			}
		})
	}
}

// TestChatLangFlag: --lang takes en or fr, and nothing else.
func TestChatLangFlag(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	var errOut bytes.Buffer
	if err := run(context.Background(), []string{"chat", "--lang", "de"}, strings.NewReader(""), io.Discard, &errOut); !errors.Is(err, errUsage) || !strings.Contains(errOut.String(), `--lang: got "de", want en or fr`) {
		t.Fatalf("--lang de: %v, %q", err, errOut.String())
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"chat", "--lang", "en"}, strings.NewReader("quit\n"), &out, io.Discard); err != nil || !strings.Contains(out.String(), "Question 1 of 11") {
		t.Fatalf("--lang en: %v\n%s", err, out.String())
	}
}

// TestChatAtEightyColumns runs the whole audit, mistakes included, at 80
// columns and at 10,000: at 80 no line is wider, and the words are the
// same as at 10,000 (wrapping split none of them); neither run writes a log
// line, to stdout or stderr.
func TestChatAtEightyColumns(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("LC_ALL", "C")
	input := "\n9\n1, 1\n2\n1\nback\n1\n1,2\n2\n1, 4\n4\n8\n1\n1\n3\nstatus\nhelp\nquit\n" // frameworks: 8, none of these
	chatAt := func(cols string) (string, string) {
		t.Setenv("COLUMNS", cols)
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{"chat"}, strings.NewReader(input), &out, &errOut); err != nil {
			t.Fatalf("chat: %v\n%s", err, errOut.String())
		}
		return out.String(), errOut.String()
	}
	narrow, narrowErr := chatAt("80")
	wide, wideErr := chatAt("10000")
	if !strings.Contains(narrow, "Recommendation:") {
		t.Fatalf("the audit did not reach its card:\n%s", narrow)
	}
	for i, l := range strings.Split(narrow, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
	if a, b := strings.Fields(narrow), strings.Fields(wide); !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Errorf("word %d reads %q at 80 columns but %q unwrapped: a word was split", i, a[i], b[i])
				break
			}
		}
		if len(a) != len(b) {
			t.Errorf("%d words at 80 columns, %d unwrapped", len(a), len(b))
		}
	}
	for _, s := range []string{narrow, narrowErr, wide, wideErr} {
		for _, mark := range []string{"level=", `"level":`, "msg=", "redis: "} {
			if strings.Contains(s, mark) {
				t.Errorf("a log line reached the terminal (%q):\n%s", mark, s)
			}
		}
	}
}

func TestChatEndOfInputKeepsAnswers(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"chat"}, strings.NewReader("2\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The embedded store keeps nothing: the goodbye says so, and how to
	// keep answers.
	if !strings.Contains(out.String(), "kept in memory only and are now gone; set REDIS_URL") {
		t.Errorf("EOF should end politely and truthfully:\n%s", out.String())
	}
}

func TestChatRedisUnreachableNamesTheSetting(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	err := run(context.Background(), []string{"chat"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("error %v should name REDIS_URL and the address", err)
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"PORT", "REDIS_URL", "ITFIT_SESSION_TTL", "168h", "SLACK_SIGNING_SECRET", "MICROSOFT_APP_ID", "ITFIT_AUDIT_FILE"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("help lacks %s", v)
		}
	}
}

// TestHelpFitsEightyColumns: `bot help` lists every variable of Config,
// each meaning (with its default) whole under its name, wrapped between
// words (or after a comma in a list wider than a line), and no line is
// wider than 80 columns.
func TestHelpFitsEightyColumns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
	list, err := settings()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) < 25 {
		t.Fatalf("only %d settings found in Config", len(list))
	}
	// What is printed under each name, joined again.
	printed := map[string]string{}
	name := ""
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "      ") && name != "":
			printed[name] = strings.TrimSpace(printed[name] + " " + strings.TrimSpace(l))
		case strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && !strings.Contains(strings.TrimSpace(l), " "):
			name = strings.TrimSpace(l)
		default:
			name = ""
		}
	}
	// A list longer than a line is broken after a comma, which the join
	// above reads as ", ".
	commas := strings.NewReplacer(", ", ",")
	for _, s := range list {
		if got := printed[s.key]; commas.Replace(got) != commas.Replace(strings.Join(strings.Fields(s.meaning()), " ")) {
			t.Errorf("%s: help prints %q, want %q", s.key, got, s.meaning())
		}
	}
	for _, want := range []string{"(default 3000)", "(default 168h)", "(default\n      https://login.botframework.com/v1/.well-known/openidconfiguration)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestBadConfigurationIsNamed(t *testing.T) {
	tests := []struct{ env, val, want string }{
		{"SLACK_SIGNING_SECRET", "s3cret", "SLACK_BOT_TOKEN"},
		{"MICROSOFT_APP_ID", "app", "MICROSOFT_APP_PASSWORD"},
		{"ITFIT_SESSION_TTL", "soon", "ITFIT_SESSION_TTL"},
		{"ITFIT_AUDIT_FILE", "/nonexistent/audit.yaml", "ITFIT_AUDIT_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.val)
			err := run(context.Background(), []string{"chat"}, strings.NewReader(""), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v should name %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error repeats a secret: %v", err)
			}
		})
	}
}

// TestConfigurationErrorsSpeakToPeople: a bad setting is reported with the
// variable, what it got and what it takes, not in envconfig's words; a
// non-loopback ITFIT_PPROF_ADDR stops serve before it listens.
func TestConfigurationErrorsSpeakToPeople(t *testing.T) {
	tests := []struct{ env, val, want string }{
		{"PORT", "abc", `configuration: PORT: got "abc", want a whole number`},
		{"PORT", "70000", "configuration: PORT: got 70000, want a TCP port from 0 to 65535"},
		{"LOG_LEVEL", "verbose", `configuration: LOG_LEVEL: got "verbose", want debug, info, warn or error`},
		{"ITFIT_SESSION_TTL", "7days", `configuration: ITFIT_SESSION_TTL: got "7days", want a duration with its unit, such as 90s, 15m or 168h`},
		{"ITFIT_HISTORY_TTL", "0s", "configuration: ITFIT_HISTORY_TTL: got 0s, want a positive duration"},
		{"ITFIT_DRAIN_DELAY", "-1s", "configuration: ITFIT_DRAIN_DELAY: got -1s, want zero or more"},
		{"ITFIT_SHUTDOWN_TIMEOUT", "0s", "configuration: ITFIT_SHUTDOWN_TIMEOUT: got 0s, want a positive duration"},
		{"ITFIT_REVISIT_AFTER", "-24h", "configuration: ITFIT_REVISIT_AFTER: got -24h0m0s, want a positive duration"},
		{"ITFIT_PPROF_ADDR", "0.0.0.0:0", `configuration: ITFIT_PPROF_ADDR: got "0.0.0.0:0", want a loopback host:port`},
		{"ITFIT_PPROF_ADDR", "6060", `configuration: ITFIT_PPROF_ADDR: got "6060", want a loopback host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.val, func(t *testing.T) {
			t.Setenv("REDIS_URL", "")
			t.Setenv(tt.env, tt.val)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var logs bytes.Buffer
			err := run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, &logs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("bot serve with %s=%s: %v, want %q", tt.env, tt.val, err, tt.want)
			}
			if strings.Contains(err.Error(), "envconfig") || strings.Contains(logs.String(), "listening") {
				t.Errorf("error %q, log %q: want people's words and no listener", err, logs.String())
			}
		})
	}
}

// TestServeHealthReadyAndShutdown runs `bot serve` on a loopback port: ready
// while Redis answers, not ready while it does not, and an orderly stop.
func TestServeHealthReadyAndShutdown(t *testing.T) {
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DrainDelay = 0
	cfg.RedisURL = "redis://127.0.0.1:1/0" // nothing listens there
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	var logs testkit.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)), ln) }()

	waitFor(t, base+"/healthz", http.StatusOK)
	if code := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d", code)
	}
	if code := get(t, base+"/metrics"); code != http.StatusOK {
		t.Errorf("/metrics: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, want := range []string{`"msg":"listening"`, "cannot reach Redis at 127.0.0.1:1 (REDIS_URL)", `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

func TestServeReadyWithRedis(t *testing.T) {
	url := redistest.RealURL(t)
	cfg, _ := loadConfig()
	cfg.DrainDelay = 0
	cfg.RedisURL = url
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ln) }()
	waitFor(t, "http://"+ln.Addr().String()+"/readyz", http.StatusOK)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// deleteUserKeys removes what a chat test left in the real Redis.
func deleteUserKeys(t *testing.T, url, user string) {
	rdb, err := redisconn.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	ks, err := rdb.Keys(ctx, "itfit:{terminal:local:"+user+"}:*").Result()
	if err != nil || len(ks) == 0 {
		t.Fatalf("no keys of %s to clean up (%v): the chat did not use the real Redis", user, err)
	}
	rdb.Del(ctx, ks...)
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls until the server answers with the code (it starts in a
// goroutine); it bounds the wait by attempts, not by asserting a time.
func waitFor(t *testing.T, url string, code int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == code {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, code)
}
