package desk

import (
	"context"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// This file holds the small pieces the desktop app needs to check input as
// it is typed, with exactly the rules the use cases above apply when saving.

// PhoneNormalizer returns the clinic's phone normalization (its default
// region applied), so that a form can show "+447911123456" while the number
// is typed and refuse it with the same sentence AddPatient would.
func (d *Desk) PhoneNormalizer(ctx context.Context) (core.PhoneNormalizer, error) {
	return d.phoneNormalizer(ctx)
}

// CheckKey applies Physitrack's key rule (at least 30 characters, upper- and
// lower-case letters and digits, no whitespace) to a key about to be pasted
// in, returning the reason as an EINVALID *core.Error when it is refused.
func CheckKey(key string) error { return keys.Check(key) }

// KeyFingerprint is the short, safe-to-show fingerprint of a key, the same
// one SetKey records, so that a key can be recognized on screen before it
// is saved.
func KeyFingerprint(key string) string { return keys.Fingerprint(key) }
