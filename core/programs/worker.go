package programs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ptdesk/core"
)

// Worker defaults.
const (
	// DefaultLifetime is how long Physitrack keeps a PDF after creating it.
	DefaultLifetime     = 24 * time.Hour
	DefaultLeaseTTL     = time.Minute
	DefaultPollInterval = 2 * time.Second
	DefaultRetryBase    = 10 * time.Second
	DefaultRetryMax     = 30 * time.Minute
	DefaultParallel     = 4
)

// Store is what the worker needs: the queue, and the directory to match
// events to practitioners and patients and to read the allow-list.
type Store interface {
	core.ProgramStore
	PractitionerByKeyHash(ctx context.Context, hash string) (*core.Practitioner, bool, error)
	Patient(ctx context.Context, id string) (*core.Patient, error)
	Settings(ctx context.Context) (core.Settings, error)
}

// ErrLeaseHeld means another worker holds the queue's lease.
var ErrLeaseHeld = errors.New("another worker is processing the program queue")

// WorkerOptions wire a Worker. Store and Home are required.
type WorkerOptions struct {
	Store Store
	// Home is the data directory: PDFs are filed under Home/programs.
	Home string
	// KeepPDFsInStore files each PDF in the store (a shared clinic
	// store) rather than as a file.
	KeepPDFsInStore bool
	// Owner names this worker in the lease; a unique default.
	Owner      string
	Downloader *Downloader
	// Now is the clock of every decision (due, backoff, expiry).
	Now func() time.Time
	// Jitter returns a number in [0, 1) to spread retries.
	Jitter func() float64
	Logger *slog.Logger
	// LeaseTTL is how long the lease lasts unless renewed.
	LeaseTTL time.Duration
	// PollInterval is how often the queue is looked at without a wake-up.
	PollInterval time.Duration
	// RetryBase and RetryMax bound the exponential backoff.
	RetryBase, RetryMax time.Duration
	// Lifetime is how long after date_iso a PDF can still be fetched.
	Lifetime time.Duration
	// Parallel is the number of events worked on at once.
	Parallel int
	// Filed is called after each program is filed; Changed after an
	// event becomes unmatched, refused, expired or is rescheduled. Both
	// run on the worker's goroutines and must not block.
	Filed   func(p *core.Program)
	Changed func(e *core.WebhookEvent)
}

// Worker takes recorded events from the queue and files their PDFs.
type Worker struct {
	o    WorkerOptions
	log  *slog.Logger
	dl   *Downloader
	wake chan struct{}

	// commitMu makes choosing a version, naming the file and recording
	// the program one step, so that two events of the same program never
	// take the same version.
	commitMu sync.Mutex

	// leaseMu guards leaseAt, when the lease was last taken or renewed
	// (by the worker's clock).
	leaseMu sync.Mutex
	leaseAt time.Time

	// receiving counts webhooks being received in this process (set by
	// Start); the worker lets them go first (yield).
	receiving *atomic.Int32
}

// maxYield bounds how long the worker waits for a quiet moment, so that
// it keeps filing under a steady stream of webhooks.
const maxYield = 100 * time.Millisecond

// yield waits, up to maxYield, until no webhook is being received: the
// worker's downloads, syncs and writes then never stand between a webhook
// and its answer, which Physitrack waits for (the PDF does not).
func (w *Worker) yield(ctx context.Context) {
	if w.receiving == nil {
		return
	}
	deadline := time.Now().Add(maxYield)
	for w.receiving.Load() > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// NewWorker builds a Worker.
func NewWorker(o WorkerOptions) *Worker {
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = mathrand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultRetryMax
	}
	if o.Lifetime <= 0 {
		o.Lifetime = DefaultLifetime
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Filed == nil {
		o.Filed = func(*core.Program) {}
	}
	if o.Changed == nil {
		o.Changed = func(*core.WebhookEvent) {}
	}
	dl := o.Downloader
	if dl == nil {
		dl = NewDownloader(DownloadOptions{})
	}
	return &Worker{o: o, log: o.Logger, dl: dl, wake: make(chan struct{}, 1)}
}

// DefaultOwner names this process for the lease: host, process id and a
// random part, so that no two processes ever share a name.
func DefaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/pid-%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Owner is the worker's lease name.
func (w *Worker) Owner() string { return w.o.Owner }

// Wake makes a running worker look at the queue now (a webhook arrived,
// an admin asked for a retry). It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Worker) acquire(ctx context.Context) (bool, error) {
	now := w.o.Now()
	ok, err := w.o.Store.AcquireWorkerLease(ctx, w.o.Owner, now, w.o.LeaseTTL)
	w.leaseMu.Lock()
	defer w.leaseMu.Unlock()
	if err == nil && ok {
		w.leaseAt = now
	} else {
		w.leaseAt = time.Time{}
	}
	return ok, err
}

