package ptsso_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/ptsso"
)

// testKey looks like a generated key; every test checks it never leaks.
const testKey = "Zq7KeyOfDrSilvaX0m3Rw9TtUuVvWwXxYy42"

const testPMS = "umbrella_corporation"

func testPractitioner() *core.Practitioner {
	return &core.Practitioner{ID: "7", Name: "Dr Ana Silva", Server: "uk"}
}

func fullPatient() *core.Patient {
	return &core.Patient{
		ID:            "1042",
		FirstName:     "Jane",
		LastName:      "Doe",
		BirthYear:     1984,
		Gender:        core.GenderFemale,
		Email:         "jane.doe@example.com",
		Phone:         "+447700900123",
		DiagnosisCode: "M54.5",
	}
}

func minimalPatient() *core.Patient {
	return &core.Patient{ID: "1043", FirstName: "John", LastName: "Roe"}
}

func mustForm(t testing.TB, p *core.Patient) *ptsso.Form {
	t.Helper()
	f, err := ptsso.NewForm(testPractitioner(), testPMS, testKey, p)
	if err != nil {
		t.Fatalf("NewForm: %v", err)
	}
	return f
}

func TestNewFormFullPatient(t *testing.T) {
	f := mustForm(t, fullPatient())

	if got, want := f.Action(), "https://uk.physitrack.com/pmsapi/umbrella_corporation/v1/patients"; got != want {
		t.Errorf("Action = %q, want %q", got, want)
	}
	if got, want := f.Origin(), "https://uk.physitrack.com"; got != want {
		t.Errorf("Origin = %q, want %q", got, want)
	}
	if got := f.PatientID(); got != "1042" {
		t.Errorf("PatientID = %q, want 1042", got)
	}
	want := []ptsso.Field{
		{Name: "data[token]", Value: testKey},
		{Name: "data[patient][id]", Value: "1042"},
		{Name: "data[patient][first_name]", Value: "Jane"},
		{Name: "data[patient][last_name]", Value: "Doe"},
		{Name: "data[patient][email]", Value: "jane.doe@example.com"},
		{Name: "data[patient][title]", Value: "ms"},
		{Name: "data[patient][birth_year]", Value: "1984"},
		{Name: "data[patient][diagnosis_code]", Value: "M54.5"},
		{Name: "data[patient][mobile_phone]", Value: "+447700900123"},
	}
	if got := f.Fields(); !slices.Equal(got, want) {
		t.Errorf("Fields =\n%v\nwant\n%v", got, want)
	}
}

func TestNewFormServerOrigins(t *testing.T) {
	tests := []struct {
		server, action string
	}{
		{"us", "https://us.physitrack.com/pmsapi/umbrella_corporation/v1/patients"},
		{"staging", "https://staging.physitrack.com/pmsapi/umbrella_corporation/v1/patients"},
		{"https://EU.Example.com/", "https://eu.example.com/pmsapi/umbrella_corporation/v1/patients"},
		{"http://127.0.0.1:7900", "http://127.0.0.1:7900/pmsapi/umbrella_corporation/v1/patients"},
		{"http://localhost:7900", "http://localhost:7900/pmsapi/umbrella_corporation/v1/patients"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			pr := testPractitioner()
			pr.Server = tt.server
			f, err := ptsso.NewForm(pr, testPMS, testKey, minimalPatient())
			if err != nil {
				t.Fatalf("NewForm: %v", err)
			}
			if f.Action() != tt.action {
				t.Errorf("Action = %q, want %q", f.Action(), tt.action)
			}
		})
	}
}

func TestNewFormOmitsEmptyOptionalFields(t *testing.T) {
	f := mustForm(t, minimalPatient())
	want := []ptsso.Field{
		{Name: "data[token]", Value: testKey},
		{Name: "data[patient][id]", Value: "1043"},
		{Name: "data[patient][first_name]", Value: "John"},
		{Name: "data[patient][last_name]", Value: "Roe"},
	}
	if got := f.Fields(); !slices.Equal(got, want) {
		t.Errorf("Fields = %v, want %v", got, want)
	}
}

