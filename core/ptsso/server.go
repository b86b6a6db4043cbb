package ptsso

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LaunchTTL is how long a prepared launch page can be fetched: long enough
// for a browser to start, short enough that a forgotten link is useless.
const LaunchTTL = 60 * time.Second

// ErrNotRunning is returned by Prepare before Start or after Close.
var ErrNotRunning = errors.New("the Physitrack launch server is not running")

// Options are the Server's injectable dependencies; the zero value is the
// production setting.
type Options struct {
	// Now is the clock that expires launches; nil means time.Now.
	Now func() time.Time
	// Rand is the source of launch and CSP nonces; nil means crypto/rand.
	// Anything else is for tests only.
	Rand io.Reader
	// ErrorLog receives net/http's own errors (never a request path); nil
	// means the log package's standard logger.
	ErrorLog *log.Logger
}

// Server serves one-time launch pages on 127.0.0.1. One Server can serve
// any number of launches for the life of the program.
type Server struct {
	now      func() time.Time
	rand     io.Reader
	errorLog *log.Logger

	mu       sync.Mutex
	addr     string // "127.0.0.1:PORT", the only Host accepted
	srv      *http.Server
	closed   bool
	stop     chan struct{} // closed by Close, ends the context watcher
	launches map[string]*launch
}

// launch is one prepared page: the form is dropped as soon as it has been
// served or has expired.
type launch struct {
	form    *Form
	expires time.Time
	fetched chan struct{}
}

// NewServer returns a server that is not listening yet; call Start.
func NewServer(opts Options) *Server {
	s := &Server{now: opts.Now, rand: opts.Rand, errorLog: opts.ErrorLog, launches: map[string]*launch{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// Start listens on a random port of 127.0.0.1 and serves in the background
// until Close is called or ctx is cancelled.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil || s.closed {
		return errors.New("start launch server: already started or closed (make a new Server)")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start launch server: %w", err)
	}
	s.addr = ln.Addr().String()
	s.stop = make(chan struct{})
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          s.errorLog,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func(srv *http.Server) {
		// Serve returns ErrServerClosed after Close; any other failure
		// makes every later launch fail visibly at the browser.
		_ = srv.Serve(ln)
	}(s.srv)
	go func(stop <-chan struct{}) {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-stop:
		}
	}(s.stop)
	return nil
}

// URL is the server's base URL, http://127.0.0.1:PORT, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == "" {
		return ""
	}
	return "http://" + s.addr
}

// Close stops serving and forgets every pending launch and its key.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	clear(s.launches)
	srv := s.srv
	if s.stop != nil {
		close(s.stop)
	}
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	if err := srv.Close(); err != nil {
		return fmt.Errorf("close launch server: %w", err)
	}
	return nil
}

// Prepare registers f for one fetch within LaunchTTL and returns the URL of
// its launch page. fetched is closed once the page has been written to a
// browser; it stays open if the link expires, so wait on it with a deadline.
// The URL carries only a random nonce, never the key.
func (s *Server) Prepare(f *Form) (launchURL string, fetched <-chan struct{}, err error) {
	if f == nil || f.action == "" {
		return "", nil, errors.New("prepare launch: no form (build it with NewForm)")
	}
	nonce, err := s.randomToken()
	if err != nil {
		return "", nil, fmt.Errorf("prepare launch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil || s.closed {
		return "", nil, fmt.Errorf("prepare launch: %w", ErrNotRunning)
	}
	now := s.now()
	s.purge(now)
	if _, taken := s.launches[nonce]; taken {
		return "", nil, errors.New("prepare launch: nonce collision (broken random source)")
	}
	ch := make(chan struct{})
	s.launches[nonce] = &launch{form: f, expires: now.Add(LaunchTTL), fetched: ch}
	return "http://" + s.addr + "/launch/" + nonce, ch, nil
}

// Pending is how many launches are waiting to be fetched, expired ones
// left out: a status line can show it, and it shows that served and
// withdrawn launches no longer hold a key.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purge(s.now())
	return len(s.launches)
}

