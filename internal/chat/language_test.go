package chat_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itfit/itfit/internal/advisor"
	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/erasure"
	"github.com/itfit/itfit/internal/locale"
	"github.com/itfit/itfit/internal/redistest"
	"github.com/itfit/itfit/internal/revisit"
)

// world is the chat layer over a real engine and language store on real
// Redis.
type world struct {
	s     *chat.Service
	langs *conversation.Languages
}

func newWorld(t *testing.T) world {
	t.Helper()
	rb := redistest.Real(t)
	engine := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	langs := conversation.NewLanguages(rb.Client, rb.Prefix, time.Hour)
	reg := &erasure.Registry{}
	reg.Register("sessions", erasure.Sessions(engine))
	reg.Register("languages", erasure.Other(langs))
	s, err := chat.New(chat.Options{Engine: engine, Eraser: reg, Claims: conversation.NewClaims(rb.Client, rb.Prefix, 0, nil), Languages: langs})
	if err != nil {
		t.Fatal(err)
	}
	return world{s: s, langs: langs}
}

func person(user string) chat.Who {
	return chat.Who{Key: conversation.Key{UserKey: conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: conversation.UserID(user)}, Conversation: "D1"}, Surface: chat.SurfaceChat}
}

// said is what the person read, in one line.
func said(outs []chat.Output) string {
	var b []string
	for _, o := range outs {
		b = append(b, o.Msg.Summary)
	}
	return strings.Join(b, " | ")
}

// detector is a platform that says a locale (or fails), counting asks.
type detector struct {
	mu     sync.Mutex
	locale string
	err    error
	asked  int
}

func (d *detector) detect(context.Context, conversation.UserKey) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked++
	return d.locale, d.err
}

// TestLanguageSettled: who reads what, in order: a choice, the input's
// locale, what the platform said before, the platform's detector (asked
// once), English. Each case sends "status" twice.
func TestLanguageSettled(t *testing.T) {
	const en, fr = "You have no audit in progress.", "Vous n'avez aucun audit en cours."
	for _, tc := range []struct {
		name     string
		before   func(w world, u conversation.UserKey)
		who      locale.Lang // set by the adapter
		locale   string      // with each input
		det      *detector
		want     string
		asked    int
		keptSeen locale.Lang
	}{
		{name: "nothing says: English", want: en},
		{name: "the input's locale", locale: "fr-CA", want: fr, keptSeen: locale.French},
		{name: "a locale itfit does not speak", locale: "de-DE", want: en},
		{name: "a choice beats the input's locale", locale: "fr-CA", want: en,
			before: func(w world, u conversation.UserKey) { _ = w.langs.Choose(context.Background(), u, locale.English) }},
		{name: "what the platform said before", want: fr, keptSeen: locale.French,
			before: func(w world, u conversation.UserKey) { _ = w.langs.Saw(context.Background(), u, locale.French) }},
		{name: "the detector, once", det: &detector{locale: "fr-CA"}, want: fr, asked: 1, keptSeen: locale.French},
		{name: "the detector's unknown locale is kept as English", det: &detector{locale: "ja-JP"}, want: en, asked: 1, keptSeen: locale.English},
		{name: "a failing detector is asked again", det: &detector{err: errors.New("users.info: ratelimited")}, want: en, asked: 2},
		{name: "the adapter's word is final", who: locale.French, locale: "en-US", want: fr,
			before: func(w world, u conversation.UserKey) { _ = w.langs.Choose(context.Background(), u, locale.English) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			who := person("U1")
			who.Lang = tc.who
			if tc.before != nil {
				tc.before(w, who.Key.UserKey)
			}
			if tc.det != nil {
				w.s.Detect(conversation.Slack, tc.det.detect)
			}
			for range 2 {
				got := said(w.s.Handle(t.Context(), chat.Input{Who: who, Word: "status", Locale: tc.locale}))
				if !strings.HasPrefix(got, tc.want) {
					t.Fatalf("status = %q, want %q", got, tc.want)
				}
			}
			if tc.det != nil && tc.det.asked != tc.asked {
				t.Errorf("the platform was asked %d times, want %d", tc.det.asked, tc.asked)
			}
			if got, _ := w.langs.Get(t.Context(), who.Key.UserKey); got.Seen != tc.keptSeen {
				t.Errorf("kept seen %q, want %q", got.Seen, tc.keptSeen)
			}
		})
	}
}

