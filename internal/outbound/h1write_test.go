package outbound

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"testing"
)

// wireOf is what w puts on the wire for req, and its error.
func wireOf(t testing.TB, w func(*bufio.Writer, *http.Request) error, req *http.Request) (string, error) {
	t.Helper()
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	err := w(bw, req)
	if ferr := bw.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	return out.String(), err
}

func requestWrite(bw *bufio.Writer, req *http.Request) error { return req.Write(bw) }

// twin is two copies of one request, so that each writer has a body of
// its own to read.
func twin(t testing.TB, method, url string, body []byte, header http.Header) (*http.Request, *http.Request) {
	t.Helper()
	mk := func() *http.Request {
		var b io.Reader
		if body != nil {
			b = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, url, b)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range header {
			req.Header[k] = append([]string(nil), vs...)
		}
		return req
	}
	return mk(), mk()
}

func TestWriteRequestPutsRequestWritesBytes(t *testing.T) {
	cases := []struct {
		name, method, url string
		body              []byte
		header            http.Header
	}{
		{"a chat call", http.MethodPost, "https://slack.com/api/chat.postMessage", []byte(`{"channel":"D1","text":"hi"}`), http.Header{
			"Content-Type":  {"application/json; charset=utf-8"},
			"Authorization": {"Bearer xoxb-1"},
		}},
		{"a form", http.MethodPost, "https://slack.com/api/users.info?x=1", []byte("user=U1"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}},
		{"a GET with no body", http.MethodGet, "https://login.example/keys", nil, nil},
		{"a POST with no body", http.MethodPost, "https://h.example:8443/a%2Fb/c?q=%20", nil, nil},
		{"a DELETE with no body", http.MethodDelete, "https://h.example/v3/x", nil, nil},
		{"values with spaces at the ends, and two of a key", http.MethodPut, "http://127.0.0.1:9/x", []byte("x"), http.Header{
			"X-Two": {" a ", "\tb"}, "X-Empty": {""}, "lower-case": {"kept as written"},
		}},
		{"a User-Agent of its own", http.MethodPost, "https://h.example/", []byte("{}"), http.Header{"User-Agent": {"itfit/1"}}},
		{"no User-Agent at all", http.MethodPost, "https://h.example/", []byte("{}"), http.Header{"User-Agent": {""}}},
		{"headers Request.Write leaves out", http.MethodPost, "https://h.example/", []byte("{}"), http.Header{
			"Host": {"elsewhere"}, "Content-Length": {"99"}, "Transfer-Encoding": {"chunked"}, "Trailer": {"X"},
		}},
		{"an IPv6 host", http.MethodGet, "http://[::1]:8080/p", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := twin(t, c.method, c.url, c.body, c.header)
			if !plainRequest(a) {
				t.Fatal("not written by writeRequest itself")
			}
			got, err := wireOf(t, writeRequest, a)
			want, werr := wireOf(t, requestWrite, b)
			if err != nil || werr != nil {
				t.Fatalf("errors: %v, Request.Write %v", err, werr)
			}
			if got != want {
				t.Errorf("writeRequest wrote\n%q\nRequest.Write\n%q", got, want)
			}
		})
	}
}

