package ptsso

import (
	"fmt"
	"html/template"
	"io"
)

// goneMessage is what a used, expired or unknown link shows.
const goneMessage = "This link has already been used or has expired. Open the patient again from PT Desk."

// pageStyle is shared by both pages; it is allowed by the page's CSP nonce.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1d2733}
button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #1a5fb4;background:#1a5fb4;color:#fff;cursor:pointer}`

// The launch page posts the form as soon as the document is parsed; the
// button and the noscript hint cover a browser that blocks scripts. html/
// template escapes every value for its context, so no patient name can
// break out of its attribute.
var launchPage = template.Must(template.New("launch").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Opening Physitrack</title>
<style nonce="{{.Nonce}}">` + pageStyle + `</style>
</head>
<body>
<form method="post" action="{{.Action}}" enctype="application/x-www-form-urlencoded" accept-charset="utf-8">
{{- range .Fields}}
<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{- end}}
<p>Opening {{.Patient}} in Physitrack…</p>
<button type="submit">Continue to Physitrack</button>
</form>
<noscript><p>Scripts are off in this browser: press Continue to Physitrack.</p></noscript>
<script nonce="{{.Nonce}}">document.addEventListener("DOMContentLoaded", function () { document.forms[0].submit(); });</script>
</body>
</html>
`))

var gonePage = template.Must(template.New("gone").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>PT Desk: link used or expired</title>
<style nonce="{{.Nonce}}">` + pageStyle + `</style>
</head>
<body>
<p>{{.Message}}</p>
</body>
</html>
`))

// renderLaunch writes f's launch page; nonce must also go in the CSP.
func renderLaunch(w io.Writer, f *Form, nonce string) error {
	name := ""
	for _, p := range f.patient {
		switch p.Name {
		case "first_name":
			name = p.Value
		case "last_name":
			name += " " + p.Value
		}
	}
	err := launchPage.Execute(w, struct {
		Nonce, Action, Patient string
		Fields                 []Field
	}{nonce, f.action, name, f.Fields()})
	if err != nil {
		// The template's own error may quote data; keep only that it failed.
		return fmt.Errorf("render launch page for patient %s: template failed", f.patientID)
	}
	return nil
}

func renderGone(w io.Writer, nonce string) error {
	if err := gonePage.Execute(w, struct{ Nonce, Message string }{nonce, goneMessage}); err != nil {
		return fmt.Errorf("render expired-link page: %w", err)
	}
	return nil
}
