// Package search holds the rules that decide which patients a search as you
// type finds and in which order, written once in Go so that every store
// backend (SQLite on a desk, PostgreSQL for a clinic) gives the same answer.
// A backend stores what this package derives from a patient (the folded name
// keys, the id order key and the tokens) and evaluates a Query against them
// with whatever index it has; Rank is the reference it must agree with.
//
// The rule, in full:
//
//   - Text is folded with Fold: compatibility decomposition, lower case,
//     combining marks removed, and letters that have no decomposition
//     (ø, ł, đ, ð, ħ, ı, ŧ, æ, œ, ß, þ, ς) replaced by their plain forms.
//   - A patient's tokens (PatientTokens) are the folded words of the first
//     name, the last name, the id and the local part of the email (the part
//     before @), each of those fields also as one joined word when it has
//     several; the phone number's digits without "+", the same without the
//     country code, and that with a leading 0; and the birth year.
//   - The query (ParseQuery) is split at white space into terms, each folded
//     and joined into one word (a term's part from @ on is dropped). A query
//     made only of digits and phone punctuation is one term, its digits.
//   - A patient matches when every term is a prefix of at least one of its
//     tokens; or, with several name terms, when its first or last name key
//     is the name terms joined in the order typed (Joined: a name typed
//     whole in several words, "de vries" for De Vries or Devries, "mc
//     donald" for McDonald) and every number term is a prefix of one of its
//     tokens. Archived patients match only when asked for.
//   - Terms that start with a letter are name terms, the others number
//     terms. The anchor is the first name term.
//   - Tier 1: the last name key starts with the anchor and every other name
//     term is a prefix of the first or the last name key; or the last name
//     key is the name terms joined. Tier 2: the same with the first name
//     key. Tier 3: every other match (a name term found only in the email,
//     the id or a later word of a name, "de vr" for De Vries; or a query
//     without a name term). Number terms (birth year, phone, id) qualify a
//     match anywhere and never change its tier.
//   - Within tiers 1 and 3 patients are ordered by last name key, first name
//     key and id order key; within tier 2 by first name key, last name key
//     and id order key. Keys compare as bytes (COLLATE "C" in PostgreSQL).
//   - An empty query matches every patient, ordered as tier 1.
//
// The order never needs a score per match, so a backend can read each tier
// from an index on the name keys and stop as soon as the limit is filled.
package search

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"ptdesk/core"
)

// plainLetters are lower-case letters that compatibility decomposition does
// not split into a base letter and a mark, but that people type without
// their stroke or ligature ("Ødegaard" as "odegaard", "Łukasz" as "lukasz").
var plainLetters = map[rune]string{
	'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'ħ': "h", 'ı': "i", 'ŧ': "t",
	'æ': "ae", 'œ': "oe", 'ß': "ss", 'þ': "th", 'ς': "σ", 'ƒ': "f", 'ɨ': "i",
}

