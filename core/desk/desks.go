package desk

import (
	"context"
	"fmt"
	"os"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// DeskName names this desk's keyring to the other desks: the desk user and
// the computer, such as "frontdesk@reception-1" (a keyring belongs to a
// user on a computer).
func (d *Desk) DeskName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-computer"
	}
	return d.deskUser + "@" + host
}

// ReportKeyPresence tells a shared store which practitioners' keys this
// desk's keyring holds (their fingerprints, never the keys), replacing
// what it reported before, so that an admin at any desk sees where each
// key is set up (KeyDesks). The desk reports by itself when it opens with
// HomeOptions.ReportKeys and after every key set or removed here; call it
// when the keyring may have changed otherwise. A desk's own SQLite store
// needs no report, and gets none. When the keyring cannot be read, nothing
// is reported: the last report stands rather than an empty one.
func (d *Desk) ReportKeyPresence(ctx context.Context) error {
	kp, ok := d.store.(core.KeyPresenceStore)
	if !ok {
		return nil
	}
	ps, err := d.store.Practitioners(ctx)
	if err != nil {
		return fmt.Errorf("report keys: %w", err)
	}
	now := d.now()
	var held []core.KeyPresence
	for _, p := range ps {
		name, err := d.keyName(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("report keys: %w", err)
		}
		k, err := d.secrets.Secret(name)
		switch {
		case core.ErrorCode(err) == core.ENOTFOUND || (err == nil && k == ""):
			continue
		case err != nil:
			return fmt.Errorf("report keys: %w", err)
		}
		held = append(held, core.KeyPresence{PractitionerID: p.ID, Fingerprint: keys.Fingerprint(k), SeenAt: now})
	}
	if err := kp.ReportKeyPresence(ctx, d.DeskName(), held); err != nil {
		return fmt.Errorf("report keys: %w", err)
	}
	return nil
}

// reportKeys reports the keys this desk holds (ReportKeyPresence), logging
// a failure: what it reports is for admins to see, and never worth failing
// the key change or the command that called it. The error names no key:
// keyring and store errors never carry one.
func (d *Desk) reportKeys(ctx context.Context) {
	if err := d.ReportKeyPresence(ctx); err != nil {
		d.log.Warn("could not tell the clinic database which keys this desk holds", "desk", d.DeskName(), "err", err)
	}
}

// keyInKeyring returns the practitioner's key if this desk's keyring
// holds one.
func (d *Desk) keyInKeyring(ctx context.Context, practitionerID string) (string, bool) {
	name, err := d.keyName(ctx, practitionerID)
	if err != nil {
		return "", false
	}
	k, err := d.secrets.Secret(name)
	return k, err == nil && k != ""
}

// KeyDesk is one desk whose keyring holds a key of a practitioner.
type KeyDesk struct {
	Desk        string    `json:"desk"`
	Fingerprint string    `json:"fingerprint"`
	SeenAt      time.Time `json:"seen_at"`
	// Current reports that the key is the practitioner's current one (the
	// fingerprints match); else the desk holds an old or another key.
	Current bool `json:"current"`
	// ThisDesk marks this desk's own keyring.
	ThisDesk bool `json:"this_desk"`
}

// KeyDesks lists the desks whose keyrings hold a key of the practitioner,
// most recently seen first, as the desks last reported (see
// ReportKeyPresence). On a desk's own SQLite store it is this desk alone,
// when its keyring holds a key.
func (d *Desk) KeyDesks(ctx context.Context, practitionerID string) ([]KeyDesk, error) {
	p, err := d.store.Practitioner(ctx, practitionerID)
	if err != nil {
		return nil, err
	}
	current := func(fingerprint string) bool { return p.Key != nil && p.Key.Fingerprint == fingerprint }
	self := d.DeskName()
	kp, ok := d.store.(core.KeyPresenceStore)
	if !ok {
		k, held := d.keyInKeyring(ctx, p.ID)
		if !held {
			return nil, nil
		}
		f := keys.Fingerprint(k)
		return []KeyDesk{{Desk: self, Fingerprint: f, SeenAt: d.now(), Current: current(f), ThisDesk: true}}, nil
	}
	reports, err := kp.KeyPresence(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("desks with the key of %s: %w", p.Name, err)
	}
	out := make([]KeyDesk, 0, len(reports))
	for _, r := range reports {
		out = append(out, KeyDesk{Desk: r.Desk, Fingerprint: r.Fingerprint, SeenAt: r.SeenAt, Current: current(r.Fingerprint), ThisDesk: r.Desk == self})
	}
	return out, nil
}
