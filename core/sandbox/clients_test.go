package sandbox_test

import (
	"html"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"ptdesk/core/sandbox"
)

// hostile is a value that breaks naive HTML, URL and form handling.
const hostile = `O'Brien & "Sons" <script>alert(1)</script> = + % ü 李 😀`

func TestOpenWithUnknownTokenCreatesNothing(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"unregistered key", patient(keyBob, map[string]string{"id": "1", "first_name": "A", "last_name": "B"})},
		{"no key", url.Values{"data[patient][id]": {"1"}, "data[patient][first_name]": {"A"}, "data[patient][last_name]": {"B"}}},
		{"key in the query, not the form", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.register("Ada", keyAda)
			path, form := pmsPath, tt.form
			if form == nil {
				path += "?" + url.Values{"data[token]": {keyAda}}.Encode()
				form = url.Values{"data[patient][id]": {"1"}, "data[patient][first_name]": {"A"}, "data[patient][last_name]": {"B"}}
			}
			res := b.post(path, form)
			if res.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403\n%s", res.status, res.body)
			}
			if !strings.Contains(res.body, "Unknown PMS token: paste the key in Settings first") {
				t.Errorf("page lacks the explanation:\n%s", res.body)
			}
			if c := res.header.Get("Set-Cookie"); c != "" {
				t.Errorf("an unknown key signed someone in: %q", c)
			}
			if got := e.clients(); len(got) != 0 {
				t.Errorf("clients created: %+v", got)
			}
		})
	}
}

func TestOpenWithInvalidDataRedirectsToClientList(t *testing.T) {
	valid := map[string]string{"id": "7", "first_name": "Grace", "last_name": "Hopper"}
	tests := []struct {
		name   string
		change func(map[string]string)
		note   string
	}{
		{"missing id", func(f map[string]string) { delete(f, "id") }, "data[patient][id] is missing or empty"},
		{"empty first name", func(f map[string]string) { f["first_name"] = "" }, "data[patient][first_name] is missing or empty"},
		{"blank last name", func(f map[string]string) { f["last_name"] = "  " }, "data[patient][last_name] is missing or empty"},
		{"missing last name", func(f map[string]string) { delete(f, "last_name") }, "data[patient][last_name] is missing or empty"},
		{"unknown title", func(f map[string]string) { f["title"] = "dr" }, "data[patient][title] is not mr, ms or mx"},
		{"two-digit birth year", func(f map[string]string) { f["birth_year"] = "60" }, "data[patient][birth_year] is not four digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.register("Ada", keyAda)
			fields := maps.Clone(valid)
			tt.change(fields)

			res := b.open(keyAda, fields)
			if res.status != http.StatusFound || res.location != "/clients" {
				t.Fatalf("status %d Location %q, want 302 /clients", res.status, res.location)
			}
			if got := e.clients(); len(got) != 0 {
				t.Errorf("clients created: %+v", got)
			}
			list := b.get("/clients").body
			if !strings.Contains(list, "Signed in as <strong>Ada</strong>") || !strings.Contains(list, html.EscapeString(tt.note)) {
				t.Errorf("client list does not show Ada signed in with the note %q:\n%s", tt.note, list)
			}
		})
	}
}

