package sqlite_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/sqlite"
	"ptdesk/core/storetest"
)

// benchPatients sizes the directory BenchmarkSearch builds; cmd/ptdeskbench
// measures the larger ones and writes docs/benchmarks.md.
var benchPatients = flag.Int("ptdesk.patients", 100_000, "patients in the directory BenchmarkSearch builds")

// importFake imports n fake patients into db and returns a sample of them.
func importFake(tb testing.TB, db *sqlite.DB, seed uint64, n int) []*core.Patient {
	tb.Helper()
	ctx := context.Background()
	im, err := db.BeginImport(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	var sample []*core.Patient
	i := 0
	for p := range storetest.FakePatients(seed, n) {
		if _, err := im.Upsert(ctx, p); err != nil {
			im.Rollback()
			tb.Fatal(err)
		}
		if i%97 == 0 {
			sample = append(sample, p)
		}
		i++
	}
	if err := im.Commit(); err != nil {
		tb.Fatal(err)
	}
	return sample
}

// BenchmarkImport imports 10,000 patients into a new file per iteration.
func BenchmarkImport(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		b.StopTimer()
		db, err := sqlite.Open(context.Background(), filepath.Join(dir, strconv.Itoa(i)+".db"))
		if err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		importFake(b, db, uint64(i), n)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "patients/s")
}

// BenchmarkSearch times SearchPatients per kind of query typed at a desk,
// cycling through different queries drawn from the directory.
func BenchmarkSearch(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ptdesk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sample := importFake(b, db, 1, *benchPatients)
	prefix := func(s string, n int) string {
		r := []rune(strings.ToLower(s))
		return string(r[:min(n, len(r))])
	}
	kinds := []struct {
		name string
		make func(p *core.Patient) string
	}{
		{"Prefix1", func(p *core.Patient) string { return prefix(p.LastName, 1) }},
		{"Prefix2", func(p *core.Patient) string { return prefix(p.LastName, 2) }},
		{"Prefix3", func(p *core.Patient) string { return prefix(p.LastName, 3) }},
		{"LastName", func(p *core.Patient) string { return p.LastName }},
		{"TwoPrefixes", func(p *core.Patient) string { return prefix(p.FirstName, 2) + " " + prefix(p.LastName, 2) }},
		{"NameYear", func(p *core.Patient) string {
			return prefix(p.LastName, 3) + " " + strconv.Itoa(max(p.BirthYear, 1980))
		}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		texts := make([]string, 300)
		for i := range texts {
			texts[i] = k.make(sample[r.IntN(len(sample))])
		}
		b.Run(k.name, func(b *testing.B) {
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: texts[i%len(texts)]}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
