package core_test

import (
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/phone"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func TestPatientNormalize(t *testing.T) {
	gb := phone.Normalizer("GB")
	tests := []struct {
		name    string
		in      core.Patient
		field   string // "" means valid
		want    core.Patient
		warning bool
	}{
		{name: "trimmed", in: core.Patient{FirstName: "  Jane ", LastName: " Smith  ", BirthYear: 1980},
			want: core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980}},
		{name: "no first name", in: core.Patient{FirstName: "   ", LastName: "Smith"}, field: "first_name"},
		{name: "no last name", in: core.Patient{FirstName: "Jane"}, field: "last_name"},
		{name: "name 100 chars ok", in: core.Patient{FirstName: strings.Repeat("é", 100), LastName: "X", BirthYear: 1990},
			want: core.Patient{FirstName: strings.Repeat("é", 100), LastName: "X", BirthYear: 1990}},
		{name: "name 101 chars", in: core.Patient{FirstName: strings.Repeat("a", 101), LastName: "X"}, field: "first_name"},
		{name: "newline in name", in: core.Patient{FirstName: "Ja\nne", LastName: "X"}, field: "first_name"},
		{name: "birth year too old", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1899}, field: "birth_year"},
		{name: "birth year 1900", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1900}, want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1900}},
		{name: "birth year this year", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 2026}, want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 2026}},
		{name: "birth year future", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 2027}, field: "birth_year"},
		{name: "missing birth year warns", in: core.Patient{FirstName: "A", LastName: "B"}, want: core.Patient{FirstName: "A", LastName: "B"}, warning: true},
		{name: "email ok", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Email: " jane@example.org "},
			want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Email: "jane@example.org"}},
		{name: "email bad", in: core.Patient{FirstName: "A", LastName: "B", Email: "jane.example.org"}, field: "email"},
		{name: "email quoted local part", in: core.Patient{FirstName: "A", LastName: "B", Email: `"a b"@example.com`}, field: "email"},
		{name: "email with display name", in: core.Patient{FirstName: "A", LastName: "B", Email: "Jane <jane@example.org>"}, field: "email"},
		{name: "phone national GB", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Phone: "07911 123456"},
			want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Phone: "+447911123456"}},
		{name: "phone international", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Phone: "+1 (604) 543-9777"},
			want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, Phone: "+16045439777"}},
		{name: "phone garbage", in: core.Patient{FirstName: "A", LastName: "B", Phone: "call me"}, field: "mobile_phone"},
		{name: "phone too short", in: core.Patient{FirstName: "A", LastName: "B", Phone: "123"}, field: "mobile_phone"},
		{name: "diagnosis 32", in: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, DiagnosisCode: strings.Repeat("M", 32)},
			want: core.Patient{FirstName: "A", LastName: "B", BirthYear: 1970, DiagnosisCode: strings.Repeat("M", 32)}},
		{name: "diagnosis 33", in: core.Patient{FirstName: "A", LastName: "B", DiagnosisCode: strings.Repeat("M", 33)}, field: "diagnosis_code"},
		{name: "gender bad", in: core.Patient{FirstName: "A", LastName: "B", Gender: "robot"}, field: "gender"},
		{name: "id ssn", in: core.Patient{ID: "123-45-6789", FirstName: "A", LastName: "B"}, field: "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			err := p.Normalize(now, gb)
			if tt.field != "" {
				if err == nil {
					t.Fatalf("Normalize accepted %+v; want an error on %s", tt.in, tt.field)
				}
				if got := core.ErrorField(err); got != tt.field {
					t.Fatalf("error names field %q, want %q (%v)", got, tt.field, err)
				}
				if core.ErrorCode(err) != core.EINVALID {
					t.Fatalf("error code %q, want invalid", core.ErrorCode(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if p != tt.want {
				t.Fatalf("got %+v\nwant %+v", p, tt.want)
			}
			if got := len(p.Warnings()) > 0; got != tt.warning {
				t.Fatalf("warnings %v, want warning=%v", p.Warnings(), tt.warning)
			}
		})
	}
}

// NormalizeAll names every field at fault, in Normalize's order, and still
// normalizes the fields that are fine; Normalize stops at the first.
func TestPatientNormalizeAll(t *testing.T) {
	gb := phone.Normalizer("GB")
	tests := []struct {
		name   string
		in     core.Patient
		fields []string
		want   core.Patient // the fields without a problem, normalized
	}{
		{name: "valid", in: core.Patient{FirstName: " Ann ", LastName: "Lee", BirthYear: 1980, Phone: "07911 123456"},
			want: core.Patient{FirstName: "Ann", LastName: "Lee", BirthYear: 1980, Phone: "+447911123456"}},
		{name: "every field wrong",
			in: core.Patient{ID: "123-45-6789", LastName: "Lee", BirthYear: 1850, Gender: "x",
				Email: "not-an-email", Phone: "12", DiagnosisCode: strings.Repeat("M", 40)},
			fields: []string{"id", "first_name", "birth_year", "gender", "email", "mobile_phone", "diagnosis_code"}},
		{name: "two wrong, the rest normalized",
			in:     core.Patient{FirstName: "Ann", LastName: " Lee ", BirthYear: 2090, Email: " ann@example.org ", Phone: "abc"},
			fields: []string{"birth_year", "mobile_phone"},
			want:   core.Patient{FirstName: "Ann", LastName: "Lee", BirthYear: 2090, Email: "ann@example.org", Phone: "abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := tc.in
			errs := all.NormalizeAll(now, gb)
			var fields []string
			for _, err := range errs {
				fields = append(fields, core.ErrorField(err))
				if core.ErrorMessage(err) == "" {
					t.Errorf("problem in %s has no message", core.ErrorField(err))
				}
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields at fault %v, want %v", fields, tc.fields)
			}
			if tc.want != (core.Patient{}) && all != tc.want {
				t.Errorf("normalized %+v, want %+v", all, tc.want)
			}
			first := tc.in
			err := first.Normalize(now, gb)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				return
			}
			if core.ErrorField(err) != tc.fields[0] {
				t.Errorf("Normalize stopped at %q, want the first of NormalizeAll, %q", core.ErrorField(err), tc.fields[0])
			}
		})
	}
}

