package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
	"ptdesk/core/search"
)

// SearchPatients answers search as you type with the rule of
// ptdesk/core/search, exactly as the SQLite store does. Nothing is scored:
// each tier of results is read in its order and reading stops once the
// limit is filled. The keys and tokens compare as bytes, so "starts with
// t" is the B-tree range t <= key < search.PrefixEnd(t).
//
//   - A query with a number term (a birth year, part of a phone number)
//     first counts, for each term, the patients it can match (tokens in
//     patient_tokens, name keys in the name indexes), each range read only
//     up to exactLimit+1 rows. When one term is that rare, its patients
//     are candidates: put in order from the name keys their index rows
//     carry, and checked in that order until the page is full (narrowed
//     down first by the other rare terms' patients, when that pays).
//   - Tier 1 and tier 2 are ranges of patients_by_last and
//     patients_by_first, read by index-only scans: the indexes also hold
//     the archived flag and the other tokens, so rows that fail a term are
//     rejected without reading the table. With a second name term ("jo
//     sm") the index is read as one short range per distinct key that
//     starts with the anchor (a loose index scan).
//   - Tier 3 is needed only when tiers 1 and 2 leave room. Its rows have a
//     name term among their other tokens: candidates as above, from the
//     rarest term, or from the tokens of the name terms.
//   - When every term is common, or the candidates checked (probeBudget)
//     leave the page short, the full-text index (patients_search, every
//     token a lexeme) intersects the terms as prefixes. A query of numbers
//     only whose numbers are all common reads the last name index in
//     order instead, where its matches are dense.
func (db *DB) SearchPatients(ctx context.Context, q core.PatientQuery) ([]*core.Patient, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = core.DefaultSearchLimit
	}
	s := newSearchSQL(search.ParseQuery(q.Text), q.IncludeArchived)
	s.budget = db.probeBudget
	ps, err := db.search(ctx, s, limit)
	if err != nil {
		return nil, fmt.Errorf("search patients for %q: %w", q.Text, db.unreachable(err))
	}
	return ps, nil
}

func (db *DB) search(ctx context.Context, s *searchSQL, limit int) ([]*core.Patient, error) {
	var out []*core.Patient
	// Statements are prepared once per connection and, after a few runs,
	// planned once for any values: their shape (index ranges read in
	// order, materialized steps) leaves the planner nothing to get wrong.
	// Those whose best plan depends on how common the terms are (the
	// candidates, the full-text index) are planned for the values at hand
	// every time (pgx.QueryExecModeExec).
	read := func(query string, replan ...bool) error {
		args := pgx.NamedArgs{"lim": limit - len(out)}
		for k, v := range s.args {
			args[k] = v
		}
		var qargs []any
		if len(replan) > 0 && replan[0] {
			qargs = append(qargs, pgx.QueryExecModeExec)
		}
		ps, err := collectPatients(db.q.Query(ctx, query, append(qargs, args)...))
		out = append(out, ps...)
		return err
	}
	if len(s.q.Terms) == 0 {
		err := read(s.everyone())
		return out, err
	}
	// exact reads a step from candidates, checking at most probeBudget of
	// them; false when that was not enough to know the answer (more
	// candidates were left, and the page is not full).
	exact := func(opt option, narrow []option, rows int64, tier3 bool) (bool, error) {
		before := len(out)
		if err := read(s.fromCandidates(opt, narrow, tier3), true); err != nil {
			return false, err
		}
		if len(out) < limit && rows > int64(s.budget) {
			out = out[:before]
			return false, nil
		}
		return true, nil
	}
	if len(s.q.Numbers) > 0 && s.q.Joined == "" {
		// A number (a birth year, part of a phone number) is usually the
		// rarest term: when one term is rare enough, its patients are all
		// put in order at once. (A name typed whole in several words
		// matches without its words among the tokens, which the
		// candidates are checked for: its query reads the tiers.)
		opt, narrow, rows, ok, err := db.choose(ctx, s, s.termOptions())
		if err != nil {
			return nil, err
		}
		if ok {
			if done, err := exact(opt, narrow, rows, false); done || err != nil {
				return out, err
			}
			// The candidates are many and few have every term: the
			// full-text index intersects the terms.
			err := read(s.allLexemes(), true)
			return out, err
		}
	}
	if s.q.Anchor != "" {
		if err := read(s.tier1()); err != nil {
			return nil, err
		}
		if len(out) < limit {
			if err := read(s.tier2()); err != nil {
				return nil, err
			}
		}
		if len(out) >= limit {
			return out, nil
		}
		opt, narrow, rows, ok, err := db.choose(ctx, s, append(s.termOptions(), s.causesOption()))
		if err != nil {
			return nil, err
		}
		if ok {
			if done, err := exact(opt, narrow, rows, true); done || err != nil {
				return out, err
			}
		}
		// Every term is common, and tier 3 may still be short: the
		// full-text index intersects the terms.
		err = read(s.tier3Lexemes(), true)
		return out, err
	}
	err := read(s.tier3Scan(), true)
	return out, err
}

