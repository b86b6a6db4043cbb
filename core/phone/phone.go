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
	region = strings.ToUpper(region)
	num, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) || !valid(num, region) {
		return "", core.Errorf(core.EINVALID, "mobile_phone",
			"Mobile phone %q is not a valid number for region %s; write it with the country code, like %s.", raw, region, example(region))
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// example is a mobile number of region written with its country code, the
// way a number from anywhere is accepted, to show in an error.
func example(region string) string {
	if n := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE); n != nil {
		return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	}
	return "+44 7911 123456"
}

// valid is phonenumbers.IsValidNumber, asked first of the clinic's own
// region: most of a clinic's numbers are local, and a number valid in one
// region is valid. That spares the search for the number's region among
// all that share its country code, half the cost of checking a number
// (which an import of a large directory pays per row).
func valid(num *phonenumbers.PhoneNumber, region string) bool {
	if int(num.GetCountryCode()) == phonenumbers.GetCountryCodeForRegion(region) &&
		phonenumbers.IsValidNumberForRegion(num, region) {
		return true
	}
	return phonenumbers.IsValidNumber(num)
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
