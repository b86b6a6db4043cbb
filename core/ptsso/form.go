// Package ptsso signs a practitioner in to Physitrack on a patient's page
// (PHYSITRACK.md section 1). Physitrack only accepts the sign-in as an HTML
// form POST from the browser, and the form carries the practitioner's key, so
// the key must never travel in a URL. The package therefore builds the form
// (NewForm), serves it once from a loopback-only launch page that posts it
// automatically (Server), and asks the system browser to open that page
// (Opener, Launch).
//
// The launch page is reachable only on 127.0.0.1, only with the right Host
// header, only once, and only for LaunchTTL after it was prepared; its
// Content-Security-Policy lets it run its own script and post to the
// practitioner's Physitrack origin, nothing else.
//
// Measuring "open → launch page served", for example for a benchmark
// program: time Launch with an Opener that fetches the URL itself, such as
// FetchOpener{Client: http.DefaultClient}; Launch returns once the page has
// been fetched, so each call is one sample for percentiles.
package ptsso

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ptdesk/core"
)

// FieldToken is the form field that carries the practitioner's key.
const FieldToken = "data[token]"

// PatientField is the form field name of a patient attribute, for example
// PatientField("first_name") is "data[patient][first_name]".
func PatientField(name string) string { return "data[patient][" + name + "]" }

// Field is one form field as the browser posts it.
type Field struct {
	Name  string
	Value string
}

// Form is a validated PTSSO sign-in for one practitioner and one patient.
// It holds the key: it prints as a summary without the key under every fmt
// verb, and its fields are unexported so that it never leaks through
// encoding either.
type Form struct {
	origin    string
	action    string
	key       string
	patientID string
	patient   []Field // short name → value, in Physitrack's order, no key
}

// The patient attributes in the order Physitrack documents them.
var patientOrder = []string{"id", "first_name", "last_name", "email", "title", "birth_year", "diagnosis_code", "mobile_phone"}

var (
	// A host that can be written in a CSP host-source: ASCII labels, no
	// brackets, no separators that could end the directive.
	originPattern = regexp.MustCompile(`^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[1-9][0-9]{0,4})?$`)
	e164Pattern   = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// MaxBirthYear keeps birth_year to the four digits Physitrack expects; the
// store bounds it by the current year.
const MaxBirthYear = 9999

// NewForm checks everything Physitrack would silently mishandle and builds
// the form that signs pr in and opens p. key is pr's key from this
// computer's keyring, pmsName the integration name Physitrack assigned.
// Every refusal is a *core.Error naming the field (EUNAUTHORIZED for the
// key, EINVALID otherwise); none ever contains the key. Optional patient
// fields that are empty are left out; a national ID number is never sent.
func NewForm(pr *core.Practitioner, pmsName, key string, p *core.Patient) (*Form, error) {
	if pr == nil {
		return nil, core.Errorf(core.EINVALID, "practitioner", "Choose a practitioner before opening a patient in Physitrack.")
	}
	if err := checkKey(pr, key); err != nil {
		return nil, err
	}
	if err := core.ValidatePMSName(pmsName); err != nil {
		return nil, err
	}
	origin, err := core.ServerOrigin(pr.Server)
	if err != nil {
		return nil, err
	}
	if !originPattern.MatchString(origin) {
		return nil, core.Errorf(core.EINVALID, "server", "Physitrack server %q cannot be used for sign-in: use a host name of plain letters, digits, dots and dashes (IDN names in their xn-- form; 127.0.0.1 rather than [::1]).", origin)
	}
	if p == nil {
		return nil, core.Errorf(core.EINVALID, "patient", "Choose a patient to open in Physitrack.")
	}
	patient, err := patientFields(p)
	if err != nil {
		return nil, err
	}
	return &Form{
		origin:    origin,
		action:    origin + "/pmsapi/" + pmsName + "/v1/patients",
		key:       key,
		patientID: p.ID,
		patient:   patient,
	}, nil
}

func checkKey(pr *core.Practitioner, key string) error {
	who := strings.TrimSpace(pr.Name)
	if who == "" {
		who = "This practitioner"
	}
	if strings.TrimSpace(key) == "" {
		return core.Errorf(core.EUNAUTHORIZED, "key", "%s has no Physitrack key on this computer: set up the key first.", who)
	}
	if !utf8.ValidString(key) || strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return core.Errorf(core.EUNAUTHORIZED, "key", "The Physitrack key of %s on this computer is damaged (it contains spaces or line breaks): set up the key again.", who)
	}
	return nil
}

