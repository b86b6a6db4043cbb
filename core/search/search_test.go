package search_test

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"testing"

	"ptdesk/core"
	"ptdesk/core/search"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"Smith", "smith"},
		{"José", "jose"},
		{"ZOË", "zoe"},
		{"Ødegaard", "odegaard"},
		{"Łukasz", "lukasz"},
		{"MÜLLER", "muller"},
		{"Núñez", "nunez"},
		{"Strauß", "strauss"},
		{"İlker", "ilker"},
		{"Çağla", "cagla"},
		{"Æsir", "aesir"},
		{"Œuvre", "oeuvre"},
		{"Þór", "thor"},
		{"Đorđe", "dorde"},
		{"ﬁona", "fiona"}, // a ligature, by compatibility decomposition
		{"Nguyễn", "nguyen"},
		{"Ὀδυσσεύς", "οδυσσευσ"},
	}
	for _, tc := range tests {
		if got := search.Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWordsAndKey(t *testing.T) {
	tests := []struct {
		in    string
		words []string
		key   string
	}{
		{"O'Brien-Smith", []string{"o", "brien", "smith"}, "obriensmith"},
		{"Van der Berg", []string{"van", "der", "berg"}, "vanderberg"},
		{"  José  ", []string{"jose"}, "jose"},
		{"P-0042", []string{"p", "0042"}, "p0042"},
		{"--", nil, ""},
	}
	for _, tc := range tests {
		if got := search.Words(tc.in); !reflect.DeepEqual(got, tc.words) && !(len(got) == 0 && len(tc.words) == 0) {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.words)
		}
		if got := search.Key(tc.in); got != tc.key {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.key)
		}
	}
}

func TestIDOrderKey(t *testing.T) {
	ids := []string{"b", "10", "A", "7", "a", "007", "2", "100000000000000000000"}
	sort.Slice(ids, func(i, j int) bool { return search.IDOrderKey(ids[i]) < search.IDOrderKey(ids[j]) })
	want := []string{"2", "007", "7", "10", "100000000000000000000", "A", "a", "b"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids in order = %v, want %v (digits by number, then text)", ids, want)
	}
}

func TestPatientTokens(t *testing.T) {
	p := &core.Patient{ID: "P-7731", FirstName: "Jean-Luc", LastName: "O'Brien", Email: "jl.obrien@example.org",
		Phone: "+447700900123", BirthYear: 1980}
	want := []string{"jean", "luc", "jeanluc", "o", "brien", "obrien", "p", "7731", "p7731", "jl", "jlobrien",
		"447700900123", "7700900123", "07700900123", "1980"}
	if got := search.PatientTokens(p); !reflect.DeepEqual(got, want) {
		t.Errorf("PatientTokens = %q\nwant            %q", got, want)
	}
	// Tokens that are prefixes of "jeanluc" or "obrien" say nothing more.
	wantOther := []string{"luc", "brien", "p", "7731", "p7731", "jl", "jlobrien",
		"447700900123", "7700900123", "07700900123", "1980"}
	if got := search.OtherTokens(p); !reflect.DeepEqual(got, wantOther) {
		t.Errorf("OtherTokens = %q\nwant          %q", got, wantOther)
	}
	if got := search.TokenText([]string{"a", "b"}); got != " a b" {
		t.Errorf("TokenText = %q", got)
	}
}

