package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core/keys"
	"ptdesk/core/sandbox"
)

// Keys used across the tests; each passes Physitrack's rule.
const (
	keyAda    = "AdaKey7Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd1Fs"
	keyBob    = "BobKey4Tn8Yw2Kq6Xc9Mv3Gp7Lr5Hz1Dw"
	keyAdaNew = "AdaNew2Xq9Wm4Tz7Kc3Vn8Hr5Lb6Jp1Gd"
)

const pmsPath = "/pmsapi/umbrella_corporation/v1/patients"

// env is a sandbox behind a real HTTP server, with a clock that moves one
// minute per reading and a log captured at debug level. Every response it
// sees is kept, and at the end of the test it checks that no key it was
// given appears in any response or in the log.
type env struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	log    *syncBuffer
	mu     sync.Mutex
	seen   []string // bodies and headers of every response
	tokens []string // keys to look for
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// steppingClock starts at a fixed instant and moves one minute per call.
func steppingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, log: &syncBuffer{}, tokens: []string{keyAda, keyBob, keyAdaNew}}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.sb = sandbox.New(sandbox.Options{Now: steppingClock(), Logger: logger})
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.checkNoTokenSeen)
	return e
}

// watch adds keys (for instance refused ones) to those that must never
// appear.
func (e *env) watch(tokens ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens = append(e.tokens, tokens...)
}

func (e *env) checkNoTokenSeen() {
	e.mu.Lock()
	defer e.mu.Unlock()
	logs := e.log.String()
	for _, tok := range e.tokens {
		for _, part := range strings.Fields(tok) {
			if len(part) < 8 {
				continue
			}
			for _, s := range e.seen {
				if strings.Contains(s, part) {
					e.t.Errorf("a response shows key material %q:\n%s", part, s)
				}
			}
			if strings.Contains(logs, part) {
				e.t.Errorf("the log shows key material %q:\n%s", part, logs)
			}
		}
	}
}

// browser is one cookie jar: one browser on one desk.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return &browser{e: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status   int
	location string
	header   http.Header
	body     string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatalf("read %s: %v", req.URL.Path, err)
	}
	var hdr strings.Builder
	if err := res.Header.Write(&hdr); err != nil {
		b.e.t.Fatal(err)
	}
	b.e.mu.Lock()
	b.e.seen = append(b.e.seen, hdr.String(), string(body))
	b.e.mu.Unlock()
	return response{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// register pastes a key in Settings and insists that it was accepted.
func (b *browser) register(name, token string) {
	b.e.t.Helper()
	if err := keys.Check(token); err != nil {
		b.e.t.Fatalf("test key for %s breaks the rule: %v", name, err)
	}
	res := b.post("/settings", url.Values{"name": {name}, "token": {token}})
	if res.status != http.StatusOK {
		b.e.t.Fatalf("register %s: status %d\n%s", name, res.status, res.body)
	}
}

// patient is an open's form with the given patient fields.
func patient(token string, fields map[string]string) url.Values {
	v := url.Values{"data[token]": {token}}
	for k, f := range fields {
		v.Set("data[patient]["+k+"]", f)
	}
	return v
}

// open posts the PTSSO form.
func (b *browser) open(token string, fields map[string]string) response {
	b.e.t.Helper()
	return b.post(pmsPath, patient(token, fields))
}

// clients reads /sandbox/clients.json.
func (e *env) clients() []sandbox.Client {
	e.t.Helper()
	res := e.browser().get("/sandbox/clients.json")
	if res.status != http.StatusOK {
		e.t.Fatalf("clients.json: status %d", res.status)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Fatalf("clients.json: Content-Type %q", ct)
	}
	var out []sandbox.Client
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		e.t.Fatalf("clients.json: %v\n%s", err, res.body)
	}
	return out
}
