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
    -- search.Key of the names, and search.OtherTokens as " t1 t2 ...",
    -- those that start with a digit in other_numbers and the rest in
    -- other_words: a term matches the patient when it is a prefix of
    -- first_key, of last_key, or of a token in one of them.
    first_key      TEXT    NOT NULL,
    last_key       TEXT    NOT NULL,
    other_numbers  TEXT    NOT NULL,
    other_words    TEXT    NOT NULL
);

-- Search reads each tier of results from one of these in order and stops
-- at the limit. They hold everything a search checks, so rows that do not
-- match are rejected without reading the table. EachPatient sorts by id_key itself:
-- an export is rare, an index more would slow every import.
CREATE INDEX patients_by_last ON patients (last_key, first_key, id_key, archived, other_numbers, other_words);
CREATE INDEX patients_by_first ON patients (first_key, last_key, id_key, archived, other_numbers, other_words);

-- The token index. Column names holds first_key, last_key and the other
-- tokens that begin with one of them ("johnsmith" in John Smith's row);
-- column other the rest (an id, a second word of a name, an email such as
-- "jsmith", phone digits, a birth year), which is where tier-3 rows are
-- found. rowid = patients.seq. It keeps no copy of the text (contentless);
-- the store writes it in the same transaction as each write to patients,
-- without triggers: a trigger makes every statement a savepoint, and FTS5
-- flushes its pending terms at each savepoint, which makes an import tens
-- of times slower. The prefix indexes make one- to three-character
-- prefixes as cheap as whole words.
CREATE VIRTUAL TABLE patient_tokens USING fts5(
    names,
    other,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3',
    detail = column
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
