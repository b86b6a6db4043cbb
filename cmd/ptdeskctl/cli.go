package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/ptsso"
)

// Exit codes scripts rely on.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// cli is one invocation: its streams, global flags and, once needed, the
// desk it works on.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	home           string
	db             string
	// opener and secrets replace the system browser and keyring (tests).
	opener  ptsso.Opener
	secrets core.SecretStore
	desk    *desk.Desk
	// progressShown says a progress line is open on stderr.
	progressShown bool
}

// command is one subcommand; run gets the arguments after its name.
type command struct {
	name, args, help string
	run              func(ctx context.Context, c *cli, args []string) error
}

// usageError is a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func commands() []command {
	return []command{
		{"config set", "pms-name NAME | phone-region CODE | download-origins LIST", "change a clinic setting", cmdConfigSet},
		{"config show", "[--json]", "print the clinic settings", cmdConfigShow},
		{"patients add", "--first-name F --last-name L [--birth-year Y] [--gender female|male|other] [--email E] [--phone P] [--diagnosis-code C] [--id ID]", "add a patient; prints the id", cmdPatientsAdd},
		{"patients edit", "ID [same flags as add]", "change a patient's fields", cmdPatientsEdit},
		{"patients show", "[--json] ID", "print one patient", cmdPatientsShow},
		{"patients archive", "ID", "hide a patient from search; the id stays", cmdPatientsArchive},
		{"patients import", "FILE [--format csv|fhir] [--map ...] [--dry-run] [--date-order dmy|mdy] [--errors OUT.csv] [--force]", "import patients from a PMS export", cmdPatientsImport},
		{"patients export", "[--format csv|fhir] [--out FILE]", "export the whole directory", cmdPatientsExport},
		{"patients search", "[--json] [--limit N] QUERY...", "search as the app does", cmdPatientsSearch},
		{"practitioners add", "--name NAME [--email E] [--server us|uk|ie|ca|au|nz|staging|ORIGIN]", "add a practitioner; prints the id", cmdPractitionersAdd},
		{"practitioners edit", "PRACTITIONER [--name N] [--email E] [--server S]", "change a practitioner", cmdPractitionersEdit},
		{"practitioners remove", "PRACTITIONER", "remove a practitioner and their key on this computer", cmdPractitionersRemove},
		{"practitioners list", "[--json]", "list practitioners and key status", cmdPractitionersList},
		{"keys generate", "", "print a fresh key; stores nothing", cmdKeysGenerate},
		{"keys set", "PRACTITIONER --generate | --stdin", "store a key in the system keyring", cmdKeysSet},
		{"keys remove", "PRACTITIONER", "remove the practitioner's key from the keyring", cmdKeysRemove},
		{"open", "PATIENT_ID --practitioner PRACTITIONER [--no-browser]", "open the patient in Physitrack", cmdOpen},
		{"audit", "[--json]", "print the audit log", cmdAudit},
		{"sandbox", "[--addr HOST:PORT] [--webhook-url URL --webhook-secret-file F|-] [--webhook-retry-delay D] [--pdf-lifetime D]", "run a local stand-in for Physitrack", cmdSandbox},
		{"serve", "[--addr HOST:PORT] [--path P] [--tls-cert F --tls-key F] [--secret-file F]", "receive program webhooks and file their PDFs until stopped", cmdServe},
		{"webhook secret", "--generate | --stdin [--file PATH]", "set the secret Physitrack sends with program webhooks", cmdWebhookSecret},
		{"programs list", "[--json] [--patient ID]", "list filed program PDFs", cmdProgramsList},
		{"programs inbox", "[--json] [--all]", "list program webhooks not filed (unmatched, refused, expired, waiting)", cmdProgramsInbox},
		{"programs retry", "EVENT_ID", "try an inbox event again now", cmdProgramsRetry},
		{"programs assign", "EVENT_ID PATIENT_ID", "file an inbox event with a patient", cmdProgramsAssign},
		{"migrate", "--from sqlite:PATH --to postgres://... [--merge] [--json]", "copy a desk's directory into a clinic's PostgreSQL database", cmdMigrate},
		{"db use", "postgres://... | sqlite | sqlite:PATH | --stdin [--no-check]", "choose the database PT Desk opens on this computer (tested, then saved; the password goes to the keyring)", cmdDBUse},
		{"db show", "[--json]", "print the database in use, password masked, and what chose it", cmdDBShow},
	}
}

