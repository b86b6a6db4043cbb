package importer

import (
	"strings"

	"ptdesk/core"
)

// genderWords are the words and one-letter codes PMS exports use for gender,
// folded to lower case without a trailing period. English first, then the
// common European words (W for "weiblich", H for "homme"/"hombre", D for
// "divers"), and the titles some systems export instead of a gender.
var genderWords = map[string]core.Gender{
	"": core.GenderUnknown, "u": core.GenderUnknown, "unknown": core.GenderUnknown,
	"unk": core.GenderUnknown, "?": core.GenderUnknown, "-": core.GenderUnknown,
	"n/a": core.GenderUnknown, "na": core.GenderUnknown, "not known": core.GenderUnknown,
	"not specified": core.GenderUnknown, "unspecified": core.GenderUnknown,
	"prefer not to say": core.GenderUnknown, "unbekannt": core.GenderUnknown,

	"f": core.GenderFemale, "female": core.GenderFemale, "woman": core.GenderFemale,
	"w": core.GenderFemale, "fem": core.GenderFemale, "girl": core.GenderFemale,
	"frau": core.GenderFemale, "weiblich": core.GenderFemale, "femme": core.GenderFemale,
	"féminin": core.GenderFemale, "feminin": core.GenderFemale, "mujer": core.GenderFemale,
	"femenino": core.GenderFemale, "feminino": core.GenderFemale, "vrouw": core.GenderFemale,
	"v": core.GenderFemale, "vrouwelijk": core.GenderFemale, "kvinna": core.GenderFemale,
	"kvinde": core.GenderFemale, "kvinne": core.GenderFemale, "k": core.GenderFemale,
	"mrs": core.GenderFemale, "ms": core.GenderFemale, "miss": core.GenderFemale,

	"m": core.GenderMale, "male": core.GenderMale, "man": core.GenderMale,
	"boy": core.GenderMale, "h": core.GenderMale, "homme": core.GenderMale,
	"masculin": core.GenderMale, "hombre": core.GenderMale, "masculino": core.GenderMale,
	"herr": core.GenderMale, "mann": core.GenderMale, "männlich": core.GenderMale,
	"maennlich": core.GenderMale, "mannelijk": core.GenderMale,
	"mand": core.GenderMale, "mr": core.GenderMale,

	"o": core.GenderOther, "other": core.GenderOther, "x": core.GenderOther,
	"diverse": core.GenderOther, "divers": core.GenderOther, "d": core.GenderOther,
	"non-binary": core.GenderOther, "nonbinary": core.GenderOther, "non binary": core.GenderOther,
	"nb": core.GenderOther, "intersex": core.GenderOther, "autre": core.GenderOther,
	"otro": core.GenderOther, "anders": core.GenderOther, "mx": core.GenderOther,
}

// ParseGenderWord reads a gender as PMS exports write it (see genderWords);
// an empty value is GenderUnknown. An unknown word is a *core.Error on field.
func ParseGenderWord(s, field string) (core.Gender, error) {
	k := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if g, ok := genderWords[k]; ok {
		return g, nil
	}
	return core.GenderUnknown, core.Errorf(core.EINVALID, field,
		"Gender %q is not a word PT Desk knows; use female (F), male (M), other (O/X) or leave it empty.", s)
}
