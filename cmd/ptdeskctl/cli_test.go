package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/sandbox"
	"ptdesk/core/secrets"
	"ptdesk/core/testkit"
)

// env is one data directory the tests run ptdeskctl against, with one
// keyring shared by all its invocations: the real Secret Service under
// 'make test', else an in-memory one.
type env struct {
	home    string
	secrets core.SecretStore
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{home: t.TempDir(), secrets: secrets.NewMemory()}
	if testkit.Required() {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		e.secrets = secrets.NewKeyring("ptdesk-test-" + hex.EncodeToString(b))
	}
	return e
}

// result is what one invocation printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (e *env) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, secrets: e.secrets}
	code := c.run(context.Background(), append([]string{"--home", e.home}, args...))
	return result{code, out.String(), errOut.String()}
}

// ok runs a command that must succeed and returns its stdout, trimmed.
func (e *env) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := e.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("ptdeskctl %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

func TestExitCodesAndMessages(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		mention string
	}{
		{"no command", "", nil, exitUsage, "no command"},
		{"unknown command", "", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"group without subcommand", "", []string{"patients"}, exitUsage, "patients add"},
		{"unknown flag", "", []string{"patients", "add", "--nickname", "x"}, exitUsage, "nickname"},
		{"missing positional", "", []string{"patients", "show"}, exitUsage, "patient ID"},
		{"keys set needs a mode", "", []string{"keys", "set", "Dr Lee"}, exitUsage, "--generate or --stdin"},
		{"open needs practitioner", "", []string{"open", "1"}, exitUsage, "--practitioner"},
		{"missing first name", "", []string{"patients", "add", "--last-name", "Smith"}, exitError, "First name"},
		{"bad phone", "", []string{"patients", "add", "--first-name", "A", "--last-name", "B", "--phone", "12ab"}, exitError, "Mobile phone"},
		{"ssn id", "", []string{"patients", "add", "--first-name", "A", "--last-name", "B", "--id", "123-45-6789"}, exitError, "social security"},
		{"birth year not a number", "", []string{"patients", "add", "--first-name", "A", "--last-name", "B", "--birth-year", "eighty"}, exitError, "Birth year"},
		{"unknown patient", "", []string{"patients", "show", "42"}, exitError, "42"},
		{"bad server", "", []string{"practitioners", "add", "--name", "X", "--server", "http://example.com"}, exitError, "https://"},
		{"bad pms name", "", []string{"config", "set", "pms-name", "Umbrella Corp"}, exitError, "lowercase"},
		{"bad region", "", []string{"config", "set", "phone-region", "XX"}, exitError, "XX"},
		{"weak key on stdin", "short1A\n", []string{"keys", "set", "nobody", "--stdin"}, exitError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if r.stdout != "" {
				t.Fatalf("a failing command printed on stdout: %q", r.stdout)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "ptdeskctl: ") || !strings.Contains(r.stderr, tt.mention) {
				t.Fatalf("stderr %q should start with 'ptdeskctl: ' and mention %q", r.stderr, tt.mention)
			}
		})
	}
	// None of the refused commands changed the directory.
	if out := e.ok(t, "patients", "search", "--json", "a"); out != "[]" {
		t.Fatalf("refused commands stored patients: %s", out)
	}
}

func TestPatientsCommands(t *testing.T) {
	e := newEnv(t)
	e.ok(t, "config", "set", "phone-region", "gb")
	id := e.ok(t, "patients", "add", "--first-name", "José", "--last-name", "Núñez", "--birth-year", "1980",
		"--gender", "male", "--email", "jose@example.org", "--phone", "07911 123456", "--diagnosis-code", "M54.5")
	if id != "1" {
		t.Fatalf("first patient id %q, want 1", id)
	}
	r := e.run(t, "", "patients", "add", "--first-name", "Ann", "--last-name", "Smith")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "2" || !strings.Contains(r.stderr, "1960") {
		t.Fatalf("add without birth year: exit %d, stdout %q, stderr %q (want id 2 and the 1960 warning)", r.code, r.stdout, r.stderr)
	}
	// Flags after the id, as scripts write them.
	e.ok(t, "patients", "edit", "2", "--birth-year", "1975", "--email", "ann@example.org")

	var p core.Patient
	if err := json.Unmarshal([]byte(e.ok(t, "patients", "show", "--json", "1")), &p); err != nil {
		t.Fatal(err)
	}
	if p.FirstName != "José" || p.Phone != "+447911123456" || p.Gender != core.GenderMale || p.BirthYear != 1980 {
		t.Fatalf("show --json = %+v", p)
	}

	var found []map[string]any
	if err := json.Unmarshal([]byte(e.ok(t, "patients", "search", "--json", "jose")), &found); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0]["id"] != "1" || found[0]["first_name"] != "José" || found[0]["last_name"] != "Núñez" || found[0]["birth_year"] != float64(1980) {
		t.Fatalf("search jose = %v", found)
	}
	if out := e.ok(t, "patients", "search", "--json", "smi", "1975"); !strings.Contains(out, `"id": "2"`) {
		t.Fatalf("search smi 1975 = %s", out)
	}
	e.ok(t, "patients", "archive", "2")
	if out := e.ok(t, "patients", "search", "--json", "smi"); out != "[]" {
		t.Fatalf("archived patient still found: %s", out)
	}
	if id := e.ok(t, "patients", "add", "--first-name", "Cy", "--last-name", "Doe"); id != "3" {
		t.Fatalf("after archiving 2, the next id is %q, want 3 (ids are never reused)", id)
	}
	if out := e.ok(t, "patients", "search", "--limit", "1", "d"); strings.Count(out, "\n") != 1 {
		t.Fatalf("--limit 1 printed:\n%s", out)
	}
}