func TestOpenCreatesClientWithFieldsExactlyAsReceived(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.register("Ada", keyAda)
	const ssn = "078-05-1120"
	sent := map[string]string{
		"id":             "p/7 " + hostile,
		"first_name":     hostile,
		"last_name":      "L " + hostile,
		"email":          "e " + hostile,
		"title":          "ms",
		"birth_year":     "1984",
		"diagnosis_code": "D " + hostile,
		"mobile_phone":   "+16045439777",
		"ssn":            ssn,
	}

	res := b.open(keyAda, sent)
	if want := "/clients/" + url.PathEscape(sent["id"]); res.status != http.StatusFound || res.location != want {
		t.Fatalf("status %d Location %q, want 302 %q", res.status, res.location, want)
	}
	cookie := res.header.Get("Set-Cookie")
	for _, attr := range []string{"pt_sandbox_session=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %q", cookie, attr)
		}
	}

	got := e.clients()
	if len(got) != 1 {
		t.Fatalf("%d clients, want 1: %+v", len(got), got)
	}
	c := got[0]
	wantReceived := maps.Clone(sent)
	delete(wantReceived, "ssn")
	if !reflect.DeepEqual(c.Received, wantReceived) {
		t.Errorf("received\n%q\nwant\n%q", c.Received, wantReceived)
	}
	wantEffective := sandbox.Fields{
		Title: "ms", FirstName: sent["first_name"], LastName: sent["last_name"], BirthYear: 1984,
		Email: sent["email"], MobilePhone: sent["mobile_phone"], DiagnosisCode: sent["diagnosis_code"],
	}
	if c.Effective != wantEffective {
		t.Errorf("effective %+v, want %+v", c.Effective, wantEffective)
	}
	if c.Practitioner != "Ada" || c.PMS != "umbrella_corporation" || c.ID != sent["id"] || c.Updates != 0 || len(c.LastChanges) != 0 {
		t.Errorf("client %+v", c)
	}
	if c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Errorf("created %v updated %v, want equal and set", c.CreatedAt, c.UpdatedAt)
	}

	page := b.get(res.location)
	if page.status != http.StatusOK {
		t.Fatalf("client page: status %d\n%s", page.status, page.body)
	}
	if strings.Contains(page.body, "<script>") || strings.Contains(page.body, "alert(1)</script>") {
		t.Errorf("client page does not escape the values:\n%s", page.body)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "O&#39;Brien &amp; &#34;Sons&#34;"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("client page lacks the escaped %q", want)
		}
	}
	// Unescaped, the page reads exactly what was sent.
	text := html.UnescapeString(page.body)
	for _, k := range []string{"id", "first_name", "last_name", "email", "diagnosis_code", "mobile_phone", "birth_year"} {
		if !strings.Contains(text, sent[k]) {
			t.Errorf("client page lacks %s %q", k, sent[k])
		}
	}
	if !strings.Contains(text, "<th>Title</th><td>ms</td>") {
		t.Errorf("client page lacks the title")
	}
	for _, p := range []string{page.body, b.get("/clients").body, e.browser().get("/sandbox/clients.json").body} {
		if strings.Contains(p, ssn) || strings.Contains(p, "ssn") {
			t.Errorf("the ssn is shown:\n%s", p)
		}
	}
	if !strings.Contains(e.log.String(), "sandbox opened a client") {
		t.Errorf("the open was not logged:\n%s", e.log.String())
	}
	if strings.Contains(e.log.String(), ssn) {
		t.Errorf("the ssn is logged")
	}
}

func TestOpenAppliesDefaultsWhenAbsentOrEmpty(t *testing.T) {
	tests := []struct {
		name string
		sent map[string]string
	}{
		{"absent", map[string]string{"id": "1", "first_name": "Grace", "last_name": "Hopper"}},
		{"empty", map[string]string{"id": "1", "first_name": "Grace", "last_name": "Hopper", "title": "", "birth_year": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.register("Ada", keyAda)
			if res := b.open(keyAda, tt.sent); res.status != http.StatusFound {
				t.Fatalf("status %d", res.status)
			}
			c := e.clients()[0]
			if !reflect.DeepEqual(c.Received, tt.sent) {
				t.Errorf("received %q, want %q", c.Received, tt.sent)
			}
			if c.Effective.Title != "mx" || c.Effective.BirthYear != 1960 {
				t.Errorf("effective title %q birth year %d, want mx 1960", c.Effective.Title, c.Effective.BirthYear)
			}
			page := b.get("/clients/1").body
			if !strings.Contains(page, "1960 <span class=\"muted\">(not sent;") || !strings.Contains(page, "mx <span class=\"muted\">(not sent;") {
				t.Errorf("client page does not mark the defaults:\n%s", page)
			}
		})
	}
}