// probeBudget is the number of candidates a step checks against the
// patients' rows before it leaves the question to the full-text index:
// when that many leave the page short, few candidates match.
const probeBudget = 250

// narrowFactor bounds the sets the candidates are narrowed down by: up
// to this many times as many rows as the candidates.
const narrowFactor = 2

// dropEmpty leaves out of o the ranges that choose found empty.
func (s *searchSQL) dropEmpty(o option) option {
	var out option
	for _, r := range o {
		if !s.empty[r] {
			out = append(out, r)
		}
	}
	return out
}

func (s *searchSQL) dropEmptyAll(os []option) []option {
	out := make([]option, len(os))
	for i, o := range os {
		out[i] = s.dropEmpty(o)
	}
	return out
}

// rangePart is one index range whose patients may match: those with a
// token (patient_tokens), or a first or last name key (patients), that
// starts with the term of parameter param.
type rangePart struct{ column, param string }

// option is ranges whose patients, together, include every patient a
// step of the search can find.
type option []rangePart

// termOptions are, for each term, the patients it matches: every match
// has every term, so any one term's patients include them all.
func (s *searchSQL) termOptions() []option {
	var out []option
	for _, t := range s.q.Terms {
		p := s.termParam[t]
		out = append(out, option{{"token", p}, {"first_key", p}, {"last_key", p}})
	}
	return out
}

// causesOption is the patients with a cause among their other tokens,
// which include every row of tier 3.
func (s *searchSQL) causesOption() option {
	var o option
	for _, c := range s.causes() {
		o = append(o, rangePart{"token", s.termParam[c]})
	}
	return o
}

// rangeRows selects what a part's rows are: the patient id and name keys.
func rangeRows(r rangePart) string {
	if r.column == "token" {
		return `SELECT patient_id AS id, last_key, first_key, id_key FROM patient_tokens WHERE ` + starts("token", r.param)
	}
	return `SELECT id, last_key, first_key, id_key FROM patients WHERE ` + starts(r.column, r.param)
}

// choose counts the rows of every part of the options, reading each range
// only up to exactLimit+1 rows, and picks the option with the fewest rows
// in all, if any has at most exactLimit. It also returns the other options
// whose ranges were read to their end: the patients of each are few
// enough to narrow the candidates down by, before any row is read.
func (db *DB) choose(ctx context.Context, s *searchSQL, options []option) (best option, narrow []option, rows int64, ok bool, err error) {
	defer func() { best, narrow = s.dropEmpty(best), s.dropEmptyAll(narrow) }()
	index := map[rangePart]int{}
	var counts []string
	for _, o := range options {
		for _, r := range o {
			if _, ok := index[r]; ok {
				continue
			}
			index[r] = len(counts)
			counts = append(counts, `(SELECT count(*) FROM (`+rangeRows(r)+` LIMIT @cap) x)`)
		}
	}
	capped := int64(db.exactLimit) + 1
	args := pgx.NamedArgs{"cap": capped}
	for k, v := range s.args {
		args[k] = v
	}
	n := make([]int64, len(counts))
	dest := make([]any, len(counts))
	for i := range n {
		dest[i] = &n[i]
	}
	if err := db.q.QueryRow(ctx, `SELECT `+strings.Join(counts, ", "), args).Scan(dest...); err != nil {
		return nil, nil, 0, false, err
	}
	s.empty = map[rangePart]bool{}
	for r, i := range index {
		if n[i] == 0 {
			s.empty[r] = true
		}
	}
	bestRows := capped
	bestAt := -1
	complete := make([]bool, len(options))
	rowsOf := make([]int64, len(options))
	for i, o := range options {
		complete[i] = true
		for _, r := range o {
			rowsOf[i] += n[index[r]]
			complete[i] = complete[i] && n[index[r]] < capped
		}
		if complete[i] && rowsOf[i] < bestRows {
			bestAt, bestRows = i, rowsOf[i]
		}
	}
	if bestAt < 0 {
		return nil, nil, 0, false, nil
	}
	// Checking a candidate costs several times what reading and hashing
	// an index row does: narrowing by a set up to a few times the size
	// of the candidates' pays.
	for i, o := range options {
		if i != bestAt && complete[i] && rowsOf[i] <= narrowFactor*bestRows {
			narrow = append(narrow, o)
		}
	}
	return options[bestAt], narrow, bestRows, true, nil
}