func TestWriteRequestLeavesOtherRequestsToRequestWrite(t *testing.T) {
	traced := func(r *http.Request) *http.Request {
		return r.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{}))
	}
	cases := map[string]func(*http.Request) *http.Request{
		"a value of two lines": func(r *http.Request) *http.Request { r.Header.Set("X-A", "a\r\nX-Injected: 1"); return r },
		"a NUL in a value":     func(r *http.Request) *http.Request { r.Header["X-A"] = []string{"a\x00b"}; return r },
		"a key not a token":    func(r *http.Request) *http.Request { r.Header["X A"] = []string{"a"}; return r },
		"a trace to tell":      traced,
		"Close":                func(r *http.Request) *http.Request { r.Close = true; return r },
		"an unknown length":    func(r *http.Request) *http.Request { r.ContentLength = -1; return r },
		"a length with no body": func(r *http.Request) *http.Request {
			r.Body, r.ContentLength = nil, 5
			return r
		},
		"a chunked request": func(r *http.Request) *http.Request { r.TransferEncoding = []string{"chunked"}; return r },
		"a trailer":         func(r *http.Request) *http.Request { r.Trailer = http.Header{"X-T": nil}; return r },
		"a zone in the host": func(r *http.Request) *http.Request {
			r.Host = "[fe80::1%25eth0]:80"
			return r
		},
		"a non-ASCII host":     func(r *http.Request) *http.Request { r.Host = "bücher.example"; return r },
		"a CONNECT":            func(r *http.Request) *http.Request { r.Method = http.MethodConnect; return r },
		"an opaque URL":        func(r *http.Request) *http.Request { r.URL.Opaque = "//x/y"; return r },
		"a user in the URL":    func(r *http.Request) *http.Request { r.URL.User = url.UserPassword("u", "p"); return r },
		"a method not a token": func(r *http.Request) *http.Request { r.Method = "PO ST"; return r },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := twin(t, http.MethodPost, "https://h.example/api", []byte("hello"), nil)
			a, b = edit(a), edit(b)
			if plainRequest(a) {
				t.Fatal("written by writeRequest itself")
			}
			got, err := wireOf(t, writeRequest, a)
			want, werr := wireOf(t, requestWrite, b)
			if got != want || (err == nil) != (werr == nil) {
				t.Errorf("writeRequest wrote %q (%v), Request.Write %q (%v)", got, err, want, werr)
			}
		})
	}
}

func TestWriteRequestRefusesABodyNotItsLength(t *testing.T) {
	for name, body := range map[string]string{"shorter": "abc", "longer": "abcdefgh"} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://h.example/", strings.NewReader(body))
			req.ContentLength = 5
			var closed bool
			req.Body = closeSpy{req.Body, &closed}
			if _, err := wireOf(t, writeRequest, req); err == nil {
				t.Error("no error")
			}
			if !closed {
				t.Error("the body was not closed")
			}
		})
	}
}

type closeSpy struct {
	io.Reader
	closed *bool
}

func (c closeSpy) Close() error { *c.closed = true; return nil }

// FuzzWriteRequest holds writeRequest to Request.Write's bytes for any
// request it writes itself, and to Request.Write's outcome for the rest.
func FuzzWriteRequest(f *testing.F) {
	f.Add("POST", "/api/chat.update", "Authorization", "Bearer xoxb-1", "{}")
	f.Add("GET", "/a?b=c%20d", "X-A", " v ", "")
	f.Add("PATCH", "/x", "X-A", "a\r\nb", "body")
	f.Fuzz(func(t *testing.T, method, path, key, value, body string) {
		mk := func() *http.Request {
			var b io.Reader
			if body != "" {
				b = strings.NewReader(body)
			}
			req, err := http.NewRequest(method, "https://h.example"+path, b)
			if err != nil {
				return nil
			}
			req.Header[key] = []string{value}
			return req
		}
		a, b := mk(), mk()
		if a == nil {
			return
		}
		got, err := wireOf(t, writeRequest, a)
		want, werr := wireOf(t, requestWrite, b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("writeRequest: %v, Request.Write: %v", err, werr)
		}
		if err == nil && got != want {
			t.Fatalf("writeRequest wrote\n%q\nRequest.Write\n%q", got, want)
		}
	})
}

func BenchmarkWriteRequest(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1100)
	for _, w := range []struct {
		name string
		fn   func(*bufio.Writer, *http.Request) error
	}{{"writeRequest", writeRequest}, {"Request.Write", requestWrite}} {
		b.Run(w.name, func(b *testing.B) {
			bw := bufio.NewWriterSize(io.Discard, 16<<10)
			r := bytes.NewReader(body)
			req, _ := http.NewRequest(http.MethodPost, "https://slack.com/api/chat.update", r)
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("Authorization", "Bearer xoxb-1")
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(body)
				if err := w.fn(bw, req); err != nil {
					b.Fatal(err)
				}
				bw.Flush()
			}
		})
	}
}
