package sandbox

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages holds one parsed template set per page, each the shared layout
// plus that page's "content".
type pages struct {
	byName map[string]*template.Template
}

// parsePages parses the embedded templates; they are part of the program,
// so a broken one is a bug that panics at New (and in every test).
func parsePages() *pages {
	funcs := template.FuncMap{
		"clientPath": clientPath,
		"when":       func(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") },
		"orEmpty": func(s string) string {
			if s == "" {
				return "(empty)"
			}
			return s
		},
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"home.html", "settings.html", "clients.html", "client.html", "error.html"} {
		t := template.New(name).Funcs(funcs)
		p.byName[name] = template.Must(t.ParseFS(templateFiles, "templates/layout.html", "templates/"+name))
	}
	return p
}

// view is what the layout needs around a page's own data.
type view struct {
	Title    string
	SignedIn string // practitioner name, "" when not signed in
	Origin   string // this sandbox as the browser reached it
	Data     any
}

// render executes the page into a buffer first, so that a failure becomes
// a clean 500 rather than half a page.
func (s *Sandbox) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	v := view{Title: title, Origin: "http://" + r.Host, Data: data}
	if sess, ok := s.signedIn(r); ok {
		v.SignedIn = sess.practitioner
	}
	var buf bytes.Buffer
	if err := s.pages.byName[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("sandbox could not render a page", "page", page, "error", err)
		http.Error(w, "the sandbox could not render this page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Text    string
	Message string
}

// renderError shows one sentence about what went wrong, with the status.
func (s *Sandbox) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.render(w, r, status, "error.html", http.StatusText(status), errorView{Status: status, Text: http.StatusText(status), Message: message})
}
