package sandbox

import (
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"ptdesk/core"
)

// Physitrack's defaults for the optional fields it needs (PHYSITRACK.md
// section 1).
const (
	DefaultTitle     = "mx"
	DefaultBirthYear = 1960
)

// Client is one client in a practitioner's sandbox account: what
// /sandbox/clients.json lists and Clients returns.
type Client struct {
	// Practitioner is the name of the account the client belongs to; ids
	// are scoped per practitioner.
	Practitioner string `json:"practitioner"`
	// PMS is the integration name in the URL of the last open.
	PMS string `json:"pms"`
	// ID is data[patient][id] as received.
	ID string `json:"id"`
	// Received is every data[patient][...] field of the last open exactly
	// as posted, keyed by the name inside the brackets ("first_name"),
	// except ssn, which the sandbox accepts and never keeps.
	Received map[string]string `json:"received"`
	// Effective is the client as Physitrack would show it: Received with
	// the title and birth year defaults applied.
	Effective Fields    `json:"effective"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Updates counts the opens after the one that created the client,
	// whether or not they changed anything.
	Updates int `json:"updates"`
	// LastChanges is what the last update changed; empty after the open
	// that created the client and after an open that changed nothing.
	LastChanges []Change `json:"last_changes"`
}

// Fields are the client's details that an open sets.
type Fields struct {
	Title         string `json:"title"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	BirthYear     int    `json:"birth_year"`
	Email         string `json:"email"`
	MobilePhone   string `json:"mobile_phone"`
	DiagnosisCode string `json:"diagnosis_code"`
}

// Change is one field an update changed, by its form name.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

type clientKey struct{ practitioner, id string }