func TestNewFormTitle(t *testing.T) {
	tests := []struct {
		gender core.Gender
		title  string // "" means the field is left out
	}{
		{core.GenderFemale, "ms"},
		{core.GenderMale, "mr"},
		{core.GenderOther, "mx"},
		{core.GenderUnknown, ""},
		{"Female", "ms"},
		{"unknown", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.gender), func(t *testing.T) {
			p := minimalPatient()
			p.Gender = tt.gender
			sent := mustForm(t, p).Sent()
			got, ok := sent["title"]
			if tt.title == "" {
				if ok {
					t.Errorf("title sent as %q, want it left out", got)
				}
				return
			}
			if got != tt.title {
				t.Errorf("title = %q, want %q", got, tt.title)
			}
		})
	}
}

func TestNewFormBirthYear(t *testing.T) {
	tests := []struct {
		year int
		want string // "" means left out
	}{
		{0, ""},
		{1900, "1900"},
		{1984, "1984"},
		{2026, "2026"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.year), func(t *testing.T) {
			p := minimalPatient()
			p.BirthYear = tt.year
			got, ok := mustForm(t, p).Sent()["birth_year"]
			if tt.want == "" && ok {
				t.Errorf("birth_year sent as %q, want it left out", got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("birth_year = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewFormRefuses(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(pr **core.Practitioner, pms, key *string, p **core.Patient)
		code  string
		field string
		msg   string // when set, the exact message
	}{
		{name: "no practitioner", code: core.EINVALID, field: "practitioner",
			edit: func(pr **core.Practitioner, _, _ *string, _ **core.Patient) { *pr = nil }},
		{name: "no key", code: core.EUNAUTHORIZED, field: "key",
			msg:  "Dr Ana Silva has no Physitrack key on this computer: set up the key first.",
			edit: func(_ **core.Practitioner, _, key *string, _ **core.Patient) { *key = "" }},
		{name: "blank key", code: core.EUNAUTHORIZED, field: "key",
			edit: func(_ **core.Practitioner, _, key *string, _ **core.Patient) { *key = "  \t" }},
		{name: "key with line break", code: core.EUNAUTHORIZED, field: "key",
			edit: func(_ **core.Practitioner, _, key *string, _ **core.Patient) { *key = testKey + "\n" }},
		{name: "key with space", code: core.EUNAUTHORIZED, field: "key",
			edit: func(_ **core.Practitioner, _, key *string, _ **core.Patient) { *key = "Zq7Key Of" + testKey }},
		{name: "bad pms name", code: core.EINVALID, field: "pms-name",
			edit: func(_ **core.Practitioner, pms, _ *string, _ **core.Patient) { *pms = "Umbrella Corp" }},
		{name: "empty pms name", code: core.EINVALID, field: "pms-name",
			edit: func(_ **core.Practitioner, pms, _ *string, _ **core.Patient) { *pms = "" }},
		{name: "unknown region", code: core.EINVALID, field: "server",
			edit: func(pr **core.Practitioner, _, _ *string, _ **core.Patient) { (*pr).Server = "mars" }},
		{name: "plain http origin", code: core.EINVALID, field: "server",
			edit: func(pr **core.Practitioner, _, _ *string, _ **core.Patient) {
				(*pr).Server = "http://physitrack.example"
			}},
		{name: "ipv6 loopback origin", code: core.EINVALID, field: "server",
			edit: func(pr **core.Practitioner, _, _ *string, _ **core.Patient) { (*pr).Server = "http://[::1]:7900" }},
		{name: "origin with semicolon", code: core.EINVALID, field: "server",
			edit: func(pr **core.Practitioner, _, _ *string, _ **core.Patient) { (*pr).Server = "https://a;script-src" }},
		{name: "no patient", code: core.EINVALID, field: "patient",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { *p = nil }},
		{name: "no id", code: core.EINVALID, field: "id",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).ID = "" }},
		{name: "id like ssn", code: core.EINVALID, field: "id",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).ID = "078-05-1120" }},
		{name: "no first name", code: core.EINVALID, field: "first_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).FirstName = "" }},
		{name: "blank first name", code: core.EINVALID, field: "first_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).FirstName = " \u00a0 " }},
		{name: "no last name", code: core.EINVALID, field: "last_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).LastName = "" }},
		{name: "line break in first name", code: core.EINVALID, field: "first_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).FirstName = "Jane\nDoe" }},
		{name: "nul in last name", code: core.EINVALID, field: "last_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).LastName = "Do\x00e" }},
		{name: "invalid utf-8 in last name", code: core.EINVALID, field: "last_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).LastName = "Do\xffe" }},
		{name: "first name too long", code: core.EINVALID, field: "first_name",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) {
				(*p).FirstName = strings.Repeat("é", core.MaxNameLength+1)
			}},
		{name: "bad email", code: core.EINVALID, field: "email",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).Email = "jane at example" }},
		{name: "quoted email", code: core.EINVALID, field: "email",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).Email = `"jane doe"@example.com` }},
		{name: "unknown gender", code: core.EINVALID, field: "gender",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).Gender = "robot" }},
		{name: "birth year too early", code: core.EINVALID, field: "birth_year",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).BirthYear = 1899 }},
		{name: "birth year five digits", code: core.EINVALID, field: "birth_year",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).BirthYear = 19840 }},
		{name: "phone not e164", code: core.EINVALID, field: "mobile_phone",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).Phone = "07700 900123" }},
		{name: "diagnosis too long", code: core.EINVALID, field: "diagnosis_code",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) {
				(*p).DiagnosisCode = strings.Repeat("x", core.MaxDiagnosisCodeLength+1)
			}},
		{name: "diagnosis only spaces", code: core.EINVALID, field: "diagnosis_code",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).DiagnosisCode = "   " }},
		{name: "diagnosis with tab", code: core.EINVALID, field: "diagnosis_code",
			edit: func(_ **core.Practitioner, _, _ *string, p **core.Patient) { (*p).DiagnosisCode = "M54\t5" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pms, key, p := testPractitioner(), testPMS, testKey, fullPatient()
			tt.edit(&pr, &pms, &key, &p)
			f, err := ptsso.NewForm(pr, pms, key, p)
			if err == nil {
				t.Fatalf("NewForm built %v, want an error", f)
			}
			if got := core.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
			if got := core.ErrorField(err); got != tt.field {
				t.Errorf("field = %q, want %q (%v)", got, tt.field, err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message = %q, want %q", err.Error(), tt.msg)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "Zq7Key") {
				t.Errorf("error contains the key: %q", err)
			}
		})
	}
}

