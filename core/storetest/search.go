package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/search"
)

// searchFixture is a small directory whose search answers can be worked out
// by hand; its ids are assigned 1, 2, ... in this order, except P-7731.
var searchFixture = []*core.Patient{
	{FirstName: "Jane", LastName: "Smith", BirthYear: 1980, Email: "jane.smith@example.org", Phone: "+447700900123"}, // 1
	{FirstName: "John", LastName: "Smithers", BirthYear: 1975},                                                       // 2
	{FirstName: "Smith", LastName: "Jones", BirthYear: 1990},                                                         // 3
	{FirstName: "Tom", LastName: "Brown", BirthYear: 1980, Email: "smithy@example.org"},                              // 4
	{FirstName: "Joanna", LastName: "Smith", BirthYear: 1985},                                                        // 5
	{FirstName: "José", LastName: "García", BirthYear: 1962},                                                         // 6
	{FirstName: "Zoë", LastName: "Núñez", BirthYear: 1999},                                                           // 7
	{FirstName: "Kari", LastName: "Ødegaard", BirthYear: 1970},                                                       // 8
	{FirstName: "Łukasz", LastName: "Kowalski", BirthYear: 1988},                                                     // 9
	{FirstName: "Hans", LastName: "MÜLLER", BirthYear: 1955},                                                         // 10
	{FirstName: "Seán", LastName: "O'Brien", BirthYear: 1966},                                                        // 11
	{ID: "P-7731", FirstName: "Ivy", LastName: "Quinn", BirthYear: 2001, Phone: "+12025550143"},                      // P-7731
	{FirstName: "Olga", LastName: "Oldfield", BirthYear: 1940},                                                       // 12, archived
}

