// Package keys makes and checks the keys practitioners paste into
// Physitrack (PHYSITRACK.md section 2), and derives the only things about a
// key that may be stored: a lookup hash and a short fingerprint.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode"

	"ptdesk/core"
)

// Length is the length of a generated key; Physitrack requires at least
// MinLength.
const (
	Length    = 40
	MinLength = 30
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Generate returns a fresh key from crypto/rand.
func Generate() (string, error) { return GenerateFrom(rand.Reader) }

// GenerateFrom draws a key from r, uniformly over the alphabet (no modulo
// bias), redrawing until it has an upper-case letter, a lower-case letter
// and a digit.
func GenerateFrom(r io.Reader) (string, error) {
	max := big.NewInt(int64(len(alphabet)))
	for {
		b := make([]byte, Length)
		for i := range b {
			n, err := rand.Int(r, max)
			if err != nil {
				return "", fmt.Errorf("generate key: %w", err)
			}
			b[i] = alphabet[n.Int64()]
		}
		k := string(b)
		if Check(k) == nil {
			return k, nil
		}
	}
}

// Check applies Physitrack's rule to a key typed or pasted in: at least 30
// characters, upper- and lower-case letters and digits, no whitespace. The
// error says what is wrong and never contains the key.
func Check(k string) error {
	var upper, lower, digit bool
	for _, r := range k {
		switch {
		case unicode.IsSpace(r):
			return core.Errorf(core.EINVALID, "key", "The key contains a space or line break; paste it again without them.")
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r < 0x21 || r > 0x7e:
			return core.Errorf(core.EINVALID, "key", "The key contains a character that is not a plain letter, digit or symbol.")
		}
	}
	var missing []string
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if n := len(k); n < MinLength {
		return core.Errorf(core.EINVALID, "key", "The key is %d characters long; Physitrack requires at least %d.", n, MinLength)
	}
	if len(missing) > 0 {
		return core.Errorf(core.EINVALID, "key", "The key lacks %s; Physitrack requires upper-case letters, lower-case letters and digits.", strings.Join(missing, " and "))
	}
	return nil
}

// LookupHash is the hex SHA-256 of the key: stored to recognise the key in
// a webhook without storing the key.
func LookupHash(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// Fingerprint is 8 hex digits of a differently-salted hash, shown as
// "ABCD-1234", so people can tell keys apart without seeing them.
func Fingerprint(k string) string {
	sum := sha256.Sum256([]byte("ptdesk-fingerprint:" + k))
	h := strings.ToUpper(hex.EncodeToString(sum[:4]))
	return h[:4] + "-" + h[4:]
}

// Describe is what the store keeps about k, set at the given time.
func Describe(k string, at time.Time) core.KeyInfo {
	return core.KeyInfo{LookupHash: LookupHash(k), Fingerprint: Fingerprint(k), SetAt: at}
}