// holdLease makes sure the worker holds the lease: renewed within the
// last third of its duration, it still has two thirds left, and no other
// worker can have taken it; otherwise it is renewed now.
func (w *Worker) holdLease(ctx context.Context) (bool, error) {
	w.leaseMu.Lock()
	fresh := !w.leaseAt.IsZero() && w.o.Now().Before(w.leaseAt.Add(w.o.LeaseTTL/3))
	w.leaseMu.Unlock()
	if fresh {
		return true, nil
	}
	return w.acquire(ctx)
}

// ProcessDue works on every event due now, Parallel at a time, and returns
// how many it took. It takes (or renews) the lease first and returns
// ErrLeaseHeld when another worker has it.
func (w *Worker) ProcessDue(ctx context.Context) (int, error) {
	ok, err := w.acquire(ctx)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, ErrLeaseHeld
	}
	due, err := w.o.Store.DueWebhooks(ctx, w.o.Now(), 0)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, w.o.Parallel)
	var wg sync.WaitGroup
	for _, e := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_ = w.handle(ctx, e)
		}()
	}
	wg.Wait()
	return len(due), nil
}

// Run works on the queue until ctx ends: it waits for the lease (another
// process may hold it), removes what a crash left half written, then takes
// due events as they come, and gives the lease up when it stops.
func (w *Worker) Run(ctx context.Context) error {
	if !w.waitForLease(ctx) {
		return nil
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.o.Store.ReleaseWorkerLease(rctx, w.o.Owner); err != nil {
			w.log.Warn("could not release the worker lease", "err", err)
		}
	}()
	if n, err := RemoveTempFiles(w.o.Home); err != nil {
		w.log.Warn("could not remove temporary files", "err", err)
	} else if n > 0 {
		w.log.Info("removed temporary files left by an interrupted run", "files", n)
	}
	w.removeHeldOfFiled(ctx)

	inflight := map[int64]bool{}
	// pause keeps an event whose outcome could not be stored from being
	// taken again at once, over and over.
	pause := map[int64]time.Time{}
	done := make(chan handled)
	ticker := time.NewTicker(w.o.PollInterval)
	defer ticker.Stop()
	renewEvery := w.o.LeaseTTL / 3
	lastRenew := time.Now()
	for {
		if ctx.Err() == nil && len(inflight) < w.o.Parallel {
			w.dispatch(ctx, inflight, pause, done)
		}
		select {
		case <-ctx.Done():
			for len(inflight) > 0 {
				h := <-done
				delete(inflight, h.id)
			}
			return nil
		case h := <-done:
			delete(inflight, h.id)
			if h.err != nil {
				pause[h.id] = time.Now().Add(w.o.PollInterval)
			}
		case <-w.wake:
		case <-ticker.C:
		}
		if time.Since(lastRenew) >= renewEvery {
			ok, err := w.acquire(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				w.log.Warn("could not renew the worker lease", "err", err)
			case err == nil && !ok:
				w.log.Error("lost the worker lease to another worker; waiting for it again")
				for len(inflight) > 0 {
					h := <-done
					delete(inflight, h.id)
				}
				if !w.waitForLease(ctx) {
					return nil
				}
			}
			lastRenew = time.Now()
		}
	}
}

type handled struct {
	id  int64
	err error
}

// dispatch starts due events that are not already being worked on.
func (w *Worker) dispatch(ctx context.Context, inflight map[int64]bool, pause map[int64]time.Time, done chan<- handled) {
	due, err := w.o.Store.DueWebhooks(ctx, w.o.Now(), 4*w.o.Parallel)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("could not read the program queue", "err", err)
		}
		return
	}
	now := time.Now()
	for id, until := range pause {
		if now.After(until) {
			delete(pause, id)
		}
	}
	for _, e := range due {
		if len(inflight) >= w.o.Parallel {
			return
		}
		if inflight[e.ID] || !pause[e.ID].IsZero() {
			continue
		}
		inflight[e.ID] = true
		go func() { done <- handled{e.ID, w.handle(ctx, e)} }()
	}
}

