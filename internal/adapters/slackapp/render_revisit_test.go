package slackapp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/revisit"
)

func TestGoldenRevisitMessages(t *testing.T) {
	a := advisor.Default()
	before := answersFor(a, "none", 0)
	after := answersFor(a, "four_plus", 0)
	was := a.Recommend(before, done.AddDate(-1, 0, 0))
	now := a.Recommend(after, done)
	last := conversation.Result{CompletedAt: was.CompletedAt, AuditVersion: was.AuditVersion, Answers: before, Recommendation: was}

	golden(t, "card_since_last", RetakeCardMessage(now, a.Compare(before, was.CompletedAt, after, &now)))
	golden(t, "nudge_due", NudgeMessage(last, revisit.Due))
	golden(t, "nudge_invited", NudgeMessage(last, revisit.Invited))
	golden(t, "nudge_manager", ManagerNudgeMessage(conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "U1"}, mention("U1"), last))
	golden(t, "card_shared", SharedCardMessage(mention("U1"), last))
	golden(t, "reminders", RemindersMessage([]revisit.Reminder{
		{Kind: revisit.ForUser, Due: done},
		{Kind: revisit.ForManager, Due: done, Manager: &revisit.Manager{Platform: conversation.Slack, Workspace: "T1", Target: "C0ACCOUNTS"}},
	}))
	golden(t, "forget", ForgetMessage())
}

func TestSinceLastSameVerdictAndUnchangedAnswers(t *testing.T) {
	a := advisor.Default()
	as := answersFor(a, "four_plus", 0)
	now := a.Recommend(as, done)
	m := RetakeCardMessage(now, a.Compare(as, done.AddDate(-1, 0, 0), as, &now))
	b := blocksJSON(t, m)
	if !strings.Contains(b, "Same verdict") || !strings.Contains(b, "every question as before") || strings.Contains(b, "moved") {
		t.Fatalf("since last = %s", b)
	}
	if first := blocksJSON(t, CardMessage(now)); strings.Contains(first, "Since last time") {
		t.Fatal("a first card shows Since last time")
	}
}

func TestMentionsOnlyEverNameAnID(t *testing.T) {
	for in, want := range map[string]string{"U1": "<@U1>", "W2": "<@W2>", "C3": "<#C3>", "<!channel>": "someone", "u1": "someone", "": "someone"} {
		if got := mention(in); got != want {
			t.Errorf("mention(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErasedText(t *testing.T) {
	if got := erasedText(revisit.Erased{}); !strings.Contains(got, "nothing to erase") {
		t.Fatal(got)
	}
	e := revisit.Erased{Erased: conversation.Erased{Sessions: 2, Results: 1}, Reminders: 2, Other: 1}
	if got := erasedText(e); !strings.Contains(got, "2 audit sessions, 1 past result, 2 scheduled reminders and 1 other record") {
		t.Fatal(got)
	}
}

func blocksJSON(t *testing.T, m Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return unescaper.Replace(string(b))
}