// Fold returns s as search compares it: compatibility-decomposed, lower
// case, without combining marks, with the letters in the package comment
// replaced. Two spellings a person would call the same name ("José",
// "JOSE", "jose") fold to the same string.
func Fold(s string) string {
	if isLowerASCII(s) {
		return s
	}
	if isASCII(s) {
		var b strings.Builder
		b.Grow(len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	if f, ok := foldByRune(s); ok {
		return f
	}
	return foldSlow(s)
}

// foldSlow is the definition of Fold, for any text.
func foldSlow(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		r = unicode.ToLower(r)
		if unicode.Is(unicode.M, r) {
			continue
		}
		if p, ok := plainLetters[r]; ok {
			b.WriteString(p)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldedRunes is Fold of each character below foldedRunesEnd (the Latin,
// Greek and Cyrillic blocks and the Latin and Greek extended ones, where
// nearly every name a clinic keeps is written), looked up instead of
// decomposed: stores fold every name they write. Decomposition works
// character by character except that it reorders runs of combining marks;
// Fold drops those marks, so folding a text made of these characters is
// folding each one. A character whose decomposition keeps a mark that Fold
// does not drop is left out (ok false) and its text takes foldSlow.
var foldedRunes = sync.OnceValue(func() []foldedRune {
	t := make([]foldedRune, foldedRunesEnd)
	for r := rune(0); r < foldedRunesEnd; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		exact := true
		for _, d := range norm.NFKD.String(s) {
			if norm.NFKD.PropertiesString(string(d)).CCC() != 0 && !unicode.Is(unicode.M, unicode.ToLower(d)) {
				exact = false
			}
		}
		t[r] = foldedRune{folded: foldSlow(s), ok: exact}
	}
	return t
})

const foldedRunesEnd = 0x2000

type foldedRune struct {
	folded string
	ok     bool
}

// foldByRune folds s with foldedRunes; ok is false when s has a character
// the table does not cover.
func foldByRune(s string) (string, bool) {
	t := foldedRunes()
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= foldedRunesEnd || !t[r].ok {
			return "", false
		}
		b.WriteString(t[r].folded)
	}
	return b.String(), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || ('A' <= s[i] && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// isWordRune reports the characters that make up words: letters, numbers
// and private-use characters, the same classes the SQLite FTS5 unicode61
// tokenizer keeps, so that both split folded text into the same words.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// Words returns the folded words of s: the runs of letters and digits left
// after Fold. "O'Brien-Smith" has the words o, brien and smith.
func Words(s string) []string {
	return appendWords(nil, Fold(s))
}

// appendWords appends the words of the folded text f to dst.
func appendWords(dst []string, f string) []string {
	start := -1
	for i, r := range f {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			dst = append(dst, f[start:i])
			start = -1
		}
	}
	if start >= 0 {
		dst = append(dst, f[start:])
	}
	return dst
}

// Key is s folded with everything but letters and digits removed: the
// folded words joined. Stores keep Key(first name) and Key(last name) to
// order and tier results, and to find an import's duplicate by name.
func Key(s string) string {
	return keyOf(Fold(s))
}

// keyOf is the folded text f without the characters that are not part of
// words.
func keyOf(f string) string {
	for i, r := range f {
		if !isWordRune(r) {
			b := make([]byte, i, len(f))
			copy(b, f[:i])
			for _, r := range f[i:] {
				if isWordRune(r) {
					b = utf8.AppendRune(b, r)
				}
			}
			return string(b)
		}
	}
	return f
}

// IDOrderKey orders patient ids as people expect: ids made only of digits
// first, by number ("2" before "10"), then every other id by its bytes. It
// is unique for unique ids, so it also breaks every tie in search order.
func IDOrderKey(id string) string {
	if id != "" && isDigits(id) {
		n := strings.TrimLeft(id, "0")
		return "0" + strconv.Itoa(100 + len(n))[1:] + n + ":" + id
	}
	return "1" + id
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// PatientTokens returns the distinct tokens a query term can be a prefix of,
// in a stable order (see the package comment for which they are).
func PatientTokens(p *core.Patient) []string {
	_, _, tokens := patientTokens(p)
	return tokens
}

// patientTokens returns PatientTokens with the first and last name keys,
// which it finds on the way.
func patientTokens(p *core.Patient) (firstKey, lastKey string, tokens []string) {
	out := make([]string, 0, 16)
	add := func(t string) {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	var words []string
	field := func(s string) string {
		f := Fold(s)
		words = appendWords(words[:0], f)
		for _, t := range words {
			add(t)
		}
		switch len(words) {
		case 0:
			return ""
		case 1:
			return words[0]
		}
		k := keyOf(f)
		add(k)
		return k
	}
	firstKey = field(p.FirstName)
	lastKey = field(p.LastName)
	field(p.ID)
	if p.Email != "" {
		local, _, _ := strings.Cut(p.Email, "@")
		field(local)
	}
	if digits := digitsOf(p.Phone); digits != "" {
		add(digits)
		if national := withoutCountryCode(digits); national != digits && national != "" {
			add(national)
			add("0" + national)
		}
	}
	if p.BirthYear != 0 {
		add(strconv.Itoa(p.BirthYear))
	}
	return firstKey, lastKey, out
}

// OtherTokens returns the patient's tokens that are not a prefix of the
// first or last name key, in PatientTokens order. A term is a prefix of one
// of the patient's tokens exactly when it is a prefix of Key(FirstName), of
// Key(LastName) or of one of these, which lets a store keep the few tokens
// that say more than the name keys apart from the keys.
func OtherTokens(p *core.Patient) []string {
	_, _, other := Split(p)
	return other
}

// Split returns Key(p.FirstName), Key(p.LastName) and OtherTokens(p),
// folding each field once: what a store derives for every patient it
// writes.
func Split(p *core.Patient) (firstKey, lastKey string, other []string) {
	firstKey, lastKey, tokens := patientTokens(p)
	other = tokens[:0]
	for _, t := range tokens {
		if !strings.HasPrefix(firstKey, t) && !strings.HasPrefix(lastKey, t) {
			other = append(other, t)
		}
	}
	return firstKey, lastKey, other
}

// TokenText is the tokens as one string, each preceded by a space: the form
// a store keeps in a text column for a full-text index to tokenize, and that
// makes "term is a prefix of a token" the substring test " "+term.
func TokenText(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	return b.String()
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// countryCodes2 are the two-digit E.164 country codes; 1 and 7 are the
// one-digit ones and every other code has three digits (ITU-T E.164
// assignments, which are prefix-free).
var countryCodes2 = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true,
	"34": true, "36": true, "39": true, "40": true, "41": true, "43": true,
	"44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true,
	"57": true, "58": true, "60": true, "61": true, "62": true, "63": true,
	"64": true, "65": true, "66": true, "81": true, "82": true, "84": true,
	"86": true, "90": true, "91": true, "92": true, "93": true, "94": true,
	"95": true, "98": true,
}

// withoutCountryCode strips the country code from E.164 digits, so that a
// number is also found as it is dialled inside its country.
func withoutCountryCode(d string) string {
	switch {
	case len(d) < 4:
		return d
	case d[0] == '1' || d[0] == '7':
		return d[1:]
	case countryCodes2[d[:2]]:
		return d[2:]
	default:
		return d[3:]
	}
}

// Query is a parsed search text.
type Query struct {
	// Terms are the folded terms, distinct, in the order typed. Empty
	// matches everything.
	Terms []string
	// Anchor is the first name term; "" when there is none.
	Anchor string
	// Names are the name terms other than the anchor, Numbers the number
	// terms.
	Names, Numbers []string
	// Joined is the anchor and the other name terms joined, in the order
	// typed, when there are other name terms; else "". It always starts
	// with the anchor, and a name key equal to it matches.
	Joined string
}

// IsNameTerm reports whether a term starts with a letter.
func IsNameTerm(t string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return unicode.IsLetter(r)
}

// ParseQuery splits text into terms and picks the anchor (see the package
// comment).
func ParseQuery(text string) Query {
	var q Query
	if isPhoneText(text) {
		q.Terms = []string{digitsOf(text)}
		q.Numbers = q.Terms
		return q
	}
	seen := map[string]bool{}
	for _, chunk := range strings.Fields(text) {
		if at := strings.IndexByte(chunk, '@'); at >= 0 {
			chunk = chunk[:at]
		}
		t := Key(chunk)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		q.Terms = append(q.Terms, t)
		switch {
		case !IsNameTerm(t):
			q.Numbers = append(q.Numbers, t)
		case q.Anchor == "":
			q.Anchor = t
		default:
			q.Names = append(q.Names, t)
		}
	}
	if len(q.Names) > 0 {
		q.Joined = q.Anchor + strings.Join(q.Names, "")
	}
	return q
}

// isPhoneText reports text made only of digits and the punctuation people
// write phone numbers with, with at least one digit.
func isPhoneText(s string) bool {
	digit := false
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digit = true
		case r == '+' || r == '(' || r == ')' || r == '-' || r == '.' || r == '/' || unicode.IsSpace(r):
		default:
			return false
		}
	}
	return digit
}

// PrefixEnd returns the smallest string greater than every string that
// starts with prefix, so that "key starts with prefix" is the index range
// prefix <= key < PrefixEnd(prefix). It appends U+10FFFF, the largest code
// point, which folded names never contain.
func PrefixEnd(prefix string) string { return prefix + "\U0010FFFF" }

// Matches reports whether a patient with the name keys firstKey and
// lastKey and the tokens matches.
func (q Query) Matches(firstKey, lastKey string, tokens []string) bool {
	if q.Joined != "" && (firstKey == q.Joined || lastKey == q.Joined) {
		return matchAll(q.Numbers, tokens)
	}
	return matchAll(q.Terms, tokens)
}

// matchAll reports whether every term is a prefix of one of tokens.
func matchAll(terms, tokens []string) bool {
	for _, t := range terms {
		found := false
		for _, tok := range tokens {
			if strings.HasPrefix(tok, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Tier is 1, 2 or 3 for a matching patient with the given name keys.
func (q Query) Tier(firstKey, lastKey string) int {
	if len(q.Terms) == 0 {
		return 1
	}
	if q.Anchor == "" {
		return 3
	}
	onKeys := true
	for _, n := range q.Names {
		if !strings.HasPrefix(firstKey, n) && !strings.HasPrefix(lastKey, n) {
			onKeys = false
			break
		}
	}
	joined := func(key string) bool { return q.Joined != "" && key == q.Joined }
	switch {
	case joined(lastKey) || onKeys && strings.HasPrefix(lastKey, q.Anchor):
		return 1
	case joined(firstKey) || onKeys && strings.HasPrefix(firstKey, q.Anchor):
		return 2
	}
	return 3
}

// Rank is the reference implementation of the whole rule: it returns the
// patients that match q (archived ones only when includeArchived), best
// first, at most limit of them (all when limit <= 0). Stores answer with
// indexes; Rank is for tests and for stores small enough to scan.
func Rank(q Query, patients []*core.Patient, includeArchived bool, limit int) []*core.Patient {
	type ranked struct {
		p          *core.Patient
		tier       int
		k1, k2, id string
	}
	var rs []ranked
	for _, p := range patients {
		if p.Archived && !includeArchived {
			continue
		}
		first, last, tokens := patientTokens(p)
		if !q.Matches(first, last, tokens) {
			continue
		}
		r := ranked{p: p, tier: q.Tier(first, last), k1: last, k2: first, id: IDOrderKey(p.ID)}
		if r.tier == 2 {
			r.k1, r.k2 = first, last
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.k1 != b.k1 {
			return a.k1 < b.k1
		}
		if a.k2 != b.k2 {
			return a.k2 < b.k2
		}
		return a.id < b.id
	})
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	out := make([]*core.Patient, len(rs))
	for i, r := range rs {
		out[i] = r.p
	}
	return out
}
