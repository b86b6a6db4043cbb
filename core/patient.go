package core

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Gender is what the clinic records; Physitrack only knows a title derived
// from it (PHYSITRACK.md section 1).
type Gender string

// The genders PT Desk records.
const (
	GenderUnknown Gender = ""
	GenderFemale  Gender = "female"
	GenderMale    Gender = "male"
	GenderOther   Gender = "other"
)

// ParseGender accepts the stored words (any case) and "unknown"/"" for
// GenderUnknown.
func ParseGender(s string) (Gender, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "unknown":
		return GenderUnknown, nil
	case "female":
		return GenderFemale, nil
	case "male":
		return GenderMale, nil
	case "other":
		return GenderOther, nil
	}
	return GenderUnknown, Errorf(EINVALID, "gender", "Gender %q is not one of female, male, other or unknown.", s)
}

// Title is the Physitrack title for the gender: ms, mr, mx, or "" (omitted,
// Physitrack then uses mx).
func (g Gender) Title() string {
	switch g {
	case GenderFemale:
		return "ms"
	case GenderMale:
		return "mr"
	case GenderOther:
		return "mx"
	}
	return ""
}

// Field limits.
const (
	MaxNameLength          = 100
	MaxDiagnosisCodeLength = 32
	MinBirthYear           = 1900
)