func runSearch(t *testing.T, open func(t *testing.T) core.Store) {
	ctx := context.Background()

	t.Run("Fixture", func(t *testing.T) {
		s := open(t)
		for _, p := range searchFixture {
			q := *p
			create(t, s, &q)
		}
		must(t, s.ArchivePatient(ctx, "12"))
		tests := []struct {
			name, text string
			want       []string
		}{
			{"last name prefix, then first name, then other fields", "smi", []string{"1", "5", "2", "3", "4"}},
			{"case", "SMITH", []string{"1", "5", "2", "3", "4"}},
			{"first name only", "JANE", []string{"1"}},
			{"accent typed plain", "jose", []string{"6"}},
			{"accent typed", "JOSÉ", []string{"6"}},
			{"accented last name", "garcia", []string{"6"}},
			{"ø as o", "odeg", []string{"8"}},
			{"ø typed", "Ødegaard", []string{"8"}},
			{"ł as l", "luk", []string{"9"}},
			{"ł typed", "łukasz", []string{"9"}},
			{"upper case umlaut", "mull", []string{"10"}},
			{"umlaut typed", "Müller", []string{"10"}},
			{"diaeresis", "zoe", []string{"7"}},
			{"tilde", "nunez", []string{"7"}},
			{"apostrophe typed", "o'brien", []string{"11"}},
			{"apostrophe left out", "obrien", []string{"11"}},
			{"part after apostrophe", "brien", []string{"11"}},
			{"fada", "sean", []string{"11"}},
			{"two prefixes", "jo sm", []string{"3", "5", "2"}},
			{"two prefixes reversed", "sm jo", []string{"5", "2", "3"}},
			{"name and birth year", "smi 1980", []string{"1", "4"}},
			{"birth year first", "1980 smi", []string{"1", "4"}},
			{"birth year alone", "1980", []string{"4", "1"}},
			{"id", "p-7731", []string{"P-7731"}},
			{"id digits", "7731", []string{"P-7731"}},
			{"id without dash", "P7731", []string{"P-7731"}},
			{"assigned id", "11", []string{"11"}},
			{"email local part", "jane.smith", []string{"1"}},
			{"whole email", "jane.smith@example.org", []string{"1"}},
			{"email domain not indexed", "example", nil},
			{"phone national", "7700 900123", []string{"1"}},
			{"phone international", "+44 7700 900123", []string{"1"}},
			{"phone with trunk 0", "07700900123", []string{"1"}},
			{"phone prefix", "447700", []string{"1"}},
			{"phone national other country", "(202) 555", []string{"P-7731"}},
			{"no match", "xyz", nil},
			{"terms AND together", "jane jones", nil},
			{"archived left out", "oldfield", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.SearchPatients(ctx, core.PatientQuery{Text: tc.text})
				must(t, err)
				sameIDs(t, fmt.Sprintf("search %q", tc.text), got, tc.want...)
			})
		}

		t.Run("archived on request", func(t *testing.T) {
			got, err := s.SearchPatients(ctx, core.PatientQuery{Text: "oldf", IncludeArchived: true})
			must(t, err)
			sameIDs(t, "search oldf with archived", got, "12")
			if len(got) == 1 && !got[0].Archived {
				t.Errorf("archived patient found with Archived = false")
			}
		})

		t.Run("results carry every field", func(t *testing.T) {
			got, err := s.SearchPatients(ctx, core.PatientQuery{Text: "jane"})
			must(t, err)
			want, err := s.Patient(ctx, "1")
			must(t, err)
			if len(got) != 1 {
				t.Fatalf("search jane = %v", ids(got))
			}
			samePatient(t, got[0], want)
		})

		t.Run("limit", func(t *testing.T) {
			all, err := s.SearchPatients(ctx, core.PatientQuery{Text: "s"})
			must(t, err)
			got, err := s.SearchPatients(ctx, core.PatientQuery{Text: "s", Limit: 2})
			must(t, err)
			if len(all) < 3 {
				t.Fatalf("search s found %v; the fixture has more", ids(all))
			}
			sameIDs(t, "search s limit 2", got, ids(all[:2])...)
		})

		t.Run("search sees updates", func(t *testing.T) {
			p, err := s.Patient(ctx, "7")
			must(t, err)
			p.LastName = "Ramírez"
			must(t, s.UpdatePatient(ctx, p))
			got, err := s.SearchPatients(ctx, core.PatientQuery{Text: "nunez"})
			must(t, err)
			sameIDs(t, "search old name", got)
			got, err = s.SearchPatients(ctx, core.PatientQuery{Text: "ramirez"})
			must(t, err)
			sameIDs(t, "search new name", got, "7")
		})
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		s := open(t)
		im, err := s.BeginImport(ctx)
		must(t, err)
		for i := range core.DefaultSearchLimit + 10 {
			_, err := im.Upsert(ctx, &core.Patient{FirstName: "Many" + strconv.Itoa(i), LastName: "Namesake"})
			must(t, err)
		}
		must(t, im.Commit())
		got, err := s.SearchPatients(ctx, core.PatientQuery{Text: "namesake"})
		must(t, err)
		if len(got) != core.DefaultSearchLimit {
			t.Fatalf("search returned %d patients, want the default limit %d", len(got), core.DefaultSearchLimit)
		}
	})

	t.Run("SameAsReferenceRanking", func(t *testing.T) {
		s := open(t)
		im, err := s.BeginImport(ctx)
		must(t, err)
		for p := range FakePatients(7, 600) {
			_, err := im.Upsert(ctx, p)
			must(t, err)
		}
		must(t, im.Commit())
		r := rand.New(rand.NewPCG(7, 8))
		var all []*core.Patient
		must(t, s.EachPatient(ctx, func(p *core.Patient) error {
			all = append(all, p)
			return nil
		}))
		for _, p := range all {
			if r.IntN(10) == 0 {
				must(t, s.ArchivePatient(ctx, p.ID))
				p.Archived = true
			}
		}
		for _, text := range referenceQueries(r, all) {
			for _, q := range []core.PatientQuery{
				{Text: text},
				{Text: text, IncludeArchived: true},
				{Text: text, Limit: 7},
			} {
				got, err := s.SearchPatients(ctx, q)
				must(t, err)
				want := search.Rank(search.ParseQuery(text), all, q.IncludeArchived, cmp.Or(q.Limit, core.DefaultSearchLimit))
				if fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) {
					t.Errorf("search %+v:\n got %v\nwant %v", q, ids(got), ids(want))
				}
			}
		}
	})
}

// referenceQueries are the kinds of text typed at a desk, drawn from the
// patients: name prefixes of every length, whole names as written, two
// prefixes, a name and a birth year, digits, email local parts.
func referenceQueries(r *rand.Rand, all []*core.Patient) []string {
	qs := []string{"", "a", "s", "j", "ø", "1", "19", "4477", "zzz", "o'b", "mc", "van der", "de vries", "van der b", "ó b", "mc carthy", "o sullivan 19", "de mir"}
	prefix := func(s string, n int) string {
		rs := []rune(strings.ToLower(s))
		return string(rs[:min(n, len(rs))])
	}
	for range 25 {
		p := all[r.IntN(len(all))]
		n := 1 + r.IntN(4)
		qs = append(qs,
			prefix(p.LastName, n),
			prefix(p.FirstName, n),
			p.LastName,
			prefix(p.FirstName, 2)+" "+prefix(p.LastName, 2),
			prefix(p.LastName, 3)+" "+prefix(p.FirstName, 1),
		)
		if p.BirthYear != 0 {
			qs = append(qs, prefix(p.LastName, 3)+" "+strconv.Itoa(p.BirthYear), strconv.Itoa(p.BirthYear))
		}
		if p.Email != "" {
			local, _, _ := strings.Cut(p.Email, "@")
			qs = append(qs, prefix(local, 4+r.IntN(6)))
		}
		if len(p.Phone) > 6 {
			qs = append(qs, p.Phone[1:2+r.IntN(len(p.Phone)-2)])
		}
	}
	return qs
}