// searchSQL builds the statements of one query. Parameters are named: @a
// and @ae bound the anchor's range, @j is the name terms joined
// (search.Query.Joined), @nI and @nIe those of the other name
// terms, @tI, @tIe and @tIs (the term after a space, for strpos) those of
// every term.
type searchSQL struct {
	q        search.Query
	archived bool
	args     pgx.NamedArgs
	// termParam names each term's parameters.
	termParam map[string]string
	nameParam []string
	// empty are the ranges choose found without a row.
	empty map[rangePart]bool
	// budget is the DB's probeBudget.
	budget int
}

func newSearchSQL(q search.Query, archived bool) *searchSQL {
	s := &searchSQL{q: q, archived: archived, args: pgx.NamedArgs{}, termParam: map[string]string{}}
	if q.Anchor != "" {
		s.args["a"], s.args["ae"] = q.Anchor, search.PrefixEnd(q.Anchor)
	}
	for i, n := range q.Names {
		p := "n" + strconv.Itoa(i)
		s.nameParam = append(s.nameParam, p)
		s.args[p], s.args[p+"e"] = n, search.PrefixEnd(n)
	}
	if q.Joined != "" {
		s.args["j"] = q.Joined
	}
	for i, t := range q.Terms {
		p := "t" + strconv.Itoa(i)
		s.termParam[t] = p
		s.args[p], s.args[p+"e"], s.args[p+"s"] = t, search.PrefixEnd(t), " "+t
	}
	return s
}

// starts is "col starts with the term of parameter p".
func starts(col, p string) string {
	return "(" + col + " >= @" + p + " AND " + col + " < @" + p + "e)"
}

// anyToken is "term t, of parameter p, is a prefix of one of the tokens".
func anyToken(t, p string) string {
	column := "other_numbers"
	if search.IsNameTerm(t) {
		column = "other_words"
	}
	return "(" + starts("first_key", p) + " OR " + starts("last_key", p) + " OR strpos(" + column + ", @" + p + "s) > 0)"
}

func (s *searchSQL) archivedFilter() string {
	if s.archived {
		return ""
	}
	return " AND NOT archived"
}

// namesOnKeys is "every name term but the anchor is a prefix of a name key".
func (s *searchSQL) namesOnKeys() string {
	var b strings.Builder
	for _, p := range s.nameParam {
		b.WriteString(" AND (" + starts("first_key", p) + " OR " + starts("last_key", p) + ")")
	}
	return b.String()
}

