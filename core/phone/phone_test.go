package phone

import (
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
