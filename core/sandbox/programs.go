package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"ptdesk/core"
)

// Defaults for sending program webhooks (PHYSITRACK.md section 4).
const (
	// DefaultWebhookRetryDelay is how long Physitrack waits before its
	// one retry of a webhook that did not get 200.
	DefaultWebhookRetryDelay = 10 * time.Minute
	// DefaultPDFLifetime is how long a program's PDF link works.
	DefaultPDFLifetime = 24 * time.Hour
	// webhookTimeout is how long Physitrack waits for the answer.
	webhookTimeout = 5 * time.Second
	// maxProgramName bounds a program name typed in the sandbox.
	maxProgramName = 200
	// maxDeliveries bounds the deliveries kept for /sandbox/programs.json.
	maxDeliveries = 1000
)

// ProgramRequest asks the sandbox to assign (or update) a program to a
// client, as a practitioner does in Physitrack.
type ProgramRequest struct {
	// Token is the practitioner's key, which Physitrack knows from
	// Settings and sends back in the webhook.
	Token     string
	PatientID string
	Name      string
	Updated   bool
}

// Delivery is one program the sandbox sent: what /sandbox/programs.json
// lists. It never holds the webhook secret or the practitioner's key.
type Delivery struct {
	Practitioner string    `json:"practitioner"`
	PatientID    string    `json:"patient_id"`
	Name         string    `json:"name"`
	Updated      bool      `json:"updated"`
	FileURL      string    `json:"file_url"`
	CreatedAt    time.Time `json:"created_at"`
	// Statuses are the HTTP statuses of each attempt (0: no answer);
	// a second one is the retry.
	Statuses []int `json:"statuses"`
	// Error is why the last attempt got no answer, if it did not.
	Error string `json:"error,omitempty"`
	// SHA256 identifies the PDF served at FileURL.
	SHA256 string `json:"-"`
	// PDF is the file as served (for tests comparing what was filed).
	PDF []byte `json:"-"`
}

// webhookBody is the JSON Physitrack posts, fields in the documented order.
type webhookBody struct {
	APIKey    string `json:"api_key"`
	Token     string `json:"token"`
	PatientID string `json:"patient_id"`
	FileURL   string `json:"file_url"`
	Name      string `json:"name"`
	Date      string `json:"date"`
	DateISO   string `json:"date_iso"`
	Updated   bool   `json:"updated"`
}

// servedPDF is a PDF behind a temporary link.
type servedPDF struct {
	pdf     []byte
	expires time.Time
}

// outbox is the sandbox's sending side: where webhooks go, the PDFs it
// serves, and what it sent.
type outbox struct {
	url        string
	secret     string
	retryDelay time.Duration
	lifetime   time.Duration
	client     *http.Client
	page       *template.Template

	mu         sync.Mutex
	origin     string
	files      map[string]*servedPDF // by link id
	deliveries []*Delivery
}

func newOutbox(o Options) *outbox {
	ob := &outbox{
		url:        o.WebhookURL,
		secret:     o.WebhookSecret,
		retryDelay: o.WebhookRetryDelay,
		lifetime:   o.PDFLifetime,
		client:     o.WebhookClient,
		files:      map[string]*servedPDF{},
	}
	if ob.retryDelay <= 0 {
		ob.retryDelay = DefaultWebhookRetryDelay
	}
	if ob.lifetime <= 0 {
		ob.lifetime = DefaultPDFLifetime
	}
	if ob.client == nil {
		ob.client = &http.Client{Timeout: webhookTimeout}
	}
	// Any other status than 200 is a failure, redirects included: never
	// follow one.
	c := *ob.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ob.client = &c
	funcs := template.FuncMap{"clientPath": clientPath}
	ob.page = template.Must(template.New("program.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/program.html"))
	return ob
}

// setOrigin records where the sandbox listens, for the links it sends.
func (ob *outbox) setOrigin(origin string) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.origin = origin
}

func (ob *outbox) originOr(fallback string) string {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if ob.origin != "" {
		return ob.origin
	}
	return fallback
}

// Deliveries lists the programs sent, oldest first (copies).
func (s *Sandbox) Deliveries() []Delivery {
	ob := s.outbox
	ob.mu.Lock()
	defer ob.mu.Unlock()
	out := make([]Delivery, len(ob.deliveries))
	for i, d := range ob.deliveries {
		out[i] = *d
		out[i].Statuses = append([]int{}, d.Statuses...)
	}
	return out
}

