package sandbox_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/sandbox"
)

func TestStartServesOnAFreePortUntilContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb := sandbox.New(sandbox.Options{})
	r, err := sb.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.URL(), "http://127.0.0.1:") || strings.HasSuffix(r.URL(), ":0") {
		t.Fatalf("URL %q is not a bound loopback address", r.URL())
	}
	res, err := http.Get(r.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Physitrack sandbox — not the real service") {
		t.Fatalf("home: status %d\n%s", res.StatusCode, body)
	}

	cancel()
	if err := r.Wait(); err != nil {
		t.Fatalf("Wait after the context ended: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after stopping: %v", err)
	}
	if _, err := http.Get(r.URL() + "/"); err == nil {
		t.Errorf("the sandbox still answers after its context ended")
	}
}

func TestStartRefusesAddressesOffThisComputer(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:7900", "no-port"} {
		t.Run(addr, func(t *testing.T) {
			r, err := sb.Start(context.Background(), addr)
			if err == nil {
				r.Close()
				t.Fatal("Start accepted the address")
			}
			if core.ErrorCode(err) != core.EINVALID || core.ErrorField(err) != "addr" {
				t.Errorf("error %v, want EINVALID on addr", err)
			}
		})
	}
}

func TestPagesForbidScriptsAndFraming(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	for _, path := range []string{"/", "/settings", "/clients", "/sandbox/clients.json"} {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sandbox/clients.json", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
		t.Errorf("clients.json of an empty sandbox is %q, want []", got)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestOpenFailsCleanlyWithoutRandomness(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Rand: failingReader{}})
	if err := sb.RegisterPractitioner("Ada", keyAda); err != nil {
		t.Fatal(err)
	}
	form := patient(keyAda, map[string]string{"id": "1", "first_name": "A", "last_name": "B"})
	req := httptest.NewRequest(http.MethodPost, pmsPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Set-Cookie") != "" {
		t.Fatalf("status %d, Set-Cookie %q; want 500 and no session", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	if got := sb.Clients(); len(got) != 0 {
		t.Errorf("clients created without a session: %+v", got)
	}
}

func TestHomeLinksSettingsAndClients(t *testing.T) {
	e := newEnv(t)
	res := e.browser().get("/")
	for _, want := range []string{`href="/settings"`, `href="/clients"`, "sandbox", e.srv.URL + "/pmsapi/"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("home lacks %q:\n%s", want, res.body)
		}
	}
}
