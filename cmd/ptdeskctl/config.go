package main

import (
	"context"
	"fmt"
	"strings"
)

func cmdConfigSet(ctx context.Context, c *cli, args []string) error {
	fs := flags("config set")
	pos, err := parse(fs, args, 2, 2, "a setting name and a value: pms-name NAME, phone-region CODE or download-origins LIST")
	if err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "pms-name":
		return d.SetPMSName(ctx, pos[1])
	case "phone-region":
		return d.SetPhoneRegion(ctx, pos[1])
	case "download-origins":
		return d.SetDownloadOrigins(ctx, strings.Split(pos[1], ","))
	}
	return usagef("unknown setting %q: use pms-name, phone-region or download-origins", pos[0])
}

func cmdConfigShow(ctx context.Context, c *cli, args []string) error {
	fs := flags("config show")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	s, err := d.Settings(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(map[string]any{
			"home": d.Home(), "store_id": s.StoreID, "pms_name": s.PMSName, "phone_region": s.PhoneRegion,
			"download_origins": s.DownloadOrigins,
		})
	}
	pms := s.PMSName
	if pms == "" {
		pms = "(not set: ptdeskctl config set pms-name NAME)"
	}
	fmt.Fprintf(c.stdout, "data directory:   %s\n", d.Home())
	fmt.Fprintf(c.stdout, "pms-name:         %s\n", pms)
	fmt.Fprintf(c.stdout, "phone-region:     %s\n", s.PhoneRegion)
	fmt.Fprintf(c.stdout, "download-origins: %s\n", strings.Join(s.DownloadOrigins, ","))
	return nil
}
