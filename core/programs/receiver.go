// Package programs receives Physitrack's program webhooks, keeps them in a
// durable queue, downloads each program's PDF from an allowed origin, and
// files it with the patient (PHYSITRACK.md section 4).
//
// Physitrack posts an event once, retries once, and deletes the PDF a day
// later, so an event answered 200 and then lost is a program gone from the
// patient's record for good. Hence the order of things: the Receiver
// answers 200 only after the store has committed the event to disk; the
// Worker then works from the store alone, so a crash at any moment loses
// nothing acknowledged; files appear under their final names only once
// complete (temporary file, sync, link), and the store records a program
// in the same transaction that marks its event filed, so nothing is filed
// twice.
package programs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// Receiver defaults.
const (
	// DefaultAddr is where the listener binds unless told otherwise:
	// this computer only; a reverse proxy or tunnel makes it reachable
	// over https.
	DefaultAddr = "127.0.0.1:8765"
	// DefaultPath is the webhook's path.
	DefaultPath = "/webhooks/physitrack"
	// MaxWebhookBytes bounds a webhook body; a real one is a few hundred
	// bytes.
	MaxWebhookBytes = 64 << 10
)

// Field limits: generous for anything real, small enough that a stored
// event stays a small row.
const (
	maxTokenBytes   = 1024
	maxPatientIDLen = 256
	maxNameLen      = 1000
	maxURLBytes     = 8192
)

// Recorder is what the Receiver needs of the store: durable recording of
// events, several at a time (see core.ProgramStore.RecordWebhooks).
type Recorder interface {
	RecordWebhooks(ctx context.Context, es []*core.WebhookEvent) (duplicates []bool, err error)
}

// ReceiverOptions wire a Receiver.
type ReceiverOptions struct {
	Store Recorder
	// Secret is the webhook secret Physitrack sends as api_key.
	Secret string
	// Now stamps the received time; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per webhook (never a secret, a token or a
	// file URL's path); discarded when nil.
	Logger *slog.Logger
	// Recorded is called after an event is recorded (not for duplicates),
	// to wake the worker; it must not block.
	Recorded func(id int64)
}

// Receiver is the webhook endpoint, an http.Handler.
type Receiver struct {
	commits    *committer
	secretHash [sha256.Size]byte
	now        func() time.Time
	log        *slog.Logger
	recorded   func(int64)
	// receiving counts requests in progress, for the worker to keep out
	// of their way (see Worker.yield); nil when nobody watches.
	receiving *atomic.Int32
}

// NewReceiver builds a Receiver; the secret is required.
func NewReceiver(o ReceiverOptions) (*Receiver, error) {
	if o.Store == nil {
		return nil, errors.New("programs: receiver needs a store")
	}
	if o.Secret == "" {
		return nil, NoSecretError()
	}
	r := &Receiver{commits: &committer{store: o.Store}, secretHash: sha256.Sum256([]byte(o.Secret)), now: o.Now, log: o.Logger, recorded: o.Recorded}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.recorded == nil {
		r.recorded = func(int64) {}
	}
	return r, nil
}

// NoSecretError is the refusal to receive webhooks without a secret.
func NoSecretError() error {
	return core.Errorf(core.EUNAUTHORIZED, "webhook-secret", "No webhook secret is set: generate one with ptdeskctl webhook secret --generate (or in Settings), and give it to Physitrack support with the webhook URL.")
}

// payload is the webhook body as Physitrack sends it. Pointers tell a
// missing field from an empty one; patient_id and updated are read
// leniently because a PMS's ids may be numbers.
type payload struct {
	APIKey    *string         `json:"api_key"`
	Token     *string         `json:"token"`
	PatientID json.RawMessage `json:"patient_id"`
	FileURL   *string         `json:"file_url"`
	Name      *string         `json:"name"`
	Date      *string         `json:"date"`
	DateISO   *string         `json:"date_iso"`
	Updated   json.RawMessage `json:"updated"`
}