func TestTitleMapping(t *testing.T) {
	tests := map[string]string{"female": "ms", "male": "mr", "other": "mx", "": "", "unknown": "", "FEMALE": "ms"}
	for in, want := range tests {
		g, err := core.ParseGender(in)
		if err != nil {
			t.Fatalf("ParseGender(%q): %v", in, err)
		}
		if got := g.Title(); got != want {
			t.Errorf("title of %q = %q, want %q", in, got, want)
		}
	}
}

func TestPatientIDRules(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"1", true},
		{"P-000123", true},
		{"abc.DEF_9-x", true},
		{strings.Repeat("a", 64), true},
		{"12345678", true},   // 8 digits: an ordinary patient number
		{"1234567890", true}, // 10 digits without separator
		{strings.Repeat("a", 65), false},
		{"", false},
		{"has space", false},
		{"slash/id", false},
		{"ü123", false},
		{"123-45-6789", false},   // US SSN
		{"123456789", false},     // US SSN digits
		{"19800101-1234", false}, // Swedish personnummer
		{"198001011234", false},  // 12 digits
		{"800101-1234", false},   // short personnummer
		{"010180-1234", false},   // Danish CPR style
	}
	for _, tt := range tests {
		err := core.ValidatePatientID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePatientID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && core.ErrorField(err) != "id" {
			t.Errorf("ValidatePatientID(%q) names field %q, want id", tt.id, core.ErrorField(err))
		}
	}
	if err := core.ValidatePatientID("123-45-6789"); err == nil || !strings.Contains(err.Error(), "social security") {
		t.Errorf("an SSN-looking id must say why it is refused, got %v", err)
	}
}

func TestPractitionerServer(t *testing.T) {
	tests := []struct {
		in, origin string
		ok         bool
	}{
		{"us", "https://us.physitrack.com", true},
		{"UK", "https://uk.physitrack.com", true},
		{"staging", "https://staging.physitrack.com", true},
		{"https://eu.example.com", "https://eu.example.com", true},
		{"https://eu.example.com/", "https://eu.example.com", true},
		{"http://127.0.0.1:7900", "http://127.0.0.1:7900", true},
		{"http://localhost:7900", "http://localhost:7900", true},
		{"http://[::1]:7900", "http://[::1]:7900", true},
		{"http://example.com", "", false},
		{"http://192.168.1.10:7900", "", false},
		{"ftp://example.com", "", false},
		{"https://user:pw@example.com", "", false},
		{"https://example.com/path", "", false},
		{"https://example.com?q=1", "", false},
		{"de", "", false},
		{"javascript:alert(1)", "", false},
		{"https://a;b.example.com", "", false},
		{"https://exa'mple.com", "", false},
		{"https://example.com:", "", false},
		{"https://bücher.example", "", false},
		{"https://example.com:0", "", false},
	}
	for _, tt := range tests {
		p := core.Practitioner{Name: "Dr Lee", Server: tt.in}
		err := p.Normalize()
		if (err == nil) != tt.ok {
			t.Errorf("server %q: err %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			if core.ErrorField(err) != "server" {
				t.Errorf("server %q: error names %q, want server", tt.in, core.ErrorField(err))
			}
			continue
		}
		if got, _ := p.Origin(); got != tt.origin {
			t.Errorf("server %q: origin %q, want %q", tt.in, got, tt.origin)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	for _, ok := range []string{"umbrella_corporation", "ptdesk", "a1_b2"} {
		if err := core.ValidatePMSName(ok); err != nil {
			t.Errorf("ValidatePMSName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Umbrella", "umbrella-corp", "a b", "x/y"} {
		if err := core.ValidatePMSName(bad); err == nil {
			t.Errorf("ValidatePMSName(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"https://*.physitrack.com": "https://*.physitrack.com", "http://127.0.0.1:7900": "http://127.0.0.1:7900", "HTTPS://*.Example.org": "https://*.example.org"} {
		got, err := core.NormalizeDownloadOrigin(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDownloadOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://*.physitrack.com", "http://example.com", "https://*.", "https://*.com/x", "*.physitrack.com"} {
		if _, err := core.NormalizeDownloadOrigin(bad); err == nil {
			t.Errorf("NormalizeDownloadOrigin(%q) accepted", bad)
		}
	}
}
