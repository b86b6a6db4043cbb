package ptsso_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/ptsso"
)

const goneText = "This link has already been used or has expired. Open the patient again from PT Desk."

var launchURLPattern = regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/launch/[A-Za-z0-9_-]{43}$`)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// checkGone asserts the friendly page for a used, expired or unknown link.
func checkGone(tb testing.TB, resp *http.Response, body string) {
	tb.Helper()
	if resp.StatusCode != http.StatusGone {
		tb.Errorf("status = %d, want 410", resp.StatusCode)
	}
	pg := parsePage(tb, body)
	if pg.forms != 0 || len(pg.hidden) != 0 || len(pg.scriptNonces) != 0 {
		tb.Errorf("gone page has forms=%d inputs=%d scripts=%d, want none", pg.forms, len(pg.hidden), len(pg.scriptNonces))
	}
	if !strings.Contains(pg.text, goneText) {
		tb.Errorf("gone page text = %q, want %q", pg.text, goneText)
	}
	if strings.Contains(body, testKey) {
		tb.Error("gone page contains the key")
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("gone page Cache-Control = %q", got)
	}
}

func TestLaunchPageIsServedOnce(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, fullPatient())
	u, fetched, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	if !launchURLPattern.MatchString(u) || !strings.HasPrefix(u, srv.URL()+"/launch/") {
		t.Fatalf("launch URL %q is not %s/launch/<nonce>", u, srv.URL())
	}
	if strings.Contains(u, testKey) {
		t.Fatal("launch URL carries the key")
	}
	if isClosed(fetched) {
		t.Fatal("fetched closed before any fetch")
	}

	resp, body := get(t, http.MethodGet, u, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", resp.StatusCode, body)
	}
	nonce := cspNonce(resp.Header.Get("Content-Security-Policy"))
	wantHeaders := map[string]string{
		"Cache-Control":          "no-store",
		"Pragma":                 "no-cache",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Content-Type":           "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
			"'; img-src data:; form-action https://uk.physitrack.com; frame-ancestors 'none'; base-uri 'none'",
	}
	for k, v := range wantHeaders {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(nonce) != 43 {
		t.Errorf("CSP nonce %q is not 256 bits in base64url", nonce)
	}
	checkLaunchPage(t, f, resp.Header.Get("Content-Security-Policy"), body)
	pg := parsePage(t, body)
	if !pg.noscript {
		t.Error("page has no noscript hint")
	}
	if !strings.Contains(body, `<link rel="icon" href="data:,">`) {
		t.Error("page does not stop the favicon fetch")
	}
	if !strings.Contains(body, "document.forms[0].submit()") {
		t.Error("page script does not submit the form")
	}
	if !isClosed(fetched) {
		t.Error("fetched still open after the page was served")
	}

	resp, body = get(t, http.MethodGet, u, "")
	checkGone(t, resp, body)
}

func TestLaunchPageCSPNonceIsFreshPerPage(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	seen := map[string]bool{}
	for range 3 {
		u, _, err := srv.Prepare(mustForm(t, minimalPatient()))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, http.MethodGet, u, "")
		n := cspNonce(resp.Header.Get("Content-Security-Policy"))
		if n == "" || seen[n] || strings.Contains(u, n) {
			t.Fatalf("CSP nonce %q is empty, repeated or the launch nonce", n)
		}
		seen[n] = true
		checkLaunchPage(t, mustForm(t, minimalPatient()), resp.Header.Get("Content-Security-Policy"), body)
	}
}

func TestLaunchExpiry(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration
		ok    bool
	}{
		{"just before", ptsso.LaunchTTL - time.Second, true},
		{"at the limit", ptsso.LaunchTTL, false},
		{"long after", ptsso.LaunchTTL + time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := startServer(t, ptsso.Options{Now: clk.Now})
			u, fetched, err := srv.Prepare(mustForm(t, fullPatient()))
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(tt.after)
			resp, body := get(t, http.MethodGet, u, "")
			if tt.ok {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200", resp.StatusCode)
				}
				return
			}
			checkGone(t, resp, body)
			if isClosed(fetched) {
				t.Error("fetched closed for an expired launch")
			}
		})
	}
}

func TestLaunchUnknownPaths(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	if _, _, err := srv.Prepare(mustForm(t, fullPatient())); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/launch/" + strings.Repeat("A", 43),
		"/launch/short",
		"/launch/",
		"/launch/" + strings.Repeat("A", 43) + "/x",
	} {
		resp, body := get(t, http.MethodGet, srv.URL()+path, "")
		checkGone(t, resp, body)
	}
	for _, path := range []string{"/", "/favicon.ico", "/launch"} {
		resp, _ := get(t, http.MethodGet, srv.URL()+path, "")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestLaunchRefusesOtherHosts(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, fullPatient())
	u, fetched, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(srv.URL(), "http://127.0.0.1")
	for _, host := range []string{"localhost" + port, "evil.example" + port, "127.0.0.1", "127.0.0.1:1", "[::1]" + port, "127.0.0.1" + port + "."} {
		resp, body := get(t, http.MethodGet, u, host)
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: status %d, want 421", host, resp.StatusCode)
		}
		if strings.Contains(body, testKey) || strings.Contains(body, "<form") {
			t.Errorf("Host %q got the form", host)
		}
	}
	if isClosed(fetched) {
		t.Fatal("a refused request closed fetched")
	}
	resp, body := get(t, http.MethodGet, u, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("right host after refusals: status %d, want 200", resp.StatusCode)
	}
	checkLaunchPage(t, f, resp.Header.Get("Content-Security-Policy"), body)
}

func TestLaunchRefusesOtherMethods(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, fullPatient())
	u, _, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch} {
		resp, body := get(t, m, u, "")
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s: Allow = %q", m, got)
		}
		if strings.Contains(body, testKey) {
			t.Errorf("%s got the key", m)
		}
	}
	resp, body := get(t, http.MethodGet, u, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET after refusals: status %d, want 200", resp.StatusCode)
	}
	checkLaunchPage(t, f, resp.Header.Get("Content-Security-Policy"), body)
}

func TestLaunchHeadDoesNotConsume(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, fullPatient())
	u, fetched, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, body := get(t, http.MethodHead, u, "")
		if resp.StatusCode != http.StatusOK || body != "" {
			t.Fatalf("HEAD: status %d, body %q; want 200 and no body", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("HEAD Cache-Control = %q", got)
		}
	}
	if isClosed(fetched) {
		t.Fatal("HEAD closed fetched")
	}
	resp, body := get(t, http.MethodGet, u, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET after HEAD: status %d, want 200", resp.StatusCode)
	}
	checkLaunchPage(t, f, resp.Header.Get("Content-Security-Policy"), body)
	if resp, _ := get(t, http.MethodHead, u, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("HEAD after use: status %d, want 410", resp.StatusCode)
	}
}

func TestLaunchSimultaneousFetchesServeOnce(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	u, _, err := srv.Prepare(mustForm(t, fullPatient()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, _ := get(t, http.MethodGet, u, "")
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	served := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			served++
		case http.StatusGone:
		default:
			t.Errorf("status %d, want 200 or 410", c)
		}
	}
	if served != 1 {
		t.Errorf("page served %d times, want once", served)
	}
}

func TestLaunchEscapesHostileValues(t *testing.T) {
	const hostile = `O'Brien & "Sons" <script>alert(1)</script> = + % ü 李 😀`
	p := &core.Patient{
		ID:            "1044",
		FirstName:     hostile,
		LastName:      `</form><script>alert(2)</script><input name="x">`,
		Email:         `o'brien&sons=+%ü@example.com`,
		DiagnosisCode: `"><script>x</script>&amp;`,
	}
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, p)
	u, _, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, http.MethodGet, u, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	checkLaunchPage(t, f, resp.Header.Get("Content-Security-Policy"), body)
	pg := parsePage(t, body)
	want := map[string]string{
		"data[patient][first_name]":     p.FirstName,
		"data[patient][last_name]":      p.LastName,
		"data[patient][email]":          p.Email,
		"data[patient][diagnosis_code]": p.DiagnosisCode,
	}
	for _, in := range pg.hidden {
		if v, ok := want[in.Name]; ok {
			if in.Value != v {
				t.Errorf("%s decodes to %q, want exactly %q", in.Name, in.Value, v)
			}
			delete(want, in.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("fields missing from the page: %v", want)
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("page contains a raw injected script tag")
	}
	if !strings.Contains(pg.text, "Opening "+hostile) {
		t.Errorf("page text %q does not show the patient name as text", pg.text)
	}
}

func TestPrepareNeedsARunningServer(t *testing.T) {
	f := mustForm(t, fullPatient())
	srv := ptsso.NewServer(ptsso.Options{})
	if _, _, err := srv.Prepare(f); !errors.Is(err, ptsso.ErrNotRunning) {
		t.Errorf("Prepare before Start: %v, want ErrNotRunning", err)
	}
	if srv.URL() != "" {
		t.Errorf("URL before Start = %q, want empty", srv.URL())
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	u, _, err := srv.Prepare(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Prepare(f); !errors.Is(err, ptsso.ErrNotRunning) {
		t.Errorf("Prepare after Close: %v, want ErrNotRunning", err)
	}
	if resp, err := http.Get(u); err == nil {
		resp.Body.Close()
		t.Errorf("launch page still served after Close: %d", resp.StatusCode)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestServerStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := ptsso.NewServer(ptsso.Options{})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	f := mustForm(t, fullPatient())
	if _, _, err := srv.Prepare(f); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The shutdown runs on its own goroutine; wait for it, not for a time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, err := srv.Prepare(f)
		if errors.Is(err, ptsso.ErrNotRunning) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still preparing launches after its context ended: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPrepareRefusesNoForm(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	for _, f := range []*ptsso.Form{nil, {}} {
		if _, _, err := srv.Prepare(f); err == nil {
			t.Errorf("Prepare(%v) succeeded", f)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestPrepareReportsRandomFailure(t *testing.T) {
	srv := startServer(t, ptsso.Options{Rand: failingReader{}})
	_, _, err := srv.Prepare(mustForm(t, fullPatient()))
	if err == nil || !strings.Contains(err.Error(), "entropy exhausted") {
		t.Fatalf("Prepare = %v, want the random source's error", err)
	}
}

func TestLaunchOpensThePage(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	f := mustForm(t, fullPatient())
	var opened string
	var csp, body string
	opener := ptsso.OpenerFunc(func(u string) error {
		opened = u
		resp, b := get(t, http.MethodGet, u, "")
		csp, body = resp.Header.Get("Content-Security-Policy"), b
		return nil
	})
	if err := ptsso.Launch(context.Background(), srv, opener, f); err != nil {
		t.Fatal(err)
	}
	if !launchURLPattern.MatchString(opened) {
		t.Fatalf("opened %q, want a launch URL", opened)
	}
	checkLaunchPage(t, f, csp, body)
}

func TestLaunchWithdrawsWhenTheBrowserFails(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	errNoBrowser := errors.New("no browser")
	var opened string
	err := ptsso.Launch(context.Background(), srv, ptsso.OpenerFunc(func(u string) error {
		opened = u
		return errNoBrowser
	}), mustForm(t, fullPatient()))
	if !errors.Is(err, errNoBrowser) {
		t.Fatalf("Launch = %v, want the opener's error", err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Error("error contains the key")
	}
	resp, body := get(t, http.MethodGet, opened, "")
	checkGone(t, resp, body)
}

func TestLaunchHonoursCancelledContext(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := ptsso.Launch(ctx, srv, ptsso.OpenerFunc(func(string) error { called = true; return nil }), mustForm(t, fullPatient()))
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Launch = %v (opener called %v), want context.Canceled without opening", err, called)
	}
}

func TestFetchOpener(t *testing.T) {
	srv := startServer(t, ptsso.Options{})
	u, fetched, err := srv.Prepare(mustForm(t, fullPatient()))
	if err != nil {
		t.Fatal(err)
	}
	if err := (ptsso.FetchOpener{}).Open(u); err != nil {
		t.Fatalf("first open: %v", err)
	}
	if !isClosed(fetched) {
		t.Error("fetched still open after FetchOpener")
	}
	err = ptsso.FetchOpener{}.Open(u)
	if err == nil || !strings.Contains(err.Error(), "410") {
		t.Errorf("second open = %v, want a 410 failure", err)
	}
	nonce := u[strings.LastIndexByte(u, '/')+1:]
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	err = ptsso.FetchOpener{}.Open(u)
	if err == nil {
		t.Fatal("open on a closed server succeeded")
	}
	if strings.Contains(err.Error(), nonce) {
		t.Errorf("error quotes the launch nonce: %v", err)
	}
}

func TestLaunchesAreForgotten(t *testing.T) {
	clk := newClock()
	srv := startServer(t, ptsso.Options{Now: clk.Now})
	f := mustForm(t, fullPatient())
	prepare := func() string {
		t.Helper()
		u, _, err := srv.Prepare(f)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"two prepared", func() { prepare(); prepare() }, 2},
		{"both expired", func() { clk.Advance(ptsso.LaunchTTL) }, 0},
		{"one more", func() { prepare() }, 1},
		{"HEAD keeps it", func() { get(t, http.MethodHead, prepare(), "") }, 2},
		{"served", func() { get(t, http.MethodGet, prepare(), "") }, 2},
		{"browser failed", func() {
			_ = ptsso.Launch(context.Background(), srv, ptsso.OpenerFunc(func(string) error { return errors.New("no browser") }), f)
		}, 2},
		{"closed", func() { _ = srv.Close() }, 0},
	}
	for _, st := range steps {
		st.do()
		if got := srv.Pending(); got != st.want {
			t.Fatalf("after %s: Pending = %d, want %d", st.name, got, st.want)
		}
	}
}
