-- Program PDFs: the durable queue of Physitrack's webhooks, the programs
-- filed from it, and the lease that keeps one worker on the queue.
--
-- Times are INTEGER microseconds since 1970-01-01 UTC, as in 0001.

-- One row per webhook received. What the event carried never changes
-- (the practitioner's key only as its lookup hash); status, attempts, the
-- next attempt, the reason and the matches move as the worker and admins
-- act. The two UNIQUE constraints are the dedupe keys: a repeated delivery
-- with the same token, patient and file URL, or the same token, patient,
-- program name, creation time and kind (new or update), is the same event.
CREATE TABLE webhook_events (
    id                  INTEGER PRIMARY KEY,
    received_at         INTEGER NOT NULL,
    token_hash          TEXT    NOT NULL,
    practitioner_id     TEXT    NOT NULL DEFAULT '',
    patient_id          TEXT    NOT NULL,
    assigned_patient_id TEXT    NOT NULL DEFAULT '',
    file_url            TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    date                TEXT    NOT NULL,
    date_iso            INTEGER NOT NULL,
    updated             INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT    NOT NULL DEFAULT '',
    program_id          INTEGER,
    UNIQUE (token_hash, patient_id, file_url),
    UNIQUE (token_hash, patient_id, name, date_iso, updated)
);
-- The worker's question: which pending events are due, oldest first.
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE status = 'pending';
-- The inbox's question: events in some states, newest first.
CREATE INDEX webhook_events_by_status ON webhook_events (status, id);

-- One row per PDF filed with a patient. No foreign key to practitioners:
-- removing a practitioner must not remove the programs they assigned.
-- pdf holds the file itself only when the store keeps PDFs (a shared
-- clinic store); a desk's store keeps path, relative to the data
-- directory.
CREATE TABLE programs (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL UNIQUE REFERENCES webhook_events (id),
    patient_id      TEXT    NOT NULL,
    practitioner_id TEXT    NOT NULL DEFAULT '',
    name            TEXT    NOT NULL,
    date            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    path            TEXT    NOT NULL DEFAULT '',
    sha256          TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    filed_at        INTEGER NOT NULL,
    pdf             BLOB,
    UNIQUE (patient_id, name, version)
);
CREATE INDEX programs_by_patient ON programs (patient_id, created_at, id);

-- The worker lease: at most one row per queue, held by owner until
-- expires_at unless renewed.
CREATE TABLE worker_leases (
    queue      TEXT PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
