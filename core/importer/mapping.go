package importer

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"ptdesk/core"
)

// The fields a column can fill. BirthDate and BirthYear read the same way
// (a full date or the year alone; only the year is kept); the two names exist
// so a mapping can say what the column holds.
const (
	FieldID        = "id"
	FieldFirstName = "first_name"
	FieldLastName  = "last_name"
	FieldBirthDate = "birth_date"
	FieldBirthYear = "birth_year"
	FieldGender    = "gender"
	FieldEmail     = "email"
	FieldPhone     = "mobile_phone"
	FieldDiagnosis = "diagnosis_code"
)

// Mapping maps a CSV header to a field name, overriding the automatic
// mapping. Headers match case- and punctuation-insensitively; an empty field
// (or "-", "ignore") leaves the column out.
type Mapping map[string]string

// ParseMapping reads the command line form "Given=first_name,DOB=birth_date".
// Targets are the Field... names, plus "phone" for mobile_phone and "-" or
// "ignore" to leave a column out.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		header, target, ok := strings.Cut(pair, "=")
		header = strings.TrimSpace(header)
		if !ok || header == "" {
			return nil, core.Errorf(core.EINVALID, "mapping", "Mapping %q must be written as Header=field, for example Given=first_name.", pair)
		}
		field, err := mappingTarget(target)
		if err != nil {
			return nil, err
		}
		m[header] = field
	}
	return m, nil
}

// mappingTarget checks a mapping's field name and returns its canonical form
// ("" for a left-out column).
func mappingTarget(t string) (string, error) {
	switch k := strings.ToLower(strings.TrimSpace(t)); k {
	case "", "-", "ignore", "skip":
		return "", nil
	case FieldID, FieldFirstName, FieldLastName, FieldBirthDate, FieldBirthYear,
		FieldGender, FieldEmail, FieldPhone, FieldDiagnosis:
		return k, nil
	case "phone", "mobile":
		return FieldPhone, nil
	}
	return "", core.Errorf(core.EINVALID, "mapping",
		"Mapping target %q is not one of id, first_name, last_name, birth_date, birth_year, gender, email, mobile_phone, diagnosis_code or ignore.", t)
}

// headerAlias is an automatic mapping; a lower rank wins when two columns
// would fill the same field (a "Mobile" column beats a "Phone" column).
type headerAlias struct {
	field string
	rank  int
}

// headerAliases are the names PMS exports use, in normalized form (see
// headerKey). English first, with the common German, French, Spanish and
// Dutch spellings because those clinics export in their own language.
var headerAliases = map[string]headerAlias{
	"id": {FieldID, 0}, "patientid": {FieldID, 0}, "clientid": {FieldID, 0},
	"patientnumber": {FieldID, 0}, "patientno": {FieldID, 0}, "patientnr": {FieldID, 0},
	"clientnumber": {FieldID, 0}, "clientno": {FieldID, 0}, "clientnr": {FieldID, 0},
	"fileno": {FieldID, 0}, "filenumber": {FieldID, 0}, "filenr": {FieldID, 0},
	"#": {FieldID, 0}, "patient#": {FieldID, 0}, "client#": {FieldID, 0}, "file#": {FieldID, 0},
	"mrn": {FieldID, 1}, "chartnumber": {FieldID, 1}, "chartno": {FieldID, 1},
	"patientennummer": {FieldID, 0},

	"firstname": {FieldFirstName, 0}, "givenname": {FieldFirstName, 0}, "givennames": {FieldFirstName, 0},
	"forename": {FieldFirstName, 0}, "forenames": {FieldFirstName, 0}, "first": {FieldFirstName, 1},
	"given": {FieldFirstName, 1}, "vorname": {FieldFirstName, 0}, "prénom": {FieldFirstName, 0},
	"prenom": {FieldFirstName, 0}, "nombre": {FieldFirstName, 1}, "voornaam": {FieldFirstName, 0},

	"lastname": {FieldLastName, 0}, "surname": {FieldLastName, 0}, "familyname": {FieldLastName, 0},
	"last": {FieldLastName, 1}, "family": {FieldLastName, 1}, "nachname": {FieldLastName, 0},
	"nomdefamille": {FieldLastName, 0}, "apellido": {FieldLastName, 0}, "apellidos": {FieldLastName, 0},
	"achternaam": {FieldLastName, 0},

	"dateofbirth": {FieldBirthDate, 0}, "dob": {FieldBirthDate, 0}, "birthdate": {FieldBirthDate, 0},
	"birthday": {FieldBirthDate, 1}, "geburtsdatum": {FieldBirthDate, 0}, "datedenaissance": {FieldBirthDate, 0},
	"fechadenacimiento": {FieldBirthDate, 0}, "geboortedatum": {FieldBirthDate, 0},
	"birthyear": {FieldBirthYear, 0}, "yearofbirth": {FieldBirthYear, 0}, "yob": {FieldBirthYear, 0},
	"geburtsjahr": {FieldBirthYear, 0},

	"gender": {FieldGender, 0}, "sex": {FieldGender, 0}, "geschlecht": {FieldGender, 0},
	"sexe": {FieldGender, 0}, "sexo": {FieldGender, 0}, "geslacht": {FieldGender, 0},

	"email": {FieldEmail, 0}, "emailaddress": {FieldEmail, 0}, "mail": {FieldEmail, 1},
	"courriel": {FieldEmail, 0},

	"mobile": {FieldPhone, 0}, "mobilephone": {FieldPhone, 0}, "mobilenumber": {FieldPhone, 0},
	"mobileno": {FieldPhone, 0}, "cell": {FieldPhone, 0}, "cellphone": {FieldPhone, 0},
	"cellnumber": {FieldPhone, 0}, "handy": {FieldPhone, 0}, "mobil": {FieldPhone, 0},
	"mobiltelefon": {FieldPhone, 0}, "portable": {FieldPhone, 0}, "móvil": {FieldPhone, 0},
	"movil": {FieldPhone, 0}, "mobiel": {FieldPhone, 0},
	"phone": {FieldPhone, 1}, "phonenumber": {FieldPhone, 1}, "telephone": {FieldPhone, 2},
	"tel": {FieldPhone, 2}, "telefon": {FieldPhone, 2}, "téléphone": {FieldPhone, 2}, "teléfono": {FieldPhone, 2},

	"diagnosis": {FieldDiagnosis, 0}, "diagnosiscode": {FieldDiagnosis, 0}, "diagnose": {FieldDiagnosis, 1},
	"diagnostic": {FieldDiagnosis, 1}, "diagnóstico": {FieldDiagnosis, 1}, "icd": {FieldDiagnosis, 1},
	"icd10": {FieldDiagnosis, 1}, "icdcode": {FieldDiagnosis, 1},
}

