package programs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/programs"
)

// pdfServer serves whatever its handler says, counting requests per path.
type pdfServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

// newPDFServer starts a server; handle gets the request's attempt number
// for its path (1 for the first).
func newPDFServer(t *testing.T, handle func(attempt int, w http.ResponseWriter, r *http.Request)) *pdfServer {
	t.Helper()
	s := &pdfServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		n := s.hits[r.URL.Path]
		s.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *pdfServer) hitsOf(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// servePDF answers with the PDF, with its length.
func servePDF(w http.ResponseWriter, pdf []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	_, _ = w.Write(pdf)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}

func TestWorkerFilesAndKeepsVersions(t *testing.T) {
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		servePDF(w, pdfBytes(n))
	})
	e := newEnv(t, envOptions{origins: []string{"https://*.physitrack.com", srv.URL}})
	ctx := context.Background()

	id1 := e.send(e.hookFor(srv.URL+"/p/1?signature=s3cr3t", "Knee rehab"))
	e.process(1)
	ev := e.event(id1)
	if ev.Status != core.WebhookFiled || ev.ProgramID == 0 || ev.PractitionerID == "" {
		t.Fatalf("event after processing: %+v", ev)
	}
	want1 := filepath.Join("programs", "1", "2026-03-14_Knee rehab.pdf")
	if got := readFile(t, filepath.Join(e.home, want1)); !bytes.Equal(got, pdfBytes(1)) {
		t.Fatal("the filed PDF differs from what the server sent")
	}

	// An update, sent with the practitioner's previous (retired) key,
	// is matched to them, becomes version 2 and keeps version 1.
	e.clock.Advance(time.Hour)
	h := e.hookFor(srv.URL+"/p/2", "Knee rehab")
	h.Updated, h.Token = true, keyLeeOld
	id2 := e.send(h)
	e.process(1)
	list, err := e.store.Programs(ctx, "1")
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d programs, want 2", len(list))
	}
	v2, v1 := list[0], list[1]
	want2 := "programs/1/2026-03-14_Knee rehab (v2).pdf"
	if v2.EventID != id2 || v2.Version != 2 || !v2.Updated || v2.Path != want2 || v2.PractitionerID != ev.PractitionerID ||
		v2.SHA256 != sha(pdfBytes(2)) || v2.Size != int64(len(pdfBytes(2))) || v2.Name != "Knee rehab" {
		t.Fatalf("update filed as %+v", v2)
	}
	if v1.Path != filepath.ToSlash(want1) || v1.Version != 1 || v1.SHA256 != sha(pdfBytes(1)) || !v1.CreatedAt.Equal(e.clock.Now().Add(-time.Hour)) {
		t.Fatalf("first version recorded as %+v", v1)
	}
	if got := e.files(); strings.Join(got, "|") != want2+"|"+filepath.ToSlash(want1) {
		t.Fatalf("files = %q", got)
	}
	if len(e.filed) != 2 {
		t.Fatalf("Filed called %d times, want 2", len(e.filed))
	}
	if strings.Contains(e.log.String(), "s3cr3t") {
		t.Error("the file URL's signature was logged")
	}
	// Nothing is due any more, and redelivering changes nothing.
	if again := e.send(h); again != id2 {
		t.Fatalf("redelivery recorded as event %d, want %d", again, id2)
	}
	e.process(0)
}