// Patient is one client of the clinic, as the directory keeps it.
type Patient struct {
	// ID is the stable id Physitrack links the client on. Assigned by the
	// store unless given explicitly; never changes, never reused.
	ID            string    `json:"id"`
	FirstName     string    `json:"first_name"`
	LastName      string    `json:"last_name"`
	BirthYear     int       `json:"birth_year,omitempty"` // 0 when unknown
	Gender        Gender    `json:"gender,omitempty"`
	Email         string    `json:"email,omitempty"`
	Phone         string    `json:"mobile_phone,omitempty"` // E.164
	DiagnosisCode string    `json:"diagnosis_code,omitempty"`
	Archived      bool      `json:"archived"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// Version counts the stored edits; an update must carry the version it
	// started from, so that two desks cannot silently overwrite each other.
	Version int64 `json:"version"`
}

// FullName is first and last name as people read them.
func (p *Patient) FullName() string { return strings.TrimSpace(p.FirstName + " " + p.LastName) }

// Warnings are things that are allowed but that the practitioner must know.
func (p *Patient) Warnings() []string {
	var w []string
	if p.BirthYear == 0 {
		w = append(w, MissingBirthYearWarning)
	}
	return w
}

// MissingBirthYearWarning is shown wherever a patient without a birth year is.
const MissingBirthYearWarning = "No birth year: Physitrack will use 1960; the patient needs the real year to sign in."

// PhoneNormalizer turns a phone number as typed into E.164, using the clinic's
// default region for numbers written without a country code.
type PhoneNormalizer func(raw string) (string, error)

// Normalize trims and validates every field in place, normalizing the phone
// with norm. It returns the first problem as an *Error naming the field.
// now bounds the birth year.
func (p *Patient) Normalize(now time.Time, norm PhoneNormalizer) error {
	if errs := p.normalize(now, norm, false); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// NormalizeAll is Normalize that goes on past a field at fault: it returns
// every problem, one *Error per field, in the order Normalize checks them,
// so that a list of patients (an import) can say all that is wrong with a
// row at once. The fields without a problem are normalized.
func (p *Patient) NormalizeAll(now time.Time, norm PhoneNormalizer) []error {
	return p.normalize(now, norm, true)
}

// normalize checks the fields in order and stops at the first problem
// unless all is set.
func (p *Patient) normalize(now time.Time, norm PhoneNormalizer, all bool) []error {
	p.ID = strings.TrimSpace(p.ID)
	p.FirstName = strings.TrimSpace(p.FirstName)
	p.LastName = strings.TrimSpace(p.LastName)
	p.Email = strings.TrimSpace(p.Email)
	p.Phone = strings.TrimSpace(p.Phone)
	p.DiagnosisCode = strings.TrimSpace(p.DiagnosisCode)

	var errs []error
	// stop records err and says whether to stop there.
	stop := func(err error) bool {
		if err != nil {
			errs = append(errs, err)
		}
		return !all && len(errs) > 0
	}
	if p.ID != "" && stop(ValidatePatientID(p.ID)) {
		return errs
	}
	if stop(validateName("first_name", "First name", p.FirstName)) ||
		stop(validateName("last_name", "Last name", p.LastName)) ||
		stop(ValidateBirthYear(p.BirthYear, now)) {
		return errs
	}
	if _, err := ParseGender(string(p.Gender)); stop(err) {
		return errs
	}
	if p.Email != "" {
		email, err := NormalizeEmail(p.Email)
		if stop(err) {
			return errs
		}
		if err == nil {
			p.Email = email
		}
	}
	if p.Phone != "" {
		if norm == nil {
			return append(errs, Errorf(EINTERNAL, "mobile_phone", "No phone normalizer is configured."))
		}
		e164, err := norm(p.Phone)
		if stop(err) {
			return errs
		}
		if err == nil {
			p.Phone = e164
		}
	}
	if utf8.RuneCountInString(p.DiagnosisCode) > MaxDiagnosisCodeLength {
		stop(Errorf(EINVALID, "diagnosis_code", "Diagnosis code is longer than %d characters; shorten it.", MaxDiagnosisCodeLength))
	} else if hasControl(p.DiagnosisCode) {
		stop(Errorf(EINVALID, "diagnosis_code", "Diagnosis code contains a line break or control character; remove it."))
	}
	return errs
}

func validateName(field, label, v string) error {
	if v == "" {
		return Errorf(EINVALID, field, "%s is required: Physitrack cannot create a client without it.", label)
	}
	if n := utf8.RuneCountInString(v); n > MaxNameLength {
		return Errorf(EINVALID, field, "%s is %d characters long; the limit is %d.", label, n, MaxNameLength)
	}
	if !utf8.ValidString(v) || hasControl(v) {
		return Errorf(EINVALID, field, "%s contains a line break or control character; remove it.", label)
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// ValidateBirthYear accepts 0 (unknown) or a year from 1900 to now's year.
func ValidateBirthYear(y int, now time.Time) error {
	if y == 0 {
		return nil
	}
	if y < MinBirthYear || y > now.Year() {
		return Errorf(EINVALID, "birth_year", "Birth year %d is not between %d and %d; use the four-digit year of birth.", y, MinBirthYear, now.Year())
	}
	return nil
}

// NormalizeEmail checks an address with net/mail and returns the bare
// address (no display name).
func NormalizeEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || strings.ContainsAny(s, "<>\"") || strings.ContainsAny(a.Address, " \t") {
		return "", Errorf(EINVALID, "email", "Email %q is not a valid address like name@example.com.", s)
	}
	return a.Address, nil
}

var (
	patientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// US social security numbers: ddd-dd-dddd or nine bare digits.
	usSSNPattern = regexp.MustCompile(`^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$`)
	// Nordic personal identity numbers: yyyymmdd-nnnn or twelve bare digits,
	// and the short yymmdd-nnnn / ddmmyy-nnnn forms with their separator.
	datedIDPattern = regexp.MustCompile(`^([0-9]{12}|[0-9]{8}[-+][0-9]{4}|[0-9]{6}[-+][0-9]{4})$`)
)

// ValidatePatientID checks an explicit id: allowed characters, length, and
// that it does not look like a national ID number (PHYSITRACK.md section 3).
func ValidatePatientID(id string) error {
	if !patientIDPattern.MatchString(id) {
		return Errorf(EINVALID, "id", "Patient id %q must be 1 to 64 letters, digits, dots, dashes or underscores.", id)
	}
	if usSSNPattern.MatchString(id) {
		return Errorf(EINVALID, "id", "Patient id looks like a US social security number (9 digits); Physitrack ids must never be national ID numbers. Use the clinic's own patient number.")
	}
	if datedIDPattern.MatchString(id) {
		return Errorf(EINVALID, "id", "Patient id looks like a personal identity number (date of birth and serial); Physitrack ids must never be national ID numbers. Use the clinic's own patient number.")
	}
	return nil
}