func TestPhoneTokensPerCountryCode(t *testing.T) {
	tests := []struct{ phone, national string }{
		{"+12025550143", "2025550143"},    // one-digit code
		{"+447700900123", "7700900123"},   // two digits
		{"+353851234567", "851234567"},    // three digits
		{"+79161234567", "9161234567"},    // one digit (7)
		{"+4915112345678", "15112345678"}, // two digits
		{"+35799123456", "99123456"},      // three digits
	}
	for _, tc := range tests {
		tokens := search.PatientTokens(&core.Patient{FirstName: "A", LastName: "B", Phone: tc.phone})
		if !slices.Contains(tokens, tc.national) || !slices.Contains(tokens, "0"+tc.national) || !slices.Contains(tokens, tc.phone[1:]) {
			t.Errorf("tokens of %s = %q, want %s, 0%s and %s", tc.phone, tokens, tc.national, tc.national, tc.phone[1:])
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		text           string
		terms          []string
		anchor         string
		names, numbers []string
	}{
		{"", nil, "", nil, nil},
		{"Smi", []string{"smi"}, "smi", nil, nil},
		{"jo sm", []string{"jo", "sm"}, "jo", []string{"sm"}, nil},
		{"smi 1980", []string{"smi", "1980"}, "smi", nil, []string{"1980"}},
		{"1980 smi", []string{"1980", "smi"}, "smi", nil, []string{"1980"}},
		{"1980", []string{"1980"}, "", nil, []string{"1980"}},
		{"+44 7700 900123", []string{"447700900123"}, "", nil, []string{"447700900123"}},
		{"(202) 555-0143", []string{"2025550143"}, "", nil, []string{"2025550143"}},
		{"jane.smith@example.org", []string{"janesmith"}, "janesmith", nil, nil},
		{"O'Brien", []string{"obrien"}, "obrien", nil, nil},
		{"JOSÉ josé Jose", []string{"jose"}, "jose", nil, nil},
		{"p-7731", []string{"p7731"}, "p7731", nil, nil},
		{"a b c", []string{"a", "b", "c"}, "a", []string{"b", "c"}, nil},
	}
	for _, tc := range tests {
		q := search.ParseQuery(tc.text)
		got := fmt.Sprint(q.Terms, q.Anchor, q.Names, q.Numbers)
		want := fmt.Sprint(tc.terms, tc.anchor, tc.names, tc.numbers)
		if got != want {
			t.Errorf("ParseQuery(%q) = %s, want %s", tc.text, got, want)
		}
	}
}

func TestJoined(t *testing.T) {
	for text, want := range map[string]string{
		"smi":            "",
		"smi 1980":       "",
		"De Vries":       "devries",
		"van der 1980 B": "vanderb",
		"Ó Bri":          "obri",
		"de de vries":    "devries",
	} {
		if got := search.ParseQuery(text).Joined; got != want {
			t.Errorf("ParseQuery(%q).Joined = %q, want %q", text, got, want)
		}
	}
}

func TestTier(t *testing.T) {
	tests := []struct {
		text, first, last string
		want              int
	}{
		{"", "ann", "archer", 1},
		{"smi", "jane", "smith", 1},
		{"smi", "smith", "jones", 2},
		{"smi", "tom", "brown", 3},
		{"jo sm", "smith", "jones", 1},
		{"jo sm", "john", "smithers", 2},
		{"jo sm", "john", "brown", 3}, // sm found elsewhere (an email, say)
		{"smi 1980", "jane", "smith", 1},
		{"1980", "jane", "smith", 3},
		// A name of several words typed whole.
		{"de vries", "anna", "devries", 1},
		{"van der berg", "pieter", "vanderberg", 1},
		{"mary ann", "maryann", "jones", 2},
		{"de vries 1980", "anna", "devries", 1},
		{"de vr", "anna", "devries", 3}, // a later word, in part
		{"jo ha", "anna", "johansson", 3},
	}
	for _, tc := range tests {
		if got := search.ParseQuery(tc.text).Tier(tc.first, tc.last); got != tc.want {
			t.Errorf("%q: Tier(%s, %s) = %d, want %d", tc.text, tc.first, tc.last, got, tc.want)
		}
	}
}

func TestRank(t *testing.T) {
	ps := []*core.Patient{
		{ID: "1", FirstName: "Jane", LastName: "Smith", BirthYear: 1980},
		{ID: "2", FirstName: "John", LastName: "Smithers", BirthYear: 1975},
		{ID: "3", FirstName: "Smith", LastName: "Jones", BirthYear: 1990},
		{ID: "4", FirstName: "Tom", LastName: "Brown", BirthYear: 1980, Email: "smithy@example.org"},
		{ID: "5", FirstName: "Joanna", LastName: "Smith", BirthYear: 1985},
		{ID: "6", FirstName: "Olga", LastName: "Smirnova", Archived: true},
		{ID: "7", FirstName: "Ann", LastName: "Example", Email: "ann@example.org"},
	}
	tests := []struct {
		text     string
		archived bool
		limit    int
		want     string
	}{
		{"smi", false, 0, "[1 5 2 3 4]"},
		{"smi", true, 0, "[6 1 5 2 3 4]"},
		{"smi", false, 2, "[1 5]"},
		{"jo sm", false, 0, "[3 5 2]"},
		{"smi 1980", false, 0, "[1 4]"},
		{"1980", false, 0, "[4 1]"},
		{"example", false, 0, "[7]"}, // the name, not the email domain
		{"", false, 3, "[4 7 3]"},
	}
	for _, tc := range tests {
		var ids []string
		for _, p := range search.Rank(search.ParseQuery(tc.text), ps, tc.archived, tc.limit) {
			ids = append(ids, p.ID)
		}
		if got := fmt.Sprint(ids); got != tc.want {
			t.Errorf("Rank(%q, archived %v, limit %d) = %s, want %s", tc.text, tc.archived, tc.limit, got, tc.want)
		}
	}
}

func TestRankJoinedName(t *testing.T) {
	ps := []*core.Patient{
		{ID: "1", FirstName: "Deborah", LastName: "Vriesema"},
		{ID: "2", FirstName: "Anna", LastName: "De Vries", BirthYear: 1980},
		{ID: "3", FirstName: "Vries", LastName: "Dekker"},
		{ID: "4", FirstName: "Tom", LastName: "Devlin", Email: "vries@example.org"},
		{ID: "5", FirstName: "Bob", LastName: "Devries", BirthYear: 1975},
		{ID: "6", FirstName: "Devries", LastName: "Smith"},
		{ID: "7", FirstName: "Ann", LastName: "Devriesen"},
	}
	for _, tc := range []struct{ text, want string }{
		// Tier 1: Dekker (Vries), De Vries and Devries (the name typed
		// whole); tier 2: Deborah Vriesema, Devries Smith; tier 3:
		// Devlin, whose email has "vries". Devriesen has no "vries".
		{"de vries", "[3 2 5 1 6 4]"},
		{"de vries 1975", "[5]"},
		{"de vr", "[3 1 4 2]"},
	} {
		var ids []string
		for _, p := range search.Rank(search.ParseQuery(tc.text), ps, false, 0) {
			ids = append(ids, p.ID)
		}
		if got := fmt.Sprint(ids); got != tc.want {
			t.Errorf("Rank(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	end := search.PrefixEnd("smi")
	for _, k := range []string{"smi", "smith", "smiłowski", "smi\uffff"} {
		if !("smi" <= k && k < end) {
			t.Errorf("%q is not in [smi, PrefixEnd(smi))", k)
		}
	}
	for _, k := range []string{"smh", "smj", "sm"} {
		if "smi" <= k && k < end {
			t.Errorf("%q is in [smi, PrefixEnd(smi))", k)
		}
	}
}

// Fold looks most characters up in a table instead of decomposing the
// text; it must give what the definition gives, alone and next to the
// characters that could interact with them (combining marks, which
// decomposition reorders).
func TestFoldShortcutsAgreeWithDefinition(t *testing.T) {
	marks := []string{"", "\u0301", "\u0308\u0323", "\u0323\u0308", "\u0345", "\u05b0", "\u0652"}
	for r := rune(1); r < 0x2100; r++ {
		for _, m := range marks {
			for _, s := range []string{string(r) + m, "A" + m + string(r), "é" + string(r) + m + "Ø"} {
				if got, want := search.Fold(s), search.FoldDefinition(s); got != want {
					t.Fatalf("Fold(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
	for _, s := range []string{"Ὀδυσσεύς", "Nguyễn", "İlker", "ﬁona", "Straße", "Ǆemal", "ǅ", "Ⅻ", "日本語 Ü", "ＡＢＣ"} {
		if got, want := search.Fold(s), search.FoldDefinition(s); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	p := &core.Patient{ID: "P0001234", FirstName: "Łukasz", LastName: "Wiśniewski", Email: "l.wisniewski@example.org",
		Phone: "+48501234567", BirthYear: 1980}
	for b.Loop() {
		search.Split(p)
	}
}
