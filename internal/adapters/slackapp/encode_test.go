package slackapp

import (
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/advisor"
)

// TestSlackQuestionWithTheIntroIsEncodedOnce: the first question of an
// audit carries the intro, words alone, so it keeps its key: encoded once
// for everyone who starts, and what each person receives is what the
// question with its intro renders to.
func TestSlackQuestionWithTheIntroIsEncodedOnce(t *testing.T) {
	h := newHarness(t)
	first := func(user string) apiCall {
		t.Helper()
		for _, p := range h.api.all("chat.postMessage") {
			if p.Form.Get("channel") == "D"+user {
				return p
			}
		}
		t.Fatalf("no question for %s", user)
		return apiCall{}
	}
	h.command("U1", "")
	h.wait()
	if n := h.app.render.Len(); n != 1 {
		t.Fatalf("after the first start the cache holds %d keys, want 1 (the first question with its intro)", n)
	}
	h.command("U2", "")
	h.wait()
	if n := h.app.render.Len(); n != 1 {
		t.Fatalf("after the second start the cache holds %d keys, want still 1", n)
	}
	a, b := first("U1").Form.Get("blocks"), first("U2").Form.Get("blocks")
	intro := advisor.Default().Intro
	if intro == "" || !strings.Contains(a, strings.Fields(intro)[0]) {
		t.Fatalf("the first question has no intro (%q): %s", intro, a)
	}
	if !strings.Contains(a, actAnswer) {
		t.Fatalf("the first question has no answer buttons: %s", a)
	}
	if strings.ReplaceAll(b, "U2", "U1") != a {
		t.Fatalf("the cached question differs between people:\n U1 %s\n U2 %s", a, b)
	}
}