// keyTier is "a matching row is in the tier of key by that key" (tier 1
// for last_key, 2 for first_key, before the other is looked at): the key
// starts with the anchor and every other name term is on a key, or the key
// is the name terms joined.
func (s *searchSQL) keyTier(key string) string {
	rule := "(" + starts(key, "a") + s.namesOnKeys() + ")"
	if s.q.Joined == "" {
		return rule
	}
	return "(" + rule + " OR " + key + " = @j)"
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

const byLast = "last_key, first_key, id_key"

// fetch reads the rows of the ids, which an index-only query chose, in
// order. The ids are gathered first (ARRAY of the subquery), so that the
// rows are read by the primary key whatever the planner guesses of how
// many they are.
func fetch(ids, order string) string {
	return `SELECT ` + patientColumns + ` FROM patients WHERE id = ANY(ARRAY(` + ids + `)) ORDER BY ` + order + ` LIMIT @lim`
}

func (s *searchSQL) everyone() string {
	return fetch(`SELECT id FROM patients WHERE true`+s.archivedFilter()+` ORDER BY `+byLast+` LIMIT @lim`, byLast)
}

// tier1 reads the patients whose last name key starts with the anchor.
func (s *searchSQL) tier1() string {
	return s.nameTier("last_key", "first_key", "", "")
}

// tier2 reads the patients whose first name key starts with the anchor
// (and the last does not).
func (s *searchSQL) tier2() string {
	return s.nameTier("first_key", "last_key", " AND NOT "+starts("last_key", "a"), " AND NOT "+s.keyTier("last_key"))
}

// nameTier reads the rows whose key starts with the anchor, ordered by key,
// other key and id, from the index on them, leaving out those of the tier
// before (exclude). With another name term the row must also have it at
// the start of a key: the other key (one short range per distinct key
// starting with the anchor: a loose index scan), or the same key when one
// term is a prefix of the other; or its key is the name terms joined,
// which is one more range (where joinedExclude leaves out the tier
// before).
func (s *searchSQL) nameTier(key, other, exclude, joinedExclude string) string {
	filters := s.archivedFilter() + exclude + s.namesOnKeys() + s.numbersAnywhere()
	order := key + ", " + other + ", id_key"
	if len(s.q.Names) == 0 {
		return fetch(`SELECT id FROM patients WHERE `+starts(key, "a")+filters+` ORDER BY `+order+` LIMIT @lim`, order)
	}
	driver := s.nameParam[0]
	// k lists the distinct keys that start with the anchor, in order, and
	// is computed only as far as the outer LIMIT needs: rows come out in
	// index order and the scan stops early.
	parts := `(SELECT x.id FROM k CROSS JOIN LATERAL (SELECT id FROM patients
			WHERE ` + key + ` = k.v AND ` + starts(other, driver) + filters + ` ORDER BY ` + other + `, id_key LIMIT @lim) x
		LIMIT @lim)`
	if a, n := s.q.Anchor, s.q.Names[0]; strings.HasPrefix(a, n) || strings.HasPrefix(n, a) {
		longer := "a"
		if len(n) > len(a) {
			longer = driver
		}
		parts += ` UNION ALL (SELECT id FROM patients WHERE ` + starts(key, longer) + filters + ` ORDER BY ` + order + ` LIMIT @lim)`
	}
	parts += ` UNION ALL (SELECT id FROM patients WHERE ` + key + ` = @j` + s.archivedFilter() + joinedExclude +
		s.numbersAnywhere() + ` ORDER BY ` + order + ` LIMIT @lim)`
	return `WITH RECURSIVE k(v) AS (
			SELECT (SELECT min(` + key + `) FROM patients WHERE ` + starts(key, "a") + `)
			UNION ALL
			SELECT (SELECT min(` + key + `) FROM patients WHERE ` + key + ` > k.v AND ` + key + ` < @ae)
			FROM k WHERE k.v IS NOT NULL) ` + fetch(parts, order)
}

// notTiers12 leaves out the rows of tiers 1 and 2.
func (s *searchSQL) notTiers12() string {
	if s.q.Anchor == "" {
		return ""
	}
	return " AND NOT " + s.keyTier("last_key") + " AND NOT " + s.keyTier("first_key")
}

// causes are the terms one of which makes a row tier 3: a name term that
// is not on a name key.
func (s *searchSQL) causes() []string {
	return append([]string{s.q.Anchor}, s.q.Names...)
}

// tierOf is the tier of a row by its name keys (tier1 and tier2 of the
// rule, as SQL over the row's first_key and last_key).
func (s *searchSQL) tierOf() string {
	if s.q.Anchor == "" {
		return "3"
	}
	return `CASE WHEN ` + s.keyTier("last_key") + ` THEN 1 WHEN ` + s.keyTier("first_key") + ` THEN 2 ELSE 3 END`
}

// byTier orders rows of every tier: by tier, then each tier's keys.
const byTier = `tier, CASE WHEN tier = 2 THEN first_key ELSE last_key END,
	CASE WHEN tier = 2 THEN last_key ELSE first_key END, id_key`

// fromCandidates reads the matches among the patients of opt, in order:
// of every tier, or of tier 3 only. The candidates are first narrowed down
// to those also among the patients of each of narrow (sets read whole by
// index-only scans and intersected, which the server does by hashing or
// sorting, never by comparing every pair), then put in order from the name
// keys their index rows carry, and then checked one by one in that order
// against patients_by_last, which holds all a match needs, only until the
// page is full: the table is read for the page alone. (The LIMIT 1 keeps
// the lateral subquery a subquery: flattened into a join, it could be
// joined in another order, and the page would not be the first.)
func (s *searchSQL) fromCandidates(opt option, narrow []option, tier3 bool) string {
	union := func(o option) string {
		if len(o) == 0 {
			// Ranges without a row: no candidate.
			return `SELECT NULL::text AS id, NULL::text AS last_key, NULL::text AS first_key, NULL::text AS id_key WHERE false`
		}
		var parts []string
		for _, r := range o {
			parts = append(parts, rangeRows(r))
		}
		return strings.Join(parts, " UNION ALL ")
	}
	where := ""
	if tier3 {
		where = " WHERE tier = 3"
	}
	sets := union(opt)
	if len(narrow) > 0 {
		sets = "(" + sets + ")"
		for _, o := range narrow {
			sets += " INTERSECT (" + union(o) + ")"
		}
	}
	order := "tier, " + byLast
	if !tier3 {
		order = byTier
	}
	return `WITH c AS MATERIALIZED (
			SELECT DISTINCT ON (` + order + `) id, last_key, first_key, id_key
			FROM (SELECT id, ` + s.tierOf() + ` AS tier, last_key, first_key, id_key FROM (` + sets + `) u) v` + where + `
			ORDER BY ` + order + `)
		SELECT ` + patientColumns + ` FROM (SELECT *, ` + s.tierOf() + ` AS tier FROM patients WHERE id = ANY(ARRAY(
			SELECT c.id FROM (SELECT * FROM c LIMIT ` + strconv.Itoa(s.budget) + `) c CROSS JOIN LATERAL (SELECT 1 FROM patients
				WHERE last_key = c.last_key AND first_key = c.first_key AND id_key = c.id_key` +
		s.archivedFilter() + s.allAnywhere() + ` LIMIT 1) m
			LIMIT @lim))) x
		ORDER BY ` + order + ` LIMIT @lim`
}

// lexemes is the full-text query of every term as a prefix.
func (s *searchSQL) lexemes() string {
	var q []string
	for _, t := range s.q.Terms {
		q = append(q, "'"+strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", "''")+"':*")
	}
	return strings.Join(q, " & ")
}

// allLexemes reads the matches of every tier from the patients with every
// term, which the full-text index (patients_search) finds, in order.
func (s *searchSQL) allLexemes() string {
	s.args["q"] = s.lexemes()
	return `WITH g AS MATERIALIZED (SELECT id, ` + s.tierOf() + ` AS tier, last_key, first_key, id_key FROM patients
			WHERE search @@ @q::tsquery` + s.archivedFilter() + `)
		SELECT ` + patientColumns + ` FROM (SELECT *, ` + s.tierOf() + ` AS tier FROM patients WHERE id = ANY(ARRAY(
			SELECT id FROM g ORDER BY ` + byTier + ` LIMIT @lim))) x
		ORDER BY ` + byTier + ` LIMIT @lim`
}

// tier3Lexemes reads tier 3 from the patients with every term, which the
// full-text index (patients_search) finds, each term as a prefix.
func (s *searchSQL) tier3Lexemes() string {
	s.args["q"] = s.lexemes()
	return fetch(`SELECT id FROM patients WHERE search @@ @q::tsquery`+s.archivedFilter()+s.notTiers12()+
		` ORDER BY `+byLast+` LIMIT @lim`, byLast)
}

// tier3Scan reads the last name index in order, for tier-3 rows that are
// too many to sort.
func (s *searchSQL) tier3Scan() string {
	return fetch(`SELECT id FROM patients WHERE true`+s.archivedFilter()+s.allAnywhere()+s.notTiers12()+
		` ORDER BY `+byLast+` LIMIT @lim`, byLast)
}
