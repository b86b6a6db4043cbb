package desk

import (
	"context"
	"fmt"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// GenerateKey returns a fresh key and stores nothing.
func (d *Desk) GenerateKey() (string, error) { return keys.Generate() }

// SetKey checks key against Physitrack's rule and makes it the
// practitioner's key on this desk: the key goes to the OS keyring, the store
// gets only its lookup hash and fingerprint. The previous key's hash is kept
// as retired so that late webhooks carrying it still match. A shared store
// is told that this desk now holds the key (ReportKeyPresence).
func (d *Desk) SetKey(ctx context.Context, ref, key string) (*core.Practitioner, error) {
	if err := keys.Check(key); err != nil {
		return nil, err
	}
	p, err := d.FindPractitioner(ctx, ref)
	if err != nil {
		return nil, err
	}
	name, err := d.keyName(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if err := d.secrets.SetSecret(name, key); err != nil {
		return nil, err
	}
	if err := d.store.SetKeyInfo(ctx, p.ID, keys.Describe(key, d.now())); err != nil {
		return nil, fmt.Errorf("record key of %s: %w", p.Name, err)
	}
	d.audit(ctx, "key-set", p.ID, "")
	d.reportKeys(ctx)
	return d.store.Practitioner(ctx, p.ID)
}

// SetNewKey generates a key, sets it as SetKey does, and returns it once so
// it can be pasted into Physitrack.
func (d *Desk) SetNewKey(ctx context.Context, ref string) (string, *core.Practitioner, error) {
	k, err := keys.Generate()
	if err != nil {
		return "", nil, err
	}
	p, err := d.SetKey(ctx, ref, k)
	if err != nil {
		return "", nil, err
	}
	return k, p, nil
}

// RemoveKey removes the practitioner's key from this desk's keyring, and
// tells a shared store that this desk no longer holds it.
func (d *Desk) RemoveKey(ctx context.Context, ref string) (*core.Practitioner, error) {
	p, err := d.FindPractitioner(ctx, ref)
	if err != nil {
		return nil, err
	}
	name, err := d.keyName(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if err := d.secrets.DeleteSecret(name); err != nil {
		return nil, err
	}
	if err := d.store.ClearKeyInfo(ctx, p.ID); err != nil {
		return nil, fmt.Errorf("forget key of %s: %w", p.Name, err)
	}
	d.audit(ctx, "key-removed", p.ID, "")
	d.reportKeys(ctx)
	return d.store.Practitioner(ctx, p.ID)
}

// KeyStatus says whether this desk's keyring holds the practitioner's
// current key.
type KeyStatus int

// The key states a desk can be in for a practitioner.
const (
	KeyNotSet   KeyStatus = iota // no key recorded for the practitioner
	KeyPresent                   // this desk's keyring holds the current key
	KeyMissing                   // a key is recorded, but not in this keyring
	KeyMismatch                  // this keyring holds a different key
)

// KeyStatus compares the keyring's key with the recorded fingerprint.
func (d *Desk) KeyStatus(ctx context.Context, p *core.Practitioner) KeyStatus {
	if p.Key == nil {
		return KeyNotSet
	}
	name, err := d.keyName(ctx, p.ID)
	if err != nil {
		return KeyMissing
	}
	k, err := d.secrets.Secret(name)
	switch {
	case p.Key == nil:
		return KeyNotSet
	case err != nil:
		return KeyMissing
	case keys.LookupHash(k) != p.Key.LookupHash:
		return KeyMismatch
	}
	return KeyPresent
}

// practitionerKey reads the practitioner's key, refusing clearly when this
// desk does not have it.
func (d *Desk) practitionerKey(ctx context.Context, p *core.Practitioner) (string, error) {
	name, err := d.keyName(ctx, p.ID)
	if err != nil {
		return "", err
	}
	k, err := d.secrets.Secret(name)
	if core.ErrorCode(err) == core.ENOTFOUND || (err == nil && k == "") {
		return "", core.Errorf(core.EUNAUTHORIZED, "key", "%s has no Physitrack key on this computer: set up the key first (ptdeskctl keys set %q --generate, or Practitioners > Set up key).", p.Name, p.Name)
	}
	if err != nil {
		return "", err
	}
	return k, nil
}

// audit appends an audit entry; a failure is logged, not fatal, because the
// action it records has already happened.
func (d *Desk) audit(ctx context.Context, action, practitionerID, patientID string) {
	err := d.store.AppendAudit(ctx, core.AuditEntry{At: d.now(), Action: action, PractitionerID: practitionerID, PatientID: patientID, DeskUser: d.deskUser})
	if err != nil {
		d.log.Error("audit", "action", action, "err", err)
	}
}

// Audit returns the audit log, oldest first.
func (d *Desk) Audit(ctx context.Context) ([]core.AuditEntry, error) {
	return d.store.Audit(ctx)
}

// keyName is the keyring entry of a practitioner's key in this directory.
// The store id never changes, so it is read once.
func (d *Desk) keyName(ctx context.Context, practitionerID string) (string, error) {
	d.storeIDMu.Lock()
	defer d.storeIDMu.Unlock()
	if d.storeID == "" {
		s, err := d.store.Settings(ctx)
		if err != nil {
			return "", fmt.Errorf("read store id: %w", err)
		}
		if s.StoreID == "" {
			return "", fmt.Errorf("read store id: the directory has none")
		}
		d.storeID = s.StoreID
	}
	return core.PractitionerKeyName(d.storeID, practitionerID), nil
}