// TestKnownLanguage: without the platform's word, a person itfit has not
// met is not known (an adapter's deadline path), and the platform is not
// asked.
func TestKnownLanguage(t *testing.T) {
	w := newWorld(t)
	d := &detector{locale: "fr-CA"}
	w.s.Detect(conversation.Slack, d.detect)
	in := chat.Input{Who: person("U1")}
	if w.s.KnownLanguage(t.Context(), &in) || in.Who.Lang != "" || d.asked != 0 {
		t.Fatalf("known %q, asked %d", in.Who.Lang, d.asked)
	}
	w.s.Language(t.Context(), &in)
	if in.Who.Lang != locale.French || d.asked != 1 {
		t.Fatalf("settled %q, asked %d", in.Who.Lang, d.asked)
	}
	again := chat.Input{Who: person("U1")}
	if !w.s.KnownLanguage(t.Context(), &again) || again.Who.Lang != locale.French || d.asked != 1 {
		t.Fatalf("the second time: known %q, asked %d", again.Who.Lang, d.asked)
	}
}

// TestQuickInEveryLanguage: a one-line note is said in English and in
// French; a longer view is in English.
func TestQuickInEveryLanguage(t *testing.T) {
	w := newWorld(t)
	who := person("U1")
	who.Surface, who.Elsewhere = chat.SurfaceSlash, true
	outs, more := w.s.QuickInEveryLanguage(chat.Input{Who: who})
	if !more || len(outs) != 1 {
		t.Fatalf("outs = %+v, more %v", outs, more)
	}
	m := outs[0].Msg
	if !strings.Contains(m.Lead.String(), "direct messages") || len(m.Sections) != 1 || !strings.Contains(m.Sections[0].Text.String(), "messages directs") {
		t.Fatalf("note = %q / %+v", m.Lead, m.Sections)
	}
	outs, _ = w.s.QuickInEveryLanguage(chat.Input{Who: who, Word: "help"})
	if len(outs) != 1 || outs[0].Msg.Kind != chat.KindHelp || strings.Contains(outs[0].Msg.Lead.String(), "audit de deux minutes") {
		t.Fatalf("help = %+v", outs)
	}
}

// TestLanguageCommand: the chooser, a switch by word or by button, said
// in the language chosen and kept; an unknown language changes nothing.
func TestLanguageCommand(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	who := person("U1")
	u := who.Key.UserKey

	outs := w.s.Handle(ctx, chat.Input{Who: who, Word: "language", Locale: "en-US"})
	if len(outs) != 1 || outs[0].Msg.Kind != chat.KindLanguage || len(outs[0].Msg.Actions) != 2 {
		t.Fatalf("language = %+v", outs)
	}
	if a := outs[0].Msg.Actions[1]; a.Intent != chat.IntentLanguage || a.Value.Lang != locale.French || a.Label != "Français (Canada)" {
		t.Fatalf("the French button = %+v", a)
	}
	term := who
	term.Surface = chat.SurfaceTerminal
	if m := w.s.Handle(ctx, chat.Input{Who: term, Word: "langue"})[0].Msg; len(m.Actions) != 0 || !strings.Contains(m.Sections[0].Text.String(), "langue fr") {
		t.Fatalf("the terminal's chooser = %+v", m)
	}

	if got := said(w.s.Handle(ctx, chat.Input{Who: who, Word: "language klingon"})); !strings.Contains(got, "itfit speaks English and French") {
		t.Fatalf("an unknown language: %q", got)
	}
	if got, _ := w.langs.Get(ctx, u); got.Chosen != "" {
		t.Fatalf("an unknown language was kept: %+v", got)
	}

	if got := said(w.s.Handle(ctx, chat.Input{Who: who, Word: "langue fr", Locale: "en-US"})); !strings.Contains(got, "en français") {
		t.Fatalf("langue fr: %q", got)
	}
	if got := said(w.s.Handle(ctx, chat.Input{Who: who, Word: "état", Locale: "en-US"})); !strings.HasPrefix(got, "Vous n'avez aucun audit") {
		t.Fatalf("after langue fr, with an English locale: %q", got)
	}
	press := &chat.Act{Intent: chat.IntentLanguage, Value: chat.Value{Owner: who.Key.User, Lang: locale.English}}
	if got := said(w.s.Handle(ctx, chat.Input{Who: who, Act: press})); !strings.Contains(got, "speaks English with you from now on") {
		t.Fatalf("the English button: %q", got)
	}
	if got, _ := w.langs.Get(ctx, u); got.Chosen != locale.English {
		t.Fatalf("kept %+v", got)
	}
	bad := &chat.Act{Intent: chat.IntentLanguage, Value: chat.Value{Owner: who.Key.User, Lang: "xx"}}
	if got := said(w.s.Handle(ctx, chat.Input{Who: who, Act: bad})); !strings.Contains(got, "not one itfit recognises") {
		t.Fatalf("a forged language button: %q", got)
	}
}