// answer is the JSON the receiver replies with.
type answer struct {
	Status    string `json:"status"`
	ID        int64  `json:"id,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ServeHTTP checks, authenticates and records one webhook. 200 means the
// event is on disk; 4xx means it was refused and nothing was stored; 503
// means the store failed (Physitrack retries once).
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if rc.receiving != nil {
		rc.receiving.Add(1)
		defer rc.receiving.Add(-1)
	}
	status, ans := rc.handle(r)
	if ans.Status == "" {
		ans.Status = "refused"
	}
	body, _ := json.Marshal(ans)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	} else if status >= 400 {
		level = slog.LevelWarn
	}
	rc.log.Log(r.Context(), level, "program webhook", "status", status, "event", ans.ID, "duplicate", ans.Duplicate,
		"reason", ans.Error, "remote", r.RemoteAddr, "took", time.Since(start).Round(time.Microsecond))
}

func bad(format string, args ...any) (int, answer) {
	return http.StatusBadRequest, answer{Error: fmt.Sprintf(format, args...)}
}

func (rc *Receiver) handle(r *http.Request) (int, answer) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return http.StatusUnsupportedMediaType, answer{Error: "The body must be JSON (Content-Type: application/json)."}
	}
	if r.ContentLength > MaxWebhookBytes {
		return http.StatusRequestEntityTooLarge, answer{Error: fmt.Sprintf("The body is larger than %d bytes.", MaxWebhookBytes)}
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBytes+1))
	if err != nil {
		return bad("The body could not be read.")
	}
	if len(raw) > MaxWebhookBytes {
		return http.StatusRequestEntityTooLarge, answer{Error: fmt.Sprintf("The body is larger than %d bytes.", MaxWebhookBytes)}
	}
	var p payload
	err = json.Unmarshal(raw, &p)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		return bad("The body is not valid JSON.")
	}
	// Authenticate before saying anything about the fields.
	if p.APIKey == nil || !rc.secretMatches(*p.APIKey) {
		return http.StatusUnauthorized, answer{Error: "Wrong or missing api_key."}
	}
	if typeErr != nil {
		return bad("The field %s has the wrong type (%s where %s was expected).", fieldName(typeErr), typeErr.Value, typeErr.Type)
	}
	e, reason := eventFrom(&p)
	if reason != "" {
		return bad("%s", reason)
	}
	e.ReceivedAt = rc.now()
	e.Status = core.WebhookPending
	e.NextAttemptAt = e.ReceivedAt
	dup, err := rc.commits.record(r.Context(), e)
	if err != nil {
		rc.log.Error("program webhook not recorded", "err", err)
		return http.StatusServiceUnavailable, answer{Status: "error", Error: "The webhook could not be recorded; send it again later."}
	}
	if !dup {
		rc.recorded(e.ID)
	}
	return http.StatusOK, answer{Status: "recorded", ID: e.ID, Duplicate: dup}
}

func fieldName(e *json.UnmarshalTypeError) string {
	if e.Field != "" {
		return e.Field
	}
	return "body"
}

// secretMatches compares in constant time; hashing first makes the time
// independent of the lengths too.
func (rc *Receiver) secretMatches(got string) bool {
	h := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(h[:], rc.secretHash[:]) == 1
}

// eventFrom checks the fields and makes the event to record, or says what
// is wrong.
func eventFrom(p *payload) (*core.WebhookEvent, string) {
	required := []struct {
		name string
		v    *string
	}{
		{"token", p.Token}, {"file_url", p.FileURL}, {"name", p.Name}, {"date", p.Date}, {"date_iso", p.DateISO},
	}
	for _, f := range required {
		if f.v == nil || strings.TrimSpace(*f.v) == "" {
			return nil, "The field " + f.name + " is required."
		}
	}
	patientID, reason := patientIDFrom(p.PatientID)
	if reason != "" {
		return nil, reason
	}
	updated, reason := updatedFrom(p.Updated)
	if reason != "" {
		return nil, reason
	}
	token := *p.Token
	switch {
	case len(token) > maxTokenBytes:
		return nil, "The field token is too long."
	case utf8.RuneCountInString(*p.Name) > maxNameLen:
		return nil, fmt.Sprintf("The field name is longer than %d characters.", maxNameLen)
	case len(*p.FileURL) > maxURLBytes:
		return nil, "The field file_url is too long."
	}
	if u, err := url.Parse(*p.FileURL); err != nil || !u.IsAbs() || u.Host == "" {
		return nil, "The field file_url is not an absolute URL."
	}
	date := strings.TrimSpace(*p.Date)
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, "The field date must be a date as YYYY-MM-DD."
	}
	dateISO, err := time.Parse(time.RFC3339, strings.TrimSpace(*p.DateISO))
	if err != nil {
		return nil, "The field date_iso must be a time in RFC 3339 with its zone, such as 2026-03-14T09:30:00+01:00."
	}
	return &core.WebhookEvent{
		TokenHash: keys.LookupHash(token),
		PatientID: patientID,
		FileURL:   *p.FileURL,
		Name:      strings.TrimSpace(*p.Name),
		Date:      date,
		DateISO:   dateISO,
		Updated:   updated,
	}, ""
}

// patientIDFrom accepts the id as a string or as a whole number.
func patientIDFrom(raw json.RawMessage) (string, string) {
	const missing = "The field patient_id is required."
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", missing
	}
	var id string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &id); err != nil {
			return "", "The field patient_id is not a valid string."
		}
	} else {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return "", "The field patient_id must be a string or a whole number."
		}
		id = strconv.FormatInt(n, 10)
	}
	id = strings.TrimSpace(id)
	switch {
	case id == "":
		return "", missing
	case utf8.RuneCountInString(id) > maxPatientIDLen:
		return "", "The field patient_id is too long."
	}
	return id, ""
}

// updatedFrom accepts true/false, as JSON booleans or strings; absent is
// false.
func updatedFrom(raw json.RawMessage) (bool, string) {
	switch strings.ToLower(strings.Trim(string(bytes.TrimSpace(raw)), `"`)) {
	case "", "null", "false":
		return false, ""
	case "true":
		return true, ""
	}
	return false, "The field updated must be true or false."
}