// run executes one invocation and returns the exit code.
func (c *cli) run(ctx context.Context, args []string) int {
	err := c.dispatch(ctx, args)
	if c.desk != nil {
		if cerr := c.desk.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "ptdeskctl: %s\nRun 'ptdeskctl help' for the list of commands.\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(c.stderr, "ptdeskctl: %s\n", oneLine(core.ErrorMessage(err)))
		return exitError
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (c *cli) dispatch(ctx context.Context, args []string) error {
	global := flag.NewFlagSet("ptdeskctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.StringVar(&c.home, "home", "", "data directory (default $PTDESK_HOME, else the user's config directory)")
	global.StringVar(&c.db, "db", "", "database connection string (default $PTDESK_DB, else the one saved with 'db use', else SQLite in the data directory)")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printHelp()
			return flag.ErrHelp
		}
		return usagef("%v", err)
	}
	rest := global.Args()
	if len(rest) == 0 {
		return usagef("no command given")
	}
	if rest[0] == "help" {
		c.printHelp()
		return nil
	}
	cmds := commands()
	for _, cmd := range cmds {
		words := strings.Fields(cmd.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == cmd.name {
			return cmd.run(ctx, c, rest[len(words):])
		}
	}
	var known []string
	for _, cmd := range cmds {
		if strings.HasPrefix(cmd.name, rest[0]+" ") {
			known = append(known, cmd.name)
		}
	}
	if len(known) > 0 {
		return usagef("%q needs a subcommand: %s", rest[0], strings.Join(known, ", "))
	}
	return usagef("unknown command %q", rest[0])
}

func (c *cli) printHelp() {
	fmt.Fprintln(c.stderr, "Usage: ptdeskctl [--home DIR] [--db URL] COMMAND [ARGS]")
	fmt.Fprintln(c.stderr, "\nThe database is --db, else $"+desk.DatabaseEnv+", else the one saved with 'db use', else SQLite in the data directory.")
	fmt.Fprintln(c.stderr, "\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(c.stderr, "  %-22s %s\n  %-22s   %s\n", cmd.name, cmd.args, "", cmd.help)
	}
}

// open returns the desk for the data directory, opening it on first use.
func (c *cli) open(ctx context.Context) (*desk.Desk, error) {
	return c.openDesk(ctx, desk.HomeOptions{})
}

// openForKeys opens the desk for a command that uses practitioners' keys.
// A shared store is told which keys this desk holds (when report: keys set
// and remove tell it after their change instead), and a failure to tell
// it is a warning on stderr, never the command's failure.
func (c *cli) openForKeys(ctx context.Context, report bool) (*desk.Desk, error) {
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	return c.openDesk(ctx, desk.HomeOptions{ReportKeys: report, Logger: log})
}

func (c *cli) openDesk(ctx context.Context, o desk.HomeOptions) (*desk.Desk, error) {
	if c.desk != nil {
		return c.desk, nil
	}
	o.Home, o.DB, o.Opener, o.Secrets = c.home, c.db, c.opener, c.secrets
	d, err := desk.OpenHome(ctx, o)
	if err != nil {
		return nil, err
	}
	c.desk = d
	return d, nil
}

// flags makes a flag set for a subcommand whose errors are usage errors.
func flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags and positional arguments in any order (scripts write
// "patients edit 12 --email x" as often as the reverse) and checks the
// positional count.
func parse(fs *flag.FlagSet, args []string, minPos, maxPos int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		return nil, usagef("%s expects %s", fs.Name(), what)
	}
	return pos, nil
}

// printJSON writes v as indented JSON on stdout.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// warn prints guidance on stderr, keeping stdout for values.
func (c *cli) warn(format string, args ...any) {
	fmt.Fprintf(c.stderr, "warning: "+format+"\n", args...)
}

// visited reports which flags were given on the command line.
func visited(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}