// patientFields validates p and returns its non-empty attributes in
// Physitrack's order, keyed by their short names.
func patientFields(p *core.Patient) ([]Field, error) {
	if strings.TrimSpace(p.ID) == "" {
		return nil, core.Errorf(core.EINVALID, "id", "The patient has no id yet: save the patient before opening it in Physitrack.")
	}
	if err := core.ValidatePatientID(p.ID); err != nil {
		return nil, err
	}
	if err := checkText("first_name", "First name", p.FirstName, core.MaxNameLength, true); err != nil {
		return nil, err
	}
	if err := checkText("last_name", "Last name", p.LastName, core.MaxNameLength, true); err != nil {
		return nil, err
	}
	if err := checkText("diagnosis_code", "Diagnosis code", p.DiagnosisCode, core.MaxDiagnosisCodeLength, false); err != nil {
		return nil, err
	}
	email := ""
	if p.Email != "" {
		e, err := core.NormalizeEmail(p.Email)
		if err != nil {
			return nil, err
		}
		// A quoted local part ("a b"@x) comes back unquoted and no longer
		// an address; send only an address that survives its own check.
		if again, err := core.NormalizeEmail(e); err != nil || again != e {
			return nil, core.Errorf(core.EINVALID, "email", "Email %q is not a plain address like name@example.com: edit the patient to correct it.", p.Email)
		}
		email = e
	}
	g, err := core.ParseGender(string(p.Gender))
	if err != nil {
		return nil, err
	}
	birthYear := ""
	if p.BirthYear != 0 {
		if p.BirthYear < core.MinBirthYear || p.BirthYear > MaxBirthYear {
			return nil, core.Errorf(core.EINVALID, "birth_year", "Birth year %d is not a four-digit year from %d: correct the patient's year of birth.", p.BirthYear, core.MinBirthYear)
		}
		birthYear = strconv.Itoa(p.BirthYear)
	}
	if p.Phone != "" && !e164Pattern.MatchString(p.Phone) {
		return nil, core.Errorf(core.EINVALID, "mobile_phone", "Mobile phone %q is not in international form like +16045439777: edit the patient to correct it.", p.Phone)
	}
	values := map[string]string{
		"id":             p.ID,
		"first_name":     p.FirstName,
		"last_name":      p.LastName,
		"email":          email,
		"title":          g.Title(),
		"birth_year":     birthYear,
		"diagnosis_code": p.DiagnosisCode,
		"mobile_phone":   p.Phone,
	}
	fields := make([]Field, 0, len(patientOrder))
	for _, name := range patientOrder {
		if v := values[name]; v != "" {
			fields = append(fields, Field{Name: name, Value: v})
		}
	}
	return fields, nil
}

// checkText refuses what Physitrack would store wrongly or reject silently:
// a missing required value, text too long, invalid UTF-8, and control
// characters (a line break would arrive as CR LF).
func checkText(field, label, v string, maxRunes int, required bool) error {
	if strings.TrimSpace(v) == "" {
		if required {
			return core.Errorf(core.EINVALID, field, "%s is required: Physitrack cannot create a client without it. Edit the patient and fill it in.", label)
		}
		if v != "" {
			return core.Errorf(core.EINVALID, field, "%s is only spaces: clear it or fill it in.", label)
		}
		return nil
	}
	if !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return core.Errorf(core.EINVALID, field, "%s contains a line break or control character: edit the patient and remove it.", label)
	}
	if n := utf8.RuneCountInString(v); n > maxRunes {
		return core.Errorf(core.EINVALID, field, "%s is %d characters long; the limit is %d.", label, n, maxRunes)
	}
	return nil
}

// Origin is the practitioner's Physitrack origin, the only place the launch
// page may post to.
func (f *Form) Origin() string { return f.origin }

// Action is the URL the form posts to.
func (f *Form) Action() string { return f.action }

// PatientID is the id of the patient the form opens.
func (f *Form) PatientID() string { return f.patientID }

// Fields are the form fields in the order they are posted, the key first.
// The result contains the key: hand it only to the launch page.
func (f *Form) Fields() []Field {
	out := make([]Field, 0, len(f.patient)+1)
	out = append(out, Field{Name: FieldToken, Value: f.key})
	for _, p := range f.patient {
		out = append(out, Field{Name: PatientField(p.Name), Value: p.Value})
	}
	return out
}

// Sent is what the form tells Physitrack about the patient, keyed by the
// short attribute name ("first_name", "birth_year", ...), without the key:
// stored with each open, it shows what the next open will change.
func (f *Form) Sent() map[string]string {
	m := make(map[string]string, len(f.patient))
	for _, p := range f.patient {
		m[p.Name] = p.Value
	}
	return m
}

// String describes the form without the key.
func (f Form) String() string {
	return fmt.Sprintf("Physitrack sign-in for patient %s at %s", f.patientID, f.action)
}

// GoString keeps %#v from printing the key.
func (f Form) GoString() string { return "ptsso.Form{" + f.String() + "}" }

// Format prints String under every verb, so that no verb (%d, %x, ...)
// reaches the key through fmt's struct printing.
func (f Form) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('#') {
		fmt.Fprint(s, f.GoString())
		return
	}
	fmt.Fprint(s, f.String())
}

// PatientFields is what a form for p would tell Physitrack, keyed like
// Sent: comparing it with the Sent of the last open shows which fields the
// next open will update.
func PatientFields(p *core.Patient) (map[string]string, error) {
	fields, err := patientFields(p)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		m[f.Name] = f.Value
	}
	return m, nil
}