func TestWorkerRefusals(t *testing.T) {
	// other is a server that must never be asked for anything.
	other := newPDFServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { servePDF(w, pdfBytes(9)) })
	big := bytes.Repeat([]byte("x"), 10_000)
	big = append([]byte("%PDF-1.4\n"), big...)
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, other.URL+"/secret", http.StatusFound)
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>Sign in</html>")
		case "/empty":
			w.Header().Set("Content-Length", "0")
		case "/big":
			servePDF(w, big)
		case "/big-unannounced":
			// No length: the limit must hold while streaming.
			w.Header().Set("Content-Type", "application/pdf")
			w.(http.Flusher).Flush()
			_, _ = w.Write(big)
		case "/gone":
			http.NotFound(w, r)
		default:
			servePDF(w, pdfBytes(1))
		}
	})
	tests := []struct {
		name    string
		origins []string
		url     string
		reason  string
	}{
		{"http URL not listed", []string{"https://*.physitrack.com"}, srv.URL + "/ok", "uses http://"},
		{"host off the allow-list", []string{"https://*.physitrack.com"}, "https://files.example.org/p.pdf", "not on the download allow-list"},
		{"redirect to a loopback origin not listed", []string{srv.URL}, srv.URL + "/redirect", "redirected to " + other.URL},
		{"not a PDF", []string{srv.URL}, srv.URL + "/html", "not a PDF"},
		{"empty body", []string{srv.URL}, srv.URL + "/empty", "not a PDF"},
		{"over the size limit", []string{srv.URL}, srv.URL + "/big", "more than the limit"},
		{"over the size limit while streaming", []string{srv.URL}, srv.URL + "/big-unannounced", "larger than the limit"},
		{"file not found", []string{srv.URL}, srv.URL + "/gone", "404"},
		{"wildcard host leading to this computer", []string{"https://*.physitrack.test"}, "https://uk.physitrack.test/p.pdf", "private network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envOptions{origins: tt.origins, download: programs.DownloadOptions{
				MaxBytes: 4096,
				LookupIP: func(ctx context.Context, host string) ([]net.IPAddr, error) {
					if strings.HasSuffix(host, ".physitrack.test") {
						return []net.IPAddr{{IP: net.ParseIP("127.0.0.1")}}, nil
					}
					return net.DefaultResolver.LookupIPAddr(ctx, host)
				},
			}})
			id := e.send(e.hookFor(tt.url, "Knee rehab"))
			e.process(1)
			ev := e.event(id)
			if ev.Status != core.WebhookRefused || !strings.Contains(ev.LastError, tt.reason) {
				t.Fatalf("event = %s %q, want refused mentioning %q", ev.Status, ev.LastError, tt.reason)
			}
			if files := e.files(); len(files) != 0 {
				t.Fatalf("files written: %q", files)
			}
			if len(e.filed) != 0 {
				t.Fatal("a program was filed")
			}
			if other.hitsOf("/secret") != 0 {
				t.Fatal("the redirect was followed to a host off the allow-list")
			}
			// A refusal is final until someone retries it.
			e.clock.Advance(time.Hour)
			e.process(0)
		})
	}
}

func TestWorkerRetriesFaults(t *testing.T) {
	pdf := pdfBytes(7)
	tests := []struct {
		name     string
		attempts int // the attempt that succeeds
		reason   string
		fault    func(w http.ResponseWriter, r *http.Request, stop <-chan struct{})
	}{
		{"server error twice", 3, "500", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}},
		{"hangs before answering", 2, "did not answer in time", func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}},
		{"hangs in the middle of the body", 2, "stalled", func(w http.ResponseWriter, r *http.Request, stop <-chan struct{}) {
			w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
			_, _ = w.Write(pdf[:len(pdf)/2])
			w.(http.Flusher).Flush()
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}},
		{"cuts the body short", 2, "broke off", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
			_, _ = w.Write(pdf[:len(pdf)/2])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			srv := newPDFServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n < tt.attempts {
					tt.fault(w, r, stop)
					return
				}
				servePDF(w, pdf)
			})
			t.Cleanup(func() { close(stop) })
			e := newEnv(t, envOptions{origins: []string{srv.URL}, download: programs.DownloadOptions{ReadTimeout: 300 * time.Millisecond}})
			id := e.send(e.hookFor(srv.URL+"/p.pdf", "Hip mobility"))
			for attempt := 1; attempt < tt.attempts; attempt++ {
				e.process(1)
				ev := e.event(id)
				if ev.Status != core.WebhookPending || ev.Attempts != attempt || !strings.Contains(ev.LastError, tt.reason) {
					t.Fatalf("after attempt %d: %s, %d attempts, %q; want pending, retried, mentioning %q",
						attempt, ev.Status, ev.Attempts, ev.LastError, tt.reason)
				}
				if !ev.NextAttemptAt.After(e.clock.Now()) {
					t.Fatalf("next attempt %v is not after now %v", ev.NextAttemptAt, e.clock.Now())
				}
				if files := e.files(); len(files) != 0 {
					t.Fatalf("after a failed attempt, files: %q", files)
				}
				e.process(0) // not due yet: backoff
				e.clock.Advance(ev.NextAttemptAt.Sub(e.clock.Now()))
			}
			e.process(1)
			ev := e.event(id)
			if ev.Status != core.WebhookFiled {
				t.Fatalf("after attempt %d: %s %q, want filed", tt.attempts, ev.Status, ev.LastError)
			}
			files := e.files()
			if len(files) != 1 || !bytes.Equal(readFile(t, filepath.Join(e.home, files[0])), pdf) {
				t.Fatalf("files %q, want the one whole PDF", files)
			}
		})
	}
}

