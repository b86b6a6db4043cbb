// Package phone normalizes mobile numbers to the international E.164 form
// Physitrack expects (+16045439777), using the clinic's default region for
// numbers typed without a country code.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"ptdesk/core"
)

// Normalize returns raw in E.164. region is an ISO 3166 code (GB, US, ...).
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsPossibleNumber(num) || !phonenumbers.IsValidNumber(num) {
		return "", core.Errorf(core.EINVALID, "mobile_phone",
			"Mobile phone %q is not a valid number for region %s; write it with the country code, like +44 7911 123456.", raw, strings.ToUpper(region))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// Normalizer binds Normalize to a region, for core.Patient.Normalize.
func Normalizer(region string) core.PhoneNormalizer {
	return func(raw string) (string, error) { return Normalize(raw, region) }
}

// KnownRegion reports whether phone numbering knows the region code.
func KnownRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) != 0
}

// Digits is the number's digits without the plus, for search.
func Digits(e164 string) string { return strings.TrimPrefix(e164, "+") }