func TestNewFormMissingKeyWithoutName(t *testing.T) {
	pr := testPractitioner()
	pr.Name = ""
	_, err := ptsso.NewForm(pr, testPMS, "", minimalPatient())
	if want := "This practitioner has no Physitrack key on this computer: set up the key first."; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestNewFormNeverSendsSSN(t *testing.T) {
	for _, p := range []*core.Patient{fullPatient(), minimalPatient()} {
		for _, fl := range mustForm(t, p).Fields() {
			if strings.Contains(fl.Name, "ssn") {
				t.Errorf("form has field %q", fl.Name)
			}
		}
	}
}

func TestSentIsThePatientWithoutTheKey(t *testing.T) {
	f := mustForm(t, fullPatient())
	want := map[string]string{
		"id":             "1042",
		"first_name":     "Jane",
		"last_name":      "Doe",
		"email":          "jane.doe@example.com",
		"title":          "ms",
		"birth_year":     "1984",
		"diagnosis_code": "M54.5",
		"mobile_phone":   "+447700900123",
	}
	sent := f.Sent()
	if !maps.Equal(sent, want) {
		t.Errorf("Sent = %v, want %v", sent, want)
	}
	for k, v := range sent {
		if strings.Contains(k, "token") || strings.Contains(v, testKey) {
			t.Errorf("Sent carries the key under %q", k)
		}
	}
	// Sent is a copy: changing it changes nothing in the form.
	sent["first_name"] = "Mallory"
	if got := f.Sent()["first_name"]; got != "Jane" {
		t.Errorf("Sent after caller edit = %q, want Jane", got)
	}
}

func TestFormPrintsWithoutKey(t *testing.T) {
	f := mustForm(t, fullPatient())
	hexKey := hex.EncodeToString([]byte(testKey))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%T %v"} {
		for _, arg := range []any{f, *f, []*ptsso.Form{f}, struct{ F *ptsso.Form }{f}} {
			out := fmt.Sprintf(verb, arg)
			if strings.Contains(out, testKey) || strings.Contains(strings.ToLower(out), hexKey) {
				t.Errorf("Sprintf(%q, %T) shows the key: %s", verb, arg, out)
			}
		}
	}
	if s := f.String(); !strings.Contains(s, "1042") || !strings.Contains(s, f.Action()) {
		t.Errorf("String = %q, want the patient id and the action", s)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), testKey) {
		t.Errorf("JSON shows the key: %s", b)
	}
}
