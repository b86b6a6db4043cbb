package programs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ptdesk/core"
)

// LockFile (in Home/programs) is held by the process that receives
// webhooks for the data directory, and names it for anyone who finds it
// taken.
const LockFile = "serve.lock"

// Config is everything Start needs. Store, Home and Secret are required.
type Config struct {
	Store Store
	// Home is the data directory.
	Home string
	// KeepPDFsInStore files PDFs in the store instead of under Home.
	KeepPDFsInStore bool
	// Secret is the webhook secret (api_key).
	Secret string
	// Addr is HOST:PORT to listen on (DefaultAddr); Path the webhook's
	// path (DefaultPath).
	Addr, Path string
	// TLSCertFile and TLSKeyFile, both or neither, serve https.
	TLSCertFile, TLSKeyFile string
	Logger                  *slog.Logger
	// Worker tunes the worker; its Store, Home, KeepPDFsInStore and
	// Logger are taken from above.
	Worker WorkerOptions
	// Download tunes the downloader, unless Worker.Downloader is set.
	Download DownloadOptions
	// Health, if set, answers GET /healthz beside the webhook, for the
	// clinic's monitoring.
	Health http.Handler
}

// lockNotes is what the lock file says about its holder.
type lockNotes struct {
	Owner   string    `json:"owner"`
	PID     int       `json:"pid"`
	URL     string    `json:"url"`
	Started time.Time `json:"started"`
}

var pathPattern = regexp.MustCompile(`^/[A-Za-z0-9._~/-]*$`)

// Running is the listener and the worker of one data directory.
type Running struct {
	srv    *http.Server
	worker *Worker
	url    string
	addr   string
	lock   *os.File
	log    *slog.Logger

	cancel     context.CancelFunc
	serveDone  chan struct{}
	workerDone chan struct{}
	serveErr   error
	closeOnce  sync.Once
	closeErr   error
}

// Start takes the data directory (one listener and one worker per
// directory: ECONFLICT on "serve" when another process has it), listens
// (ECONFLICT on "addr" when the port is taken), and runs the receiver and
// the worker in the background until ctx ends or Close is called.
func Start(ctx context.Context, c Config) (*Running, error) {
	if c.Store == nil || c.Home == "" {
		return nil, errors.New("programs: Start needs a store and a data directory")
	}
	if c.Secret == "" {
		return nil, NoSecretError()
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !pathPattern.MatchString(c.Path) {
		return nil, core.Errorf(core.EINVALID, "path", "Webhook path %q must start with / and use only letters, digits and . _ ~ / -.", c.Path)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return nil, core.Errorf(core.EINVALID, "tls-cert", "Give both the TLS certificate and its key, or neither.")
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tlsConfig *tls.Config
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, core.Errorf(core.EINVALID, "tls-cert", "Could not load the TLS certificate and key (%v); give PEM files for this server's name.", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	lockPath := filepath.Join(c.Home, ProgramsDir, LockFile)
	lock, previous, err := takeLock(lockPath)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.Close()
		}
	}()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", c.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, core.Errorf(core.ECONFLICT, "addr", "Port %s is in use by another program (perhaps another PT Desk); stop it or choose another address with --addr.", c.Addr)
		}
		return nil, core.Errorf(core.EINVALID, "addr", "Could not listen on %s (%v); give HOST:PORT such as %s.", c.Addr, err, DefaultAddr)
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}

	store := newSerialStore(c.Store)
	wo := c.Worker
	wo.Store, wo.Home, wo.KeepPDFsInStore, wo.Logger = store, c.Home, c.KeepPDFsInStore, log
	if wo.Downloader == nil {
		wo.Downloader = NewDownloader(c.Download)
	}
	worker := NewWorker(wo)
	receiving := new(atomic.Int32)
	worker.receiving = receiving
	if previous.Owner != "" && previous.Owner != worker.Owner() {
		// The process that held the lock file is gone (the lock was
		// free): its lease need not run out before this worker starts.
		if err := c.Store.ReleaseWorkerLease(ctx, previous.Owner); err != nil {
			log.Warn("could not release the lease of the previous worker", "err", err)
		}
	}
	r := &Running{
		worker:     worker,
		addr:       ln.Addr().String(),
		lock:       lock,
		log:        log,
		serveDone:  make(chan struct{}),
		workerDone: make(chan struct{}),
	}
	r.url = scheme + "://" + r.addr + c.Path
	notes, _ := json.Marshal(lockNotes{Owner: worker.Owner(), PID: os.Getpid(), URL: r.url, Started: time.Now().UTC()})
	if err := writeLockNotes(lock, notes); err != nil {
		ln.Close()
		return nil, err
	}
	rec, err := NewReceiver(ReceiverOptions{Store: store, Secret: c.Secret, Now: wo.Now, Logger: log, Recorded: func(int64) { worker.Wake() }})
	if err != nil {
		ln.Close()
		return nil, err
	}
	rec.receiving = receiving
	mux := http.NewServeMux()
	mux.Handle("POST "+c.Path, rec)
	if c.Health != nil {
		mux.Handle("GET /healthz", c.Health)
	}
	r.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go func() {
		defer close(r.workerDone)
		if err := worker.Run(wctx); err != nil {
			log.Error("program worker stopped", "err", err)
		}
	}()
	go func() {
		defer close(r.serveDone)
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.serveErr = fmt.Errorf("serve program webhooks on %s: %w", r.addr, err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.serveDone:
		}
	}()
	ok = true
	log.Info("receiving program webhooks", "url", r.url, "worker", worker.Owner())
	return r, nil
}

