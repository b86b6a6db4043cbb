package programs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/programs"
	"ptdesk/core/sqlite"
)

// TestCrashLosesNothing runs `ptdeskctl serve` as a separate process, sends
// it 1,000 webhooks at once, kills it with SIGKILL part way, starts it
// again and delivers again what got no 200 (as Physitrack's retry does).
// Every event answered 200 must end up filed exactly once, with the bytes
// the server sent, and no temporary or stray file may remain.
func TestCrashLosesNothing(t *testing.T) {
	const (
		total       = 1000
		concurrency = 32
		killAfter   = 300 // acknowledged webhooks before the kill
		patients    = 20
	)
	bin := buildPtdeskctl(t)
	ctx := context.Background()
	home := t.TempDir()

	// The PDFs: /p/N is program N's; a little slow, so that downloads are
	// in flight when the kill comes.
	pdfs := newPDFServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		time.Sleep(2 * time.Millisecond)
		servePDF(w, pdfBytes(n))
	})

	// The data directory: a practitioner, the patients, the allow-list,
	// and the secret in a private file.
	db, err := sqlite.Open(ctx, filepath.Join(home, "ptdesk.db"))
	must(t, err)
	lee := &core.Practitioner{Name: "Dr Lee", Server: "uk"}
	must(t, db.CreatePractitioner(ctx, lee))
	must(t, db.SetKeyInfo(ctx, lee.ID, keys.Describe(keyLee, time.Now())))
	for i := 1; i <= patients; i++ {
		must(t, db.CreatePatient(ctx, &core.Patient{FirstName: "Patient", LastName: strconv.Itoa(i)}))
	}
	s, err := db.Settings(ctx)
	must(t, err)
	s.DownloadOrigins = []string{pdfs.URL}
	must(t, db.SaveSettings(ctx, s))
	must(t, db.Close())
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	must(t, programs.WriteSecretFile(secretFile, testSecret))

	addr := freeAddr(t)
	webhookURL := "http://" + addr + programs.DefaultPath
	serve := func() *process {
		p := startProcess(t, bin, "--home", home, "serve", "--addr", addr, "--secret-file", secretFile)
		p.waitListening(t, addr)
		return p
	}
	created := time.Now().UTC().Truncate(time.Second)
	body := func(n int) []byte {
		b, _ := json.Marshal(hook{APIKey: testSecret, Token: keyLee, PatientID: strconv.Itoa(n%patients + 1),
			FileURL: fmt.Sprintf("%s/p/%d", pdfs.URL, n), Name: fmt.Sprintf("Program %d", n),
			Date: created.Format(time.DateOnly), DateISO: created.Format(time.RFC3339)})
		return b
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	// deliver posts the webhooks numbered in todo, concurrency at a time,
	// and returns those answered 200; after killAt acknowledgements (0:
	// never) it kills the server.
	deliver := func(todo []int, server *process, killAt int64) []int {
		var (
			mu     sync.Mutex
			acked  []int
			count  atomic.Int64
			killed sync.Once
			wg     sync.WaitGroup
		)
		next := make(chan int)
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range next {
					res, err := client.Post(webhookURL, "application/json", bytes.NewReader(body(n)))
					if err != nil {
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						continue
					}
					mu.Lock()
					acked = append(acked, n)
					mu.Unlock()
					if killAt > 0 && count.Add(1) == killAt {
						killed.Do(func() { _ = server.cmd.Process.Kill() })
					}
				}
			}()
		}
		for _, n := range todo {
			next <- n
		}
		close(next)
		wg.Wait()
		return acked
	}

	all := make([]int, total)
	for i := range all {
		all[i] = i + 1
	}
	first := serve()
	ackedBefore := deliver(all, first, killAfter)
	<-first.exited
	if len(ackedBefore) < killAfter || len(ackedBefore) == total {
		t.Fatalf("%d of %d webhooks acknowledged before the kill; the kill did not land in the middle", len(ackedBefore), total)
	}
	client.CloseIdleConnections()
	db, err = sqlite.Open(ctx, filepath.Join(home, "ptdesk.db"))
	must(t, err)
	st, err := db.QueueStats(ctx)
	must(t, err)
	filed, err := db.Programs(ctx, "")
	must(t, err)
	must(t, db.Close())
	t.Logf("killed after %d acknowledgements: %d filed, %d pending, files on disk %d", len(ackedBefore), len(filed), st.Pending, len(filesUnder(t, home)))

	second := serve()
	done := map[int]bool{}
	for _, n := range ackedBefore {
		done[n] = true
	}
	var again []int
	for _, n := range all {
		if !done[n] {
			again = append(again, n)
		}
	}
	ackedAfter := deliver(again, second, 0)
	if len(ackedAfter) != len(again) {
		t.Fatalf("after the restart %d of %d redeliveries were acknowledged", len(ackedAfter), len(again))
	}

	db, err = sqlite.Open(ctx, filepath.Join(home, "ptdesk.db"))
	must(t, err)
	defer db.Close()
	waitFor(t, "every event to be worked on", func() bool {
		st, err := db.QueueStats(ctx)
		return err == nil && st.Pending == 0
	})
	// A clean stop on SIGTERM.
	second.stopGracefully(t)

	list, err := db.Programs(ctx, "")
	must(t, err)
	byName := map[string][]*core.Program{}
	for _, p := range list {
		byName[p.Name] = append(byName[p.Name], p)
	}
	for _, n := range all {
		ps := byName[fmt.Sprintf("Program %d", n)]
		if len(ps) != 1 {
			t.Fatalf("program %d filed %d times, want once", n, len(ps))
		}
		p := ps[0]
		if p.PatientID != strconv.Itoa(n%patients+1) || p.Version != 1 || p.SHA256 != sha(pdfBytes(n)) {
			t.Fatalf("program %d filed as %+v", n, p)
		}
		got, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(p.Path)))
		if err != nil || !bytes.Equal(got, pdfBytes(n)) {
			t.Fatalf("program %d: the file at %s is not the PDF sent (%v)", n, p.Path, err)
		}
	}
	if len(list) != total {
		t.Fatalf("%d programs filed, want %d", len(list), total)
	}
	inbox, err := db.Inbox(ctx, core.InboxFilter{})
	must(t, err)
	if len(inbox) != 0 {
		t.Fatalf("%d events not filed; the first: %s %q", len(inbox), inbox[0].Status, inbox[0].LastError)
	}
	// On disk: exactly the filed PDFs, nothing half written.
	files := filesUnder(t, home)
	if len(files) != total {
		t.Fatalf("%d files under programs/, want %d", len(files), total)
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".pdf") || strings.Contains(f, "/.") {
			t.Fatalf("stray file %s", f)
		}
	}
}