func TestKeysGenerateStoresNothing(t *testing.T) {
	e := newEnv(t)
	k := e.ok(t, "keys", "generate")
	if err := keys.Check(k); err != nil || len(k) != keys.Length {
		t.Fatalf("keys generate printed an invalid key: %v", err)
	}
	if entries, _ := os.ReadDir(e.home); len(entries) != 0 {
		t.Fatalf("keys generate wrote %d files into the data directory", len(entries))
	}
}

// TestWholeFlowWithSandbox is the newcomer's path: practitioner, key pasted
// into the sandbox's settings page, patient, open — ending with the patient
// in the sandbox, the key in the keyring and nowhere else.
func TestWholeFlowWithSandbox(t *testing.T) {
	b := testkit.NewBrowser(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := sandbox.New(sandbox.Options{}).Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.ok(t, "config", "set", "pms-name", "umbrella_corporation")
	dr := e.ok(t, "practitioners", "add", "--name", "Dr Lee", "--server", sb.URL())
	r := e.run(t, "", "keys", "set", "Dr Lee", "--generate")
	key := strings.TrimSpace(r.stdout)
	if r.code != 0 || keys.Check(key) != nil || strings.Contains(r.stderr, key) {
		t.Fatalf("keys set --generate: exit %d, key valid=%v, stderr %q", r.code, keys.Check(key) == nil, r.stderr)
	}
	resp, err := http.PostForm(sb.URL()+"/settings", map[string][]string{"name": {"Dr Lee"}, "token": {key}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("paste key in sandbox: %v %v", resp, err)
	}
	resp.Body.Close()
	list := e.ok(t, "practitioners", "list", "--json")
	if !strings.Contains(list, `"key_status": "set"`) || !strings.Contains(list, keys.Fingerprint(key)) || strings.Contains(list, key) {
		t.Fatalf("practitioners list --json = %s", list)
	}
	pid := e.ok(t, "patients", "add", "--first-name", "Jane", "--last-name", "O'Brien", "--birth-year", "1980", "--gender", "female")

	// open --no-browser prints the URL and waits until it is fetched.
	outR, outW := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		c := &cli{stdin: strings.NewReader(""), stdout: outW, stderr: &errOut, secrets: e.secrets}
		done <- c.run(ctx, []string{"--home", e.home, "open", pid, "--practitioner", dr, "--no-browser"})
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read launch URL: %v (stderr %q)", err, errOut.String())
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(url, key) {
		t.Fatalf("launch URL %q", url)
	}
	go io.Copy(io.Discard, outR)
	b.Visit(t, url, func(loc string) bool { return strings.HasPrefix(loc, sb.URL()+"/clients/") })
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("open exited %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("open --no-browser did not exit after the page was fetched")
	}

	resp, err = http.Get(sb.URL() + "/sandbox/clients.json")
	if err != nil {
		t.Fatal(err)
	}
	var clients []struct {
		Practitioner string            `json:"practitioner"`
		Received     map[string]string `json:"received"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&clients); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(clients) != 1 || clients[0].Practitioner != "Dr Lee" || clients[0].Received["last_name"] != "O'Brien" ||
		clients[0].Received["id"] != pid || clients[0].Received["title"] != "ms" || clients[0].Received["birth_year"] != "1980" {
		t.Fatalf("sandbox clients = %+v", clients)
	}
	if a := e.ok(t, "audit", "--json"); !strings.Contains(a, `"action": "open"`) || !strings.Contains(a, `"patient_id": "`+pid+`"`) {
		t.Fatalf("audit = %s", a)
	}

	// The key is in the keyring and nowhere else: not in any file of the
	// data directory, not in anything printed on stderr, not in logs.
	if got, err := e.secrets.Secret(core.PractitionerKeyName(storeID(t, e), dr)); err != nil || got != key {
		t.Fatalf("the key is not in the keyring: %v", err)
	}
	_ = filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(key)) {
				t.Errorf("the key was found in %s", filepath.Base(path))
			}
		}
		return nil
	})
	if strings.Contains(errOut.String(), key) {
		t.Error("the key was printed on stderr")
	}
	if ran := b.ScriptsRan(); len(ran) > 0 {
		t.Errorf("scripts ran in the browser: %q", ran)
	}
	e.ok(t, "keys", "remove", dr)
	if _, err := e.secrets.Secret(core.PractitionerKeyName(storeID(t, e), dr)); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("keys remove left the key in the keyring: %v", err)
	}
}

func storeID(t *testing.T, e *env) string {
	t.Helper()
	var s struct {
		StoreID string `json:"store_id"`
	}
	if err := json.Unmarshal([]byte(e.ok(t, "config", "show", "--json")), &s); err != nil || s.StoreID == "" {
		t.Fatalf("config show --json has no store_id: %v", err)
	}
	return s.StoreID
}