// Clients lists every client, sorted by practitioner name then id. The
// values are copies.
func (s *Sandbox) Clients() []Client {
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]Client, 0, len(st.clients))
	for _, c := range st.clients {
		out = append(out, c.clone())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Practitioner != out[j].Practitioner {
			return out[i].Practitioner < out[j].Practitioner
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (c *Client) clone() Client {
	cp := *c
	cp.Received = maps.Clone(c.Received)
	cp.LastChanges = append([]Change{}, c.LastChanges...)
	return cp
}

// client returns a copy of one practitioner's client.
func (st *state) client(practitioner, id string) (Client, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.clients[clientKey{practitioner, id}]
	if !ok {
		return Client{}, false
	}
	return c.clone(), true
}

// practitionerClients lists copies of one practitioner's clients by id.
func (st *state) practitionerClients(practitioner string) []Client {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []Client
	for k, c := range st.clients {
		if k.practitioner == practitioner {
			out = append(out, c.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// upsertClient finds the client with the id in the practitioner's account
// or creates it, and makes it what the open carried. Each open carries the
// client's whole state, so an optional field left out is cleared (title
// and birth year fall back to their defaults).
func (st *state) upsertClient(practitioner, pms, id string, received map[string]string, f Fields, now time.Time) (created bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := clientKey{practitioner, id}
	c, ok := st.clients[k]
	if !ok {
		st.clients[k] = &Client{
			Practitioner: practitioner, PMS: pms, ID: id,
			Received: received, Effective: f,
			CreatedAt: now, UpdatedAt: now,
			LastChanges: []Change{},
		}
		return true
	}
	c.LastChanges = diff(c.Effective, f)
	c.PMS = pms
	c.Received = received
	c.Effective = f
	c.UpdatedAt = now
	c.Updates++
	return false
}

// diff lists the fields that differ, in the order the client page shows
// them.
func diff(before, after Fields) []Change {
	pairs := []struct{ field, old, new string }{
		{"title", before.Title, after.Title},
		{"first_name", before.FirstName, after.FirstName},
		{"last_name", before.LastName, after.LastName},
		{"birth_year", strconv.Itoa(before.BirthYear), strconv.Itoa(after.BirthYear)},
		{"email", before.Email, after.Email},
		{"mobile_phone", before.MobilePhone, after.MobilePhone},
		{"diagnosis_code", before.DiagnosisCode, after.DiagnosisCode},
	}
	changes := []Change{}
	for _, p := range pairs {
		if p.old != p.new {
			changes = append(changes, Change{Field: p.field, Old: p.old, New: p.new})
		}
	}
	return changes
}

// patientFields collects the data[patient][...] fields of a form, first
// value of each, without ssn.
func patientFields(form url.Values) map[string]string {
	out := map[string]string{}
	for k, v := range form {
		name, ok := strings.CutPrefix(k, "data[patient][")
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, "]")
		if !ok || name == "" || name == "ssn" || len(v) == 0 {
			continue
		}
		out[name] = v[0]
	}
	return out
}

var birthYearPattern = regexp.MustCompile(`^[0-9]{4}$`)

// effectiveFields applies Physitrack's rules to the received fields. An
// empty optional field counts as absent. problem names the first field that
// makes the open invalid, in words for the sandbox's note, or is "".
func effectiveFields(received map[string]string) (f Fields, problem string) {
	for _, name := range []string{"id", "first_name", "last_name"} {
		if strings.TrimSpace(received[name]) == "" {
			return Fields{}, "data[patient][" + name + "] is missing or empty"
		}
	}
	for name, v := range received {
		if !utf8.ValidString(v) {
			return Fields{}, "data[patient][" + name + "] is not valid UTF-8"
		}
	}
	f = Fields{
		Title:         received["title"],
		FirstName:     received["first_name"],
		LastName:      received["last_name"],
		Email:         received["email"],
		MobilePhone:   received["mobile_phone"],
		DiagnosisCode: received["diagnosis_code"],
		BirthYear:     DefaultBirthYear,
	}
	switch f.Title {
	case "":
		f.Title = DefaultTitle
	case "mr", "ms", "mx":
	default:
		return Fields{}, "data[patient][title] is not mr, ms or mx"
	}
	if y := received["birth_year"]; y != "" {
		if !birthYearPattern.MatchString(y) {
			return Fields{}, "data[patient][birth_year] is not four digits"
		}
		f.BirthYear, _ = strconv.Atoi(y)
	}
	return f, ""
}

// openPatient is Physitrack's PTSSO endpoint: sign the practitioner whose
// key it carries in, create or update the client, and send the browser to
// the client's page. Invalid data is not an error, just a redirect to the
// client list, as the real service does.
func (s *Sandbox) openPatient(w http.ResponseWriter, r *http.Request) {
	pms := r.PathValue("pms")
	if err := core.ValidatePMSName(pms); err != nil {
		s.renderError(w, r, http.StatusNotFound, core.ErrorMessage(err))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		s.renderError(w, r, http.StatusUnsupportedMediaType, "Open a client with an HTML form post (application/x-www-form-urlencoded).")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, formErrorStatus(err), "The form could not be read.")
		return
	}
	// PostForm only: a key in the URL's query does not count.
	name, ok := s.state.practitionerByToken(r.PostForm.Get("data[token]"))
	if !ok {
		s.log.Info("sandbox refused an open: unknown PMS token", "pms", pms)
		s.renderError(w, r, http.StatusForbidden, "Unknown PMS token: paste the key in Settings first.")
		return
	}
	received := patientFields(r.PostForm)
	f, problem := effectiveFields(received)
	note := ""
	if problem != "" {
		note = "The last open was not applied: " + problem + ". Physitrack reports no error in this case; it shows the client list."
	}
	if !s.signIn(w, r, name, note) {
		return
	}
	if problem != "" {
		s.log.Info("sandbox ignored an open with invalid data", "practitioner", name, "pms", pms, "problem", problem)
		http.Redirect(w, r, "/clients", http.StatusFound)
		return
	}
	id := received["id"]
	created := s.state.upsertClient(name, pms, id, received, f, s.now())
	s.log.Info("sandbox opened a client", "practitioner", name, "pms", pms, "patient_id", id, "created", created)
	http.Redirect(w, r, clientPath(id), http.StatusFound)
}

// signIn replaces the browser's session with a new one for the
// practitioner. It answers 500 and returns false when no session id can be
// drawn.
func (s *Sandbox) signIn(w http.ResponseWriter, r *http.Request, name, note string) bool {
	id, err := newSessionID(s.rand)
	if err != nil {
		s.log.Error("sandbox could not sign in", "error", err)
		s.renderError(w, r, http.StatusInternalServerError, "The sandbox could not start a session; try again.")
		return false
	}
	previous := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		previous = c.Value
	}
	s.state.signIn(previous, id, name, note)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return true
}

// signedIn returns the browser's session, if it has a live one.
func (s *Sandbox) signedIn(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return s.state.session(c.Value)
}

func clientPath(id string) string { return "/clients/" + url.PathEscape(id) }

type clientsView struct {
	Note    string
	Clients []Client
}

func (s *Sandbox) serveClients(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedIn(r)
	if !ok {
		s.render(w, r, http.StatusOK, "clients.html", "Clients", clientsView{})
		return
	}
	v := clientsView{Note: sess.note, Clients: s.state.practitionerClients(sess.practitioner)}
	s.render(w, r, http.StatusOK, "clients.html", "Clients", v)
}

type clientView struct {
	Client
	TitleDefaulted     bool
	BirthYearDefaulted bool
}

func (s *Sandbox) serveClient(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.signedIn(r)
	if !ok {
		s.renderError(w, r, http.StatusForbidden, "Not signed in: open a client from PT Desk to sign in.")
		return
	}
	id := r.PathValue("id")
	c, ok := s.state.client(sess.practitioner, id)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "There is no client with id "+strconv.Quote(id)+" in this practitioner's account.")
		return
	}
	v := clientView{
		Client:             c,
		TitleDefaulted:     c.Received["title"] == "",
		BirthYearDefaulted: c.Received["birth_year"] == "",
	}
	s.render(w, r, http.StatusOK, "client.html", "Client", v)
}

func (s *Sandbox) serveClientsJSON(w http.ResponseWriter, r *http.Request) {
	body, err := json.MarshalIndent(s.Clients(), "", "  ")
	if err != nil {
		s.log.Error("sandbox could not encode clients", "error", err)
		http.Error(w, "could not encode clients", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(append(body, '\n'))
}