// SendProgram does what assigning a program does in Physitrack: it renders
// the program's PDF, serves it at a new unguessable link that works for
// the PDF lifetime, and posts the webhook to the configured URL with the
// configured secret, retrying once after the retry delay when the answer
// is not 200. origin is the sandbox's own origin for the link, used when
// the sandbox was not started by Start. It returns once the first post
// has been answered (or failed).
func (s *Sandbox) SendProgram(ctx context.Context, origin string, req ProgramRequest) (Delivery, error) {
	ob := s.outbox
	if ob.url == "" {
		return Delivery{}, core.Errorf(core.EINVALID, "webhook-url", "The sandbox has no webhook URL: start it with --webhook-url (PT Desk's listener, e.g. http://127.0.0.1:8765/webhooks/physitrack) and --webhook-secret-file.")
	}
	practitioner, ok := s.state.practitionerByToken(req.Token)
	if !ok {
		return Delivery{}, core.Errorf(core.EUNAUTHORIZED, "token", "Unknown PMS token: paste the key in Settings first.")
	}
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "":
		return Delivery{}, core.Errorf(core.EINVALID, "name", "Program name is required.")
	case utf8.RuneCountInString(name) > maxProgramName || !utf8.ValidString(name) || hasControl(name):
		return Delivery{}, core.Errorf(core.EINVALID, "name", "Program name must be one line of at most %d characters.", maxProgramName)
	case strings.TrimSpace(req.PatientID) == "":
		return Delivery{}, core.Errorf(core.EINVALID, "patient_id", "Client id is required.")
	}
	created := s.now()
	clientName := "client " + req.PatientID
	if c, ok := s.state.client(practitioner, req.PatientID); ok {
		clientName = strings.TrimSpace(c.Effective.FirstName + " " + c.Effective.LastName)
	}
	pdf, err := renderProgramPDF(name, clientName, practitioner, req.Updated, created)
	if err != nil {
		return Delivery{}, fmt.Errorf("sandbox: render the program PDF: %w", err)
	}
	link, err := newSessionID(s.rand)
	if err != nil {
		return Delivery{}, err
	}
	d := &Delivery{
		Practitioner: practitioner, PatientID: req.PatientID, Name: name, Updated: req.Updated,
		FileURL:   strings.TrimSuffix(ob.originOr(origin), "/") + "/sandbox/files/" + link + ".pdf",
		CreatedAt: created, PDF: pdf, SHA256: sha(pdf),
	}
	body, err := json.Marshal(webhookBody{
		APIKey: ob.secret, Token: req.Token, PatientID: req.PatientID, FileURL: d.FileURL, Name: name,
		Date: created.Format(time.DateOnly), DateISO: created.Format(time.RFC3339), Updated: req.Updated,
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("sandbox: encode the webhook: %w", err)
	}
	ob.mu.Lock()
	for id, f := range ob.files {
		if !created.Before(f.expires) {
			delete(ob.files, id)
		}
	}
	ob.files[link+".pdf"] = &servedPDF{pdf: pdf, expires: created.Add(ob.lifetime)}
	ob.deliveries = append(ob.deliveries, d)
	if len(ob.deliveries) > maxDeliveries {
		ob.deliveries = ob.deliveries[len(ob.deliveries)-maxDeliveries:]
	}
	ob.mu.Unlock()

	status := s.postWebhook(ctx, d, body)
	if status != http.StatusOK {
		time.AfterFunc(ob.retryDelay, func() { s.postWebhook(context.Background(), d, body) })
	}
	ob.mu.Lock()
	defer ob.mu.Unlock()
	cp := *d
	cp.Statuses = append([]int{}, d.Statuses...)
	return cp, nil
}

