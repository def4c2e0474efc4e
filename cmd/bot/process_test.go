package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/testkit"
)

// asBot makes this test binary play `bot` in a child process: with it set,
// TestMain runs the command line as main does instead of the tests. Tests
// that need what only a real process shows (everything written to fd 2,
// including by libraries that write to os.Stderr directly) start one.
const asBot = "ITFIT_TEST_AS_BOT"

func TestMain(m *testing.M) {
	if os.Getenv(asBot) == "1" {
		main() // exits non-zero on error
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// botProcess is `bot args...` in a child process with only env (and PATH,
// HOME) in its environment, so the caller's SLACK_* or REDIS_URL cannot
// leak in.
func botProcess(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{asBot + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "USER=process-test"}, env...)
	return cmd
}

// TestServeWritesOnlyJSONWhileRedisIsDown: `bot serve` with Redis
// unreachable for 10 s, its readiness probed meanwhile, writes nothing on
// stderr but JSON log lines (go-redis's own "redis: ... failed to dial"
// lines used to go straight to stderr), and says once where Redis was
// tried.
func TestServeWritesOnlyJSONWhileRedisIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a bot process for 10 s")
	}
	redisAddr := testkit.ClosedAddr(t)
	cmd := botProcess(t, []string{"REDIS_URL=redis://" + redisAddr + "/0", "PORT=0", "ITFIT_DRAIN_DELAY=0s", "LOG_LEVEL=debug"}, "serve")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 1024)
	var all bytes.Buffer
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(io.TeeReader(stderr, &all))
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	var got []string
	listen := ""
	for listen == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("bot serve ended before listening:\n%s", all.String())
			}
			got = append(got, l)
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "listening" {
				listen = rec.Addr
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("bot serve did not log \"listening\":\n%s", strings.Join(got, "\n"))
		}
	}
	_, port, _ := net.SplitHostPort(listen)
	base := "http://127.0.0.1:" + port

	client := &http.Client{Timeout: 5 * time.Second}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			t.Fatalf("GET /readyz: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d while Redis is unreachable, want 503", resp.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		got = append(got, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bot serve exited with %v:\n%s", err, strings.Join(got, "\n"))
	}

	named := false
	for i, l := range got {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("stderr line %d is not JSON: %q", i+1, l)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("stderr line %d lacks %q: %s", i+1, k, l)
			}
		}
		if strings.Contains(l, redisAddr) {
			named = true
		}
	}
	if !named {
		t.Errorf("no log line names the Redis address %s:\n%s", redisAddr, strings.Join(got, "\n"))
	}
	if n := len(got); n > 60 {
		t.Errorf("%d log lines in 10 s with Redis down: repeats should be held back", n)
	}
}

// TestCommandsForPeopleShowNoRedisClientLines: `bot check` and `bot chat`
// with Redis unreachable print their own message and nothing of go-redis's
// ("redis: ... pool.go:770: ... failed to dial").
func TestCommandsForPeopleShowNoRedisClientLines(t *testing.T) {
	for _, tc := range []struct {
		cmd        string
		wantStdout string
		wantStderr string // the only line on stderr
	}{
		{"check", "FAIL  redis", "bot: check failed"},
		{"chat", "", "bot: cannot reach Redis at "},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			cmd := botProcess(t, []string{"REDIS_URL=redis://" + testkit.ClosedAddr(t) + "/0"}, tc.cmd)
			cmd.Stdin = strings.NewReader("1\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err == nil {
				t.Fatalf("bot %s succeeded with Redis unreachable", tc.cmd)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, stdout.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.wantStderr) {
				t.Errorf("stderr = %q, want one line starting %q", stderr.String(), tc.wantStderr)
			}
			for _, s := range []string{stdout.String(), stderr.String()} {
				if strings.Contains(s, "redis: ") || strings.Contains(s, "pool.go") {
					t.Errorf("go-redis's own log line in the output:\n%s", s)
				}
			}
		})
	}
}
