package programs

import (
	"net"
	"net/url"
	"strings"

	"ptdesk/core"
)

// AllowList is the setting download-origins made ready to match URLs
// against: the only places program PDFs are fetched from.
type AllowList struct {
	entries []origin
}

// origin is one entry: scheme, host (lower case, without brackets) and
// port (always explicit); wildcard means host is a domain and any
// subdomain of it matches.
type origin struct {
	scheme, host, port string
	wildcard           bool
}

// NewAllowList checks each entry as the settings do
// (core.NormalizeDownloadOrigin) and keeps them.
func NewAllowList(origins []string) (AllowList, error) {
	var a AllowList
	for _, o := range origins {
		n, err := core.NormalizeDownloadOrigin(o)
		if err != nil {
			return AllowList{}, err
		}
		u, err := url.Parse(strings.Replace(n, "*.", "", 1))
		if err != nil {
			return AllowList{}, core.Errorf(core.EINVALID, "download-origins", "%q is not an origin like https://host.", o)
		}
		a.entries = append(a.entries, origin{
			scheme:   u.Scheme,
			host:     strings.ToLower(u.Hostname()),
			port:     portOf(u),
			wildcard: strings.Contains(n, "://*."),
		})
	}
	return a, nil
}

// String lists the entries as the setting writes them.
func (a AllowList) String() string {
	var parts []string
	for _, o := range a.entries {
		h := o.host
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if o.wildcard {
			h = "*." + h
		}
		s := o.scheme + "://" + h
		if o.port != defaultPort(o.scheme) {
			s += ":" + o.port
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func defaultPort(scheme string) string {
	if scheme == "http" {
		return "80"
	}
	return "443"
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return defaultPort(strings.ToLower(u.Scheme))
}

// Check returns nil when the URL may be fetched, else a refusal whose
// message says why for the inbox. It never repeats the URL's path or
// query, which carry the link's signature.
func (a AllowList) Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return refusal("The file URL is not a web address.")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	where := Origin(raw)
	if u.User != nil {
		return refusal("The file URL %s carries a user name or password; PT Desk does not fetch such links.", where)
	}
	switch scheme {
	case "https":
	case "http":
		if !a.exactly(scheme, host, portOf(u)) {
			return refusal("The file URL %s uses http://, which is not encrypted; PDFs are fetched over https:// only (an http:// origin on this computer, such as the sandbox, must be listed in download-origins).", where)
		}
	default:
		return refusal("The file URL uses %s:, not https://.", scheme)
	}
	if !a.allows(scheme, host, portOf(u)) {
		return refusal("The file URL's origin %s is not on the download allow-list (%s); if it is genuine, add it with ptdeskctl config set download-origins.", where, a)
	}
	return nil
}

func (a AllowList) allows(scheme, host, port string) bool {
	for _, o := range a.entries {
		if o.scheme != scheme || o.port != port {
			continue
		}
		if host == o.host && !o.wildcard {
			return true
		}
		if o.wildcard && strings.HasSuffix(host, "."+o.host) && net.ParseIP(host) == nil {
			return true
		}
	}
	return false
}

// exactly reports whether the origin is listed as itself, not through a
// wildcard: only such an entry may point at this computer or a private
// network.
func (a AllowList) exactly(scheme, host, port string) bool {
	for _, o := range a.entries {
		if !o.wildcard && o.scheme == scheme && o.host == host && o.port == port {
			return true
		}
	}
	return false
}

// Origin is the scheme and host of a URL for logs and messages: never the
// path or query, which may carry a signed token.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(not a web address)"
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
