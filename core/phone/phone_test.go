package phone

import (
	"strings"
	"testing"

	"ptdesk/core"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		raw, region, want string
	}{
		{"07911 123456", "GB", "+447911123456"},
		{"+44 7911 123456", "gb", "+447911123456"},
		{"(604) 543-9777", "CA", "+16045439777"},
		// Valid, but not in the clinic's region: found by the full check.
		{"+1 604 543 9777", "GB", "+16045439777"},
		{"+61 412 345 678", "GB", "+61412345678"},
		// Country code 44 shared with Jersey: a Jersey mobile is valid.
		{"+44 7797 712345", "GB", "+447797712345"},
		{"07797 712345", "JE", "+447797712345"},
	} {
		got, err := Normalize(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q, %s) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, c := range []struct{ raw, region string }{
		{"12", "GB"},
		{"not a number", "GB"},
		{"+44 1234", "GB"},
		{"+1 555 0100 000000", "US"},
		{"07911 12345", "GB"},
	} {
		got, err := Normalize(c.raw, c.region)
		if err == nil {
			t.Errorf("Normalize(%q, %s) = %q, want an error", c.raw, c.region, got)
			continue
		}
		if core.ErrorCode(err) != core.EINVALID || core.ErrorField(err) != "mobile_phone" {
			t.Errorf("Normalize(%q): error %v, want EINVALID on mobile_phone", c.raw, err)
		}
	}
}

// The error shows how to write a number of the clinic's own region with
// its country code, and that example is itself accepted.
func TestNormalizeErrorShowsTheRegionsForm(t *testing.T) {
	for _, c := range []struct{ region, code string }{{"GB", "+44 "}, {"DE", "+49 "}, {"US", "+1 "}, {"AU", "+61 "}, {"XX", "+44 "}} {
		_, err := Normalize("12", c.region)
		msg := core.ErrorMessage(err)
		_, ex, ok := strings.Cut(msg, "like ")
		ex = strings.TrimSuffix(ex, ".")
		if !ok || !strings.HasPrefix(ex, c.code) {
			t.Errorf("region %s: %q, want an example starting %q", c.region, msg, c.code)
			continue
		}
		if _, err := Normalize(ex, "GB"); err != nil {
			t.Errorf("region %s: the example %q is refused: %v", c.region, ex, err)
		}
	}
}
