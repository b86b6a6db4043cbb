// Package core holds PT Desk's domain: patients, practitioners, clinic
// settings, the rules that keep them valid, and the interfaces the adapters
// (stores, keyring, launcher, importer) implement. It imports only the
// standard library so that every other package can depend on it.
package core

import (
	"errors"
	"fmt"
)

// Error codes let callers (the desktop app, the command line) choose how to
// present a failure without parsing messages.
const (
	EINVALID      = "invalid"      // the input breaks a rule; Field names it
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the change clashes with the stored state
	EUNAUTHORIZED = "unauthorized" // a key or secret is missing or wrong
	EINTERNAL     = "internal"     // anything else: a bug or an outage
)

// Error is a failure a person can act on: Message is one sentence that names
// the field (when there is one) and says what to do.
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error returns the message, which is already written for a person.
func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorField returns the field named by the first *Error in err's chain.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the human sentence of the first *Error in err's chain,
// or a generic sentence that does not leak internals.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong: " + err.Error()
}
