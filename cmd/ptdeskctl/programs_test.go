package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/keys"
	"ptdesk/core/sqlite"
)

const leeKey = "LeeKey7Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd1FsA"

// lockedBuffer is a stderr written by a command running in the
// background and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// background runs one invocation until ctx ends; done receives its code.
func (e *env) background(ctx context.Context, args ...string) (*lockedBuffer, <-chan int) {
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	c := &cli{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: stderr, secrets: e.secrets}
	go func() { done <- c.run(ctx, append([]string{"--home", e.home}, args...)) }()
	return stderr, done
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProgramCommandsUsage(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		say   string
	}{
		{"retry without id", "", []string{"programs", "retry"}, exitUsage, "EVENT_ID"},
		{"retry with a word", "", []string{"programs", "retry", "abc"}, exitUsage, "not an event id"},
		{"assign without patient", "", []string{"programs", "assign", "1"}, exitUsage, "EVENT_ID PATIENT_ID"},
		{"secret without a mode", "", []string{"webhook", "secret"}, exitUsage, "--generate or --stdin"},
		{"secret with both modes", "", []string{"webhook", "secret", "--generate", "--stdin"}, exitUsage, "exactly one"},
		{"serve with an argument", "", []string{"serve", "now"}, exitUsage, "only flags"},
		{"weak secret", "short1A\n", []string{"webhook", "secret", "--stdin", "--file", filepath.Join(e.home, "s")}, exitError, "characters"},
		{"retry of a missing event", "", []string{"programs", "retry", "42"}, exitError, "42"},
		{"assign to a missing patient", "", []string{"programs", "assign", "1", "404"}, exitError, "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.say) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", r.code, r.stderr, tt.code, tt.say)
			}
		})
	}
	if out := e.ok(t, "programs", "inbox", "--json"); out != "[]" {
		t.Fatalf("empty inbox --json = %s", out)
	}
	if out := e.ok(t, "programs", "list", "--json"); out != "[]" {
		t.Fatalf("empty list --json = %s", out)
	}
}

// TestServeFilesProgramsFromTheCommandLine is a clinic server's life: a
// secret in a file, serve, programs arriving (one for a patient nobody
// has), the inbox, assign, and a clean stop.
func TestServeFilesProgramsFromTheCommandLine(t *testing.T) {
	e := newEnv(t)
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	r := e.run(t, "", "webhook", "secret", "--generate", "--file", secretFile)
	secret := strings.TrimSpace(r.stdout)
	if r.code != 0 || keys.Check(secret) != nil || strings.Contains(r.stderr, secret) || !strings.Contains(r.stderr, keys.Fingerprint(secret)) {
		t.Fatalf("webhook secret --generate --file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(secretFile); strings.TrimSpace(string(b)) != secret {
		t.Fatal("the secret file does not hold the printed secret")
	}
	if fi, _ := os.Stat(secretFile); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %04o", fi.Mode().Perm())
	}

	pdf := []byte("%PDF-1.4\n% knee\n%%EOF\n")
	pdfs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	defer pdfs.Close()
	e.ok(t, "patients", "add", "--first-name", "Jane", "--last-name", "Smith", "--birth-year", "1980")
	e.ok(t, "config", "set", "download-origins", "https://*.physitrack.com,"+pdfs.URL)
	// The practitioner's key as a desk would have recorded it.
	db, err := sqlite.Open(context.Background(), filepath.Join(e.home, desk.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	lee := &core.Practitioner{Name: "Dr Lee", Server: "uk"}
	if err := db.CreatePractitioner(context.Background(), lee); err != nil {
		t.Fatal(err)
	}
	if err := db.SetKeyInfo(context.Background(), lee.ID, keys.Describe(leeKey, time.Now())); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	log, done := e.background(ctx, "serve", "--addr", "127.0.0.1:0", "--secret-file", secretFile)
	urlPattern := regexp.MustCompile(`Receiving program webhooks at (\S+) `)
	var webhookURL string
	waitUntil(t, "serve to start", func() bool {
		m := urlPattern.FindStringSubmatch(log.String())
		if m != nil {
			webhookURL = m[1]
		}
		return m != nil
	})
	// The same directory cannot be served twice.
	if r := e.run(t, "", "serve", "--addr", "127.0.0.1:0", "--secret-file", secretFile); r.code != exitError || !strings.Contains(r.stderr, "already received by") {
		t.Fatalf("second serve: exit %d, %q", r.code, r.stderr)
	}

	post := func(patientID, name string) int {
		body, _ := json.Marshal(map[string]any{"api_key": secret, "token": leeKey, "patient_id": patientID,
			"file_url": pdfs.URL + "/" + name, "name": name, "date": "2026-03-14", "date_iso": "2026-03-14T09:30:00Z", "updated": false})
		res, err := http.Post(webhookURL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := post("1", "Knee"); s != http.StatusOK {
		t.Fatalf("webhook answered %d", s)
	}
	if s := post("77", "Hip"); s != http.StatusOK {
		t.Fatalf("webhook answered %d", s)
	}
	var inbox []map[string]any
	waitUntil(t, "the unmatched event in the inbox", func() bool {
		_ = json.Unmarshal([]byte(e.ok(t, "programs", "inbox", "--json")), &inbox)
		return len(inbox) == 1 && inbox[0]["status"] == "unmatched"
	})
	if table := e.ok(t, "programs", "inbox"); !strings.Contains(table, "unmatched") || !strings.Contains(table, "No patient has id") {
		t.Fatalf("inbox table:\n%s", table)
	}
	id := strconv.Itoa(int(inbox[0]["id"].(float64)))
	if r := e.run(t, "", "programs", "assign", id, "1"); r.code != 0 || !strings.Contains(r.stderr, "Hip") {
		t.Fatalf("assign: exit %d %q", r.code, r.stderr)
	}
	var list []map[string]any
	waitUntil(t, "both programs filed", func() bool {
		_ = json.Unmarshal([]byte(e.ok(t, "programs", "list", "--json", "--patient", "1")), &list)
		return len(list) == 2
	})
	for _, p := range list {
		if p["patient_name"] != "Jane Smith" || p["practitioner_name"] != "Dr Lee" || p["sha256"] == "" {
			t.Fatalf("listed %v", p)
		}
		b, err := os.ReadFile(filepath.Join(e.home, filepath.FromSlash(p["path"].(string))))
		if err != nil || !bytes.Equal(b, pdf) {
			t.Fatalf("file %v: %v", p["path"], err)
		}
	}
	if table := e.ok(t, "programs", "list"); !strings.Contains(table, "2026-03-14_Knee.pdf") || !strings.Contains(table, "Jane Smith") {
		t.Fatalf("list table:\n%s", table)
	}
	if r := e.run(t, "", "programs", "retry", id); r.code != exitError || !strings.Contains(r.stderr, "already filed") {
		t.Fatalf("retry of a filed event: exit %d %q", r.code, r.stderr)
	}

	stop()
	if code := <-done; code != exitOK {
		t.Fatalf("serve exited %d after the interrupt:\n%s", code, log)
	}
	out := log.String()
	if !strings.Contains(out, "stopped receiving program webhooks") {
		t.Fatalf("no clean stop in the log:\n%s", out)
	}
	for _, s := range []string{secret, leeKey} {
		if strings.Contains(out, s) {
			t.Fatal("a secret appears in serve's log")
		}
	}
}
