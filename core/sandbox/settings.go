package sandbox

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// RegisterPractitioner does what pasting a key in My account > Settings
// does: the practitioner called name is registered with token, replacing
// any key they had. Physitrack's key rule applies (keys.Check). A key that
// another practitioner already holds is refused, because a key signs in as
// exactly one practitioner. Errors are *core.Error and never contain the key.
func (s *Sandbox) RegisterPractitioner(name, token string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return core.Errorf(core.EINVALID, "name", "Name is required: type the practitioner's name.")
	}
	if utf8.RuneCountInString(name) > core.MaxNameLength || !utf8.ValidString(name) || hasControl(name) {
		return core.Errorf(core.EINVALID, "name", "Name must be one line of at most %d characters.", core.MaxNameLength)
	}
	if token == "" {
		return core.Errorf(core.EINVALID, "token", "PMS Token is required: paste the key PT Desk gave you.")
	}
	if err := keys.Check(token); err != nil {
		return err
	}
	st := s.state
	st.mu.Lock()
	defer st.mu.Unlock()
	if holder, ok := st.byToken[token]; ok && holder.name != name {
		return core.Errorf(core.ECONFLICT, "token", "This key is already in use by another practitioner; generate a new key in PT Desk and paste that.")
	}
	p, ok := st.practitioners[name]
	if ok {
		delete(st.byToken, p.token)
	} else {
		p = &practitioner{name: name}
		st.practitioners[name] = p
	}
	p.token = token
	p.setAt = s.now()
	st.byToken[token] = p
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

type settingsView struct {
	Name          string // typed name, kept after a refusal
	Saved         string // name whose key was just saved
	Error         string
	Practitioners []practitionerRow
}

func (s *Sandbox) serveSettings(w http.ResponseWriter, r *http.Request) {
	s.renderSettings(w, r, http.StatusOK, settingsView{})
}

// saveSettings answers the Settings form in place (200 or 400) rather than
// redirecting, so neither the key nor anything derived from it ever appears
// in a URL; the form comes back empty.
func (s *Sandbox) saveSettings(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, formErrorStatus(err), "The form could not be read. Reload Settings and try again.")
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	err := s.RegisterPractitioner(name, r.PostForm.Get("token"))
	if err != nil {
		status := http.StatusBadRequest
		if core.ErrorCode(err) == core.ECONFLICT {
			status = http.StatusConflict
		}
		s.log.Info("sandbox refused a key", "practitioner", name, "field", core.ErrorField(err), "reason", core.ErrorMessage(err))
		s.renderSettings(w, r, status, settingsView{Name: name, Error: core.ErrorMessage(err)})
		return
	}
	s.log.Info("sandbox saved a practitioner's key", "practitioner", name)
	s.renderSettings(w, r, http.StatusOK, settingsView{Saved: name})
}

func (s *Sandbox) renderSettings(w http.ResponseWriter, r *http.Request, status int, v settingsView) {
	v.Practitioners = s.state.practitionerRows(keys.Fingerprint)
	s.render(w, r, status, "settings.html", "My account › Settings", v)
}

// formErrorStatus tells an oversized body from a malformed one.
func formErrorStatus(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}