// postWebhook posts one attempt and records its status.
func (s *Sandbox) postWebhook(ctx context.Context, d *Delivery, body []byte) int {
	ob := s.outbox
	status, errText := 0, ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ob.url, bytes.NewReader(body))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		var resp *http.Response
		resp, err = ob.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			status = resp.StatusCode
		}
	}
	if err != nil {
		// The client's error names the URL, which holds no secret; the
		// body (with the secret and the key) is never part of it.
		errText = err.Error()
	}
	ob.mu.Lock()
	d.Statuses = append(d.Statuses, status)
	d.Error = errText
	attempt := len(d.Statuses)
	ob.mu.Unlock()
	s.log.Info("sandbox sent a program webhook", "practitioner", d.Practitioner, "patient_id", d.PatientID,
		"program", d.Name, "updated", d.Updated, "attempt", attempt, "status", status, "error", errText)
	return status
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// renderProgramPDF makes a one-page PDF naming the program and the client.
// The core fonts cover Western European text; other characters print as
// "?", which is enough for a stand-in.
func renderProgramPDF(program, client, practitioner string, updated bool, created time.Time) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	// Uncompressed, so that people and tests can see the names in it.
	pdf.SetCompression(false)
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetTitle(program, true)
	pdf.SetAuthor("Physitrack sandbox", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 20)
	pdf.MultiCell(0, 10, tr(program), "", "L", false)
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 12)
	lines := []string{
		"Exercise program for " + client,
		"Assigned by " + practitioner,
		"Created " + created.Format("2006-01-02 15:04 MST"),
	}
	if updated {
		lines = append(lines, "This program was updated.")
	}
	for _, l := range lines {
		pdf.MultiCell(0, 7, tr(l), "", "L", false)
	}
	pdf.Ln(8)
	pdf.SetFont("Helvetica", "I", 10)
	pdf.MultiCell(0, 6, "Made by the Physitrack sandbox, a local stand-in for Physitrack; not a real program.", "", "L", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// servePDF serves a program PDF while its link lives; afterwards, or for
// a link never made, 404, as a deleted file would be.
func (s *Sandbox) servePDF(w http.ResponseWriter, r *http.Request) {
	ob := s.outbox
	now := s.now()
	ob.mu.Lock()
	f, ok := ob.files[r.PathValue("file")]
	if ok && !now.Before(f.expires) {
		delete(ob.files, r.PathValue("file"))
		ok = false
	}
	ob.mu.Unlock()
	if !ok {
		http.Error(w, "This file does not exist or its link has expired.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.pdf)))
	_, _ = w.Write(f.pdf)
}

// programResult is the JSON answer of POST /sandbox/programs.
type programResult struct {
	PatientID     string `json:"patient_id"`
	Name          string `json:"name"`
	Updated       bool   `json:"updated"`
	FileURL       string `json:"file_url"`
	WebhookStatus int    `json:"webhook_status"`
	WebhookError  string `json:"webhook_error,omitempty"`
	// RetryIn is set when the first attempt failed and one retry is due.
	RetryIn string `json:"retry_in,omitempty"`
}

// sendProgramScript is POST /sandbox/programs for scripts: form fields
// token, patient_id, name and updated. It answers once the webhook has
// been answered, with that answer's status.
func (s *Sandbox) sendProgramScript(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, formErrorStatus(err), "The form could not be read.")
		return
	}
	updated, err := parseUpdated(r.PostForm.Get("updated"))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := s.SendProgram(r.Context(), "http://"+r.Host, ProgramRequest{
		Token: r.PostForm.Get("token"), PatientID: r.PostForm.Get("patient_id"), Name: r.PostForm.Get("name"), Updated: updated,
	})
	if err != nil {
		writeJSONError(w, statusFor(err), core.ErrorMessage(err))
		return
	}
	res := programResult{PatientID: d.PatientID, Name: d.Name, Updated: d.Updated, FileURL: d.FileURL,
		WebhookStatus: d.Statuses[0], WebhookError: d.Error}
	if d.Statuses[0] != http.StatusOK {
		res.RetryIn = s.outbox.retryDelay.String()
	}
	writeJSON(w, http.StatusOK, res)
}

func parseUpdated(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("updated must be true or false")
}

func statusFor(err error) int {
	switch core.ErrorCode(err) {
	case core.EUNAUTHORIZED:
		return http.StatusForbidden
	case core.EINVALID:
		if core.ErrorField(err) == "webhook-url" {
			return http.StatusConflict
		}
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// programView is the page shown after the client page's program forms.
type programView struct {
	ClientID string
	Error    string
	Delivery Delivery
	Sent     []Delivery // this client's programs, newest first
	RetryIn  string
}

// sendProgramForm answers "Assign program" and "Update program" on the
// client page, as the signed-in practitioner.
func (s *Sandbox) sendProgramForm(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedIn(r)
	if !ok {
		s.renderError(w, r, http.StatusForbidden, "Not signed in: open a client from PT Desk to sign in.")
		return
	}
	id := r.PathValue("id")
	if _, ok := s.state.client(sess.practitioner, id); !ok {
		s.renderError(w, r, http.StatusNotFound, "There is no client with id "+strconv.Quote(id)+" in this practitioner's account.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, formErrorStatus(err), "The form could not be read.")
		return
	}
	updated, _ := parseUpdated(r.PostForm.Get("updated"))
	token := s.state.tokenOf(sess.practitioner)
	v := programView{ClientID: id}
	status := http.StatusOK
	d, err := s.SendProgram(r.Context(), "http://"+r.Host, ProgramRequest{Token: token, PatientID: id, Name: r.PostForm.Get("name"), Updated: updated})
	if err != nil {
		v.Error, status = core.ErrorMessage(err), statusFor(err)
	} else {
		v.Delivery = d
		if d.Statuses[0] != http.StatusOK {
			v.RetryIn = s.outbox.retryDelay.String()
		}
	}
	all := s.Deliveries()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Practitioner == sess.practitioner && all[i].PatientID == id {
			v.Sent = append(v.Sent, all[i])
		}
	}
	s.renderProgram(w, r, status, v)
}

func (s *Sandbox) renderProgram(w http.ResponseWriter, r *http.Request, status int, data programView) {
	v := view{Title: "Program", Origin: "http://" + r.Host, Data: data}
	if sess, ok := s.signedIn(r); ok {
		v.SignedIn = sess.practitioner
	}
	var buf bytes.Buffer
	if err := s.outbox.page.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("sandbox could not render a page", "page", "program.html", "error", err)
		http.Error(w, "the sandbox could not render this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// serveProgramsJSON lists what was sent, for tests and for people
// checking what PT Desk received.
func (s *Sandbox) serveProgramsJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Deliveries())
}

// tokenOf returns the key of the practitioner called name.
func (st *state) tokenOf(name string) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	if p, ok := st.practitioners[name]; ok {
		return p.token
	}
	return ""
}
