package desk

import (
	"context"
	"fmt"
	"strings"

	"ptdesk/core"
)

// AddPractitioner validates and stores a practitioner (no key yet).
func (d *Desk) AddPractitioner(ctx context.Context, p core.Practitioner) (*core.Practitioner, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	p.Key = nil
	if err := d.store.CreatePractitioner(ctx, &p); err != nil {
		return nil, fmt.Errorf("add practitioner: %w", err)
	}
	return &p, nil
}

// EditPractitioner changes a practitioner's name, email or server.
func (d *Desk) EditPractitioner(ctx context.Context, p core.Practitioner) (*core.Practitioner, error) {
	if err := p.Normalize(); err != nil {
		return nil, err
	}
	if err := d.store.UpdatePractitioner(ctx, &p); err != nil {
		return nil, fmt.Errorf("edit practitioner: %w", err)
	}
	return d.store.Practitioner(ctx, p.ID)
}

// RemovePractitioner deletes a practitioner and their key from this desk's
// keyring. The audit log keeps their past opens.
func (d *Desk) RemovePractitioner(ctx context.Context, ref string) error {
	p, err := d.FindPractitioner(ctx, ref)
	if err != nil {
		return err
	}
	name, err := d.keyName(ctx, p.ID)
	if err != nil {
		return err
	}
	if err := d.secrets.DeleteSecret(name); err != nil {
		return err
	}
	if err := d.store.DeletePractitioner(ctx, p.ID); err != nil {
		return fmt.Errorf("remove practitioner: %w", err)
	}
	return nil
}

// Practitioners lists every practitioner.
func (d *Desk) Practitioners(ctx context.Context) ([]*core.Practitioner, error) {
	ps, err := d.store.Practitioners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list practitioners: %w", err)
	}
	return ps, nil
}

// FindPractitioner accepts an id or a unique name (case-insensitive), as
// every command that takes PRACTITIONER does.
func (d *Desk) FindPractitioner(ctx context.Context, ref string) (*core.Practitioner, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, core.Errorf(core.EINVALID, "practitioner", "Which practitioner? Give an id or a name.")
	}
	if p, err := d.store.Practitioner(ctx, ref); err == nil {
		return p, nil
	} else if core.ErrorCode(err) != core.ENOTFOUND {
		return nil, err
	}
	all, err := d.Practitioners(ctx)
	if err != nil {
		return nil, err
	}
	var match []*core.Practitioner
	for _, p := range all {
		if strings.EqualFold(p.Name, ref) {
			match = append(match, p)
		}
	}
	if len(match) == 0 {
		for _, p := range all {
			if strings.Contains(strings.ToLower(p.Name), strings.ToLower(ref)) {
				match = append(match, p)
			}
		}
	}
	switch len(match) {
	case 0:
		return nil, core.Errorf(core.ENOTFOUND, "practitioner", "No practitioner with id or name %q; see 'ptdeskctl practitioners list'.", ref)
	case 1:
		return match[0], nil
	}
	names := make([]string, len(match))
	for i, p := range match {
		names[i] = fmt.Sprintf("%s (id %s)", p.Name, p.ID)
	}
	return nil, core.Errorf(core.EINVALID, "practitioner", "%q matches several practitioners: %s; use the id.", ref, strings.Join(names, ", "))
}