func TestWorkerBacksOffExponentiallyAndExpires(t *testing.T) {
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	e := newEnv(t, envOptions{origins: []string{srv.URL}})
	id := e.send(e.hookFor(srv.URL+"/p.pdf", "Balance program"))
	var waits []time.Duration
	for e.event(id).Status == core.WebhookPending {
		e.process(1)
		ev := e.event(id)
		if ev.Status == core.WebhookPending {
			waits = append(waits, ev.NextAttemptAt.Sub(e.clock.Now()))
			e.clock.Advance(ev.NextAttemptAt.Sub(e.clock.Now()))
		}
		if len(waits) > 200 {
			t.Fatal("still retrying after 200 attempts")
		}
	}
	// RetryBase 1 min, RetryMax 1 h, jitter 0.5: 45 s, 90 s, 3 min, ... up
	// to 45 min, and a last attempt at the deadline.
	wantFirst := []time.Duration{45 * time.Second, 90 * time.Second, 3 * time.Minute, 6 * time.Minute, 12 * time.Minute, 24 * time.Minute, 45 * time.Minute, 45 * time.Minute}
	for i, w := range wantFirst {
		if waits[i] != w {
			t.Fatalf("waits = %v, want them to start %v", waits[:len(wantFirst)], wantFirst)
		}
	}
	ev := e.event(id)
	if ev.Status != core.WebhookExpired || !strings.Contains(ev.LastError, `"Balance program"`) || !strings.Contains(ev.LastError, "503") {
		t.Fatalf("event = %s %q, want expired naming the program and the last error", ev.Status, ev.LastError)
	}
	if elapsed := e.clock.Now().Sub(ev.DateISO); elapsed != 24*time.Hour {
		t.Fatalf("expired %v after its creation, want exactly 24h (the last attempt at the deadline)", elapsed)
	}
	if len(e.files()) != 0 {
		t.Fatal("files written")
	}
}

func TestWorkerUnmatchedKeepsThePDFUntilAssigned(t *testing.T) {
	var gone atomic.Bool
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if gone.Load() {
			http.NotFound(w, r)
			return
		}
		servePDF(w, pdfBytes(3))
	})
	e := newEnv(t, envOptions{origins: []string{srv.URL}})
	ctx := context.Background()
	h := e.hookFor(srv.URL+"/p.pdf", "Ankle")
	h.PatientID = "999"
	noPatient := e.send(h)
	h2 := e.hookFor(srv.URL+"/q.pdf", "Wrist")
	h2.Token = keyUnknown
	noPractitioner := e.send(h2)
	e.process(2)

	tests := []struct {
		id     int64
		reason string
	}{
		{noPatient, `No patient has id "999"`},
		{noPractitioner, "No practitioner on PT Desk has the key"},
	}
	for _, tt := range tests {
		ev := e.event(tt.id)
		if ev.Status != core.WebhookUnmatched || !strings.Contains(ev.LastError, tt.reason) || !strings.Contains(ev.LastError, "Assign") {
			t.Fatalf("event %d = %s %q, want unmatched: %q", tt.id, ev.Status, ev.LastError, tt.reason)
		}
	}
	if got := e.files(); len(got) != 2 || !strings.HasPrefix(got[0], "programs/.unmatched/") {
		t.Fatalf("held files = %q, want both PDFs kept aside", got)
	}
	// The link has expired by the time an admin assigns the event: the
	// held PDF is filed all the same.
	gone.Store(true)
	e.clock.Advance(30 * time.Hour)
	ev := e.event(noPatient)
	ev.AssignedPatientID, ev.Status, ev.NextAttemptAt = "1", core.WebhookPending, e.clock.Now()
	must(t, e.store.UpdateWebhook(ctx, ev))
	e.process(1)
	ev = e.event(noPatient)
	if ev.Status != core.WebhookFiled {
		t.Fatalf("assigned event = %s %q, want filed", ev.Status, ev.LastError)
	}
	list, err := e.store.Programs(ctx, "1")
	must(t, err)
	if len(list) != 1 || list[0].PatientID != "1" || list[0].Name != "Ankle" || list[0].SHA256 != sha(pdfBytes(3)) || list[0].PractitionerID == "" {
		t.Fatalf("programs of patient 1 = %+v", list)
	}
	if got := e.files(); len(got) != 2 || got[0] != "programs/.unmatched/"+strconv.FormatInt(noPractitioner, 10)+".pdf" ||
		got[1] != "programs/1/2026-03-14_Ankle.pdf" {
		t.Fatalf("files after assigning = %q", got)
	}
	// A retry of the other, still unmatched, changes nothing.
	ev = e.event(noPractitioner)
	ev.Status, ev.NextAttemptAt = core.WebhookPending, e.clock.Now()
	must(t, e.store.UpdateWebhook(ctx, ev))
	e.process(1)
	if ev := e.event(noPractitioner); ev.Status != core.WebhookUnmatched {
		t.Fatalf("retried unmatched event = %s", ev.Status)
	}
}