// TestForgetErasesTheLanguage: the language is among what forget erases
// and counts, and the erasing press writes none back.
func TestForgetErasesTheLanguage(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	who := person("U1")
	w.s.Handle(ctx, chat.Input{Who: who, Word: "langue fr"})
	d := &detector{locale: "fr-CA"}
	w.s.Detect(conversation.Slack, d.detect)
	outs := w.s.Handle(ctx, chat.Input{Who: who, Act: &chat.Act{Intent: chat.IntentErase, Value: chat.Value{Owner: who.Key.User}}})
	if got := said(outs); !strings.Contains(got, "1 autre donnée") {
		t.Fatalf("forget said %q", got)
	}
	if got, _ := w.langs.Get(ctx, who.Key.UserKey); got != (conversation.Language{}) {
		t.Fatalf("after forget: %+v", got)
	}
	// Pressed again: nothing is asked of the platform or written.
	w.s.Handle(ctx, chat.Input{Who: who, Locale: "fr-CA", Act: &chat.Act{Intent: chat.IntentErase, Value: chat.Value{Owner: who.Key.User}}})
	if got, _ := w.langs.Get(ctx, who.Key.UserKey); got != (conversation.Language{}) || d.asked != 0 {
		t.Fatalf("a second erase wrote %+v, asked %d", got, d.asked)
	}
}

// outbox captures what a notifier sends.
type outbox struct {
	mu      sync.Mutex
	user    []chat.Message
	manager []chat.Message
}

func (o *outbox) ToUser(_ context.Context, _ conversation.Key, build func(chat.Who) chat.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.user = append(o.user, build(chat.Who{}))
	return nil
}

func (o *outbox) ToManager(_ context.Context, _ revisit.Manager, _ conversation.Key, m chat.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.manager = append(o.manager, m)
	return nil
}

func (o *outbox) Client(context.Context, revisit.Manager, conversation.UserKey) chat.ClientInfo {
	return chat.ClientInfo{Name: "Ana", Place: "Acme"}
}