// withdraw forgets a launch that will not be opened after all.
func (s *Server) withdraw(launchURL string) {
	nonce := launchURL[strings.LastIndexByte(launchURL, '/')+1:]
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.launches, nonce)
}

// purge drops expired launches; called with s.mu held, on every access, so
// that no timer is needed.
func (s *Server) purge(now time.Time) {
	for n, l := range s.launches {
		if !now.Before(l.expires) {
			delete(s.launches, n)
		}
	}
}

// pending returns the live launch under nonce, if any, without using it.
func (s *Server) pending(nonce string) *launch {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purge(s.now())
	return s.launches[nonce]
}

// take removes l if it is still the live launch under nonce, reporting
// whether this caller got it (two simultaneous fetches: only one wins).
func (s *Server) take(nonce string, l *launch) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purge(s.now())
	if s.launches[nonce] != l {
		return false
	}
	delete(s.launches, nonce)
	return true
}

// randomToken is 256 random bits in base64url: launch nonces and CSP nonces.
func (s *Server) randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("read random nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var noncePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// serveHTTP answers launch pages. It never logs: the path is a capability
// and the page holds the key.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")

	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	// A page on another site can resolve its own name to 127.0.0.1 (DNS
	// rebinding); only a request addressed to this exact loopback address
	// and port is ours.
	if r.Host != addr {
		plain(w, http.StatusMisdirectedRequest, "This server only answers http://"+addr+".")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "Only GET is allowed here.")
		return
	}
	nonce, ok := strings.CutPrefix(r.URL.Path, "/launch/")
	if !ok {
		plain(w, http.StatusNotFound, "Not found.")
		return
	}
	var l *launch
	if noncePattern.MatchString(nonce) {
		l = s.pending(nonce)
	}
	if l == nil {
		s.serveGone(w, r)
		return
	}
	if r.Method == http.MethodHead {
		// A HEAD (a link checker, a cautious browser) must not burn the
		// launch, and gets no body anyway.
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return
	}
	cspNonce, err := s.randomToken()
	if err != nil {
		plain(w, http.StatusInternalServerError, "PT Desk could not prepare the page; open the patient again.")
		return
	}
	var page bytes.Buffer
	if err := renderLaunch(&page, l.form, cspNonce); err != nil {
		plain(w, http.StatusInternalServerError, "PT Desk could not prepare the page; open the patient again.")
		return
	}
	if !s.take(nonce, l) {
		s.serveGone(w, r)
		return
	}
	h.Set("Content-Security-Policy", launchCSP(cspNonce, l.form.origin))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(page.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page.Bytes())
	close(l.fetched)
}

// serveGone is the friendly answer to a used, expired or unknown link.
func (s *Server) serveGone(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	cspNonce, err := s.randomToken()
	if err != nil {
		plain(w, http.StatusGone, goneMessage)
		return
	}
	var page bytes.Buffer
	if err := renderGone(&page, cspNonce); err != nil {
		plain(w, http.StatusGone, goneMessage)
		return
	}
	h.Set("Content-Security-Policy", goneCSP(cspNonce))
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(page.Len()))
	w.WriteHeader(http.StatusGone)
	if r.Method != http.MethodHead {
		_, _ = w.Write(page.Bytes())
	}
}

// plain answers with a short text and a policy that allows nothing.
func plain(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// launchCSP lets the page run its own script and style, show the inline
// icon, and post to the practitioner's Physitrack origin; nothing else.
func launchCSP(nonce, origin string) string {
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
		"'; img-src data:; form-action " + origin + "; frame-ancestors 'none'; base-uri 'none'"
}

func goneCSP(nonce string) string {
	return "default-src 'none'; style-src 'nonce-" + nonce + "'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
}
