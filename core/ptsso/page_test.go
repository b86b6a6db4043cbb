package ptsso_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"ptdesk/core/ptsso"
)

// clock is a settable clock so expiry tests need no sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startServer runs a launch server for the test's lifetime.
func startServer(tb testing.TB, opts ptsso.Options) *ptsso.Server {
	tb.Helper()
	s := ptsso.NewServer(opts)
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// testClient bounds every request so that a hung server fails the test
// instead of stalling it.
var testClient = &http.Client{Timeout: 20 * time.Second}

// get sends one request; host, when set, replaces the Host header.
func get(tb testing.TB, method, url, host string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := testClient.Do(req)
	if err != nil {
		tb.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// page is what a browser would see in a served document.
type page struct {
	forms         int
	method        string
	action        string
	hidden        []ptsso.Field // hidden inputs, in document order
	otherInputs   int           // inputs that are not hidden
	buttons       []string      // "type:text" of each button
	scriptNonces  []string      // nonce attribute of each script element
	styleNonces   []string
	eventHandlers []string // any on* attribute: none may exist
	noscript      bool
	text          string // visible text, for messages
}

// parsePage parses body as a browser would and collects what matters.
func parsePage(tb testing.TB, body string) page {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatalf("parse page: %v", err)
	}
	var pg page
	var text strings.Builder
	var walk func(n *html.Node, inScript bool)
	walk = func(n *html.Node, inScript bool) {
		if n.Type == html.TextNode && !inScript {
			text.WriteString(n.Data)
		}
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					pg.eventHandlers = append(pg.eventHandlers, a.Key)
				}
			}
			switch n.DataAtom {
			case atom.Form:
				pg.forms++
				pg.method = attr(n, "method")
				pg.action = attr(n, "action")
			case atom.Input:
				if attr(n, "type") == "hidden" {
					pg.hidden = append(pg.hidden, ptsso.Field{Name: attr(n, "name"), Value: attr(n, "value")})
				} else {
					pg.otherInputs++
				}
			case atom.Button:
				pg.buttons = append(pg.buttons, attr(n, "type")+":"+strings.TrimSpace(nodeText(n)))
			case atom.Script:
				pg.scriptNonces = append(pg.scriptNonces, attr(n, "nonce"))
				inScript = true
			case atom.Style:
				pg.styleNonces = append(pg.styleNonces, attr(n, "nonce"))
				inScript = true
			case atom.Noscript:
				pg.noscript = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inScript)
		}
	}
	walk(doc, false)
	pg.text = strings.Join(strings.Fields(text.String()), " ")
	return pg
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b bytes.Buffer
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

var cspNoncePattern = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)'`)

// cspNonce is the script nonce a Content-Security-Policy allows.
func cspNonce(csp string) string {
	m := cspNoncePattern.FindStringSubmatch(csp)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkLaunchPage asserts that body is exactly f's launch page under the
// policy csp: one form posting f's fields, one script (ours).
func checkLaunchPage(tb testing.TB, f *ptsso.Form, csp, body string) {
	tb.Helper()
	pg := parsePage(tb, body)
	if pg.forms != 1 {
		tb.Fatalf("page has %d forms, want 1", pg.forms)
	}
	if pg.method != "post" || pg.action != f.Action() {
		tb.Errorf("form method=%q action=%q, want post to %q", pg.method, pg.action, f.Action())
	}
	want := f.Fields()
	if len(pg.hidden) != len(want) {
		tb.Fatalf("page has %d hidden inputs %v, want %d", len(pg.hidden), pg.hidden, len(want))
	}
	for i := range want {
		if pg.hidden[i] != want[i] {
			tb.Errorf("input %d = %q=%q, want %q=%q", i, pg.hidden[i].Name, pg.hidden[i].Value, want[i].Name, want[i].Value)
		}
	}
	if pg.otherInputs != 0 {
		tb.Errorf("page has %d visible inputs, want 0", pg.otherInputs)
	}
	if len(pg.buttons) != 1 || pg.buttons[0] != "submit:Continue to Physitrack" {
		tb.Errorf("buttons = %q, want one submit button", pg.buttons)
	}
	nonce := cspNonce(csp)
	if nonce == "" {
		tb.Fatalf("CSP %q has no script nonce", csp)
	}
	if len(pg.scriptNonces) != 1 || pg.scriptNonces[0] != nonce {
		tb.Errorf("script nonces = %q, want exactly one, %q", pg.scriptNonces, nonce)
	}
	for _, n := range pg.styleNonces {
		if n != nonce {
			tb.Errorf("style nonce %q, want %q", n, nonce)
		}
	}
	if len(pg.eventHandlers) != 0 {
		tb.Errorf("page has event handler attributes %q", pg.eventHandlers)
	}
}
