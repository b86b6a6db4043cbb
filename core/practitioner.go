package core

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Regions are Physitrack's public servers, each https://<region>.physitrack.com.
var Regions = []string{"us", "uk", "ie", "ca", "au", "nz", "staging"}

// Practitioner is someone who signs in to Physitrack from a desk. The key
// itself lives in the OS keyring; the store keeps only what identifies it.
type Practitioner struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Server is a region name (see Regions) or an origin such as
	// https://eu.example.com or http://127.0.0.1:7900 (the sandbox).
	Server string `json:"server"`
	// Key describes the current key; nil when none is set.
	Key       *KeyInfo  `json:"key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// KeyInfo is what may be stored about a key: never the key.
type KeyInfo struct {
	// LookupHash is the hex SHA-256 of the key, to match webhooks.
	LookupHash string `json:"-"`
	// Fingerprint is short and safe to show ("3F9A-C21B").
	Fingerprint string    `json:"fingerprint"`
	SetAt       time.Time `json:"set_at"`
}

// Origin returns the practitioner's Physitrack origin (scheme://host[:port]).
func (p *Practitioner) Origin() (string, error) { return ServerOrigin(p.Server) }

// Normalize trims and validates the practitioner in place.
func (p *Practitioner) Normalize() error {
	p.Name = strings.TrimSpace(p.Name)
	p.Email = strings.TrimSpace(p.Email)
	p.Server = strings.TrimSpace(p.Server)
	if p.Name == "" {
		return Errorf(EINVALID, "name", "Practitioner name is required.")
	}
	if n := utf8.RuneCountInString(p.Name); n > MaxNameLength || hasControl(p.Name) {
		return Errorf(EINVALID, "name", "Practitioner name must be one line of at most %d characters.", MaxNameLength)
	}
	if p.Email != "" {
		e, err := NormalizeEmail(p.Email)
		if err != nil {
			return err
		}
		p.Email = e
	}
	if p.Server == "" {
		p.Server = "us"
	}
	server, err := NormalizeServer(p.Server)
	if err != nil {
		return err
	}
	p.Server = server
	return nil
}

// NormalizeServer returns a region name in lower case, or a custom origin
// reduced to scheme://host[:port]. It refuses anything else with the reason.
func NormalizeServer(s string) (string, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	for _, r := range Regions {
		if lower == r {
			return r, nil
		}
	}
	if !strings.Contains(s, "://") {
		return "", Errorf(EINVALID, "server", "Server %q is not one of %s, nor an origin like https://host.", s, strings.Join(Regions, ", "))
	}
	return NormalizeOrigin(s, "server")
}

// ServerOrigin is the origin a server setting stands for.
func ServerOrigin(server string) (string, error) {
	s, err := NormalizeServer(server)
	if err != nil {
		return "", err
	}
	if !strings.Contains(s, "://") {
		return "https://" + s + ".physitrack.com", nil
	}
	return s, nil
}

// NormalizeOrigin accepts https://host[:port], or http:// on a loopback host
// (127.0.0.1, localhost, [::1]); a path of "/" at most, no user info, query
// or fragment. field names the setting in the error.
func NormalizeOrigin(s, field string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", Errorf(EINVALID, field, "%q is not an origin like https://host.", s)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", Errorf(EINVALID, field, "%q must be just scheme and host (like https://host), with no path, query or credentials.", s)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Host)
	switch scheme {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return "", Errorf(EINVALID, field, "%q uses http:// on a host that is not this computer; only https:// is allowed, except for 127.0.0.1, localhost or [::1] (the sandbox).", s)
		}
	default:
		return "", Errorf(EINVALID, field, "%q must start with https:// (or http:// for the sandbox on this computer).", s)
	}
	if port := u.Port(); (port != "" && !validPort.MatchString(port)) || strings.HasSuffix(host, ":") {
		return "", Errorf(EINVALID, field, "%q has an invalid port.", s)
	}
	if h := u.Hostname(); !validHost.MatchString(strings.ToLower(h)) && h != "::1" {
		return "", Errorf(EINVALID, field, "%q has a host name with characters a web address cannot have.", s)
	}
	return scheme + "://" + host, nil
}

var (
	validPort = regexp.MustCompile(`^[1-9][0-9]{0,4}$`)
	validHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// IsLoopbackHost reports whether host (without port or brackets) is
// localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
