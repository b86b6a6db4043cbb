// Package testkit holds what PT Desk's tests share across packages: what
// to do when a real tool is missing, and a headless Chromium to drive.
//
// Missing decides what a test does when the real thing it needs (a
// keyring, a browser, a database server) is missing: on a developer's
// machine it skips with a message saying how to run it; under 'make test'
// (PTDESK_REQUIRE_REAL=1), which installs everything, it fails.
package testkit

import (
	"os"
	"testing"
)

// Required reports whether missing tools must fail the test run.
func Required() bool { return os.Getenv("PTDESK_REQUIRE_REAL") == "1" }

// Missing skips or fails tb because what is missing, with how to get it.
func Missing(tb testing.TB, what, how string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("%s is not available, and PTDESK_REQUIRE_REAL=1 forbids skipping: %s", what, how)
	}
	tb.Skipf("skipped: %s is not available (%s; 'make test' sets it all up)", what, how)
}
