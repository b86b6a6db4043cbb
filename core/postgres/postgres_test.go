package postgres_test

import (
	"context"
	"testing"

	"ptdesk/core"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/storetest"
)

// MustOpenDB opens a store in a fresh schema of the test server and closes
// it when the test ends.
func MustOpenDB(tb testing.TB, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	return mustOpenAt(tb, pgtest.URL(tb), opts...)
}

func mustOpenAt(tb testing.TB, url string, opts ...postgres.Option) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return MustOpenDB(t) })
}

// TestContractDenseSearch runs the search contract with candidate lists
// cut short, so that every search that can read the indexes in order does.
func TestContractDenseSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		db := MustOpenDB(t)
		db.SetExactLimit(2)
		return db
	})
}

// TestContractLexemeSearch runs the search contract with a tiny probe
// budget, so that searches with many candidates are answered by the
// full-text index.
func TestContractLexemeSearch(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store {
		db := MustOpenDB(t)
		db.SetProbeBudget(1)
		return db
	})
}

func TestProgramsContract(t *testing.T) {
	storetest.RunPrograms(t, func(t *testing.T) storetest.ProgramBackend { return MustOpenDB(t) })
}