func TestOpenUpdateShowsWhatChanged(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.register("Ada", keyAda)
	first := map[string]string{"id": "42", "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "birth_year": "1906"}
	b.open(keyAda, first)

	second := map[string]string{"id": "42", "first_name": "Grace", "last_name": "Murray <Hopper>", "title": "ms", "mobile_phone": "+16045439777", "birth_year": "1906"}
	if res := b.open(keyAda, second); res.status != http.StatusFound || res.location != "/clients/42" {
		t.Fatalf("update: status %d Location %q", res.status, res.location)
	}
	c := e.clients()[0]
	want := []sandbox.Change{
		{Field: "title", Old: "mx", New: "ms"},
		{Field: "last_name", Old: "Hopper", New: "Murray <Hopper>"},
		{Field: "email", Old: "grace@example.com", New: ""},
		{Field: "mobile_phone", Old: "", New: "+16045439777"},
	}
	if !reflect.DeepEqual(c.LastChanges, want) {
		t.Errorf("last changes %+v, want %+v", c.LastChanges, want)
	}
	if c.Updates != 1 || !c.UpdatedAt.After(c.CreatedAt) {
		t.Errorf("updates %d, created %v, updated %v", c.Updates, c.CreatedAt, c.UpdatedAt)
	}
	if !reflect.DeepEqual(c.Received, second) {
		t.Errorf("received %q, want the second open's fields %q", c.Received, second)
	}
	page := b.get("/clients/42").body
	if !strings.Contains(page, "Murray &lt;Hopper&gt;") {
		t.Errorf("client page does not escape the new name")
	}
	page = html.UnescapeString(page)
	for _, line := range []string{
		"<code>last_name</code>: Hopper → Murray <Hopper>",
		"<code>title</code>: mx → ms",
		"<code>email</code>: grace@example.com → (empty)",
		"<code>mobile_phone</code>: (empty) → +16045439777",
	} {
		if !strings.Contains(page, line) {
			t.Errorf("client page lacks %q:\n%s", line, page)
		}
	}

	// The same open again changes nothing.
	b.open(keyAda, second)
	c = e.clients()[0]
	if c.Updates != 2 || len(c.LastChanges) != 0 {
		t.Errorf("after an unchanged open: updates %d, changes %+v", c.Updates, c.LastChanges)
	}
	if page := b.get("/clients/42").body; !strings.Contains(page, "nothing changed") {
		t.Errorf("client page does not say nothing changed:\n%s", page)
	}
}

func TestSamePatientUnderTwoPractitionersIsTwoClients(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.register("Bob", keyBob)
	b.register("Ada", keyAda)

	b.open(keyAda, map[string]string{"id": "42", "first_name": "Grace", "last_name": "Hopper"})
	adaCookie := b.c.Jar.Cookies(mustURL(t, e.srv.URL))
	b.open(keyBob, map[string]string{"id": "42", "first_name": "Grace", "last_name": "Hopper-Bob"})

	got := e.clients()
	if len(got) != 2 || got[0].Practitioner != "Ada" || got[1].Practitioner != "Bob" || got[0].ID != "42" || got[1].ID != "42" {
		t.Fatalf("clients %+v, want Ada's 42 then Bob's 42", got)
	}
	if got[0].Effective.LastName != "Hopper" || got[1].Effective.LastName != "Hopper-Bob" || got[0].Updates != 0 || got[1].Updates != 0 {
		t.Errorf("one practitioner's open touched the other's client: %+v", got)
	}

	// Bob's open signed Ada out of this browser: the pages are Bob's.
	page := b.get("/clients/42").body
	if !strings.Contains(page, "Signed in as <strong>Bob</strong>") || !strings.Contains(page, "Hopper-Bob") {
		t.Errorf("client page is not Bob's:\n%s", page)
	}
	// And Ada's old session no longer works anywhere.
	old := e.browser()
	old.c.Jar.SetCookies(mustURL(t, e.srv.URL), adaCookie)
	if res := old.get("/clients"); !strings.Contains(res.body, "Not signed in") || strings.Contains(res.body, "Hopper") {
		t.Errorf("Ada's replaced session still shows clients:\n%s", res.body)
	}
	if res := old.get("/clients/42"); res.status != http.StatusForbidden {
		t.Errorf("Ada's replaced session opens a client page: status %d", res.status)
	}
}

func TestClientListShowsOnlyTheSignedInPractitioner(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.browser(), e.browser()
	ada.register("Ada", keyAda)
	bob.register("Bob", keyBob)
	ada.open(keyAda, map[string]string{"id": "a1", "first_name": "Alan", "last_name": "Turing"})
	bob.open(keyBob, map[string]string{"id": "b1", "first_name": "Barbara", "last_name": "Liskov"})

	list := ada.get("/clients").body
	if !strings.Contains(list, "Turing") || strings.Contains(list, "Liskov") {
		t.Errorf("Ada's list:\n%s", list)
	}
	if res := ada.get("/clients/b1"); res.status != http.StatusNotFound {
		t.Errorf("Ada sees Bob's client: status %d", res.status)
	}
	if res := e.browser().get("/clients"); !strings.Contains(res.body, "Not signed in") {
		t.Errorf("a new browser is signed in:\n%s", res.body)
	}
}

func TestOpenRefusesBadPMSName(t *testing.T) {
	for _, pms := range []string{"Umbrella", "umbrella-corporation", "umbrella.corp", "%C3%BC", "a%20b"} {
		t.Run(pms, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.register("Ada", keyAda)
			res := b.post("/pmsapi/"+pms+"/v1/patients", patient(keyAda, map[string]string{"id": "1", "first_name": "A", "last_name": "B"}))
			if res.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404\n%s", res.status, res.body)
			}
			if !strings.Contains(res.body, "lowercase letters, digits and underscores") {
				t.Errorf("page does not explain the name rule:\n%s", res.body)
			}
			if got := e.clients(); len(got) != 0 {
				t.Errorf("clients created: %+v", got)
			}
		})
	}
}

