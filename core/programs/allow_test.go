package programs_test

import (
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/programs"
)

func TestAllowList(t *testing.T) {
	allow, err := programs.NewAllowList([]string{"https://*.physitrack.com", "http://127.0.0.1:7900", "https://files.example.org:8443"})
	must(t, err)
	tests := []struct {
		url    string
		ok     bool
		reason string
	}{
		{"https://uk.physitrack.com/pdf/1?sig=x", true, ""},
		{"https://UK.Physitrack.com:443/pdf/1", true, ""},
		{"https://a.b.physitrack.com/p", true, ""},
		{"https://physitrack.com/p", false, "not on the download allow-list"},
		{"https://evilphysitrack.com/p", false, "not on the download allow-list"},
		{"https://uk.physitrack.com.evil.org/p", false, "not on the download allow-list"},
		{"https://uk.physitrack.com:8443/p", false, "not on the download allow-list"},
		{"http://uk.physitrack.com/p", false, "http://"},
		{"http://127.0.0.1:7900/sandbox/files/x.pdf", true, ""},
		{"http://127.0.0.1:7901/x", false, "http://"},
		{"http://localhost:7900/x", false, "http://"},
		{"https://127.0.0.1:7900/x", false, "not on the download allow-list"},
		{"https://files.example.org:8443/a.pdf", true, ""},
		{"https://files.example.org/a.pdf", false, "not on the download allow-list"},
		{"https://user:pw@uk.physitrack.com/p", false, "user name or password"},
		{"ftp://uk.physitrack.com/p", false, "ftp"},
		{"file:///etc/passwd", false, "not a web address"},
		{"/relative", false, "not a web address"},
	}
	for _, tt := range tests {
		err := allow.Check(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Check(%q) reason %q lacks %q", tt.url, err, tt.reason)
			}
			for _, part := range []string{"sig=", "/pdf/", "/sandbox/", "a.pdf", "pw@", "passwd"} {
				if strings.Contains(err.Error(), part) {
					t.Errorf("Check(%q) repeats the URL's path, query or credentials: %q", tt.url, err)
				}
			}
		}
	}
	if _, err := programs.NewAllowList([]string{"http://example.org"}); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("http:// origin off this computer accepted: %v", err)
	}
}
