package sqlite_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
	"ptdesk/core/storetest"
)

// benchPatients sizes the directory BenchmarkSearch builds; cmd/ptdeskbench
// measures the larger ones and writes docs/benchmarks.md. benchDB, when
// set, keeps that directory in a file, so that later runs (with the same
// size) skip building it.
var (
	benchPatients = flag.Int("ptdesk.patients", 100_000, "patients in the directory BenchmarkSearch builds")
	benchDB       = flag.String("ptdesk.db", "", "file for BenchmarkSearch's directory, reused when it has -ptdesk.patients patients")
)

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

// searchDirectory opens the directory BenchmarkSearch searches, building
// it unless -ptdesk.db names a file that already has it, and returns a
// sample of its patients.
func searchDirectory(b *testing.B) (*sqlite.DB, []*core.Patient) {
	ctx := context.Background()
	path := *benchDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "ptdesk.db")
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	n, err := db.CountPatients(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		return db, importFake(b, db, 1, *benchPatients)
	}
	if n != *benchPatients {
		b.Fatalf("%s has %d patients, not %d: remove it or change -ptdesk.patients", path, n, *benchPatients)
	}
	var sample []*core.Patient
	i := 0
	if err := db.EachPatient(ctx, func(p *core.Patient) error {
		if i%97 == 0 {
			sample = append(sample, p)
		}
		i++
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return db, sample
}

// BenchmarkSearch times SearchPatients per kind of query typed at a desk,
// cycling through different queries drawn from the directory, and reports
// the median and the 99th percentile of single calls.
func BenchmarkSearch(b *testing.B) {
	db, sample := searchDirectory(b)
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
		{"FirstName", func(p *core.Patient) string { return prefix(p.FirstName, 4) }},
		{"Year", func(p *core.Patient) string { return strconv.Itoa(max(p.BirthYear, 1980)) }},
		{"Phone", func(p *core.Patient) string {
			digits := strings.TrimPrefix(p.Phone, "+")
			return digits[:min(len(digits), 6)] + strconv.Itoa(len(digits)%10)
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
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: texts[i%len(texts)]}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			at := func(q float64) float64 {
				return float64(took[min(len(took)-1, int(float64(len(took))*q))].Microseconds())
			}
			b.ReportMetric(at(0.5), "p50-µs")
			b.ReportMetric(at(0.99), "p99-µs")
		})
	}
}