// waitForLease blocks until this worker holds the lease (true) or ctx
// ends (false).
func (w *Worker) waitForLease(ctx context.Context) bool {
	logged := false
	for {
		ok, err := w.acquire(ctx)
		if err == nil && ok {
			if logged {
				w.log.Info("took over the program queue")
			}
			return true
		}
		if err != nil && ctx.Err() == nil {
			w.log.Warn("could not take the worker lease", "err", err)
		} else if !logged {
			w.log.Info("another worker is processing the program queue; waiting until it stops", "retry_every", w.o.PollInterval)
			logged = true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(w.o.PollInterval):
		}
	}
}

// heldPath is where an unmatched event's PDF waits for an assignment.
func (w *Worker) heldPath(id int64) string {
	return filepath.Join(w.o.Home, ProgramsDir, heldDir, strconv.FormatInt(id, 10)+".pdf")
}

// removeHeldOfFiled deletes held PDFs whose events were filed (a crash
// between filing and removing them).
func (w *Worker) removeHeldOfFiled(ctx context.Context) {
	dir := filepath.Join(w.o.Home, ProgramsDir, heldDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		id, err := strconv.ParseInt(strings.TrimSuffix(de.Name(), ".pdf"), 10, 64)
		if err != nil {
			continue
		}
		e, err := w.o.Store.Webhook(ctx, id)
		if (err == nil && e.Status == core.WebhookFiled) || core.ErrorCode(err) == core.ENOTFOUND {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// match finds who and where the event belongs: the practitioner whose key
// it carried (current or retired), and the patient (the one an admin
// assigned, else the one Physitrack named). problem says why it cannot be
// filed yet.
func (w *Worker) match(ctx context.Context, e *core.WebhookEvent) (practitionerID, patientID, problem string, err error) {
	practitionerID = e.PractitionerID
	if practitionerID == "" {
		p, _, err := w.o.Store.PractitionerByKeyHash(ctx, e.TokenHash)
		switch {
		case err == nil:
			practitionerID = p.ID
		case core.ErrorCode(err) != core.ENOTFOUND:
			return "", "", "", fmt.Errorf("match practitioner: %w", err)
		}
	}
	patientID = e.AssignedPatientID
	if patientID == "" {
		patientID = e.PatientID
	}
	_, err = w.o.Store.Patient(ctx, patientID)
	switch {
	case core.ErrorCode(err) == core.ENOTFOUND:
		problem = fmt.Sprintf("No patient has id %q.", patientID)
	case err != nil:
		return "", "", "", fmt.Errorf("match patient: %w", err)
	}
	if practitionerID == "" && e.AssignedPatientID == "" {
		problem = strings.TrimSpace("No practitioner on PT Desk has the key this program came with (not set up here, or removed). " + problem)
	}
	if problem != "" {
		problem += " Assign the program to a patient to file it."
	}
	return practitionerID, patientID, problem, nil
}

// handle takes one event as far as it can go now and records the outcome.
// The error is for the dispatcher only: the outcome could not be stored.
func (w *Worker) handle(ctx context.Context, e *core.WebhookEvent) error {
	practitionerID, patientID, problem, err := w.match(ctx, e)
	if err != nil {
		return w.failed(ctx, e, err)
	}
	e.PractitionerID = practitionerID
	held := w.heldPath(e.ID)
	_, herr := os.Stat(held)
	hasHeld := herr == nil

	if problem != "" && hasHeld {
		return w.unmatched(ctx, e, problem)
	}
	dir := w.incomingDir(patientID, problem != "")
	w.yield(ctx)
	tmp, err := createTemp(dir)
	if err != nil {
		return w.failed(ctx, e, err)
	}
	tmpPath := tmp.Name()
	keepTmp := false
	defer func() {
		if !keepTmp {
			os.Remove(tmpPath)
		}
	}()
	var res Result
	if hasHeld {
		res, err = copyFile(tmp, held)
	} else {
		res, err = w.download(ctx, e, tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return w.failed(ctx, e, err)
	}
	if problem != "" {
		if err := os.Rename(tmpPath, held); err != nil {
			return w.failed(ctx, e, fmt.Errorf("keep the PDF of an unmatched program: %w", err))
		}
		keepTmp = true
		if err := syncDir(filepath.Dir(held)); err != nil {
			return w.failed(ctx, e, err)
		}
		return w.unmatched(ctx, e, problem)
	}
	// From here on the PDF is safe on disk: finish filing it even if
	// the worker is being stopped.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	w.yield(ctx)
	p, err := w.file(fctx, e, patientID, practitionerID, tmpPath, res)
	if err != nil {
		if errors.Is(err, errLeaseLost) {
			w.log.Error("not filing: another worker took over the program queue", "event", e.ID)
			return err
		}
		if core.ErrorCode(err) == core.ECONFLICT && core.ErrorField(err) == "event_id" {
			// Filed already (by an earlier run): nothing left to do.
			w.log.Warn("program webhook already filed", "event", e.ID, "err", err)
			return nil
		}
		return w.failed(fctx, e, err)
	}
	keepTmp = true // published or removed by file
	if hasHeld {
		_ = os.Remove(held)
	}
	w.log.Info("program filed", "event", e.ID, "patient", p.PatientID, "program", p.Name, "version", p.Version,
		"path", p.Path, "bytes", p.Size)
	w.o.Filed(p)
	return nil
}

// incomingDir is where the PDF is written before it is filed: the
// patient's own directory (so that the final rename stays in one
// directory), the held directory for an unmatched event, or a working
// directory when PDFs go to the store.
func (w *Worker) incomingDir(patientID string, unmatched bool) string {
	switch {
	case unmatched:
		return filepath.Join(w.o.Home, ProgramsDir, heldDir)
	case w.o.KeepPDFsInStore:
		return filepath.Join(w.o.Home, ProgramsDir, incomingDir)
	}
	return filepath.Join(w.o.Home, PatientDir(patientID))
}

func (w *Worker) download(ctx context.Context, e *core.WebhookEvent, dst io.Writer) (Result, error) {
	s, err := w.o.Store.Settings(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("read the download allow-list: %w", err)
	}
	origins := s.DownloadOrigins
	if len(origins) == 0 {
		origins = core.DefaultSettings().DownloadOrigins
	}
	allow, err := NewAllowList(origins)
	if err != nil {
		return Result{}, refusal("The download allow-list is not valid (%s); fix it with ptdeskctl config set download-origins.", core.ErrorMessage(err))
	}
	return w.dl.Download(ctx, e.FileURL, allow, dst)
}

// copyFile copies a held PDF into the temporary file, hashing it.
func copyFile(dst io.Writer, src string) (Result, error) {
	f, err := os.Open(src)
	if err != nil {
		return Result{}, fmt.Errorf("read the held PDF: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(dst, h), f)
	if err != nil {
		return Result{}, fmt.Errorf("copy the held PDF: %w", err)
	}
	return Result{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// errLeaseLost stops a worker from filing after another took the queue.
var errLeaseLost = errors.New("the worker lease passed to another worker before the program was filed")

// file gives the program its version and final name and records it, as
// one step (commitMu), after checking that this worker still holds the
// lease. A final name that exists already is never replaced: when it holds
// these very bytes and no program claims it, it is this event's own file
// from a run that stopped before recording it, and is used as it is;
// otherwise the event's id goes into the name.
func (w *Worker) file(ctx context.Context, e *core.WebhookEvent, patientID, practitionerID, tmpPath string, res Result) (*core.Program, error) {
	w.commitMu.Lock()
	defer w.commitMu.Unlock()
	ok, err := w.holdLease(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errLeaseLost
	}
	version, err := w.o.Store.NextProgramVersion(ctx, patientID, e.Name)
	if err != nil {
		return nil, err
	}
	p := &core.Program{
		PatientID: patientID, PractitionerID: practitionerID, Name: e.Name, Date: e.Date, CreatedAt: e.DateISO,
		Updated: e.Updated, Version: version, SHA256: res.SHA256, Size: res.Size, FiledAt: w.o.Now(),
	}
	if w.o.KeepPDFsInStore {
		pdf, err := os.ReadFile(tmpPath)
		if err != nil {
			return nil, fmt.Errorf("read the downloaded PDF: %w", err)
		}
		if err := w.o.Store.FileProgram(ctx, e.ID, p, pdf); err != nil {
			return nil, err
		}
		_ = os.Remove(tmpPath)
		return p, nil
	}
	rel, err := w.publish(ctx, e, patientID, version, tmpPath, res)
	if err != nil {
		return nil, err
	}
	p.Path = filepath.ToSlash(rel)
	if err := w.o.Store.FileProgram(ctx, e.ID, p, nil); err != nil {
		return nil, err
	}
	return p, nil
}

// publish moves the temporary file to its final name and returns that
// name relative to Home.
func (w *Worker) publish(ctx context.Context, e *core.WebhookEvent, patientID string, version int, tmpPath string, res Result) (string, error) {
	dir := PatientDir(patientID)
	base := FileName(e.Date, e.Name, version)
	names := []string{base, strings.TrimSuffix(base, ".pdf") + " (event " + strconv.FormatInt(e.ID, 10) + ").pdf"}
	var claimed map[string]bool
	for _, name := range names {
		rel := filepath.Join(dir, name)
		abs := filepath.Join(w.o.Home, rel)
		err := publish(tmpPath, abs)
		if err == nil {
			return rel, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		if claimed == nil {
			ps, err := w.o.Store.Programs(ctx, patientID)
			if err != nil {
				return "", err
			}
			claimed = map[string]bool{}
			for _, p := range ps {
				claimed[p.Path] = true
			}
		}
		if !claimed[filepath.ToSlash(rel)] && fileHash(abs) == res.SHA256 {
			_ = os.Remove(tmpPath)
			return rel, nil
		}
	}
	return "", fmt.Errorf("file the PDF: %s and %s exist already and hold another program", names[0], names[1])
}

// fileHash is the hex SHA-256 of a file, "" when it cannot be read.
func fileHash(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// unmatched records that the event waits for an admin.
func (w *Worker) unmatched(ctx context.Context, e *core.WebhookEvent, problem string) error {
	e.Status, e.LastError = core.WebhookUnmatched, problem
	if err := w.o.Store.UpdateWebhook(ctx, e); err != nil {
		w.log.Error("could not record an unmatched program", "event", e.ID, "err", err)
		return err
	}
	w.log.Warn("program webhook unmatched", "event", e.ID, "program", e.Name, "reason", problem)
	w.o.Changed(e)
	return nil
}

// deadline is when the PDF is gone: Lifetime after its creation (never
// counted from a creation time in the future).
func (w *Worker) deadline(e *core.WebhookEvent) time.Time {
	created := e.DateISO
	if created.IsZero() || created.After(e.ReceivedAt) {
		created = e.ReceivedAt
	}
	return created.Add(w.o.Lifetime)
}

// backoff is the wait before attempt n+1: RetryBase doubled per attempt up
// to RetryMax, then spread over its upper half by the jitter so that
// retries of many events do not arrive together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.o.RetryBase
	for i := 1; i < attempts && d < w.o.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.o.RetryMax)
	return d/2 + time.Duration(w.o.Jitter()*float64(d/2))
}

// failed records a failed attempt: a refusal is final, anything else is
// tried again later, until the PDF's lifetime is over.
func (w *Worker) failed(ctx context.Context, e *core.WebhookEvent, cause error) error {
	if ctx.Err() != nil {
		// Stopping: the event stays as it was and is taken up again.
		return ctx.Err()
	}
	now := w.o.Now()
	e.Attempts++
	deadline := w.deadline(e)
	var de *DownloadError
	isDownload := errors.As(cause, &de)
	reason := cause.Error()
	if !isDownload {
		reason = "PT Desk could not file the PDF: " + cause.Error()
	}
	gone := isDownload && !de.Temporary && (de.Status == 403 || de.Status == 404 || de.Status == 410)
	switch {
	case isDownload && !de.Temporary && !(gone && !now.Before(deadline)):
		e.Status, e.LastError = core.WebhookRefused, reason
		w.log.Warn("program download refused", "event", e.ID, "origin", Origin(e.FileURL), "reason", reason)
	case !now.Before(deadline):
		e.Status = core.WebhookExpired
		e.LastError = fmt.Sprintf("The PDF of %q was not downloaded before its link expired (%s after %s). Last error: %s Download it from Physitrack by hand.",
			e.Name, w.o.Lifetime, e.DateISO.Format(time.RFC3339), reason)
		w.log.Warn("program download expired", "event", e.ID, "origin", Origin(e.FileURL), "attempts", e.Attempts, "reason", reason)
	default:
		next := now.Add(w.backoff(e.Attempts))
		if next.After(deadline) {
			next = deadline
		}
		e.Status, e.LastError, e.NextAttemptAt = core.WebhookPending, reason, next
		w.log.Info("program download will be retried", "event", e.ID, "origin", Origin(e.FileURL), "attempts", e.Attempts,
			"next", next.Format(time.RFC3339), "reason", reason)
	}
	if err := w.o.Store.UpdateWebhook(ctx, e); err != nil {
		w.log.Error("could not record a failed program download", "event", e.ID, "err", err)
		return err
	}
	w.o.Changed(e)
	return nil
}
