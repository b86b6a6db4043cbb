package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"ptdesk/core"
	"ptdesk/core/search"
)

// SearchPatients answers search as you type with the rule of
// ptdesk/core/search. Nothing is scored: each tier is read in its order and
// reading stops once the limit is filled. Every row a search rejects is
// rejected inside an index, without reading the table.
//
//   - A query with a number (a birth year, part of a phone number) asks
//     the FTS5 token index, unranked, for the rows with every term,
//     stopping after exactLimit+1; up to exactLimit rows are read and sorted
//     at once. The index's intersection takes longer as the directory
//     grows, so beyond numbersFirstRows patients a query that also has a
//     name goes the way below instead, where a name and a year fill the
//     page from the first few thousand entries of the name's range.
//   - Tier 1 and tier 2 are ranges of the B-tree indexes on the name keys
//     (patients_by_last, patients_by_first), which also hold the other
//     tokens that number terms are checked against. With a second name term
//     ("jo sm") the index is read as one short range per distinct key that
//     starts with the anchor (a loose index scan).
//   - Tier 3 is needed only when tiers 1 and 2 leave room. Its rows have a
//     name term among their other tokens: either one that begins with one of
//     their name keys (found by looking those keys up: "johnsm" can only be
//     in the row of a John, a Johns or a Johnsm...), or one listed in the
//     FTS5 token index, read unranked and stopping after exactLimit+1. Up to
//     exactLimit of those are read and sorted; more means tier-3 rows are
//     common, and the last name index is read in order instead.
func (db *DB) SearchPatients(ctx context.Context, q core.PatientQuery) ([]*core.Patient, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = core.DefaultSearchLimit
	}
	s := newSearchSQL(search.ParseQuery(q.Text), q.IncludeArchived)
	ps, err := db.search(ctx, s, limit)
	if err != nil {
		return nil, fmt.Errorf("search patients for %q: %w", q.Text, err)
	}
	return ps, nil
}

func (db *DB) search(ctx context.Context, s *searchSQL, limit int) ([]*core.Patient, error) {
	var out []*core.Patient
	read := func(query string, args []any) error {
		args = append(slices.Clip(args), sql.Named("lim", limit-len(out)))
		ps, err := db.queryPatients(ctx, s, query, args...)
		out = append(out, ps...)
		return err
	}
	if len(s.q.Terms) == 0 {
		err := read(s.everyone(), nil)
		return out, err
	}
	if len(s.q.Numbers) > 0 && s.ftsSafe && (s.q.Anchor == "" || db.rows(ctx) <= numbersFirstRows) {
		// A number (a birth year, part of a phone number) is usually the
		// rarest term: the token index intersects all of them.
		seqs, err := db.tokenMatches(ctx, s.allMatch(), db.exactLimit+1)
		if err != nil {
			return nil, err
		}
		if len(seqs) <= db.exactLimit {
			list, args := seqParams(seqs)
			err := read(s.allMatches(list), append(slices.Clip(s.args), args...))
			return out, err
		}
	}
	if s.q.Anchor != "" {
		if err := read(s.tier1(), s.args); err != nil {
			return nil, err
		}
		if len(out) < limit {
			if err := read(s.tier2(), s.args); err != nil {
				return nil, err
			}
		}
	}
	if len(out) >= limit {
		return out, nil
	}
	if s.ftsSafe && s.q.Anchor != "" {
		seqs, err := db.tokenMatches(ctx, s.tier3Match(), db.exactLimit+1)
		if err != nil {
			return nil, err
		}
		if len(seqs) <= db.exactLimit {
			list, args := seqParams(seqs)
			err := read(s.tier3Matches(list), append(slices.Clip(s.args), args...))
			return out, err
		}
	}
	err := read(s.tier3Scan(), s.args)
	return out, err
}

// numbersFirstRows is the directory size up to which a query with a name
// and a number asks the token index first.
const numbersFirstRows = 300_000

// rows is about the number of patients: the largest rowid, found in the
// table's B-tree at once.
func (db *DB) rows(ctx context.Context) int64 {
	var n sql.NullInt64
	if st, err := db.stmt(ctx, `SELECT max(seq) FROM patients`); err == nil {
		st.QueryRowContext(ctx).Scan(&n)
	}
	return n.Int64
}

