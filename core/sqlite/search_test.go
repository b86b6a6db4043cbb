package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/search"
	"ptdesk/core/sqlite"
	"ptdesk/core/storetest"
)

// Every way of reading tier 3 (see SetSearchWayForTest) must give the
// reference answer; the contract suite's small stores take only some.
func TestSearchBothWaysAgree(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	im, err := db.BeginImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for p := range storetest.FakePatients(11, 800) {
		if _, err := im.Upsert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	// Patients found by a term only in their email or id (tier 3c), while
	// another term is on one of their names or elsewhere too.
	for _, p := range []*core.Patient{
		{ID: "JO1234", FirstName: "Sarah", LastName: "Martin", Email: "smartin@example.org"},
		{FirstName: "Tomás", LastName: "Oliveira", Email: "toliveira@example.org"},
		{ID: "SA77", FirstName: "Sam", LastName: "Mart", Email: "smart@example.org"},
	} {
		if err := db.CreatePatient(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	var all []*core.Patient
	if err := db.EachPatient(ctx, func(p *core.Patient) error { all = append(all, p); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if r.IntN(8) == 0 {
			if err := db.ArchivePatient(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
			p.Archived = true
		}
	}
	texts := []string{"", "s", "sm", "smi", "smith", "jo sm", "sm jo", "1980", "19", "4", "447", "o'brien",
		"ø", "lu", "mül", "zoe", "example", "x", "a b c d e f g h", "jo 1980 sm", "0",
		// Words of multi-word names, alone and after a first name.
		"brien", "br", "ro br", "j brien", "der", "berg van", "van der berg", "luca", "de vries", "ó bri", "giolla",
		"mac gi", "o", "jo o'", "ma 1980", "smi 1980", "1980 j", "07", "0044", "44 1980",
		// Names of several words typed whole, or nearly.
		"van der b", "ó b", "de l", "van de", "mac g 1980", "o b", "mc carthy", "mc carthy 19", "o connor", "de mir",
		"mac giolla 1980", "anna de vries",
		// A term only in an email, the other on a name or an id.
		"sm sa", "sm ma", "sm jo", "sm mar", "sma sar", "toli ol", "toli tom", "smar sa", "smart jo"}
	for range 40 {
		p := all[r.IntN(len(all))]
		last, first := strings.ToLower(p.LastName), strings.ToLower(p.FirstName)
		texts = append(texts, prefix(last, 1+r.IntN(4)), prefix(first, 1+r.IntN(3))+" "+prefix(last, 1+r.IntN(3)))
		if p.BirthYear != 0 {
			texts = append(texts, prefix(last, 2)+" "+strconv.Itoa(p.BirthYear))
			if strings.Contains(last, " ") {
				texts = append(texts, prefix(last, 4)+" "+strconv.Itoa(p.BirthYear))
			}
		}
	}
	for _, way := range []string{"scanned", "sorted", "intersected", "ranged", "year", "auto"} {
		db.SetSearchWayForTest(way)
		agree(t, db, way, texts, all)
	}
}

// agree checks that searching db for each text gives the reference answer
// over all, with archived patients and without.
func agree(t *testing.T, db *sqlite.DB, what string, texts []string, all []*core.Patient) {
	t.Helper()
	ctx := context.Background()
	for _, text := range texts {
		for _, archived := range []bool{false, true} {
			got, err := db.SearchPatients(ctx, core.PatientQuery{Text: text, IncludeArchived: archived})
			if err != nil {
				t.Fatal(err)
			}
			want := search.Rank(search.ParseQuery(text), all, archived, core.DefaultSearchLimit)
			if fmt.Sprint(idsOf(got)) != fmt.Sprint(idsOf(want)) {
				t.Errorf("%s, search %q (archived %v):\n got %v\nwant %v", what, text, archived, idsOf(got), idsOf(want))
			}
		}
	}
}

// texts draws the kinds of queries typed at a desk from patients.
func texts(r *rand.Rand, all []*core.Patient, n int) []string {
	var out []string
	for range n {
		p := all[r.IntN(len(all))]
		last, first := strings.ToLower(p.LastName), strings.ToLower(p.FirstName)
		out = append(out, prefix(last, 1+r.IntN(4)), p.LastName, prefix(first, 1+r.IntN(3))+" "+prefix(last, 1+r.IntN(3)))
		if p.BirthYear != 0 {
			out = append(out, prefix(last, 2)+" "+strconv.Itoa(p.BirthYear))
		}
		if local, _, ok := strings.Cut(p.Email, "@"); ok {
			out = append(out, prefix(local, 3+r.IntN(5)))
		}
	}
	return out
}

// A large import writes the token index in batches, drops the name
// indexes and builds them at Commit; the rows it updates on the way, the
// duplicate check that needs the indexes back and a rollback must all
// leave search giving the reference answer.
func TestLargeImportSearch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// existing patients are there before the import (none: it is
		// bulk at once, else after bulkAfter rows); findAt is the row
		// after which FindByNameYear is asked (-1: never); rollback
		// abandons the import.
		existing, findAt int
		rollback         bool
	}{
		{"into an empty directory", 0, -1, false},
		{"into a directory", 5, -1, false},
		{"duplicate check midway", 0, 700, false},
		{"rollback", 5, -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			db.SetImportTokenBatchForTest(128)
			for p := range storetest.FakePatients(21, tc.existing) {
				if err := db.CreatePatient(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			im, err := db.BeginImport(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var imported []*core.Patient
			i := 0
			for p := range storetest.FakePatients(22, 1200) {
				if i == tc.findAt {
					// A name the import added: the indexes it dropped are
					// needed back at once.
					q := imported[10]
					want := q.ID
					for _, o := range imported {
						if search.Key(o.FirstName) == search.Key(q.FirstName) && search.Key(o.LastName) == search.Key(q.LastName) && o.BirthYear == q.BirthYear {
							want = o.ID
							break
						}
					}
					got, err := im.FindByNameYear(ctx, q.FirstName, q.LastName, q.BirthYear)
					if err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Fatalf("FindByNameYear(%s %s %d) = %q, want %q", q.FirstName, q.LastName, q.BirthYear, got, want)
					}
				}
				if _, err := im.Upsert(ctx, p); err != nil {
					t.Fatal(err)
				}
				imported = append(imported, p)
				// Change some rows again, once their tokens may be indexed.
				if i%97 == 50 && i > 300 {
					q := *imported[i-300]
					q.LastName, q.Email, q.Phone = "Van der Renamed", fmt.Sprintf("renamed%d@example.org", i), ""
					if _, err := im.Upsert(ctx, &q); err != nil {
						t.Fatal(err)
					}
				}
				i++
			}
			if tc.rollback {
				if err := im.Rollback(); err != nil {
					t.Fatal(err)
				}
			} else if err := im.Commit(); err != nil {
				t.Fatal(err)
			}
			var all []*core.Patient
			if err := db.EachPatient(ctx, func(p *core.Patient) error { all = append(all, p); return nil }); err != nil {
				t.Fatal(err)
			}
			if want := tc.existing + 1200; !tc.rollback && len(all) != want {
				t.Fatalf("%d patients after the import, want %d", len(all), want)
			}
			if tc.rollback && len(all) != tc.existing {
				t.Fatalf("%d patients after the rollback, want %d", len(all), tc.existing)
			}
			r := rand.New(rand.NewPCG(23, 24))
			qs := append(texts(r, all, 12), "renamed", "van der ren", "ren", "renamed5", "der", "", "19", "1980")
			for _, way := range []string{"scanned", "sorted", "auto"} {
				db.SetSearchWayForTest(way)
				agree(t, db, way, qs, all)
			}
		})
	}
}

// The store hands rows over as one text with a separator that its callers'
// rules keep out of every field; a field that holds it anyway is still
// read right.
func TestSearchReadsFieldWithSeparator(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	p := &core.Patient{FirstName: "Ann", LastName: "Sep\x00arator", DiagnosisCode: "M\x0054"}
	if err := db.CreatePatient(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.SearchPatients(ctx, core.PatientQuery{Text: "sep"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].LastName != p.LastName || got[0].DiagnosisCode != p.DiagnosisCode || got[0].ID != p.ID {
		t.Fatalf("search sep = %+v, want %q with its fields as stored", got, p.LastName)
	}
}

func prefix(s string, n int) string {
	rs := []rune(s)
	return string(rs[:min(n, len(rs))])
}

func idsOf(ps []*core.Patient) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// A query's statements are the same whether or not the token index has
// rows for its terms: each new text is prepared (about a millisecond), and
// a search as you type should not pay that again for the next query of
// the same kind.
func TestSearchShapeIgnoresEmptyLists(t *testing.T) {
	ctx := context.Background()
	for _, kind := range [][2]string{
		// "sm" is in an email, "br" only on a key; likewise "jo".
		{"jo sm", "ca br"},
		// "1980" is in an email, "1975" nowhere but the birth year.
		{"smi 1980", "bro 1975"},
		// Digits found in an email, and digits found nowhere.
		{"19801", "55555"},
	} {
		// A directory of its own for each kind: a statement prepared
		// for another kind must not stand in for the one under test.
		db := MustOpenDB(t)
		for _, p := range []*core.Patient{
			{FirstName: "John", LastName: "Smith", BirthYear: 1980, Email: "jsmith@example.org"},
			{FirstName: "Sarah", LastName: "Martin", BirthYear: 1980, Email: "smartin@example.org"},
			{FirstName: "Joan", LastName: "Brown", BirthYear: 1975, Email: "joan@example.org"},
			{FirstName: "Carl", LastName: "Jonsson", BirthYear: 1980, Email: "carl.19801@example.org"},
		} {
			if err := db.CreatePatient(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		// As a large directory reads them: from the token index's lists.
		db.SetSearchWayForTest("sorted")
		if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: kind[0]}); err != nil {
			t.Fatal(err)
		}
		before := db.PreparedForTest()
		if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: kind[1]}); err != nil {
			t.Fatal(err)
		}
		if after := db.PreparedForTest(); after != before {
			t.Errorf("search %q after %q prepared %d new statements, want none", kind[1], kind[0], after-before)
		}
	}
}

// More patients share a multi-word last name than a page holds: a search
// for a later word of it reads them in order up to the limit, in every
// plan, and still agrees with the reference.
func TestSearchManyShareANameWord(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	r := rand.New(rand.NewPCG(31, 32))
	firsts := []string{"John", "Joan", "Josephine", "Jonas", "Jo", "Mary", "Seán", "Jack", "Julia", "Aoife"}
	im, err := db.BeginImport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		first := firsts[r.IntN(len(firsts))]
		p := &core.Patient{FirstName: first, LastName: []string{"O'Brien", "Mac Giolla Bhríde", "Van der Berg"}[i%3],
			BirthYear: 1940 + r.IntN(70)}
		if i%4 == 0 {
			// Initial and surname: the first name's first letter, then the
			// surname, as many addresses are.
			p.Email = strings.ToLower(first[:1]) + search.Key(p.LastName) + "@example.org"
		}
		if _, err := im.Upsert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Commit(); err != nil {
		t.Fatal(err)
	}
	var all []*core.Patient
	if err := db.EachPatient(ctx, func(p *core.Patient) error { all = append(all, p); return nil }); err != nil {
		t.Fatal(err)
	}
	texts := []string{"jo brien", "j brien", "jo bri", "brien jo", "ma bhride", "jo giolla", "jo berg", "j der", "jon brien 19"}
	for _, way := range []string{"scanned", "sorted", "intersected", "ranged", "year", "auto"} {
		db.SetSearchWayForTest(way)
		agree(t, db, way, texts, all)
	}
}
