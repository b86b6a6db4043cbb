-- The first schema of the desk's directory.
--
-- Times are INTEGER microseconds since 1970-01-01 UTC. Patient rows carry
-- keys derived in Go by ptdesk/core/search (folded names, id order key,
-- search tokens) so that the order and the matches are the same as in any
-- other backend.

-- counters hand out ids that are never reused, even after an archive or an
-- explicit numeric id (which moves the counter past itself).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('patient', 0), ('practitioner', 0);

CREATE TABLE patients (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    id_key         TEXT    NOT NULL,
    first_name     TEXT    NOT NULL,
    last_name      TEXT    NOT NULL,
    birth_year     INTEGER NOT NULL DEFAULT 0,
    gender         TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    phone          TEXT    NOT NULL DEFAULT '',
    diagnosis_code TEXT    NOT NULL DEFAULT '',
    archived       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    -- search.Key of the names, and search.OtherTokens but the birth year
    -- as " t1 t2 ...": in tokens what the token index holds (the tokens
    -- that begin with neither name key and are not just words of the
    -- names; and those that begin with a key, written _key_rest, see
    -- keyedToken in patients.go), in other the rest (the tokens that begin
    -- with a key as they are; the other words of a name, such as "brien"
    -- in O'Brien, listed in name_words). A term matches the patient when
    -- it is a prefix of first_key or last_key, when " " || term occurs in
    -- tokens or other, or when it is a prefix of the birth year, which is
    -- searched in its own index.
    first_key      TEXT    NOT NULL,
    last_key       TEXT    NOT NULL,
    tokens         TEXT    NOT NULL,
    other          TEXT    NOT NULL
);

-- Search reads each tier of results from one of these in order and stops
-- at the limit. They hold everything a search checks, so rows that do not
-- match are rejected without reading the table; patients_by_last, which
-- answers most searches (tier 1, a name's prefix), holds every column, so
-- that those read no table row at all. EachPatient sorts by id_key
-- itself: an export is rare, an index more would slow every import. A
-- large import drops these and builds them again at its end (see
-- import.go), from their definitions here.
CREATE INDEX patients_by_last ON patients (last_key, first_key, id_key, archived, birth_year, tokens, other,
    id, first_name, last_name, gender, email, phone, diagnosis_code, created_at, updated_at, version);
CREATE INDEX patients_by_first ON patients (first_key, last_key, id_key, archived, birth_year, tokens, other);
-- A birth year ("smi 1980", "1980") is a range of this one, in the order of
-- tier 1.
CREATE INDEX patients_by_year ON patients (birth_year, last_key, first_key, id_key, archived);

-- The words of multi-word names that begin with neither name key ("der" and
-- "berg" of Van der Berg), each with the keys of the patients whose first
-- (kind 'first') or last (kind 'last') name has it. Thousands of patients
-- can share such a word; the name indexes read them by key, in order,
-- where the token index would list them all. Rows are only ever added:
-- one left behind by a renamed patient costs a lookup that finds nothing.
CREATE TABLE name_words (
    word TEXT NOT NULL,
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    PRIMARY KEY (word, kind, key)
) WITHOUT ROWID;

-- The token index: patients.tokens, the tokens neither a name key nor a
-- name word answers (an id, the local part of an email, phone digits),
-- rowid = patients.seq. Names are searched in the indexes above; this
-- answers the rest. The underscores of _key_rest tokens are part of a word. It keeps no copy of the text
-- (contentless) and no positions (detail none: a query only asks which
-- rows have a token that starts with a term). The store writes it in the
-- same transaction as each write to patients, without triggers; a large
-- import writes its rows in a few statements (see import.go). There are no
-- prefix indexes: they would make an import half as fast again, and search
-- asks this index only about terms few tokens start with (see search.go).
CREATE VIRTUAL TABLE patient_tokens USING fts5(
    tokens,
    content = '',
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
    detail = none,
    columnsize = 0
);

CREATE TABLE practitioners (
    id         TEXT PRIMARY KEY,
    name       TEXT    NOT NULL,
    -- name_key is the lower-cased name: names are unique regardless of case.
    name_key   TEXT    NOT NULL UNIQUE,
    email      TEXT    NOT NULL DEFAULT '',
    server     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- What identifies a practitioner's keys: never a key. The current key has
-- retired_at NULL; retired ones stay so that late webhooks still match.
CREATE TABLE practitioner_keys (
    lookup_hash     TEXT PRIMARY KEY,
    practitioner_id TEXT    NOT NULL REFERENCES practitioners (id) ON DELETE CASCADE,
    fingerprint     TEXT    NOT NULL,
    set_at          INTEGER NOT NULL,
    retired_at      INTEGER
);
CREATE INDEX practitioner_keys_by_practitioner ON practitioner_keys (practitioner_id);
CREATE UNIQUE INDEX practitioner_keys_current ON practitioner_keys (practitioner_id) WHERE retired_at IS NULL;

-- recents: one row per practitioner and patient, replaced on every open so
-- that rowid order breaks ties between opens in the same microsecond.
CREATE TABLE recents (
    practitioner_id TEXT    NOT NULL REFERENCES practitioners (id) ON DELETE CASCADE,
    patient_id      TEXT    NOT NULL REFERENCES patients (id),
    opened_at       INTEGER NOT NULL,
    last_sent       TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (practitioner_id, patient_id)
);
CREATE INDEX recents_by_time ON recents (practitioner_id, opened_at);

-- The audit log has no foreign keys on purpose: deleting a practitioner
-- must not erase what they did.
CREATE TABLE audit (
    seq             INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    action          TEXT    NOT NULL,
    practitioner_id TEXT    NOT NULL DEFAULT '',
    patient_id      TEXT    NOT NULL DEFAULT '',
    desk_user       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit (at, seq);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The directory's identity, made once: it scopes keyring entries.
INSERT INTO settings (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