func TestOpenRefusesNonFormBody(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.register("Ada", keyAda)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+pmsPath, strings.NewReader(`{"data":{"token":"`+keyAda+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if res := b.do(req); res.status != http.StatusUnsupportedMediaType {
		t.Errorf("status %d, want 415", res.status)
	}
	if got := e.clients(); len(got) != 0 {
		t.Errorf("clients created: %+v", got)
	}
}

func TestNoTokenInAnyResponseOrLog(t *testing.T) {
	// newEnv's cleanup checks every response and the whole debug log for
	// the keys; this test walks every page and path that handles one.
	e := newEnv(t)
	const spaced = "AdaKey7Qm3Vx9Lp2 Rt5Wz8Nc4Hb6Jd1Fs"
	e.watch(spaced)
	b := e.browser()
	b.register("Ada", keyAda)
	b.register("Bob", keyBob)
	b.post("/settings", url.Values{"name": {"Ada"}, "token": {spaced}})
	b.post("/settings", url.Values{"name": {"Eve"}, "token": {keyBob}})
	b.open(keyAdaNew, map[string]string{"id": "1", "first_name": "A", "last_name": "B"})
	b.open(keyAda, map[string]string{"id": "", "first_name": "A", "last_name": "B"})
	b.open(keyAda, map[string]string{"id": "1", "first_name": "A", "last_name": "B", "ssn": "078-05-1120"})
	b.open(keyAda, map[string]string{"id": "1", "first_name": "A", "last_name": "C"})
	b.open(keyBob, map[string]string{"id": "1", "first_name": "A", "last_name": "B"})
	for _, p := range []string{"/", "/settings", "/clients", "/clients/1", "/sandbox/clients.json", "/nowhere"} {
		b.get(p)
	}
	b.register("Ada", keyAdaNew)
	if len(e.seen) < 20 || !strings.Contains(e.log.String(), "sandbox request") {
		t.Fatalf("the walk did not reach the sandbox: %d responses, log:\n%s", len(e.seen), e.log.String())
	}
	for _, c := range e.sb.Clients() {
		for k, v := range c.Received {
			if strings.Contains(k, "token") || v == keyAda || v == keyBob {
				t.Errorf("a client keeps a key: %q=%q", k, v)
			}
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
