package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// parseWebAPI reads a fake Slack Web API request into r.PostForm whether it
// came as a form (slack-go) or as JSON with the token in an Authorization
// header (the adapter's chat.postMessage and chat.update): JSON strings as
// they are, other values (blocks) as the JSON a form field would carry, and
// a Bearer token as the "token" field.
func parseWebAPI(r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = r.ParseForm()
		return
	}
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	f := url.Values{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			f.Set(k, s)
		} else if b, err := json.Marshal(v); err == nil {
			f.Set(k, string(b))
		}
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") && f.Get("token") == "" {
		f.Set("token", strings.TrimPrefix(h, "Bearer "))
	}
	r.PostForm = f
	r.Form = f
}