// takeLock opens and locks the lock file, returning what it said about its
// previous holder, or ECONFLICT naming the process that holds it.
func takeLock(path string) (*os.File, lockNotes, error) {
	var prev lockNotes
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return nil, prev, fmt.Errorf("lock the data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, prev, fmt.Errorf("lock the data directory: %w", err)
	}
	b, _ := os.ReadFile(path)
	_ = json.Unmarshal(b, &prev)
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, prev, fmt.Errorf("lock the data directory: %w", err)
	}
	if !ok {
		f.Close()
		who := "another process"
		if prev.PID != 0 {
			who = fmt.Sprintf("process %d (on %s)", prev.PID, prev.URL)
		}
		return nil, prev, core.Errorf(core.ECONFLICT, "serve", "Program webhooks for this data directory are already received by %s, ptdeskctl serve or the PT Desk app; leaving it to that one.", who)
	}
	return f, prev, nil
}

func writeLockNotes(f *os.File, notes []byte) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	if _, err := f.WriteAt(notes, 0); err != nil {
		return fmt.Errorf("write the lock file: %w", err)
	}
	return nil
}

// URL is where webhooks are received, as seen on this computer.
func (r *Running) URL() string { return r.url }

// Addr is the bound host:port.
func (r *Running) Addr() string { return r.addr }

// Worker is the running worker (to Wake it after an admin's Retry).
func (r *Running) Worker() *Worker { return r.worker }

// Wait blocks until the listener stops, and says why (nil after Close).
func (r *Running) Wait() error {
	<-r.serveDone
	<-r.workerDone
	return r.serveErr
}

// Close stops accepting webhooks (letting those in progress finish), stops
// the worker (a PDF being filed is finished), gives up the lease and the
// lock.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			_ = r.srv.Close()
		}
		<-r.serveDone
		r.cancel()
		<-r.workerDone
		r.closeErr = r.lock.Close()
		r.log.Info("stopped receiving program webhooks", "url", r.url)
	})
	if r.serveErr != nil {
		return r.serveErr
	}
	return r.closeErr
}

// serialStore lets one write at a time through to the store, recording
// webhooks first. An embedded store makes concurrent writers wait by
// sleeping and polling, which costs a webhook milliseconds it need not
// wait; queueing them here costs nothing, since the database writes one
// at a time anyway. A batch of webhooks waiting goes before the worker's
// writes, because Physitrack waits for the answer and the PDF does not
// wait for anyone.
type serialStore struct {
	Store
	mu      sync.Mutex
	cond    *sync.Cond
	busy    bool
	waiting int // record batches waiting
}

func newSerialStore(s Store) *serialStore {
	ss := &serialStore{Store: s}
	ss.cond = sync.NewCond(&ss.mu)
	return ss
}

func (s *serialStore) enter(first bool) {
	s.mu.Lock()
	if first {
		s.waiting++
	}
	for s.busy || (!first && s.waiting > 0) {
		s.cond.Wait()
	}
	if first {
		s.waiting--
	}
	s.busy = true
	s.mu.Unlock()
}

func (s *serialStore) leave() {
	s.mu.Lock()
	s.busy = false
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *serialStore) RecordWebhooks(ctx context.Context, es []*core.WebhookEvent) ([]bool, error) {
	s.enter(true)
	defer s.leave()
	return s.Store.RecordWebhooks(ctx, es)
}

func (s *serialStore) UpdateWebhook(ctx context.Context, e *core.WebhookEvent) error {
	s.enter(false)
	defer s.leave()
	return s.Store.UpdateWebhook(ctx, e)
}

func (s *serialStore) FileProgram(ctx context.Context, eventID int64, p *core.Program, pdf []byte) error {
	s.enter(false)
	defer s.leave()
	return s.Store.FileProgram(ctx, eventID, p, pdf)
}

func (s *serialStore) AcquireWorkerLease(ctx context.Context, owner string, now time.Time, ttl time.Duration) (bool, error) {
	s.enter(false)
	defer s.leave()
	return s.Store.AcquireWorkerLease(ctx, owner, now, ttl)
}

func (s *serialStore) ReleaseWorkerLease(ctx context.Context, owner string) error {
	s.enter(false)
	defer s.leave()
	return s.Store.ReleaseWorkerLease(ctx, owner)
}
