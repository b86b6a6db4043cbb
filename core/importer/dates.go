package importer

import (
	"strings"
	"time"

	"ptdesk/core"
)

// DateOrder says how to read a date whose first two numbers could each be
// the day or the month, such as 03/04/1980.
type DateOrder string

// The two orders in use. Dates that are unambiguous (31/12/1980,
// 12/31/1980, ISO 1980-12-31) read the same under either.
const (
	DayFirst   DateOrder = "dmy"
	MonthFirst DateOrder = "mdy"
)

// ParseDateOrder accepts dmy / mdy (and "day-first", "month-first"); "" is
// returned as "" so the caller can fall back to a default.
func ParseDateOrder(s string) (DateOrder, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "dmy", "day-first", "dayfirst", "dd/mm/yyyy":
		return DayFirst, nil
	case "mdy", "month-first", "monthfirst", "mm/dd/yyyy":
		return MonthFirst, nil
	}
	return "", core.Errorf(core.EINVALID, "date-order", "Date order %q is not dmy (31/12/1980) or mdy (12/31/1980).", s)
}

// monthFirstRegions write dates month first: the United States and its
// territories, and the countries whose conventions follow it.
var monthFirstRegions = map[string]bool{
	"US": true, "PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "UM": true,
	"PH": true, "FM": true, "MH": true, "PW": true,
}

// DefaultDateOrder is the order a clinic in the phone region most likely
// writes: month first in the United States and a few others, day first
// everywhere else.
func DefaultDateOrder(region string) DateOrder {
	if monthFirstRegions[strings.ToUpper(strings.TrimSpace(region))] {
		return MonthFirst
	}
	return DayFirst
}

// ParseBirthYear reads a date of birth or a year of birth and returns the
// year (0 for an empty value). It reads ISO dates (1980-12-31, also partial
// 1980-12 and with a time), DD/MM/YYYY and MM/DD/YYYY (with "/", "-" or "."),
// YYYYMMDD, a plain year, and English month names (31 Dec 1980, December 31,
// 1980). When day and month are both 12 or less, "." means day first (the
// German and Nordic style) and other separators follow order. field names
// the field in the error, which is a *core.Error saying what was wrong.
//
// The year range itself is checked by core.Patient.Normalize.
func ParseBirthYear(s string, order DateOrder, field string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v := stripTime(s)
	var nums []string
	var seps []byte
	letters := false
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			nums = append(nums, v[i:j])
			i = j
		case c == '/' || c == '-' || c == '.':
			seps = append(seps, c)
			i++
		default:
			letters = true
			i++
		}
	}
	bad := func() (int, error) {
		return 0, core.Errorf(core.EINVALID, field, "Birth date %q is not a date PT Desk can read; write it as YYYY-MM-DD, DD/MM/YYYY or the year alone.", s)
	}
	if letters {
		return parseMonthName(s, v, field)
	}
	sameSeps := len(seps) == len(nums)-1 && (len(seps) < 2 || seps[0] == seps[1])
	switch {
	case len(nums) == 1 && len(seps) == 0 && len(nums[0]) == 4:
		return checkYear(s, atoi(nums[0]), field)
	case len(nums) == 1 && len(seps) == 0 && len(nums[0]) == 8:
		return checkDate(s, atoi(nums[0][:4]), atoi(nums[0][4:6]), atoi(nums[0][6:]), field)
	case len(nums) == 2 && sameSeps && len(nums[0]) == 4 && len(nums[1]) <= 2:
		m := atoi(nums[1])
		if m < 1 || m > 12 {
			return notReal(s, field)
		}
		return checkYear(s, atoi(nums[0]), field)
	case len(nums) == 3 && sameSeps && len(nums[0]) == 4 && len(nums[1]) <= 2 && len(nums[2]) <= 2:
		return checkDate(s, atoi(nums[0]), atoi(nums[1]), atoi(nums[2]), field)
	case len(nums) == 3 && sameSeps && len(nums[0]) <= 2 && len(nums[1]) <= 2 && len(nums[2]) == 4:
		a, b, y := atoi(nums[0]), atoi(nums[1]), atoi(nums[2])
		dayFirst := order != MonthFirst || seps[0] == '.'
		switch {
		case a > 12 && b > 12:
			return notReal(s, field)
		case a > 12:
			dayFirst = true
		case b > 12:
			dayFirst = false
		}
		if dayFirst {
			return checkDate(s, y, b, a, field)
		}
		return checkDate(s, y, a, b, field)
	case len(nums) == 3 && sameSeps && len(nums[0]) <= 2 && len(nums[1]) <= 2 && len(nums[2]) == 2:
		return 0, core.Errorf(core.EINVALID, field, "Birth date %q has a two-digit year; write the year with four digits (a patient's birth year must be exact).", s)
	}
	return bad()
}

// stripTime drops a time of day after a date ("1980-12-31T00:00:00Z",
// "31/12/1980 00:00"), which spreadsheet exports often add.
func stripTime(s string) string {
	if i := strings.IndexAny(s, "T "); i >= 8 && strings.Contains(s[i:], ":") {
		return strings.TrimSpace(s[:i])
	}
	return s
}

var monthNameLayouts = []string{
	"2 Jan 2006", "2 January 2006", "2-Jan-2006", "02-Jan-2006", "2 Jan. 2006",
	"Jan 2 2006", "Jan 2, 2006", "January 2 2006", "January 2, 2006", "Jan. 2, 2006",
}

func parseMonthName(orig, v, field string) (int, error) {
	for _, layout := range monthNameLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Year(), nil
		}
	}
	return 0, core.Errorf(core.EINVALID, field, "Birth date %q is not a date PT Desk can read; write it as YYYY-MM-DD, DD/MM/YYYY or the year alone.", orig)
}

func checkYear(s string, y int, field string) (int, error) {
	if y == 0 {
		return notReal(s, field)
	}
	return y, nil
}

func checkDate(s string, y, m, d int, field string) (int, error) {
	if y == 0 || m < 1 || m > 12 || d < 1 || d > daysIn(m, y) {
		return notReal(s, field)
	}
	return y, nil
}

func notReal(s, field string) (int, error) {
	return 0, core.Errorf(core.EINVALID, field, "Birth date %q is not a real date; check the day, the month and the date order (day first or month first).", s)
}

func daysIn(m, y int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// atoi reads a run of ASCII digits already checked by the caller; it caps
// the value so an absurdly long run cannot overflow.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<30 {
			return 1 << 30
		}
	}
	return n
}