// queryPatients runs a search statement, kept prepared when its shape is a
// common one.
func (db *DB) queryPatients(ctx context.Context, s *searchSQL, query string, args ...any) ([]*core.Patient, error) {
	if len(s.q.Terms) > maxPreparedTerms {
		return collect(db.sql.QueryContext(ctx, query, args...))
	}
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return collect(st.QueryContext(ctx, args...))
}

// maxPreparedTerms bounds the statements kept prepared: their text depends
// on the number of terms of each kind, and longer queries are rare enough to
// be prepared each time.
const maxPreparedTerms = 6

// tokenMatches returns the rowids of up to n rows of the token index that
// match m, unranked.
func (db *DB) tokenMatches(ctx context.Context, m string, n int) ([]int64, error) {
	st, err := db.stmt(ctx, `SELECT rowid FROM patient_tokens WHERE patient_tokens MATCH ? LIMIT ?`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, m, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		seqs = append(seqs, seq)
	}
	return seqs, rows.Err()
}

// seqBuckets are the sizes of the lists of rows a statement takes as
// parameters: a statement per size stays prepared, and a shorter list is
// padded with a seq that no row has. (One parameter holding the whole list,
// read by a table-valued function, would make SQLite prepare the statement
// again whenever the list changes.)
var seqBuckets = []int{16, 64, 256, 1024}

// seqParams returns the SQL list of the parameters that carry seqs, and
// those parameters; seqs holds at most the last bucket's size.
func seqParams(seqs []int64) (string, []any) {
	n := seqBuckets[len(seqBuckets)-1]
	for _, b := range seqBuckets {
		if len(seqs) <= b {
			n = b
			break
		}
	}
	names := make([]string, n)
	args := make([]any, n)
	for i := range n {
		names[i] = ":s" + strconv.Itoa(i)
		v := int64(-1)
		if i < len(seqs) {
			v = seqs[i]
		}
		args[i] = sql.Named("s"+strconv.Itoa(i), v)
	}
	return strings.Join(names, ","), args
}

// searchSQL builds the statements of one query. Parameters are named: :a
// and :ae bound the anchor's range, :nI and :nIe those of the other name
// terms, :tI, :tIe and :tIs (the term after a space, for instr) those of
// every term.
type searchSQL struct {
	q        search.Query
	archived bool
	args     []any
	// termParam names each term's parameters.
	termParam map[string]string
	nameParam []string
	// ftsSafe reports terms the token index tokenizes as single words.
	ftsSafe bool
}

func newSearchSQL(q search.Query, archived bool) *searchSQL {
	s := &searchSQL{q: q, archived: archived, termParam: map[string]string{}, ftsSafe: true}
	if q.Anchor != "" {
		s.args = append(s.args, sql.Named("a", q.Anchor), sql.Named("ae", search.PrefixEnd(q.Anchor)))
	}
	for i, n := range q.Names {
		p := "n" + strconv.Itoa(i)
		s.nameParam = append(s.nameParam, p)
		s.args = append(s.args, sql.Named(p, n), sql.Named(p+"e", search.PrefixEnd(n)))
	}
	for i, t := range q.Terms {
		p := "t" + strconv.Itoa(i)
		s.termParam[t] = p
		s.args = append(s.args, sql.Named(p, t), sql.Named(p+"e", search.PrefixEnd(t)), sql.Named(p+"s", " "+t))
		s.ftsSafe = s.ftsSafe && ftsSafe(t)
	}
	return s
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
	return true
}

// starts is "col starts with the term of parameter p".
func starts(col, p string) string {
	return "(" + col + " >= :" + p + " AND " + col + " < :" + p + "e)"
}

// anyToken is "term t, of parameter p, is a prefix of one of the tokens".
func anyToken(t, p string) string {
	column := "other_numbers"
	if search.IsNameTerm(t) {
		column = "other_words"
	}
	return "(" + starts("first_key", p) + " OR " + starts("last_key", p) + " OR instr(" + column + ", :" + p + "s) > 0)"
}

func (s *searchSQL) archivedFilter() string {
	if s.archived {
		return ""
	}
	return " AND archived = 0"
}

// namesOnKeys is "every name term but the anchor is a prefix of a name key".
func (s *searchSQL) namesOnKeys() string {
	var b strings.Builder
	for _, p := range s.nameParam {
		b.WriteString(" AND (" + starts("first_key", p) + " OR " + starts("last_key", p) + ")")
	}
	return b.String()
}