// TestNudgesInTheRecipientsLanguage: a reminder goes out in its
// recipient's language; a manager's nudge in the manager's, else the
// client's, else English.
func TestNudgesInTheRecipientsLanguage(t *testing.T) {
	ctx := context.Background()
	a := advisor.Default()
	done := time.Date(2027, 12, 1, 9, 0, 0, 0, time.UTC)
	last := conversation.Result{CompletedAt: done, AuditVersion: a.Version, Recommendation: a.Recommend(nil, done)}
	client := person("UCLIENT").Key
	mgr := revisit.Manager{Platform: conversation.Slack, Workspace: "T1", Target: "UMGR"}
	mgrKey := conversation.UserKey{Platform: conversation.Slack, Workspace: "T1", User: "UMGR"}
	for _, tc := range []struct {
		name                  string
		clientLang, mgrLang   locale.Lang
		wantUser, wantManager string
	}{
		{"nothing known", "", "", "Time to revisit", "A client's yearly IT revisit is due"},
		{"a French client", locale.French, "", "Le moment est venu", "Réévaluation annuelle"},
		{"a French client, an English manager", locale.French, locale.English, "Le moment est venu", "A client's yearly IT revisit is due"},
		{"an English client, a French manager", locale.English, locale.French, "Time to revisit", "Réévaluation annuelle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.clientLang != "" {
				_ = w.langs.Saw(ctx, client.UserKey, tc.clientLang)
			}
			if tc.mgrLang != "" {
				_ = w.langs.Choose(ctx, mgrKey, tc.mgrLang)
			}
			out := &outbox{}
			n := w.s.Notifier(conversation.Slack, out)
			if err := n.NudgeUser(ctx, client, last, revisit.Due); err != nil {
				t.Fatal(err)
			}
			if err := n.NudgeManager(ctx, mgr, client, last); err != nil {
				t.Fatal(err)
			}
			if got := out.user[0].Summary; !strings.HasPrefix(got, tc.wantUser) {
				t.Errorf("the client read %q, want %q", got, tc.wantUser)
			}
			if got := out.manager[0].Summary; !strings.HasPrefix(got, tc.wantManager) {
				t.Errorf("the manager read %q, want %q", got, tc.wantManager)
			}
			if tc.clientLang == locale.French && !strings.Contains(out.user[0].Lead.String(), "1er décembre 2027") {
				t.Errorf("the French nudge's date: %q", out.user[0].Lead)
			}
		})
	}
}

// countingLanguages counts reads of the store.
type countingLanguages struct {
	*conversation.Languages
	mu    sync.Mutex
	reads int
}

func (c *countingLanguages) Get(ctx context.Context, u conversation.UserKey) (conversation.Language, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Languages.Get(ctx, u)
}

// TestPressAnsweredInTheLanguageShown: a press carries the language its
// message was shown in, and is answered in it without a read of the
// store (an answer costs the engine's one round trip); every message the
// flows return says its language, for the buttons to carry.
func TestPressAnsweredInTheLanguageShown(t *testing.T) {
	rb := redistest.Real(t)
	engine := conversation.New(rb.Client, advisor.Default(), conversation.Options{Prefix: rb.Prefix})
	langs := &countingLanguages{Languages: conversation.NewLanguages(rb.Client, rb.Prefix, time.Hour)}
	reg := &erasure.Registry{}
	reg.Register("sessions", erasure.Sessions(engine))
	s, err := chat.New(chat.Options{Engine: engine, Eraser: reg, Claims: conversation.NewClaims(rb.Client, rb.Prefix, 0, nil), Languages: langs})
	if err != nil {
		t.Fatal(err)
	}
	who := person("U1")
	outs := s.Handle(t.Context(), chat.Input{Who: who, Locale: "fr-CA"})
	q := outs[0].Msg
	if q.Lang != locale.French || langs.reads != 1 {
		t.Fatalf("first question in %q after %d reads", q.Lang, langs.reads)
	}
	v := q.Ask.Here
	v.Option = q.Ask.Options[1].ID
	press := &chat.Act{Intent: chat.IntentAnswer, Rev: q.Rev, Value: v, Lang: q.Lang}
	outs = s.Handle(t.Context(), chat.Input{Who: who, Act: press})
	if langs.reads != 1 {
		t.Errorf("the press read the language store (%d reads)", langs.reads)
	}
	if len(outs) == 0 || !strings.HasPrefix(outs[0].Msg.Summary, "Question 2 sur") {
		t.Fatalf("after the press: %+v", outs)
	}
	for _, o := range outs {
		if o.Msg.Lang != locale.French {
			t.Errorf("after the press: %q in %q", o.Msg.Summary, o.Msg.Lang)
		}
	}
}
