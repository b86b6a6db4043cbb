package desk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/sandbox"
	"ptdesk/core/testkit"
)

type sandboxClient struct {
	Practitioner string            `json:"practitioner"`
	ID           string            `json:"id"`
	Received     map[string]string `json:"received"`
}

func sandboxClients(t *testing.T, base string) []sandboxClient {
	t.Helper()
	resp, err := http.Get(base + "/sandbox/clients.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []sandboxClient
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenInRealBrowser is the whole flow: a practitioner's key pasted into
// the sandbox's settings, a patient opened from the desk, Chromium loading
// the launch page, the sandbox receiving the form — for ordinary and for
// hostile names — and the launch URL refusing a second use.
func TestOpenInRealBrowser(t *testing.T) {
	ctx := context.Background()
	b := testkit.NewBrowser(t)
	sb, err := sandbox.New(sandbox.Options{}).Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })

	f := newFixture(t)
	if err := f.desk.SetPMSName(ctx, "umbrella_corporation"); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.SetPhoneRegion(ctx, "GB"); err != nil {
		t.Fatal(err)
	}
	dr, key := f.mustPractitioner(t, "Dr Lee", sb.URL())
	resp, err := http.PostForm(sb.URL()+"/settings", map[string][]string{"name": {dr.Name}, "token": {key}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("paste key into sandbox settings: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	hostile := `O'Brien & "Sons" <script>alert(1)</script> = + % ü 李 😀`
	tests := []struct {
		name string
		in   core.Patient
		want map[string]string
	}{
		{"ordinary", core.Patient{FirstName: "Jane", LastName: "Smith", BirthYear: 1980, Gender: core.GenderFemale, Email: "jane@example.org", Phone: "07911 123456", DiagnosisCode: "M54.5"},
			map[string]string{"first_name": "Jane", "last_name": "Smith", "birth_year": "1980", "title": "ms", "email": "jane@example.org", "mobile_phone": "+447911123456", "diagnosis_code": "M54.5"}},
		{"hostile", core.Patient{FirstName: hostile, LastName: hostile, DiagnosisCode: "<b>&amp;</b>"},
			map[string]string{"first_name": hostile, "last_name": hostile, "diagnosis_code": "<b>&amp;</b>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pat := f.mustPatient(t, tt.in)
			l, err := f.desk.Open(ctx, pat.ID, dr.ID, desk.OpenOptions{NoBrowser: true})
			if err != nil {
				t.Fatal(err)
			}
			b.Visit(t, l.URL, func(loc string) bool { return strings.HasPrefix(loc, sb.URL()+"/clients/") })
			var got *sandboxClient
			for _, c := range sandboxClients(t, sb.URL()) {
				if c.ID == pat.ID && c.Practitioner == dr.Name {
					got = &c
				}
			}
			if got == nil {
				t.Fatalf("the sandbox has no client %s for %s", pat.ID, dr.Name)
			}
			want := map[string]string{"id": pat.ID}
			for k, v := range tt.want {
				want[k] = v
			}
			for k, v := range want {
				if got.Received[k] != v {
					t.Errorf("field %s arrived as %q, want %q", k, got.Received[k], v)
				}
			}
			for k := range got.Received {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected field %s=%q sent", k, got.Received[k])
				}
			}
			// The one-time URL cannot be used again.
			b.Visit(t, l.URL, func(loc string) bool { return loc == l.URL })
			if txt := b.Text(t); !strings.Contains(txt, "already been used") && !strings.Contains(txt, "expired") {
				t.Fatalf("second visit of the launch URL shows %q", txt)
			}
		})
	}
	if ran := b.ScriptsRan(); len(ran) > 0 {
		t.Fatalf("an injected script ran: %q", ran)
	}
	assertNoSecret(t, f, key)
}
