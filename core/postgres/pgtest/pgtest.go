// Package pgtest gives each test that needs PostgreSQL a schema of its own
// on the server named by PTDESK_TEST_DB, so that test runs (and the tests
// of one run) never see each other's rows, and removes it afterwards.
//
// Without PTDESK_TEST_DB a test is skipped with a message saying how to
// run it — also under 'make test', which cannot know of a server on its
// own; CI's .ci/run always sets it. When it is set, the server must answer.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the variable that holds the test server's connection
// string.
const EnvVar = "PTDESK_TEST_DB"

// How tests are told to enable the server, for skip messages.
const how = "set " + EnvVar + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable (a server where the user may create schemas)"

// Server returns the connection string of the test server, skipping with
// a message when none is named.
func Server(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		tb.Skipf("skipped: no PostgreSQL server named; %s", how)
	}
	return base
}

// Schema is a fresh schema on the test server.
type Schema struct {
	// Name is the schema's name, also the application_name of every
	// connection made with URL.
	Name string
	// URL connects to the server with the schema as search_path.
	URL string
	// Admin connects to the server without naming the schema.
	Admin string
}

// NewSchema creates an empty schema for tb and drops it, with everything
// in it, when tb ends (after the cleanups registered later, such as closing
// stores).
func NewSchema(tb testing.TB) *Schema {
	tb.Helper()
	base := Server(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "ptdesk_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to the test server (%s): %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	s := &Schema{Name: name, URL: withParams(base, map[string]string{"search_path": name, "application_name": name}), Admin: base}
	tb.Cleanup(func() { s.drop(tb) })
	return s
}

// URL is the connection string of a new schema (see NewSchema).
func URL(tb testing.TB) string {
	tb.Helper()
	return NewSchema(tb).URL
}

func (s *Schema) drop(tb testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.Admin)
	if err != nil {
		tb.Errorf("drop test schema %s: %v", s.Name, err)
		return
	}
	defer conn.Close(ctx)
	// Connections a failed test left open would hold locks on the schema.
	s.terminate(ctx, conn)
	if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{s.Name}.Sanitize()+` CASCADE`); err != nil {
		tb.Errorf("drop test schema %s: %v", s.Name, err)
	}
}

// TerminateBackends ends, on the server, every connection made with URL,
// as a restart of the server would, and returns how many there were. It is
// how tests emulate a restart without disturbing anyone else's use of the
// server: only this schema's connections (told apart by their
// application_name) are cut.
func (s *Schema) TerminateBackends(tb testing.TB) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.Admin)
	if err != nil {
		tb.Fatalf("terminate backends: %v", err)
	}
	defer conn.Close(ctx)
	return s.terminate(ctx, conn)
}

func (s *Schema) terminate(ctx context.Context, conn *pgx.Conn) int {
	var n int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()) t`, s.Name).Scan(&n)
	return n
}

// withParams adds server settings to a connection string, in URL or
// keyword/value form.
func withParams(base string, params map[string]string) string {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err == nil {
			q := u.Query()
			for k, v := range params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	for k, v := range params {
		base += " " + k + "=" + v
	}
	return base
}
