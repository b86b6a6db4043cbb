package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ptdesk/core"
	"ptdesk/core/search"
)

// SearchPatients answers search as you type with the rule of
// ptdesk/core/search. Nothing is scored: each tier is read in its order
// from an index and reading stops once the limit is filled; rows that do
// not match are rejected inside an index where they can be, and only the
// rows returned are read in full.
//
//   - Tier 1 is a range of patients_by_last and tier 2 one of
//     patients_by_first, which hold every column. With a second name
//     term ("jo sm") the index is read as one short range per distinct key
//     that starts with the anchor (a loose index scan). With a birth
//     year ("smi 1980") both come from that year's range of
//     patients_by_year (tier 1) and patients_by_year_first (tier 2). A
//     query of several terms reads both tiers in one statement. A name
//     typed whole in several words ("de vries") is one more key the
//     scans read.
//   - Tier 3 is needed only when tiers 1 and 2 leave room; see tier3Plan.
//   - A query without a name term (a birth year, part of a phone number)
//     is all tier 3; see numbersPlan.
//
// Where a term must be found among tokens other than the name keys and the
// birth year, two places hold them: the FTS5 token index (ids, emails,
// phone digits; a token that begins with a name key shorter than the term
// under that key, see keyedToken), and name_words (the other words of
// names, shared by everyone with the name, whose rows the name indexes
// read in order). A search first asks cheap questions (probe) to leave out
// the places that have nothing.
func (db *DB) SearchPatients(ctx context.Context, q core.PatientQuery) ([]*core.Patient, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = core.DefaultSearchLimit
	}
	s := newSearchSQL(search.ParseQuery(q.Text), q.IncludeArchived, limit)
	ps, err := db.search(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("search patients for %q: %w", q.Text, err)
	}
	return ps, nil
}

func (db *DB) search(ctx context.Context, s *searchSQL) ([]*core.Patient, error) {
	var out []*core.Patient
	// Every statement reads up to the whole limit, so that its text and
	// parameters stay the same whatever the earlier tiers found (SQLite
	// plans a LIMIT's value into the statement); the surplus is dropped.
	read := func(query string, extra ...any) error {
		ps, err := db.queryPatients(ctx, s, query, append(s.params(), extra...)...)
		out = append(out, ps[:min(len(ps), s.limit-len(out))]...)
		return err
	}
	if len(s.q.Terms) == 0 {
		err := read(s.everyone())
		return out, err
	}
	if s.q.Anchor == "" {
		query, extra, err := db.numbersPlan(ctx, s)
		if err != nil {
			return nil, err
		}
		err = read(query, extra...)
		return out, err
	}
	year, err := db.yearPlan(ctx, s)
	if err != nil {
		return nil, err
	}
	tier1, tier2 := s.tier1(), s.tier2()
	if year.term != "" {
		tier1, tier2 = s.tier1Year(year), s.tier2Year(year)
	}
	if len(s.q.Terms) == 1 {
		// Tier 1 of one term often fills the page by itself.
		if err := read(tier1); err != nil {
			return nil, err
		}
		if len(out) < s.limit {
			if err := read(tier2); err != nil {
				return nil, err
			}
		}
	} else if err := read(`SELECT * FROM (`+tier1+`) UNION ALL SELECT * FROM (`+tier2+`) LIMIT :lim`, year.params...); err != nil {
		// Several terms: one statement reads both tiers, each in its
		// order, one after the other, and stops at the limit.
		return nil, err
	}
	if len(out) >= s.limit {
		return out, nil
	}
	query, extra, err := db.tier3Plan(ctx, s, year)
	if err != nil {
		return nil, err
	}
	err = read(query, extra...)
	return out, err
}

