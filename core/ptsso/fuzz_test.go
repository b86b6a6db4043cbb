package ptsso_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"ptdesk/core"
	"ptdesk/core/ptsso"
)

// acceptableName says whether NewForm must accept v as a name: the rule is
// written out again here so that an over-strict NewForm fails the fuzz too.
func acceptableName(v string) bool {
	return strings.TrimSpace(v) != "" && utf8.ValidString(v) &&
		strings.IndexFunc(v, unicode.IsControl) < 0 && utf8.RuneCountInString(v) <= core.MaxNameLength
}

// FuzzLaunchPage checks that whatever a patient record holds, the served
// launch page is one form whose inputs decode to exactly the values sent,
// with one script (ours), or NewForm refuses the record naming the field.
func FuzzLaunchPage(f *testing.F) {
	seeds := [][4]string{
		{"Jane", "Doe", "jane@example.com", "M54.5"},
		{`O'Brien & "Sons" <script>alert(1)</script> = + % ü 李 😀`, `</form><script>alert(2)</script>`, `o'brien&sons=+%ü@example.com`, `"><script>x</script>`},
		{`"><img src=x onerror=alert(1)>`, `';alert(1)//`, "", `{{.}}`},
		{"<!--", "]]><![CDATA[", "a@b.co", "</textarea><!--"},
		{"&amp;&lt;&#0;&#x110000;", "\u2028\u2029\ufeff", "", "&#x3c;script&#x3e;"},
		{"</script><script>alert(1)</script>", "\\u003cscript", "x@[127.0.0.1]", "%00%0a"},
		{"Jane\nDoe", "Doe\r", "not an email", "tab\there"},
		{" ", "\xff\xfe", "", "  "},
		{strings.Repeat("é", core.MaxNameLength), strings.Repeat("李", core.MaxNameLength+1), "", strings.Repeat("😀", 32)},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	srv := startServer(f, ptsso.Options{})

	f.Fuzz(func(t *testing.T, first, last, email, diagnosis string) {
		p := &core.Patient{ID: "1045", FirstName: first, LastName: last, Email: email, DiagnosisCode: diagnosis, BirthYear: 1970, Gender: core.GenderOther}
		var form *ptsso.Form
		for {
			var err error
			form, err = ptsso.NewForm(testPractitioner(), testPMS, testKey, p)
			if err == nil {
				break
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("error shows the key: %v", err)
			}
			switch field := core.ErrorField(err); {
			case core.ErrorCode(err) != core.EINVALID:
				t.Fatalf("NewForm: %v (code %s), want EINVALID", err, core.ErrorCode(err))
			case field == "email" && p.Email != "":
				p.Email = "" // optional: try the rest of the record without it
			case field == "diagnosis_code" && p.DiagnosisCode != "":
				p.DiagnosisCode = ""
			case field == "first_name" && !acceptableName(first), field == "last_name" && !acceptableName(last):
				return // refused for a real reason, and named
			default:
				t.Fatalf("NewForm refused %q %q: %v (field %q)", first, last, err, field)
			}
		}
		sent := form.Sent()
		if sent["first_name"] != first || sent["last_name"] != last || sent["diagnosis_code"] != p.DiagnosisCode {
			t.Fatalf("form changed the values: %v", sent)
		}

		u, _, err := srv.Prepare(form)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, http.MethodGet, u, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		checkLaunchPage(t, form, resp.Header.Get("Content-Security-Policy"), body)
	})
}