// numbersAnywhere is "every number term is a prefix of a token".
func (s *searchSQL) numbersAnywhere() string {
	var b strings.Builder
	for _, t := range s.q.Numbers {
		b.WriteString(" AND " + anyToken(t, s.termParam[t]))
	}
	return b.String()
}

// allAnywhere is "every term is a prefix of a token".
func (s *searchSQL) allAnywhere() string {
	var b strings.Builder
	for _, t := range s.q.Terms {
		b.WriteString(" AND " + anyToken(t, s.termParam[t]))
	}
	return b.String()
}

func (s *searchSQL) everyone() string {
	return s.fetch(`SELECT seq FROM patients INDEXED BY patients_by_last WHERE 1`+s.archivedFilter()+
		` ORDER BY last_key, first_key, id_key LIMIT :lim`, "last_key, first_key, id_key")
}

// fetch reads the rows of the seqs, which an index-only query chose, in
// order.
func (s *searchSQL) fetch(seqs, order string) string {
	return `SELECT ` + patientColumns + ` FROM patients WHERE seq IN (` + seqs + `) ORDER BY ` + order + ` LIMIT :lim`
}

// tier1 reads the patients whose last name key starts with the anchor.
func (s *searchSQL) tier1() string {
	return s.nameTier("last_key", "first_key", "patients_by_last", "")
}

// tier2 reads the patients whose first name key starts with the anchor
// (and the last does not).
func (s *searchSQL) tier2() string {
	return s.nameTier("first_key", "last_key", "patients_by_first", " AND NOT "+starts("last_key", "a"))
}

// nameTier reads the rows whose key starts with the anchor, ordered by
// key, other key and id, from the index on them. With another name term the
// row must also have it at the start of a key: the other key (one short
// range per distinct key starting with the anchor: a loose index scan), or
// the same key when one term is a prefix of the other.
func (s *searchSQL) nameTier(key, other, index, exclude string) string {
	filters := s.archivedFilter() + exclude + s.namesOnKeys() + s.numbersAnywhere()
	order := key + ", " + other + ", id_key"
	if len(s.q.Names) == 0 {
		return s.fetch(`SELECT seq FROM patients INDEXED BY `+index+
			` WHERE `+starts(key, "a")+filters+` ORDER BY `+order+` LIMIT :lim`, order)
	}
	driver := s.nameParam[0]
	// k lists the distinct keys that start with the anchor, in order; the
	// CROSS JOIN keeps k the outer loop, so rows come out in index order
	// and LIMIT stops the scan early.
	parts := `SELECT seq FROM (SELECT seq FROM k CROSS JOIN patients INDEXED BY ` + index + `
		WHERE ` + key + ` = k.v AND ` + starts(other, driver) + filters + ` LIMIT :lim)`
	if a, n := s.q.Anchor, s.q.Names[0]; strings.HasPrefix(a, n) || strings.HasPrefix(n, a) {
		longer := "a"
		if len(n) > len(a) {
			longer = driver
		}
		parts += ` UNION ALL SELECT seq FROM (SELECT seq FROM patients INDEXED BY ` + index + `
			WHERE ` + starts(key, longer) + filters + ` ORDER BY ` + order + ` LIMIT :lim)`
	}
	return `WITH RECURSIVE k(v) AS (
			SELECT (SELECT min(` + key + `) FROM patients INDEXED BY ` + index + ` WHERE ` + starts(key, "a") + `)
			UNION ALL
			SELECT (SELECT min(` + key + `) FROM patients INDEXED BY ` + index + ` WHERE ` + key + ` > k.v AND ` + key + ` < :ae)
			FROM k WHERE k.v IS NOT NULL) ` + s.fetch(parts, order)
}

// notTiers12 leaves out the rows of tiers 1 and 2.
func (s *searchSQL) notTiers12() string {
	if s.q.Anchor == "" {
		return ""
	}
	return " AND NOT ((" + starts("last_key", "a") + " OR " + starts("first_key", "a") + ")" + s.namesOnKeys() + ")"
}

// causes are the terms one of which makes a row tier 3: a name term that
// is not on a name key, or without a name term any term.
func (s *searchSQL) causes() []string {
	if s.q.Anchor == "" {
		return s.q.Terms
	}
	return append([]string{s.q.Anchor}, s.q.Names...)
}