// buildPtdeskctl builds the command line once per test run, without cgo,
// as it ships for servers.
func buildPtdeskctl(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "ptdeskctl")
	if runtime.GOOS == "windows" {
		bin += ".exe"
		goTool += ".exe"
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "ptdesk/cmd/ptdeskctl")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ptdeskctl: %v\n%s", err, out)
	}
	return bin
}

// freeAddr finds a loopback port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	must(t, ln.Close())
	return addr
}

// process is ptdeskctl running in the background.
type process struct {
	cmd    *exec.Cmd
	log    *limitedBuffer
	exited chan struct{}
	err    error
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: &limitedBuffer{max: 1 << 20}, exited: make(chan struct{})}
	p.cmd.Stdout = io.Discard
	p.cmd.Stderr = p.log
	must(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// waitListening waits until the server accepts connections.
func (p *process) waitListening(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, "ptdeskctl serve to listen", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("ptdeskctl serve exited: %v\n%s", p.err, p.log)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// stopGracefully sends SIGINT (a kill on Windows, which has no such
// signal for other processes) and requires a clean exit.
func (p *process) stopGracefully(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		_ = p.cmd.Process.Kill()
		<-p.exited
		return
	}
	must(t, p.cmd.Process.Signal(os.Interrupt))
	<-p.exited
	log := p.log.String()
	if p.err != nil {
		t.Fatalf("ptdeskctl serve did not stop cleanly: %v\n%s", p.err, log)
	}
	if !strings.Contains(log, "stopped receiving program webhooks") {
		t.Fatalf("no clean stop in the log:\n%s", log)
	}
	for _, s := range []string{testSecret, keyLee} {
		if strings.Contains(log, s) {
			t.Fatal("a secret appears in the server's log")
		}
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