// headerKey folds a header for matching: lower case, letters, digits and "#"
// only, so "E-mail", "e_mail" and "EMAIL " all read as "email".
func headerKey(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mapColumns decides which field each header column fills: the explicit
// mapping first, then the aliases, the best-ranked column winning a field.
// It refuses a mapping naming a column the file lacks and a file without both
// name columns, listing the headers found so the user can write a mapping.
func mapColumns(header []string, explicit Mapping) ([]Column, error) {
	cols := make([]Column, len(header))
	byKey := make(map[string]int, len(header))
	for i, h := range header {
		cols[i] = Column{Index: i, Header: h}
		k := headerKey(h)
		if _, dup := byKey[k]; !dup {
			byKey[k] = i
		}
	}

	decided := make([]bool, len(header))
	taken := map[string]bool{}
	keys := make([]string, 0, len(explicit))
	for k := range explicit {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, h := range keys {
		field, err := mappingTarget(explicit[h])
		if err != nil {
			return nil, err
		}
		i, ok := byKey[headerKey(h)]
		if !ok {
			return nil, core.Errorf(core.EINVALID, "mapping",
				"The mapping names a column %q but the file has none; its columns are %s.", h, quoteList(header))
		}
		if field != "" && taken[slot(field)] {
			return nil, core.Errorf(core.EINVALID, "mapping",
				"The mapping sends two columns to %s; map only one.", field)
		}
		cols[i].Field = field
		decided[i] = true
		if field != "" {
			taken[slot(field)] = true
		}
	}

	// Per field, the best-ranked undecided column; ties go to the first.
	best := map[string]int{}
	for i, h := range header {
		if decided[i] {
			continue
		}
		a, ok := headerAliases[headerKey(h)]
		if !ok || taken[slot(a.field)] {
			continue
		}
		if j, seen := best[slot(a.field)]; !seen || a.rank < headerAliases[headerKey(header[j])].rank {
			best[slot(a.field)] = i
		}
	}
	for _, i := range best {
		cols[i].Field = headerAliases[headerKey(header[i])].field
	}

	var missing []string
	for _, f := range []string{FieldFirstName, FieldLastName} {
		if !hasField(cols, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return nil, core.Errorf(core.EINVALID, "mapping",
			"The file has no %s column: its header is %s. Name the columns with a mapping, for example \"Given=first_name,Family=last_name\" (a single full-name column must be split first).",
			strings.Join(missing, " or "), quoteList(header))
	}
	return cols, nil
}

// slot is what a field fills: a birth date and a birth year both fill the
// birth year, so only one column may feed it.
func slot(field string) string {
	if field == FieldBirthYear {
		return FieldBirthDate
	}
	return field
}

func hasField(cols []Column, field string) bool {
	for _, c := range cols {
		if c.Field == field {
			return true
		}
	}
	return false
}

// quoteList shows headers to a person, cut short for very wide files.
func quoteList(hs []string) string {
	const max = 12
	var parts []string
	for i, h := range hs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(hs)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%q", h))
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}
