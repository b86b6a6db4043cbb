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
	"ptdesk/core/storetest"
)

// Both ways of answering a search (sorting every token match, or reading
// the name indexes tier by tier) must give the reference answer; the
// contract suite's small stores only ever take the first.
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
		"ø", "lu", "mül", "zoe", "example", "x", "a b c d e f g h", "jo 1980 sm", "0"}
	for range 40 {
		p := all[r.IntN(len(all))]
		last, first := strings.ToLower(p.LastName), strings.ToLower(p.FirstName)
		texts = append(texts, prefix(last, 1+r.IntN(4)), prefix(first, 1+r.IntN(3))+" "+prefix(last, 1+r.IntN(3)))
		if p.BirthYear != 0 {
			texts = append(texts, prefix(last, 2)+" "+strconv.Itoa(p.BirthYear))
		}
	}
	for _, exact := range []int{0, 1 << 30} {
		db.SetExactSearchLimitForTest(exact)
		for _, text := range texts {
			for _, archived := range []bool{false, true} {
				got, err := db.SearchPatients(ctx, core.PatientQuery{Text: text, IncludeArchived: archived})
				if err != nil {
					t.Fatal(err)
				}
				want := search.Rank(search.ParseQuery(text), all, archived, core.DefaultSearchLimit)
				if fmt.Sprint(idsOf(got)) != fmt.Sprint(idsOf(want)) {
					t.Errorf("exact limit %d, search %q (archived %v):\n got %v\nwant %v", exact, text, archived, idsOf(got), idsOf(want))
				}
			}
		}
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
