package desk

import (
	"context"
	"fmt"
	"strings"

	"ptdesk/core"
	"ptdesk/core/phone"
)

// Settings returns the clinic's settings.
func (d *Desk) Settings(ctx context.Context) (core.Settings, error) {
	s, err := d.store.Settings(ctx)
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	return s, nil
}

// SetPMSName records the integration name Physitrack assigned.
func (d *Desk) SetPMSName(ctx context.Context, name string) error {
	if err := core.ValidatePMSName(name); err != nil {
		return err
	}
	return d.updateSettings(ctx, func(s *core.Settings) { s.PMSName = name })
}

// SetPhoneRegion sets the region for phone numbers without country code.
func (d *Desk) SetPhoneRegion(ctx context.Context, region string) error {
	r, err := core.NormalizeRegion(region)
	if err != nil {
		return err
	}
	if !phone.KnownRegion(r) {
		return core.Errorf(core.EINVALID, "phone-region", "Phone region %q is not a country code phone numbering knows; use one like GB, US, AU or NL.", region)
	}
	return d.updateSettings(ctx, func(s *core.Settings) { s.PhoneRegion = r })
}

func (d *Desk) updateSettings(ctx context.Context, change func(*core.Settings)) error {
	s, err := d.Settings(ctx)
	if err != nil {
		return err
	}
	change(&s)
	if err := d.store.SaveSettings(ctx, s); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// SetDownloadOrigins replaces the allow-list of origins program PDFs may be
// downloaded from.
func (d *Desk) SetDownloadOrigins(ctx context.Context, origins []string) error {
	var clean []string
	for _, o := range origins {
		if strings.TrimSpace(o) == "" {
			continue
		}
		n, err := core.NormalizeDownloadOrigin(o)
		if err != nil {
			return err
		}
		clean = append(clean, n)
	}
	if len(clean) == 0 {
		return core.Errorf(core.EINVALID, "download-origins", "Give at least one origin, for example https://*.physitrack.com.")
	}
	return d.updateSettings(ctx, func(s *core.Settings) { s.DownloadOrigins = clean })
}
