package slackauth_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/slackauth"
)

// TestResultPagesInTheBrowsersLanguage: Add to Slack's result pages are
// worded from the chat layer's catalogue in the language the browser
// prefers, and say so (lang, Content-Language); English otherwise.
func TestResultPagesInTheBrowsersLanguage(t *testing.T) {
	e := newEnv(t)
	inst, err := slackauth.NewInstaller(e.cfg, slackauth.InstallerOptions{
		Store: e.store, Redis: e.rdb, Prefix: e.prefix, Log: e.log, Now: e.clock.Now,
		HTTPClient: e.slack.srv.Client(), Translate: chat.Translate,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	inst.Mount(mux)
	for _, tc := range []struct {
		accept, lang, want string
	}{
		{"fr-CA,fr;q=0.9,en;q=0.8", "fr-CA", "Vous avez annulé l'installation; rien n'a été modifié."},
		{"fr-FR", "fr-CA", "Ajouter itfit à Slack"},
		{"en-GB,en;q=0.9", "en", "You cancelled the installation; nothing was changed."},
		{"de-DE", "en", "Add itfit to Slack"},
		{"", "en", "itfit was not installed"},
	} {
		s, c := e.startInstall(t)
		req := httptest.NewRequest(http.MethodGet, publicURL+callbackURL(url.Values{"error": {"access_denied"}, "state": {s}}), nil)
		req.AddCookie(c)
		if tc.accept != "" {
			req.Header.Set("Accept-Language", tc.accept)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		body := rec.Body.String()
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || rec.Header().Get("Content-Language") != tc.lang || !strings.Contains(body, html.EscapeString(tc.want)) {
			t.Errorf("Accept-Language %q: %s %s", tc.accept, rec.Header().Get("Content-Language"), body)
		}
	}
}