func quote(t string) string { return `"` + strings.ReplaceAll(t, `"`, `""`) + `"*` }

// tier3Match is the token index query for tier 3: every name term, and
// one of the causes among the other tokens. Number terms are checked on the
// rows: a prefix query on digits merges the postings of thousands of phone
// numbers.
func (s *searchSQL) tier3Match() string {
	var and, or []string
	for _, t := range s.causes() {
		and = append(and, quote(t))
		or = append(or, "other : "+quote(t))
	}
	return strings.Join(and, " AND ") + " AND (" + strings.Join(or, " OR ") + ")"
}

// allMatch is the token index query for every term anywhere.
func (s *searchSQL) allMatch() string {
	var and []string
	for _, t := range s.q.Terms {
		and = append(and, quote(t))
	}
	return strings.Join(and, " AND ")
}

// allMatches sorts the rows the token index found for allMatch by tier and
// name.
func (s *searchSQL) allMatches(seqs string) string {
	t1, t2 := "0", "0"
	if s.q.Anchor != "" {
		t1 = starts("last_key", "a") + s.namesOnKeys()
		t2 = starts("first_key", "a") + s.namesOnKeys()
	}
	return `SELECT ` + patientColumns + ` FROM (
			SELECT *, CASE WHEN ` + t1 + ` THEN 1 WHEN ` + t2 + ` THEN 2 ELSE 3 END AS tier
			FROM patients WHERE seq IN (` + seqs + `)` + s.archivedFilter() + s.allAnywhere() + `)
		ORDER BY tier, iif(tier = 2, first_key, last_key), iif(tier = 2, last_key, first_key), id_key
		LIMIT :lim`
}

// keyPrefixes lists the proper prefixes of the causes: the name keys a row
// must have for one of its tokens that begin with a name key to start with
// a cause that is not on the keys themselves. (A subquery over the bound
// terms: a table-valued function of a parameter would make SQLite prepare
// the statement again whenever the parameter changes.)
func (s *searchSQL) keyPrefixes() string {
	var params []string
	if s.q.Anchor == "" {
		for _, t := range s.q.Terms {
			params = append(params, s.termParam[t])
		}
	} else {
		params = append([]string{"a"}, s.nameParam...)
	}
	var parts []string
	for _, p := range params {
		parts = append(parts, "SELECT substr(:"+p+", 1, i) FROM n WHERE i < length(:"+p+")")
	}
	return strings.Join(parts, " UNION ")
}

// tier3Matches sorts the rows of tier 3 among those the token index and the
// key lookups found. Without a name term a row can also match on a key
// that starts with a digit.
func (s *searchSQL) tier3Matches(seqs string) string {
	filters := s.archivedFilter() + s.allAnywhere() + s.notTiers12()
	keyRanges := ""
	if s.q.Anchor == "" {
		p := s.termParam[s.q.Terms[0]]
		keyRanges = ` UNION SELECT seq FROM patients INDEXED BY patients_by_first WHERE ` + starts("first_key", p) + filters +
			` UNION SELECT seq FROM patients INDEXED BY patients_by_last WHERE ` + starts("last_key", p) + filters
	}
	return `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ` + strconv.Itoa(core.MaxNameLength) + `)
		SELECT ` + patientColumns + ` FROM patients WHERE seq IN (
			SELECT seq FROM patients WHERE seq IN (` + seqs + `)
			UNION SELECT seq FROM patients INDEXED BY patients_by_first
				WHERE first_key IN (` + s.keyPrefixes() + `)` + filters + `
			UNION SELECT seq FROM patients INDEXED BY patients_by_last
				WHERE last_key IN (` + s.keyPrefixes() + `)` + filters + keyRanges + `)` + filters + `
		ORDER BY last_key, first_key, id_key LIMIT :lim`
}

// tier3Scan reads the last name index in order, for tier-3 rows that are
// too many to sort.
func (s *searchSQL) tier3Scan() string {
	return s.fetch(`SELECT seq FROM patients INDEXED BY patients_by_last
		WHERE 1`+s.archivedFilter()+s.allAnywhere()+s.notTiers12()+`
		ORDER BY last_key, first_key, id_key LIMIT :lim`, "last_key, first_key, id_key")
}

// collect scans every patient row and closes rows.
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