// queryPatients runs a search statement, kept prepared when its shape is a
// common one, and reads the patientRecords it returns.
func (db *DB) queryPatients(ctx context.Context, s *searchSQL, query string, args ...any) ([]*core.Patient, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if len(s.q.Terms) > maxPreparedTerms {
		rows, err = db.sql.QueryContext(ctx, query, args...)
	} else {
		var st *sql.Stmt
		if st, err = db.stmt(ctx, query); err == nil {
			rows, err = st.QueryContext(ctx, args...)
		}
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []*core.Patient
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, err
		}
		p, ok := parseRecord(rec)
		if !ok {
			// A field held the separator (the store's callers normalize
			// patients, so it has none): read that row as columns.
			seq, _, _ := strings.Cut(rec, "\x00")
			if p, err = scanPatient(db.sql.QueryRowContext(ctx, `SELECT `+patientColumns+` FROM patients WHERE seq = ?`, seq)); err != nil {
				return nil, err
			}
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// maxPreparedTerms bounds the statements kept prepared: their text depends
// on the number of terms of each kind, and longer queries are rare enough to
// be prepared each time.
const maxPreparedTerms = 6

// patientRecord is seq and the patient columns as one text, separated by
// NUL characters: a search returns its rows this way because handing a
// value from SQLite to Go costs more than the value, and a page of results
// would hand over twelve per row.
const patientRecord = `concat_ws(char(0), seq, ` + patientColumns + `)`

// parseRecord reads a patientRecord; ok is false when it does not have
// the fields it should.
func parseRecord(rec string) (*core.Patient, bool) {
	var f [13]string
	n := 0
	for n < len(f)-1 {
		i := strings.IndexByte(rec, 0)
		if i < 0 {
			break
		}
		f[n], rec = rec[:i], rec[i+1:]
		n++
	}
	f[n] = rec
	if n != len(f)-1 || strings.IndexByte(rec, 0) >= 0 {
		return nil, false
	}
	var (
		p    core.Patient
		ints [5]int64
		err  error
	)
	for i, j := range []int{4, 9, 10, 11, 12} {
		if ints[i], err = strconv.ParseInt(f[j], 10, 64); err != nil {
			return nil, false
		}
	}
	p.ID, p.FirstName, p.LastName = f[1], f[2], f[3]
	p.BirthYear = int(ints[0])
	p.Gender, p.Email, p.Phone, p.DiagnosisCode = core.Gender(f[5]), f[6], f[7], f[8]
	p.Archived = ints[1] != 0
	p.CreatedAt, p.UpdatedAt, p.Version = fromDB(ints[2]), fromDB(ints[3]), ints[4]
	return &p, true
}

// collect scans every patient row (patientColumns) and closes rows.
func collect(rows *sql.Rows, err error) ([]*core.Patient, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []*core.Patient
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// count runs a counting statement, kept prepared.
func (db *DB) count(ctx context.Context, query string, args ...any) (int, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	var n int
	if err := st.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

// tokenSeqs returns up to n rows (seqs) the token index has for the query
// m, unranked, as the JSON array that statements read them from
// (json_each), and how many there are. n is written into the statement:
// SQLite plans a virtual table's LIMIT with its value, and would prepare
// the statement again for each new one.
func (db *DB) tokenSeqs(ctx context.Context, m string, n int) (string, int, error) {
	st, err := db.stmt(ctx, `SELECT json_group_array(rowid), count(*) FROM (SELECT rowid FROM patient_tokens
		WHERE patient_tokens MATCH ? LIMIT `+strconv.Itoa(n)+`)`)
	if err != nil {
		return "", 0, err
	}
	var (
		list  string
		count int
	)
	if err := st.QueryRowContext(ctx, m).Scan(&list, &count); err != nil {
		return "", 0, err
	}
	return list, count, nil
}

// driverLimit is the most entries of another name term's key ranges that
// tier 3 counts, to weigh reading its matches against the anchor's.
const driverLimit = 256

// shortRanges is the number of entries below which the anchor's ranges of
// the name indexes are read whole for tier 3ab.
const shortRanges = 256

// yearSpread is how many birth years a directory's patients spread over
// at the least, for the size of one year's range of patients_by_year:
// about rows/yearSpread entries.
const yearSpread = 64

// fewTokenRows is the number of rows from the token index that tier 3
// looks up without weighing anything else.
const fewTokenRows = 16

// sortLimit is the number of rows from the token index up to which a
// search reads them all and sorts them; above it, reading an index in
// order finds the first page sooner. Sorting costs a table read per row,
// reading in order an index entry per row passed, some five times less:
// with k matches among n rows, the first limit are about limit·n/k entries
// apart, so sorting wins below k = √(limit·n/5). It is rounded to a power
// of two, which tokenSeqs writes into its statement.
func (db *DB) sortLimit(f *found, limit int) int {
	switch db.way {
	case wayScanned:
		return 0
	case waySorted, wayRanged:
		return 1 << 30
	}
	k := int(math.Sqrt(float64(limit) * float64(f.rows) / 5))
	n := 256
	for n < k && n < maxSortLimit {
		n *= 2
	}
	return n
}

// maxSortLimit bounds sortLimit.
const maxSortLimit = 16384

// pow2 is the least power of two that is at least n: limits written into
// statements are rounded to it, so that few statements are prepared.
func pow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// Ways of answering tier 3 (see SetSearchWayForTest).
const (
	wayAuto = iota
	waySorted
	wayScanned
	wayIntersected
	wayYear
	wayRanged
)

// yearPlan is how tiers 1 and 2 are read with a birth year among the terms
// ("smi 1980"): from that year's range of patients_by_year, and the few
// places where the year's digits are found otherwise.
type yearPlan struct {
	// term is the year, "" when there is none or when the token index has
	// many rows for its digits: then tiers 1 and 2 are read as usual.
	term string
	// found is where else the year's digits are, params the parameters
	// that says.
	found  *found
	params []any
}

func (db *DB) yearPlan(ctx context.Context, s *searchSQL) (yearPlan, error) {
	year := s.yearTerm()
	if year == "" || !ftsSafe(year) {
		return yearPlan{}, nil
	}
	f, err := db.probe(ctx, s, year)
	if err != nil {
		return yearPlan{}, err
	}
	limit := db.sortLimit(f, s.limit)
	list, n := f.yearList.list, f.yearList.n
	if len(f.shortKeys[year]) > 0 {
		// Rare: a name key is a prefix of the year's digits.
		if list, n, err = db.tokenSeqs(ctx, f.fts(year), limit+1); err != nil {
			return yearPlan{}, err
		}
	}
	if n > limit {
		return yearPlan{}, nil
	}
	p := yearPlan{term: year, found: f}
	f.lists[year] = "sy"
	p.params = append(p.params, sql.Named("sy", list))
	return p, nil
}

// found says where a query's terms occur other than in the name keys and
// the birth year, as far as a search needs to know it to leave out the
// parts of a statement that would find nothing.
type found struct {
	// wordRows counts (up to wordRowsLimit) the rows with a name word that
	// starts with a term; keys holds the terms that start a name key;
	// shortKeys lists the name keys that are proper prefixes of a term,
	// whose rows may have a token that begins with the key and then goes
	// on as the term does (see keyedToken).
	wordRows  map[string]int
	keys      map[string]bool
	shortKeys map[string][]string
	// rows is about the number of patients: the largest rowid;
	// anchorRows counts the entries of the anchor's ranges of the two
	// name indexes, up to shortRanges, when the query has another name
	// term (else 0).
	rows, anchorRows int
	// yearList is what the token index has for the year term's digits
	// (as they are, up to maxSortLimit+1), when probe was given one.
	yearList tokenList
	// lists names the parameter holding the JSON array of rows the token
	// index has for a term (see tokenSeqs); a term without one has none.
	// An empty array is passed like any other: reading it costs nothing,
	// and the statement's text, prepared once per shape (see stmt), stays
	// the same whether the token index has rows for the term or not.
	lists map[string]string
}

// fts is the token index query for the rows with a token that starts
// with term t: as it is, or after a shorter name key (see keyedToken).
func (f *found) fts(t string) string {
	parts := []string{ftsPrefix(t)}
	for _, k := range f.shortKeys[t] {
		parts = append(parts, ftsPrefix("_"+k+"_"+t[len(k):]))
	}
	return strings.Join(parts, " OR ")
}

// wordRowsLimit is the most rows with a name word probe counts.
const wordRowsLimit = 64

// probe finds out, in one statement, about how many patients there are,
// how long the anchor's ranges are, which name keys are proper prefixes of
// each term, how many rows have a name word that starts with each term,
// and which terms start a name key.
func (db *DB) probe(ctx context.Context, s *searchSQL, year string) (*found, error) {
	var cols []string
	for _, t := range s.q.Terms {
		p := s.termParam[t]
		cols = append(cols,
			`(SELECT json_group_array(v) FROM (SELECT substr(:`+p+`, 1, i) AS v FROM n WHERE i < length(:`+p+`))
				WHERE EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_first WHERE first_key = v)
					OR EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_last WHERE last_key = v))`,
			`(SELECT count(*) FROM (SELECT 1 FROM `+wordKeys(p, "last", "")+`
				CROSS JOIN patients INDEXED BY patients_by_last WHERE last_key = w.k
				UNION ALL SELECT 1 FROM `+wordKeys(p, "first", "")+`
				CROSS JOIN patients INDEXED BY patients_by_first WHERE first_key = w.k LIMIT `+strconv.Itoa(wordRowsLimit)+`))`,
			`EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_first WHERE `+starts("first_key", p)+`)
				OR EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_last WHERE `+starts("last_key", p)+`)`)
	}
	anchorRows := "0"
	if s.q.Anchor != "" && len(s.q.Names) > 0 {
		// Only tier 3ab, which needs another name term, weighs them.
		anchorRows = `(SELECT count(*) FROM (
			SELECT 1 FROM patients INDEXED BY patients_by_last WHERE ` + starts("last_key", "a") + `
			UNION ALL SELECT 1 FROM patients INDEXED BY patients_by_first WHERE ` + starts("first_key", "a") + `
			LIMIT ` + strconv.Itoa(shortRanges) + `))`
	}
	yearList := "'[]'"
	if year != "" {
		yearList = `(SELECT json_group_array(rowid) FROM (SELECT rowid FROM patient_tokens
			WHERE patient_tokens MATCH '"' || :` + s.termParam[year] + ` || '"*' LIMIT ` + strconv.Itoa(maxSortLimit+1) + `))`
	}
	query := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :len)
		SELECT (SELECT coalesce(max(seq), 0) FROM patients), ` + anchorRows + `, ` + yearList + `, ` + strings.Join(cols, ", ")
	var row *sql.Row
	if len(s.q.Terms) > maxPreparedTerms {
		row = db.sql.QueryRowContext(ctx, query, s.params()...)
	} else {
		st, err := db.stmt(ctx, query)
		if err != nil {
			return nil, err
		}
		row = st.QueryRowContext(ctx, s.params()...)
	}
	f := &found{wordRows: map[string]int{}, keys: map[string]bool{}, shortKeys: map[string][]string{}, lists: map[string]string{}}
	short := make([]string, len(s.q.Terms))
	counts := make([]int, len(s.q.Terms))
	keys := make([]bool, len(s.q.Terms))
	dest := []any{&f.rows, &f.anchorRows, &f.yearList.list}
	for i := range s.q.Terms {
		dest = append(dest, &short[i], &counts[i], &keys[i])
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if f.yearList.list != "[]" {
		f.yearList.n = strings.Count(f.yearList.list, ",") + 1
	}
	for i, t := range s.q.Terms {
		f.wordRows[t], f.keys[t] = counts[i], keys[i]
		if short[i] != "[]" {
			var ks []string
			if err := json.Unmarshal([]byte(short[i]), &ks); err != nil {
				return nil, err
			}
			f.shortKeys[t] = ks
		}
	}
	return f, nil
}

// tier3Plan chooses how to read tier 3 of a query with an anchor, and
// returns the statement and the parameters it adds.
//
// A tier-3 row has a name term that is on neither of its name keys but
// among its other tokens: the anchor (3c), or one of the other name terms
// while the anchor starts a name key (3ab).
//   - 3ab is read from the anchor's ranges of the two name indexes when
//     they are short, or when another name term is a single letter (it
//     starts a large share of all tokens, the initials of emails above
//     all, and listing those costs more than checking the ranges); else
//     the other name terms are looked up where other tokens are (see
//     SearchPatients), their rows in the token index one by one, or, when
//     those are many, by reading the ranges and checking each entry
//     against them.
//   - 3c is looked up likewise for the anchor (a long list of its rows
//     checked against the first other name term's matches instead, see
//     anchorInRanges); or, when the anchor is one letter or a common name
//     word, from the matches of the other name term when they are few;
//     and when the token index has more than sortLimit rows for the
//     anchor, the last name index is read in order.
//   - With a birth year among the terms, the name indexes are read within
//     that year (see lastIndex); and with a one-letter anchor, or one with
//     too many rows, or more rows to look up one by one than reading the
//     year's range costs (see yearSpread), all of tier 3 is read from that
//     year instead.
func (db *DB) tier3Plan(ctx context.Context, s *searchSQL, year yearPlan) (string, []any, error) {
	f := year.found
	if f == nil {
		var err error
		if f, err = db.probe(ctx, s, ""); err != nil {
			return "", nil, err
		}
	}
	limit := db.sortLimit(f, s.limit)
	var (
		p     = tier3{driver: -1}
		extra []any
	)
	// A birth year: every row of tier 3 was born that year or has its
	// digits elsewhere, which reads sooner than a one-letter anchor's or a
	// common name word's other tokens.
	if year.term != "" {
		if utf8.RuneCountInString(s.q.Anchor) == 1 || db.way == wayYear {
			p.year = year.term
			return s.tier3(p, f), year.params, nil
		}
		p.yearCut = year.term
		extra = append(extra, year.params...)
	}
	// 3ab: the anchor's ranges of the two name indexes when they are
	// short; else the other name terms are looked up: their rows in the
	// token index one by one when they are much fewer than the ranges'
	// entries, which are else read and checked against them. 3c: the
	// anchor's other tokens, unless (for a one-letter anchor) the other
	// name term's matches are fewer, or there are too many. A one-letter
	// name term other than the anchor is never looked up (above).
	names := len(s.q.Names) > 0 && db.way != wayScanned && allFTSSafe(s.q.Names) &&
		(db.way != wayAuto || f.anchorRows >= shortRanges && !anyOneLetter(s.q.Names))
	anchor := db.way != wayScanned && ftsSafe(s.q.Anchor)
	oneLetter := utf8.RuneCountInString(s.q.Anchor) == 1
	var ms []string
	if names {
		var terms []string
		for _, t := range s.q.Names {
			terms = append(terms, f.fts(t))
		}
		ms = append(ms, strings.Join(terms, " OR "))
	}
	anchorNow := anchor && !(oneLetter && db.way == wayAuto && names)
	if anchorNow {
		ms = append(ms, f.fts(s.q.Anchor))
	}
	got, err := db.tokenLists(ctx, ms, limit+1)
	if err != nil {
		return "", nil, err
	}
	namesList, anchorList := tokenList{n: -1}, tokenList{n: -1}
	if names {
		namesList, got = got[0], got[1:]
	}
	if anchorNow {
		anchorList = got[0]
	}
	namesRows := -1
	if names {
		if p.namesLookedUp = namesList.n <= limit; p.namesLookedUp {
			n := namesList.n
			namesRows = n
			extra = append(extra, sql.Named("sn", namesList.list))
			p.namesList = true
			switch {
			case db.way == wayIntersected:
				p.namesInRanges = true
			case db.way == wayAuto && n > 4*fewTokenRows:
				// Looking a row up costs some sixteen times checking an
				// entry of a range against the list, but counting the
				// entries costs about as much as checking them: they are
				// counted only up to four times the rows, which bounds
				// what a count that finds the ranges too long wastes.
				r, err := db.keyEntries(ctx, s.q.Anchor, pow2(4*n))
				if err != nil {
					return "", nil, err
				}
				p.namesInRanges = r < 4*n
			}
		}
	}
	if !anchor {
		return s.tier3(p, f), extra, nil
	}
	best := math.MaxInt
	if oneLetter && db.way == wayAuto && len(s.q.Names) == 1 && namesRows >= 0 {
		t := s.q.Names[0]
		keys, err := db.keyEntries(ctx, t, driverLimit)
		if err != nil {
			return "", nil, err
		}
		if keys < driverLimit {
			best = keys + f.wordRows[t] + 3*namesRows
		}
	}
	if best <= 4*fewTokenRows {
		p.driver = 0
		if p.namesList {
			f.lists[s.q.Names[0]] = "sn"
		}
		return s.tier3(p, f), extra, nil
	}
	if anchorList.n < 0 {
		list, n, err := db.tokenSeqs(ctx, f.fts(s.q.Anchor), limit+1)
		if err != nil {
			return "", nil, err
		}
		anchorList = tokenList{list, n}
	}
	n := anchorList.n
	lookups := n
	if p.namesList && !p.namesInRanges {
		lookups += namesRows
	}
	switch cost := 3*n + f.wordRows[s.q.Anchor]; {
	case year.term != "" && db.way == wayAuto && n <= limit && 16*lookups > f.rows/yearSpread:
		// So many rows to look up one by one that the year's range,
		// checked inside the index, finds tier 3 sooner.
		p = tier3{driver: -1, year: year.term}
		return s.tier3(p, f), year.params, nil
	case best < cost:
		p.driver = 0
		if p.namesList {
			f.lists[s.q.Names[0]] = "sn"
		}
	case n <= limit:
		p.anchorLookedUp = true
		f.lists[s.q.Anchor] = "sa"
		extra = append(extra, sql.Named("sa", anchorList.list))
		// Only long lists are weighed: they come from large
		// directories, whose rows are mostly not in the page cache, so
		// that looking each up costs the most.
		if db.way == wayRanged || db.way == wayAuto && n > 16*fewTokenRows {
			in, err := db.anchorInRanges(ctx, s, f, p, n)
			if err != nil {
				return "", nil, err
			}
			p.anchorInRanges = in
		}
	case year.term != "":
		// Too many for the anchor: the year finds tier 3 sooner.
		p = tier3{driver: -1, year: year.term}
		return s.tier3(p, f), year.params, nil
	}
	return s.tier3(p, f), extra, nil
}

// anchorInRanges decides whether the n rows of 3c that the token index
// has for the anchor (:sa) are better found from the first other name
// term: a row of 3c has that term too, on a name key (its ranges of the
// name indexes, checked against the anchor's rows as they are read), among
// the token index's rows for the other name terms (:sn, two lists
// intersected without reading a row), or in a name word (then this plan is
// not taken). Reading an entry of a range costs some sixteen times less
// than looking a row up, counting them as much as reading them: the
// ranges are counted up to eight times n, and read when shorter.
func (db *DB) anchorInRanges(ctx context.Context, s *searchSQL, f *found, p tier3, n int) (bool, error) {
	if !p.namesList || p.yearCut != "" || len(s.q.Names) == 0 || f.wordRows[s.q.Names[0]] > 0 {
		return false, nil
	}
	if db.way == wayRanged {
		return true, nil
	}
	most := pow2(8 * n)
	r, err := db.keyEntries(ctx, s.q.Names[0], most)
	return r < most, err
}

// tokenList is a JSON array of rows the token index has, and how many.
type tokenList struct {
	list string
	n    int
}

// tokenLists is tokenSeqs for several queries, in one statement.
func (db *DB) tokenLists(ctx context.Context, ms []string, n int) ([]tokenList, error) {
	switch len(ms) {
	case 0:
		return nil, nil
	case 1:
		list, count, err := db.tokenSeqs(ctx, ms[0], n)
		return []tokenList{{list, count}}, err
	}
	var cols []string
	args := make([]any, len(ms))
	for i, m := range ms {
		cols = append(cols, `(SELECT json_group_array(rowid) FROM (SELECT rowid FROM patient_tokens
			WHERE patient_tokens MATCH ?`+strconv.Itoa(i+1)+` LIMIT `+strconv.Itoa(n)+`))`)
		args[i] = m
	}
	st, err := db.stmt(ctx, `SELECT `+strings.Join(cols, ", "))
	if err != nil {
		return nil, err
	}
	lists := make([]string, len(ms))
	dest := make([]any, len(ms))
	for i := range lists {
		dest[i] = &lists[i]
	}
	if err := st.QueryRowContext(ctx, args...).Scan(dest...); err != nil {
		return nil, err
	}
	out := make([]tokenList, len(ms))
	for i, l := range lists {
		out[i] = tokenList{l, 0}
		if l != "[]" {
			out[i].n = strings.Count(l, ",") + 1
		}
	}
	return out, nil
}

// keyEntries counts the entries of the ranges of the two name indexes whose
// key starts with t, up to most.
func (db *DB) keyEntries(ctx context.Context, t string, most int) (int, error) {
	return db.count(ctx, `SELECT count(*) FROM (
		SELECT 1 FROM patients INDEXED BY patients_by_last WHERE last_key >= ?1 AND last_key < ?2
		UNION ALL SELECT 1 FROM patients INDEXED BY patients_by_first WHERE first_key >= ?1 AND first_key < ?2
		LIMIT `+strconv.Itoa(most)+`)`, t, search.PrefixEnd(t))
}

// numbersPlan chooses how to read a query without a name term, which is
// all tier 3, from what its longest term can be a prefix of:
//   - a birth year alone ("1980"): that range of patients_by_year, which
//     is in tier order, with the rows where the term is found elsewhere
//     when the token index has few;
//   - no birth year (more than four digits, say, but at least
//     minNumberPrefix): the rows where the term is found, sorted, when
//     the token index has few;
//   - else (several birth years, many tokens) matches are common, and the
//     last name index is read in order.
func (db *DB) numbersPlan(ctx context.Context, s *searchSQL) (string, []any, error) {
	driver := s.q.Terms[0]
	for _, t := range s.q.Terms[1:] {
		if len(t) > len(driver) {
			driver = t
		}
	}
	lo, hi := yearRange(driver)
	if (lo > hi || lo == hi) && ftsSafe(driver) && utf8.RuneCountInString(driver) >= minNumberPrefix {
		f, err := db.probe(ctx, s, "")
		if err != nil {
			return "", nil, err
		}
		limit := db.sortLimit(f, s.limit)
		list, n, err := db.tokenSeqs(ctx, f.fts(driver), limit+1)
		if err != nil {
			return "", nil, err
		}
		if n <= limit {
			f.lists[driver] = "sa"
			return s.numbersLookedUp(driver, lo == hi, f), []any{sql.Named("sa", list)}, nil
		}
	}
	return s.numbersScanned(), nil, nil
}

// minNumberPrefix is the shortest number term the token index is asked
// about: shorter ones start a large share of all phone numbers and ids,
// whose rows the last name index then finds sooner in order.
const minNumberPrefix = 4

// yearRange is the birth years that start with term t (all four digits
// long), as lo <= year <= hi, or lo > hi when there is none.
func yearRange(t string) (lo, hi int) {
	if len(t) == 0 || len(t) > 4 || t[0] < '1' || t[0] > '9' {
		return 1, 0
	}
	n := 0
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return 1, 0
		}
		n = n*10 + int(t[i]-'0')
	}
	scale := 1
	for range 4 - len(t) {
		scale *= 10
	}
	return n * scale, (n+1)*scale - 1
}

// ftsSafe reports a term made of characters that SQLite's unicode61
// tokenizer has always treated as parts of words (digits and letters of the
// Latin, Greek and Cyrillic scripts), so that the token index and the rule
// agree on it. Other terms are answered without the token index.
func ftsSafe(t string) bool {
	for _, r := range t {
		if r >= 0x0530 || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return t != ""
}

func allFTSSafe(terms []string) bool {
	for _, t := range terms {
		if !ftsSafe(t) {
			return false
		}
	}
	return true
}

// anyOneLetter reports whether one of terms is a single letter.
func anyOneLetter(terms []string) bool {
	for _, t := range terms {
		if utf8.RuneCountInString(t) == 1 {
			return true
		}
	}
	return false
}

// ftsPrefix is the token index query for the tokens that start with t.
func ftsPrefix(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"*` }

// searchSQL builds the statements of one query. Parameters are named: :a
// and :ae bound the anchor's range, :nI and :nIe those of the other name
// terms, :tI, :tIe and :tIs (the term after a space, for instr) those of
// every term, :tIy and :tIz the birth years a number term is a prefix of;
// :j is the name terms joined (search.Query.Joined) and :top is above
// every key; :lim is the limit, :len the length of the longest term, and
// :sa, :sn and :sy JSON arrays of rows the token index has (see
// tokenSeqs).
type searchSQL struct {
	q        search.Query
	archived bool
	limit    int
	args     []any
	// termParam names each term's parameters, nameParam each other name
	// term's.
	termParam map[string]string
	nameParam []string
}

func newSearchSQL(q search.Query, archived bool, limit int) *searchSQL {
	s := &searchSQL{q: q, archived: archived, limit: limit, termParam: map[string]string{}}
	if q.Anchor != "" {
		s.args = append(s.args, sql.Named("a", q.Anchor), sql.Named("ae", search.PrefixEnd(q.Anchor)))
	}
	for i, n := range q.Names {
		p := "n" + strconv.Itoa(i)
		s.nameParam = append(s.nameParam, p)
		s.args = append(s.args, sql.Named(p, n), sql.Named(p+"e", search.PrefixEnd(n)))
	}
	if q.Joined != "" {
		s.args = append(s.args, sql.Named("j", q.Joined), sql.Named("top", search.PrefixEnd("")))
	}
	longest := 0
	for i, t := range q.Terms {
		longest = max(longest, utf8.RuneCountInString(t))
		p := "t" + strconv.Itoa(i)
		s.termParam[t] = p
		s.args = append(s.args, sql.Named(p, t), sql.Named(p+"e", search.PrefixEnd(t)), sql.Named(p+"s", " "+t))
		if !search.IsNameTerm(t) {
			lo, hi := yearRange(t)
			s.args = append(s.args, sql.Named(p+"y", lo), sql.Named(p+"z", hi))
		}
	}
	s.args = append(s.args, sql.Named("lim", limit), sql.Named("len", longest))
	return s
}

// params are the parameters every statement of the query may use.
func (s *searchSQL) params() []any { return s.args[:len(s.args):len(s.args)] }

// starts is "col starts with the term of parameter p".
func starts(col, p string) string {
	return "(" + col + " >= :" + p + " AND " + col + " < :" + p + "e)"
}

// onKeys is "the term of parameter p starts a name key".
func onKeys(p string) string {
	return "(" + starts("first_key", p) + " OR " + starts("last_key", p) + ")"
}

// anyToken is "term t is a prefix of one of the tokens".
func (s *searchSQL) anyToken(t string) string {
	p := s.termParam[t]
	year := ""
	if !search.IsNameTerm(t) {
		year = " OR birth_year BETWEEN :" + p + "y AND :" + p + "z"
	}
	return "(" + starts("first_key", p) + " OR " + starts("last_key", p) +
		" OR instr(tokens, :" + p + "s) > 0 OR instr(other, :" + p + "s) > 0" + year + ")"
}

func (s *searchSQL) archivedFilter() string {
	if s.archived {
		return ""
	}
	return " AND archived = 0"
}

// namesOnKeys is "every name term but the anchor starts a name key".
func (s *searchSQL) namesOnKeys() string {
	var b strings.Builder
	for _, p := range s.nameParam {
		b.WriteString(" AND " + onKeys(p))
	}
	return b.String()
}

// namesRule is "the other name terms put the row in the tier of key", for
// a row whose key starts with the anchor: each is on a name key, or the
// key is the name terms joined.
func (s *searchSQL) namesRule(key string) string {
	if s.q.Joined == "" {
		return s.namesOnKeys()
	}
	return " AND ((1" + s.namesOnKeys() + ") OR " + key + " = :j)"
}

// keyTier is "a matching row is in the tier of key by that key" (tier 1
// for last_key, 2 for first_key, before the other is looked at).
func (s *searchSQL) keyTier(key string) string {
	rule := "(" + starts(key, "a") + s.namesOnKeys() + ")"
	if s.q.Joined == "" {
		return rule
	}
	return "(" + rule + " OR " + key + " = :j)"
}

// numbersAnywhere is "every number term is a prefix of a token".
func (s *searchSQL) numbersAnywhere() string { return s.anywhere(s.q.Numbers, "") }

// allAnywhere is "every term is a prefix of a token".
func (s *searchSQL) allAnywhere() string { return s.anywhere(s.q.Terms, "") }

// anywhere is "every term but skip is a prefix of a token".
func (s *searchSQL) anywhere(terms []string, skip string) string {
	var b strings.Builder
	for _, t := range terms {
		if t != skip {
			b.WriteString(" AND " + s.anyToken(t))
		}
	}
	return b.String()
}

const (
	lastOrder  = "last_key, first_key, id_key"
	firstOrder = "first_key, last_key, id_key"
)

// fetch reads the rows of the seqs, which index-only queries chose, in
// order, up to the limit.
func (s *searchSQL) fetch(seqs, order string) string {
	return `SELECT ` + patientRecord + ` FROM patients WHERE seq IN (` + seqs + `) ORDER BY ` + order + ` LIMIT :lim`
}

// inOrder reads the rows of patients_by_last that pass filter, in its
// order, up to the limit: the index holds every column.
func (s *searchSQL) inOrder(filter string) string {
	return `SELECT ` + patientRecord + ` FROM patients INDEXED BY patients_by_last WHERE 1` + filter +
		` ORDER BY ` + lastOrder + ` LIMIT :lim`
}

// union joins the parts that a statement reads rows from.
func union(parts []string) string { return strings.Join(parts, " UNION ALL ") }

func (s *searchSQL) everyone() string {
	return s.inOrder(s.archivedFilter())
}

// tier1 reads the patients whose last name key starts with the anchor.
func (s *searchSQL) tier1() string {
	return s.nameTier("last_key", "first_key", "patients_by_last", "", "")
}

// tier2 reads the patients whose first name key starts with the anchor
// (and the last does not).
func (s *searchSQL) tier2() string {
	return s.nameTier("first_key", "last_key", "patients_by_first", " AND NOT "+starts("last_key", "a"),
		" AND NOT "+s.keyTier("last_key"))
}

// nameTier reads the rows whose key starts with the anchor, ordered by
// key, other key and id, from the index on them, leaving out those of the
// tier before (exclude). With another name term the row must also have it
// at the start of a key: the other key (one short range per distinct key
// starting with the anchor: a loose index scan), or the same key when one
// term is a prefix of the other; or its key is the name terms joined, a
// key whose rows the loose scan reads whole (there joinedExclude leaves
// out the tier before).
func (s *searchSQL) nameTier(key, other, index, exclude, joinedExclude string) string {
	filters := s.archivedFilter() + exclude + s.namesOnKeys() + s.numbersAnywhere()
	order := key + ", " + other + ", id_key"
	if len(s.q.Names) == 0 {
		return `SELECT ` + patientRecord + ` FROM patients INDEXED BY ` + index + ` WHERE ` + starts(key, "a") + filters +
			` ORDER BY ` + order + ` LIMIT :lim`
	}
	driver := s.nameParam[0]
	// k lists the distinct keys that start with the anchor, in order; the
	// CROSS JOIN keeps k the outer loop, so rows come out in index order
	// and LIMIT stops the scan early. A name term that starts no key at
	// all ("mc donald": "donald" is only a part of "mcdonald") leaves only
	// the key that is the terms joined, which a few lookups tell before
	// the scan.
	var known []string
	for _, p := range s.nameParam {
		known = append(known, `(EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_last WHERE `+starts("last_key", p)+
			`) OR EXISTS (SELECT 1 FROM patients INDEXED BY patients_by_first WHERE `+starts("first_key", p)+`))`)
	}
	loose := `WITH RECURSIVE k(v) AS (
			SELECT (SELECT min(` + key + `) FROM patients INDEXED BY ` + index + ` WHERE ` + starts(key, "a") + `)
				WHERE ` + strings.Join(known, " AND ") + `
					OR EXISTS (SELECT 1 FROM patients INDEXED BY ` + index + ` WHERE ` + key + ` = :j)
			UNION ALL
			SELECT (SELECT min(` + key + `) FROM patients INDEXED BY ` + index + ` WHERE ` + key + ` > k.v AND ` + key + ` < :ae)
			FROM k WHERE k.v IS NOT NULL) `
	// The key that is the terms joined is read whole, any other only where
	// the other key starts with the first other name term.
	inJoined := `k.v = :j`
	scan := `SELECT seq FROM k CROSS JOIN patients INDEXED BY ` + index + `
		WHERE ` + key + ` = k.v
			AND ` + other + ` >= CASE WHEN ` + inJoined + ` THEN '' ELSE :` + driver + ` END
			AND ` + other + ` < CASE WHEN ` + inJoined + ` THEN :top ELSE :` + driver + `e END` +
		s.archivedFilter() + s.numbersAnywhere() + `
			AND ((1` + exclude + s.namesOnKeys() + `) OR (` + key + ` = :j` + joinedExclude + `))
		LIMIT :lim`
	a, n := s.q.Anchor, s.q.Names[0]
	if !strings.HasPrefix(a, n) && !strings.HasPrefix(n, a) {
		// The scan is in tier order and the index holds every column.
		return loose + strings.Replace(scan, "SELECT seq", "SELECT "+patientRecord, 1)
	}
	longer := "a"
	if len(n) > len(a) {
		longer = driver
	}
	return loose + s.fetch(`SELECT seq FROM (`+scan+`) UNION ALL SELECT seq FROM (SELECT seq FROM patients INDEXED BY `+index+`
			WHERE `+starts(key, longer)+filters+` ORDER BY `+order+` LIMIT :lim)`, order)
}

// yearTerm is the first number term that is a birth year of its own
// (four digits), or "".
func (s *searchSQL) yearTerm() string {
	for _, t := range s.q.Numbers {
		if lo, hi := yearRange(t); lo == hi {
			return t
		}
	}
	return ""
}

// yearPart reads the rows born in the year of term t (one year) from
// patients_by_year, with the conditions where and filter (which must not
// check t); in tier order when ordered.
func (s *searchSQL) yearPart(t, where, filter string, ordered bool) string {
	q := `SELECT seq FROM patients INDEXED BY patients_by_year WHERE birth_year = :` + s.termParam[t] + `y` + where + filter
	if !ordered {
		return q
	}
	return `SELECT seq FROM (` + q + ` ORDER BY ` + lastOrder + ` LIMIT :lim)`
}

// foundParts are the rows where term t is found other than in a key or a
// birth year, as far as f knows them: among the rows the token index had
// for it, in name_words. p names the parameters of t's range; filter
// applies to all of them.
func (s *searchSQL) foundParts(t, p string, f *found, filter, keys, yr string) []string {
	var parts []string
	if list := f.lists[t]; list != "" {
		parts = append(parts, `SELECT seq FROM patients WHERE seq IN (SELECT value FROM json_each(:`+list+`))`+filter)
	}
	if f.wordRows[t] > 0 {
		parts = append(parts, s.wordParts(p, filter, keys, yr)...)
	}
	return parts
}

// offKeyA restricts wordKeys to keys that do not start with the anchor:
// the rows of 3c have it on neither key.
const offKeyA = " AND NOT (key >= :a AND key < :ae)"

// wordKeys lists the keys of kind ('first' or 'last') of the patients
// with a name word that starts with the term of parameter p (and where).
func wordKeys(p, kind, where string) string {
	return `(SELECT DISTINCT key AS k FROM name_words
		WHERE word >= :` + p + ` AND word < :` + p + `e AND kind = '` + kind + `'` + where + ` ORDER BY key) AS w`
}

// lastIndex is where rows are read in the order of tier 1: patients_by_last,
// or, with a birth year term yr (every row of tier 3 is born that year, or
// has its digits elsewhere), that year's range of patients_by_year. It ends
// in a WHERE clause that conditions are added to with AND.
func (s *searchSQL) lastIndex(yr string) string {
	if yr == "" {
		return "patients INDEXED BY patients_by_last WHERE 1"
	}
	return "patients INDEXED BY patients_by_year WHERE birth_year = :" + s.termParam[yr] + "y"
}

// firstIndex is lastIndex in the order of tier 2.
func (s *searchSQL) firstIndex(yr string) string {
	if yr == "" {
		return "patients INDEXED BY patients_by_first WHERE 1"
	}
	return "patients INDEXED BY patients_by_year_first WHERE birth_year = :" + s.termParam[yr] + "y"
}

// wordParts are the rows with a name word that starts with the term of
// parameter p (and whose keys pass keys, a condition on wordKeys): by last
// name key in order (up to the limit), by first name key all; born in the
// year yr when it is not "".
func (s *searchSQL) wordParts(p, filter, keys, yr string) []string {
	return []string{
		`SELECT seq FROM (SELECT seq FROM ` + wordKeys(p, "last", keys) + ` CROSS JOIN ` + s.lastIndex(yr) + `
			AND last_key = w.k` + filter + ` LIMIT :lim)`,
		`SELECT seq FROM ` + wordKeys(p, "first", keys) + ` CROSS JOIN ` + s.firstIndex(yr) + `
			AND first_key = w.k` + filter,
	}
}

// anchoredWordParts are wordParts for the rows where the anchor starts a
// name key: those whose name word's key is that key, all of them, and the
// others by the anchor's range of the other key. The last name's are read
// in order, up to the limit: thousands of patients can share a last name
// (O'Brien for "jo brien").
func (s *searchSQL) anchoredWordParts(p, filter, yr string) []string {
	inA := "key >= :a AND key < :ae"
	return []string{
		`SELECT seq FROM (SELECT seq FROM ` + wordKeys(p, "last", " AND "+inA) + ` CROSS JOIN ` + s.lastIndex(yr) + `
			AND last_key = w.k` + filter + ` LIMIT :lim)`,
		`SELECT seq FROM (SELECT seq FROM ` + wordKeys(p, "last", " AND NOT ("+inA+")") + ` CROSS JOIN ` + s.lastIndex(yr) + `
			AND last_key = w.k AND ` + starts("first_key", "a") + filter + ` LIMIT :lim)`,
		`SELECT seq FROM ` + wordKeys(p, "first", " AND "+inA) + ` CROSS JOIN ` + s.firstIndex(yr) + `
			AND first_key = w.k` + filter,
		`SELECT seq FROM ` + wordKeys(p, "first", " AND NOT ("+inA+")") + ` CROSS JOIN ` + s.firstIndex(yr) + `
			AND first_key = w.k AND ` + starts("last_key", "a") + filter,
	}
}

// keyParts are the rows with a name key that starts with term t, when f
// says there are any.
func (s *searchSQL) keyParts(t string, f *found, filter string) []string {
	if !f.keys[t] {
		return nil
	}
	p := s.termParam[t]
	return []string{
		`SELECT seq FROM patients INDEXED BY patients_by_first WHERE ` + starts("first_key", p) + filter,
		`SELECT seq FROM patients INDEXED BY patients_by_last WHERE ` + starts("last_key", p) + filter,
	}
}

// tier1Year reads tier 1 with a birth year: the rows born that year from
// patients_by_year, in order, and those where the year's digits are found
// otherwise.
func (s *searchSQL) tier1Year(y yearPlan) string {
	t := y.term
	filter := s.archivedFilter() + s.namesRule("last_key")
	parts := []string{s.yearPart(t, " AND "+starts("last_key", "a"), filter+s.anywhere(s.q.Numbers, t), true)}
	filter = " AND " + starts("last_key", "a") + filter + s.numbersAnywhere()
	parts = append(parts, s.foundParts(t, s.termParam[t], y.found, filter, "", "")...)
	parts = append(parts, s.keyParts(t, y.found, filter)...)
	return s.fetch(union(parts), lastOrder)
}

// tier2Year reads tier 2 with a birth year: the rows born that year whose
// first name key starts with the anchor, from patients_by_year_first in
// order, and those where the year's digits are found otherwise.
func (s *searchSQL) tier2Year(y yearPlan) string {
	t := y.term
	tier := " AND " + starts("first_key", "a") + " AND NOT " + s.keyTier("last_key") + s.archivedFilter() + s.namesRule("first_key")
	parts := []string{`SELECT seq FROM (SELECT seq FROM patients INDEXED BY patients_by_year_first
		WHERE birth_year = :` + s.termParam[t] + `y` + tier + s.anywhere(s.q.Numbers, t) + ` ORDER BY ` + firstOrder + ` LIMIT :lim)`}
	filter := tier + s.numbersAnywhere()
	parts = append(parts, s.foundParts(t, s.termParam[t], y.found, filter, "", "")...)
	parts = append(parts, s.keyParts(t, y.found, filter)...)
	return s.fetch(union(parts), firstOrder)
}

// tier3 is how tier3Plan chose to read the parts of tier 3.
type tier3 struct {
	// year, when not "", is a birth year term: all of tier 3 is read from
	// that year's range of patients_by_year and the token index's rows for
	// its digits (:sy), and the rest of the plan does not apply. yearCut,
	// when not "", is one too, with which the plan's reading of the name
	// indexes is read from the year indexes instead (see lastIndex).
	year, yearCut string
	// anchorLookedUp: 3c is looked up where other tokens are (the token
	// index's rows in :sa); else patients_by_last is read in order.
	// anchorInRanges: the rows in :sa are found from the first other name
	// term instead of one by one (see anchorInRanges).
	anchorLookedUp, anchorInRanges bool
	// driver, when not -1, is the other name term whose matches (its
	// key ranges, its other tokens; the token index's rows in :sn) 3c is
	// read from instead.
	driver int
	// namesLookedUp: 3ab is looked up likewise for the other name terms
	// (the token index's rows in :sn when namesList: one by one, or by
	// reading the anchor's ranges and checking each entry against them
	// when namesInRanges); else the anchor's ranges are read.
	namesLookedUp, namesList, namesInRanges bool
}

// tier3Filter is "a tier-3 match".
func (s *searchSQL) tier3Filter() string {
	return s.archivedFilter() + s.allAnywhere() + " AND NOT " + s.keyTier("last_key") + " AND NOT " + s.keyTier("first_key")
}

// tier3 is the statement for the plan p: the union of its parts, each
// filtered inside an index where it can be, sorted.
func (s *searchSQL) tier3(p tier3, f *found) string {
	filter := s.tier3Filter()
	var parts []string
	if p.year != "" {
		parts = append(parts, s.yearPart(p.year, "", filter, true))
		if f.lists[p.year] != "" {
			parts = append(parts, `SELECT seq FROM patients WHERE seq IN (SELECT value FROM json_each(:sy))`+filter)
		}
		if f.wordRows[p.year] > 0 {
			parts = append(parts, s.wordParts(s.termParam[p.year], filter, "", "")...)
		}
		parts = append(parts, s.keyParts(p.year, f, filter)...)
		return s.fetch(union(parts), lastOrder)
	}
	yr := p.yearCut
	if yr != "" && f.lists[yr] != "" {
		// The rows with the year's digits elsewhere; the index parts
		// below read only those born that year.
		parts = append(parts, `SELECT seq FROM patients WHERE seq IN (SELECT value FROM json_each(:sy))`+filter)
	}
	switch {
	case p.driver >= 0:
		t, np := s.q.Names[p.driver], s.nameParam[p.driver]
		offKey := " AND NOT " + onKeys("a") + filter
		parts = append(parts,
			`SELECT seq FROM (SELECT seq FROM `+s.lastIndex(yr)+` AND `+starts("last_key", np)+offKey+`
				ORDER BY `+lastOrder+` LIMIT :lim)`,
			`SELECT seq FROM `+s.firstIndex(yr)+` AND `+starts("first_key", np)+offKey)
		parts = append(parts, s.foundParts(t, np, f, offKey, offKeyA, yr)...)
	case p.anchorInRanges:
		np, in := s.nameParam[0], " AND seq IN (SELECT value FROM json_each(:sa))"
		parts = append(parts,
			`SELECT seq FROM patients INDEXED BY patients_by_last WHERE `+starts("last_key", np)+in+filter,
			`SELECT seq FROM patients INDEXED BY patients_by_first WHERE `+starts("first_key", np)+in+filter,
			`SELECT seq FROM patients WHERE seq IN (SELECT value FROM json_each(:sa)
				WHERE value IN (SELECT value FROM json_each(:sn)))`+filter)
		if f.wordRows[s.q.Anchor] > 0 {
			parts = append(parts, s.wordParts("a", filter, offKeyA, yr)...)
		}
	case p.anchorLookedUp:
		parts = append(parts, s.foundParts(s.q.Anchor, "a", f, filter, offKeyA, yr)...)
	default:
		parts = append(parts, `SELECT seq FROM (SELECT seq FROM `+s.lastIndex(yr)+` AND NOT `+onKeys("a")+filter+`
			ORDER BY `+lastOrder+` LIMIT :lim)`)
	}
	if len(s.q.Names) > 0 {
		if p.namesLookedUp {
			// The anchor starts a key: either or both.
			anchored := filter + " AND " + onKeys("a")
			switch {
			case p.namesList && p.namesInRanges:
				in := " AND seq IN (SELECT value FROM json_each(:sn))"
				parts = append(parts,
					`SELECT seq FROM patients INDEXED BY patients_by_last WHERE `+starts("last_key", "a")+in+filter,
					`SELECT seq FROM patients INDEXED BY patients_by_first
						WHERE `+starts("first_key", "a")+` AND NOT `+starts("last_key", "a")+in+filter)
			case p.namesList:
				parts = append(parts, `SELECT seq FROM patients WHERE seq IN (SELECT value FROM json_each(:sn))`+anchored)
			}
			for i, n := range s.q.Names {
				if f.wordRows[n] > 0 {
					parts = append(parts, s.anchoredWordParts(s.nameParam[i], filter, yr)...)
				}
			}
		} else {
			parts = append(parts,
				`SELECT seq FROM (SELECT seq FROM `+s.lastIndex(yr)+` AND `+starts("last_key", "a")+filter+`
					ORDER BY `+lastOrder+` LIMIT :lim)`,
				`SELECT seq FROM `+s.firstIndex(yr)+` AND `+starts("first_key", "a")+` AND NOT `+starts("last_key", "a")+filter)
		}
	}
	if len(parts) == 0 {
		return `SELECT ` + patientRecord + ` FROM patients WHERE 0`
	}
	return s.fetch(union(parts), lastOrder)
}

// numbersLookedUp is a query without a name term answered from the rows
// where its term t is found: in a key, elsewhere (as f says), and, when t
// is a birth year (year), the rows born that year in order.
func (s *searchSQL) numbersLookedUp(t string, year bool, f *found) string {
	filter := s.archivedFilter() + s.allAnywhere()
	var parts []string
	if year {
		parts = append(parts, s.yearPart(t, "", s.archivedFilter()+s.anywhere(s.q.Terms, t), true))
	}
	parts = append(parts, s.foundParts(t, s.termParam[t], f, filter, "", "")...)
	parts = append(parts, s.keyParts(t, f, filter)...)
	if len(parts) == 0 {
		return `SELECT ` + patientRecord + ` FROM patients WHERE 0`
	}
	return s.fetch(union(parts), lastOrder)
}

// numbersScanned is a query without a name term answered by reading the
// last name index in order.
func (s *searchSQL) numbersScanned() string {
	return s.inOrder(s.archivedFilter() + s.allAnywhere())
}
