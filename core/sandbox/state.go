package sandbox

import (
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// state is everything the sandbox knows, behind one mutex. Practitioners
// and sessions keep their methods here and clients theirs in clients.go, so
// that a later concern, such as assigned programs, adds a map here and its
// own file beside them.
type state struct {
	mu            sync.Mutex
	practitioners map[string]*practitioner // by name
	byToken       map[string]*practitioner
	sessions      map[string]*session // by session id (the cookie value)
	clients       map[clientKey]*Client
}

func newState() *state {
	return &state{
		practitioners: map[string]*practitioner{},
		byToken:       map[string]*practitioner{},
		sessions:      map[string]*session{},
		clients:       map[clientKey]*Client{},
	}
}

// practitioner is one Physitrack account. The token is kept in memory only:
// it is what an open signs in with (and what webhooks will carry back).
type practitioner struct {
	name  string
	token string
	setAt time.Time
}

// session is one browser signed in as a practitioner. The cookie holds a
// random id, never the practitioner's key.
type session struct {
	practitioner string
	// note explains, on the sandbox's pages only, why the last open landed
	// on the client list; the real service shows nothing.
	note string
}

// sessionCookie names the cookie that carries the session id.
const sessionCookie = "pt_sandbox_session"

// newSessionID draws 32 random bytes as hex.
func newSessionID(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("sandbox: draw session id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// signIn ends the session previous (the browser's current one, if any) and
// starts a new one for the practitioner: an open signs in whoever it names
// and signs out whoever was signed in.
func (st *state) signIn(previous, id, name, note string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sessions, previous)
	st.sessions[id] = &session{practitioner: name, note: note}
}

// session returns a copy of the session with the id, if it exists.
func (st *state) session(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[id]
	if !ok {
		return session{}, false
	}
	return *s, true
}

// practitionerByToken names the practitioner who registered token.
func (st *state) practitionerByToken(token string) (string, bool) {
	if token == "" {
		return "", false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	p, ok := st.byToken[token]
	if !ok {
		return "", false
	}
	return p.name, true
}

// practitionerRow is what the settings page may show about a practitioner.
type practitionerRow struct {
	Name        string
	Fingerprint string
	SetAt       time.Time
}

func (st *state) practitionerRows(fingerprint func(string) string) []practitionerRow {
	st.mu.Lock()
	defer st.mu.Unlock()
	rows := make([]practitionerRow, 0, len(st.practitioners))
	for _, p := range st.practitioners {
		rows = append(rows, practitionerRow{Name: p.name, Fingerprint: fingerprint(p.token), SetAt: p.setAt})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	return rows
}
