package programs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/programs"
	"ptdesk/core/sqlite"
)

// Secrets used across the tests; each passes the key rule.
const (
	testSecret = "Webhook7Secret4Qm3Vx9Lp2Rt5Wz8Nc4Hb"
	keyLee     = "LeeKey7Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd1FsA"
	keyLeeOld  = "LeeOld2Xq9Wm4Tz7Kc3Vn8Hr5Lb6Jp1GdB"
	keyUnknown = "NobodyKey4Tn8Yw2Kq6Xc9Mv3Gp7Lr5Hz1"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)} }

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

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a data directory with a store holding one practitioner (Dr Lee,
// whose key was rotated: the old one is retired) and one patient (id 1,
// Jane Smith), a receiver and a worker on a test clock.
type env struct {
	t      *testing.T
	home   string
	store  *sqlite.DB
	clock  *clock
	log    *syncBuffer
	rec    *programs.Receiver
	worker *programs.Worker
	filed  []*core.Program
	mu     sync.Mutex
}

type envOptions struct {
	origins  []string
	download programs.DownloadOptions
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, home: t.TempDir(), clock: newClock(), log: &syncBuffer{}}
	db, err := sqlite.Open(ctx, filepath.Join(e.home, "ptdesk.db"), sqlite.WithNow(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.store = db
	lee := &core.Practitioner{Name: "Dr Lee", Server: "uk"}
	must(t, db.CreatePractitioner(ctx, lee))
	must(t, db.SetKeyInfo(ctx, lee.ID, keys.Describe(keyLeeOld, e.clock.Now())))
	must(t, db.SetKeyInfo(ctx, lee.ID, keys.Describe(keyLee, e.clock.Now())))
	must(t, db.CreatePatient(ctx, &core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980}))
	s, err := db.Settings(ctx)
	must(t, err)
	if o.origins != nil {
		s.DownloadOrigins = o.origins
		must(t, db.SaveSettings(ctx, s))
	}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.rec, err = programs.NewReceiver(programs.ReceiverOptions{Store: db, Secret: testSecret, Now: e.clock.Now, Logger: logger})
	must(t, err)
	if o.download.ReadTimeout == 0 {
		o.download.ReadTimeout = 5 * time.Second
	}
	dl := programs.NewDownloader(o.download)
	t.Cleanup(dl.Close)
	e.worker = programs.NewWorker(programs.WorkerOptions{
		Store: db, Home: e.home, Downloader: dl, Now: e.clock.Now, Jitter: func() float64 { return 0.5 },
		Logger: logger, RetryBase: time.Minute, RetryMax: time.Hour,
		Filed: func(p *core.Program) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.filed = append(e.filed, p)
		},
	})
	t.Cleanup(func() { e.checkNoSecretLeaked() })
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hook is a webhook body as Physitrack sends it.
type hook struct {
	APIKey    string `json:"api_key"`
	Token     string `json:"token"`
	PatientID string `json:"patient_id"`
	FileURL   string `json:"file_url"`
	Name      string `json:"name"`
	Date      string `json:"date"`
	DateISO   string `json:"date_iso"`
	Updated   bool   `json:"updated"`
}

// hookFor is a valid webhook for patient 1 from Dr Lee, created now.
func (e *env) hookFor(fileURL, name string) hook {
	now := e.clock.Now()
	return hook{APIKey: testSecret, Token: keyLee, PatientID: "1", FileURL: fileURL, Name: name,
		Date: now.Format(time.DateOnly), DateISO: now.Format(time.RFC3339)}
}

// post sends a body to the receiver and returns the status and answer.
func (e *env) post(body []byte, contentType string) (int, map[string]any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, programs.DefaultPath, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	e.rec.ServeHTTP(w, req)
	var ans map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &ans)
	return w.Code, ans
}

// send posts h and requires 200, returning the event id.
func (e *env) send(h hook) int64 {
	e.t.Helper()
	b, err := json.Marshal(h)
	must(e.t, err)
	status, ans := e.post(b, "application/json")
	if status != http.StatusOK {
		e.t.Fatalf("webhook answered %d %v, want 200", status, ans)
	}
	return int64(ans["id"].(float64))
}

// process runs the worker over what is due and requires it took n events.
func (e *env) process(n int) {
	e.t.Helper()
	got, err := e.worker.ProcessDue(context.Background())
	must(e.t, err)
	if got != n {
		e.t.Fatalf("worker took %d events, want %d", got, n)
	}
}

func (e *env) event(id int64) *core.WebhookEvent {
	e.t.Helper()
	ev, err := e.store.Webhook(context.Background(), id)
	must(e.t, err)
	return ev
}

// files lists the files under the programs directory (relative, with
// forward slashes), the lock file left out.
func (e *env) files() []string {
	e.t.Helper()
	return filesUnder(e.t, e.home)
}

func filesUnder(t *testing.T, home string) []string {
	t.Helper()
	root := filepath.Join(home, programs.ProgramsDir)
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == programs.LockFile {
			return nil
		}
		rel, _ := filepath.Rel(home, path)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	must(t, err)
	sort.Strings(out)
	return out
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkNoSecretLeaked looks for the webhook secret and the keys in the log
// and in every file of the data directory.
func (e *env) checkNoSecretLeaked() {
	secrets := []string{testSecret, keyLee, keyLeeOld, keyUnknown}
	for _, s := range secrets {
		if strings.Contains(e.log.String(), s) {
			e.t.Errorf("a secret appears in the log")
		}
	}
	_ = filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				e.t.Errorf("a secret appears in %s", filepath.Base(path))
			}
		}
		return nil
	})
}

// pdfBytes is a small but real-looking PDF, different for each n.
func pdfBytes(n int) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.4\n%% program %d\n%s\n%%%%EOF\n", n, strings.Repeat("x", 2000+n)))
}

func slogTo(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
