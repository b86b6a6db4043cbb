package desk_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/ptsso"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// fixture is a desk on a fresh SQLite file with an in-memory keyring, a
// captured log, and an opener that records URLs instead of starting a
// browser.
type fixture struct {
	desk    *desk.Desk
	home    string
	secrets *secrets.Memory
	log     *syncBuffer
	opened  *[]string
}

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

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	home := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(home, desk.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{home: home, secrets: secrets.NewMemory(), log: &syncBuffer{}, opened: new([]string)}
	f.desk = desk.New(desk.Options{
		Store:   store,
		Secrets: f.secrets,
		Opener:  ptsso.OpenerFunc(func(u string) error { *f.opened = append(*f.opened, u); return nil }),
		Logger:  slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Home:    home,
	})
	t.Cleanup(func() { _ = f.desk.Close() })
	return f
}

// mustPatient adds a patient or fails the test.
func (f *fixture) mustPatient(t *testing.T, p core.Patient) *core.Patient {
	t.Helper()
	got, _, err := f.desk.AddPatient(context.Background(), p)
	if err != nil {
		t.Fatalf("AddPatient(%s %s): %v", p.FirstName, p.LastName, err)
	}
	return got
}

// mustPractitioner adds a practitioner with a generated key.
func (f *fixture) mustPractitioner(t *testing.T, name, server string) (*core.Practitioner, string) {
	t.Helper()
	ctx := context.Background()
	p, err := f.desk.AddPractitioner(ctx, core.Practitioner{Name: name, Server: server})
	if err != nil {
		t.Fatal(err)
	}
	key, p, err := f.desk.SetNewKey(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p, key
}

var fixedNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
