package desk

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"ptdesk/core"
	"ptdesk/core/importer"
)

// ExportCSVHeader is the header of a CSV export. Every column but
// "archived" is one the importer maps by itself, so an export imports back
// with no mapping; an import never archives, so "archived" is left out then
// (and reported as an ignored column).
func ExportCSVHeader() []string {
	return []string{"id", "first_name", "last_name", "birth_year", "gender", "email", "mobile_phone", "diagnosis_code", "archived"}
}

// ExportFormats are the formats Export writes, for help texts and menus.
func ExportFormats() []string { return []string{"csv", "fhir"} }

// Export writes the whole directory, archived patients included, in id
// order, so that a clinic's data is never locked in:
//
//   - "csv": UTF-8 without a byte order mark, comma separated, with
//     ExportCSVHeader();
//   - "fhir": NDJSON, one FHIR R4 Patient resource per line, as bulk data
//     exports are; the id is in an identifier of the system
//     urn:ptdesk:patient-id (which the importer reads by default), the
//     diagnosis code in an extension, and archived patients are
//     "active": false.
//
// Patients are streamed from the store, so memory does not grow with the
// directory.
func (d *Desk) Export(ctx context.Context, w io.Writer, format string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "", "csv":
		err = d.exportCSV(ctx, bw)
	case "fhir", "ndjson":
		err = d.exportFHIR(ctx, bw)
	default:
		return core.Errorf(core.EINVALID, "format", "Export format %q is not csv or fhir.", format)
	}
	if err != nil {
		return fmt.Errorf("export patients: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export patients: %w", err)
	}
	d.audit(ctx, "export", "", "")
	return nil
}

func (d *Desk) exportCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	header := ExportCSVHeader()
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	err := d.store.EachPatient(ctx, func(p *core.Patient) error {
		rec[0] = p.ID
		rec[1] = p.FirstName
		rec[2] = p.LastName
		rec[3] = ""
		if p.BirthYear != 0 {
			rec[3] = strconv.Itoa(p.BirthYear)
		}
		rec[4] = string(p.Gender)
		rec[5] = p.Email
		rec[6] = p.Phone
		rec[7] = p.DiagnosisCode
		rec[8] = strconv.FormatBool(p.Archived)
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// fhirResource is the FHIR R4 Patient resource Export writes.
type fhirResource struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id,omitempty"`
	Identifier   []fhirIdentifier `json:"identifier"`
	Active       bool             `json:"active"`
	Name         []fhirName       `json:"name"`
	Telecom      []fhirTelecom    `json:"telecom,omitempty"`
	Gender       string           `json:"gender,omitempty"`
	BirthDate    string           `json:"birthDate,omitempty"`
	Extension    []fhirExtension  `json:"extension,omitempty"`
}

type fhirIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type fhirName struct {
	Use    string   `json:"use"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type fhirTelecom struct {
	System string `json:"system"`
	Value  string `json:"value"`
	Use    string `json:"use,omitempty"`
}

type fhirExtension struct {
	URL         string `json:"url"`
	ValueString string `json:"valueString"`
}

// fhirID is FHIR's rule for a resource id; PT Desk ids may also hold "_",
// and those are exported in the identifier only.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

func (d *Desk) exportFHIR(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w) // one value per line: NDJSON
	enc.SetEscapeHTML(false)
	return d.store.EachPatient(ctx, func(p *core.Patient) error {
		res := fhirResource{
			ResourceType: "Patient",
			Identifier:   []fhirIdentifier{{System: importer.DefaultIdentifierSystem, Value: p.ID}},
			Active:       !p.Archived,
			// The first name is one given name as typed; the importer
			// joins given names with spaces, so it comes back the same.
			Name:   []fhirName{{Use: "official", Family: p.LastName, Given: []string{p.FirstName}}},
			Gender: string(p.Gender),
		}
		if fhirID.MatchString(p.ID) {
			res.ID = p.ID
		}
		if p.BirthYear != 0 {
			res.BirthDate = fmt.Sprintf("%04d", p.BirthYear)
		}
		if p.Email != "" {
			res.Telecom = append(res.Telecom, fhirTelecom{System: "email", Value: p.Email})
		}
		if p.Phone != "" {
			res.Telecom = append(res.Telecom, fhirTelecom{System: "phone", Value: p.Phone, Use: "mobile"})
		}
		if p.DiagnosisCode != "" {
			res.Extension = []fhirExtension{{URL: importer.DiagnosisExtensionURL, ValueString: p.DiagnosisCode}}
		}
		return enc.Encode(&res)
	})
}
