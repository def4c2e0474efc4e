package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// postInvoke sends an activity and returns the HTTP answer, which for an
// invoke is the invoke response itself.
func (f *fixture) postInvoke(a map[string]any) (int, string, string) {
	f.t.Helper()
	body, _ := json.Marshal(a)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", f.bf.Authorization(f.t, a["serviceUrl"].(string)))
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := f.bg.Wait(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func (f *fixture) invoke(from person, conv, name string, value any) map[string]any {
	a := f.activity(from, conv, "")
	a["type"], a["name"] = "invoke", name
	if value != nil {
		a["value"] = value
	}
	return a
}

// TestInvokesAreAnswered: an invoke's HTTP response is its invokeResponse.
// adaptiveCard/action (a card's Action.Execute) gets 200 and an
// AdaptiveCardInvokeResponse message at once, and the press counts as an
// Action.Submit's would (the card updated, the next question posted); one
// whose value is not an Action.Execute gets 400 with an error response;
// invokes itfit does not implement (task/fetch, composeExtension/query,
// config/fetch, an unnamed card action) get 501 with no body, as
// botbuilder's ActivityHandler answers, and nothing is sent or stored.
func TestInvokesAreAnswered(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.post(f.activity(ana, personal, "hi"))
	q1 := f.take()[0]

	exec := f.invoke(ana, personal, "adaptiveCard/action", map[string]any{
		"action":  map[string]any{"type": "Action.Execute", "verb": "itfit", "data": firstChoice(t, q1.Card)},
		"trigger": "manual",
	})
	exec["replyToId"] = q1.ResponseID
	code, ctype, body := f.postInvoke(exec)
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Type       string `json:"type"`
		Value      string `json:"value"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || code != 200 || ctype != "application/json" ||
		resp.StatusCode != 200 || resp.Type != "application/vnd.microsoft.activity.message" || resp.Value == "" {
		t.Fatalf("Action.Execute: %d %s %s", code, ctype, body)
	}
	updates, posts := split(f.take())
	if len(updates) != 1 || updates[0].ActivityID != q1.ResponseID || len(posts) != 1 || !strings.Contains(cardText(posts[0].Card), "Question 2 of") {
		t.Fatalf("Action.Execute's press: updates %v posts %v", updates, posts)
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 2 {
		t.Fatalf("Ana at %d", st.Position)
	}

	for _, c := range []struct {
		name  string
		a     map[string]any
		code  int
		empty bool
	}{
		{"Action.Submit shape under adaptiveCard/action", f.invoke(ana, personal, "adaptiveCard/action", map[string]any{"itfit": "restart", "user": ana.aad}), 400, false},
		{"Action.Execute without data", f.invoke(ana, personal, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "x"}}), 400, false},
		{"no value", f.invoke(ana, personal, "adaptiveCard/action", nil), 400, false},
		{"task/fetch", f.invoke(ana, personal, "task/fetch", map[string]any{"data": map[string]any{"itfit": "restart", "user": ana.aad}}), 501, true},
		{"composeExtension/query", f.invoke(ana, personal, "composeExtension/query", map[string]any{"commandId": "search", "parameters": []any{}}), 501, true},
		{"config/fetch", f.invoke(ana, personal, "config/fetch", map[string]any{}), 501, true},
		{"unnamed card action", f.invoke(ana, personal, "", map[string]any{"itfit": "restart", "user": ana.aad}), 501, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := fullSnapshot(t, f)
			code, _, body := f.postInvoke(c.a)
			if code != c.code {
				t.Errorf("status %d, want %d", code, c.code)
			}
			if c.empty && body != "" {
				t.Errorf("body %q, want none", body)
			}
			if !c.empty && !strings.Contains(body, `"type":"application/vnd.microsoft.error"`) {
				t.Errorf("body %q, want an error response", body)
			}
			if out := f.take(); len(out) != 0 {
				t.Errorf("sent %v", out)
			}
			assertSame(t, before, fullSnapshot(t, f))
		})
	}
	if st, _ := f.engine.Status(ctx, key(ana, personal)); st.Position != 2 {
		t.Fatalf("an invoke moved Ana to %d", st.Position)
	}
}