func TestWorkerNeverReplacesAFile(t *testing.T) {
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		servePDF(w, pdfBytes(n))
	})
	e := newEnv(t, envOptions{origins: []string{srv.URL}})
	dir := filepath.Join(e.home, "programs", "1")
	must(t, os.MkdirAll(dir, 0o700))
	// A run stopped after publishing this event's file, before recording
	// it: the same bytes under the name it would get.
	must(t, os.WriteFile(filepath.Join(dir, "2026-03-14_Knee.pdf"), pdfBytes(1), 0o600))
	// Someone's own file under the name the next program would get.
	must(t, os.WriteFile(filepath.Join(dir, "2026-03-14_Hip.pdf"), []byte("%PDF-1.4 mine"), 0o600))
	// Temporary files a crash left behind.
	must(t, os.WriteFile(filepath.Join(dir, ".ptdesk-123.part"), []byte("%PDF-1.4 half"), 0o600))
	n, err := programs.RemoveTempFiles(e.home)
	must(t, err)
	if n != 1 {
		t.Fatalf("removed %d temporary files, want 1", n)
	}

	e.send(e.hookFor(srv.URL+"/p/1", "Knee"))
	e.send(e.hookFor(srv.URL+"/p/2", "Hip"))
	e.process(2)
	list, err := e.store.Programs(context.Background(), "1")
	must(t, err)
	paths := map[string]string{}
	for _, p := range list {
		paths[p.Name] = p.Path
	}
	if paths["Knee"] != "programs/1/2026-03-14_Knee.pdf" {
		t.Errorf("Knee filed at %q, want the file already there", paths["Knee"])
	}
	if !strings.HasPrefix(paths["Hip"], "programs/1/2026-03-14_Hip (event ") {
		t.Errorf("Hip filed at %q, want a name of its own", paths["Hip"])
	}
	if got := string(readFile(t, filepath.Join(dir, "2026-03-14_Hip.pdf"))); got != "%PDF-1.4 mine" {
		t.Errorf("the existing file was replaced: %q", got)
	}
	if got := e.files(); len(got) != 3 {
		t.Errorf("files = %q, want the two existing ones and one new", got)
	}
}

func TestWorkerLeaseKeepsASecondWorkerOut(t *testing.T) {
	srv := newPDFServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { servePDF(w, pdfBytes(1)) })
	e := newEnv(t, envOptions{origins: []string{srv.URL}})
	e.send(e.hookFor(srv.URL+"/p", "Knee"))
	other := programs.NewWorker(programs.WorkerOptions{Store: e.store, Home: e.home, Now: e.clock.Now, LeaseTTL: time.Minute})
	if _, err := other.ProcessDue(context.Background()); err != nil {
		t.Fatalf("first worker: %v", err)
	}
	if _, err := e.worker.ProcessDue(context.Background()); !errors.Is(err, programs.ErrLeaseHeld) {
		t.Fatalf("second worker while the first holds the lease: %v, want ErrLeaseHeld", err)
	}
	e.clock.Advance(2 * time.Minute)
	if _, err := e.worker.ProcessDue(context.Background()); err != nil {
		t.Fatalf("second worker after the lease ran out: %v", err)
	}
}
