// Package sandbox is a local stand-in for Physitrack, so that newcomers,
// demos and tests can run the whole PT Desk flow without a Physitrack
// account. It serves the pages and the one endpoint PT Desk uses, and does
// what PHYSITRACK.md says the real service does, nothing more:
//
//   - My account > Settings, where a practitioner pastes their key ("PMS
//     Token"), checked with Physitrack's rule;
//   - POST /pmsapi/{pms}/v1/patients, which signs that practitioner in (and
//     anyone else out), creates or updates the client in their account and
//     redirects to the client's page, or to the client list on invalid data;
//   - the client list and client pages of the signed-in practitioner;
//   - /sandbox/clients.json, which is not part of Physitrack: it shows every
//     client with the fields exactly as received, for tests and for people
//     checking what PT Desk sent.
//   - on a client page, "Assign program" and "Update program", which post
//     the program webhook to PT Desk with a link to a small PDF that works
//     for a limited time; POST /sandbox/programs does the same for scripts
//     and /sandbox/programs.json lists what was sent (programs.go).
//
// Where PHYSITRACK.md is silent the sandbox takes the plainest reading and
// says so in a comment: each open carries the client's whole state (an
// optional field left out clears it, and title and birth year fall back to
// their defaults), and an empty optional field counts as absent.
//
// Everything is kept in memory and lost when the process ends. Keys are never
// logged, shown, or put in a URL.
package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"ptdesk/core"
)

// DefaultAddr is where `ptdeskctl sandbox` listens unless told otherwise:
// loopback only, because the sandbox speaks plain http and takes keys.
const DefaultAddr = "127.0.0.1:7900"

// maxFormBytes bounds a posted form; a patient or a key is a few hundred
// bytes, so anything near this is a mistake or an attack.
const maxFormBytes = 64 << 10

// Options are the sandbox's dependencies; the zero value is usable.
type Options struct {
	// Now tells the time for created/updated stamps; time.Now when nil.
	Now func() time.Time
	// Logger receives events (never keys); discarded when nil.
	Logger *slog.Logger
	// Rand is the source of session ids and PDF links; crypto/rand when
	// nil.
	Rand io.Reader

	// WebhookURL is where program webhooks go (PT Desk's listener);
	// without it the sandbox cannot send programs.
	WebhookURL string
	// WebhookSecret is sent as api_key; never logged or shown.
	WebhookSecret string
	// WebhookRetryDelay is the wait before the one retry of a webhook
	// that did not get 200 (DefaultWebhookRetryDelay when 0).
	WebhookRetryDelay time.Duration
	// PDFLifetime is how long a program's PDF link works
	// (DefaultPDFLifetime when 0).
	PDFLifetime time.Duration
	// WebhookClient posts the webhooks; its redirects are never followed
	// and it times out after 5 seconds when nil.
	WebhookClient *http.Client
}

// Sandbox is the stand-in service: an http.Handler over in-memory state.
// It is safe for concurrent use.
type Sandbox struct {
	now   func() time.Time
	log   *slog.Logger
	rand  io.Reader
	pages *pages
	mux   *http.ServeMux
	state *state
	// outbox sends program webhooks and serves their PDFs (programs.go).
	outbox *outbox
}

// New builds a sandbox with empty state.
func New(opts Options) *Sandbox {
	s := &Sandbox{
		now:   opts.Now,
		log:   opts.Logger,
		rand:  opts.Rand,
		pages: parsePages(),
		mux:   http.NewServeMux(),
		state: newState(),
	}
	s.outbox = newOutbox(opts)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.routes()
	return s
}

func (s *Sandbox) routes() {
	// Settings is the only same-site form; the patients endpoint is posted
	// from PT Desk's launch page on another origin by design.
	csrf := http.NewCrossOriginProtection()
	s.mux.HandleFunc("GET /{$}", s.serveHome)
	s.mux.HandleFunc("GET /settings", s.serveSettings)
	s.mux.Handle("POST /settings", csrf.Handler(http.HandlerFunc(s.saveSettings)))
	s.mux.HandleFunc("POST /pmsapi/{pms}/v1/patients", s.openPatient)
	s.mux.HandleFunc("GET /clients", s.serveClients)
	s.mux.HandleFunc("GET /clients/{id}", s.serveClient)
	s.mux.HandleFunc("GET /sandbox/clients.json", s.serveClientsJSON)
	// Programs (programs.go): the client page's forms, the same for
	// scripts, the PDFs behind their temporary links, and what was sent.
	s.mux.Handle("POST /clients/{id}/programs", csrf.Handler(http.HandlerFunc(s.sendProgramForm)))
	s.mux.HandleFunc("POST /sandbox/programs", s.sendProgramScript)
	s.mux.HandleFunc("GET /sandbox/files/{file}", s.servePDF)
	s.mux.HandleFunc("GET /sandbox/programs.json", s.serveProgramsJSON)
}

func (s *Sandbox) serveHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home.html", "Physitrack sandbox", nil)
}

// ServeHTTP adds the headers every page needs (no scripts, no framing, no
// caching of pages that show patient data) and logs the request line
// without query or body.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.Debug("sandbox request", "method", r.Method, "path", r.URL.Path, "status", rec.status)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Running is a sandbox serving on a listener, as returned by Start.
type Running struct {
	srv       *http.Server
	addr      string
	done      chan struct{}
	err       error
	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (DefaultAddr when empty; port 0 picks a free port)
// and serves in the background until ctx is done or Close is called. addr
// must be a loopback host: the sandbox speaks plain http and takes keys,
// and PT Desk accepts http:// only on loopback anyway.
func (s *Sandbox) Start(ctx context.Context, addr string) (*Running, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, core.Errorf(core.EINVALID, "addr", "Sandbox address %q is not HOST:PORT, for example %s.", addr, DefaultAddr)
	}
	if !core.IsLoopbackHost(host) {
		return nil, core.Errorf(core.EINVALID, "addr", "Sandbox address %q is not on this computer; use 127.0.0.1, localhost or [::1], because the sandbox serves plain http.", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	r := &Running{
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	s.outbox.setOrigin(r.URL())
	go func() {
		err := r.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			r.err = fmt.Errorf("sandbox: serve on %s: %w", r.addr, err)
		}
		close(r.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.done:
		}
	}()
	return r, nil
}

// ListenAndServe serves on addr until ctx is done, logging the URL once it
// listens. Use Start to learn the bound address (port 0) before serving.
func (s *Sandbox) ListenAndServe(ctx context.Context, addr string) error {
	r, err := s.Start(ctx, addr)
	if err != nil {
		return err
	}
	s.log.Info("Physitrack sandbox listening", "url", r.URL())
	return r.Wait()
}

// Addr is the bound host:port.
func (r *Running) Addr() string { return r.addr }

// URL is the sandbox's origin, the server to give PT Desk.
func (r *Running) URL() string { return "http://" + r.addr }

// Wait blocks until the sandbox stops serving and reports why, nil after
// Close or the end of Start's context.
func (r *Running) Wait() error {
	<-r.done
	return r.err
}

// Close stops serving, letting requests in flight finish for a few
// seconds, and waits until the server is down.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			r.closeErr = fmt.Errorf("sandbox: shut down: %w", err)
			_ = r.srv.Close()
		}
		<-r.done
	})
	if r.closeErr != nil {
		return r.closeErr
	}
	return r.err
}
