package core

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Settings are the clinic-wide, non-secret settings kept in the store.
type Settings struct {
	// StoreID identifies the directory (a SQLite file or a clinic database):
	// a random id the store assigns when it is created and never changes. It
	// scopes keyring entries, so two directories on one computer never share
	// a key entry. SaveSettings does not change it.
	StoreID string `json:"store_id"`
	// PMSName is the integration name Physitrack assigned (pms_api_type).
	PMSName string `json:"pms_name"`
	// PhoneRegion is the ISO 3166 region for phone numbers typed without a
	// country code, such as GB or US.
	PhoneRegion string `json:"phone_region"`
	// DownloadOrigins is the allow-list for program PDF downloads.
	DownloadOrigins []string `json:"download_origins,omitempty"`
	// DateOrder is "dmy" or "mdy" for ambiguous dates in imports; empty
	// means derived from PhoneRegion.
	DateOrder string `json:"date_order,omitempty"`
}

// DefaultSettings are used for a new data directory.
func DefaultSettings() Settings {
	return Settings{PhoneRegion: "US", DownloadOrigins: []string{"https://*.physitrack.com"}}
}

var (
	pmsNamePattern = regexp.MustCompile(`^[a-z0-9_]+$`)
	regionPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// ValidatePMSName checks the integration name Physitrack assigned.
func ValidatePMSName(s string) error {
	if !pmsNamePattern.MatchString(s) || len(s) > 64 {
		return Errorf(EINVALID, "pms-name", "Integration name %q must be lowercase letters, digits and underscores, exactly as Physitrack gave it (for example umbrella_corporation).", s)
	}
	return nil
}

// NormalizeRegion upper-cases a two-letter region code and checks its shape;
// the phone package checks that the region is known.
func NormalizeRegion(s string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(s))
	if !regionPattern.MatchString(r) {
		return "", Errorf(EINVALID, "phone-region", "Phone region %q must be a two-letter country code such as GB, US or AU.", s)
	}
	return r, nil
}

// NormalizeDownloadOrigin checks one entry of the download allow-list:
// https://host[:port] or https://*.domain (any subdomain), or an http://
// origin on a loopback host listed explicitly (the sandbox).
func NormalizeDownloadOrigin(s string) (string, error) {
	s = strings.TrimSpace(s)
	const field = "download-origins"
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "https://*."); ok {
		if rest == "" || strings.ContainsAny(rest, "/*?#@:") || !strings.Contains(rest, ".") {
			return "", Errorf(EINVALID, field, "%q: a wildcard origin must look like https://*.example.com.", s)
		}
		return "https://*." + rest, nil
	}
	return NormalizeOrigin(s, field)
}

// StoreIDKey is the settings row holding StoreID: written once, when a store
// is created, and never by SaveSettings.
const StoreIDKey = "store_id"

// SettingRows are the key/value rows a store keeps for s, in a fixed order;
// StoreID is not among them.
func (s Settings) SettingRows() ([][2]string, error) {
	origins := s.DownloadOrigins
	if origins == nil {
		origins = []string{}
	}
	originsJSON, err := json.Marshal(origins)
	if err != nil {
		return nil, fmt.Errorf("encode download origins: %w", err)
	}
	return [][2]string{
		{"pms_name", s.PMSName},
		{"phone_region", s.PhoneRegion},
		{"download_origins", string(originsJSON)},
		{"date_order", s.DateOrder},
	}, nil
}

// ApplySettingRow sets the field a stored row holds; unknown keys (from a
// newer version) are ignored.
func (s *Settings) ApplySettingRow(key, value string) error {
	switch key {
	case StoreIDKey:
		s.StoreID = value
	case "pms_name":
		s.PMSName = value
	case "phone_region":
		s.PhoneRegion = value
	case "date_order":
		s.DateOrder = value
	case "download_origins":
		var origins []string
		if err := json.Unmarshal([]byte(value), &origins); err != nil {
			return fmt.Errorf("setting %s: %w", key, err)
		}
		if len(origins) == 0 {
			origins = nil
		}
		s.DownloadOrigins = origins
	}
	return nil
}
