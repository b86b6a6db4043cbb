package storetest

import (
	"iter"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"ptdesk/core"
	"ptdesk/core/search"
)

// firstNames mixes the languages a clinic's list really has, accents and
// all; the most common come first (see weighted).
var firstNames = []struct {
	name   string
	gender core.Gender
}{
	{"James", core.GenderMale}, {"Mary", core.GenderFemale}, {"John", core.GenderMale},
	{"Maria", core.GenderFemale}, {"José", core.GenderMale}, {"Sarah", core.GenderFemale},
	{"Michael", core.GenderMale}, {"Emma", core.GenderFemale}, {"David", core.GenderMale},
	{"Anna", core.GenderFemale}, {"Thomas", core.GenderMale}, {"Olivia", core.GenderFemale},
	{"Robert", core.GenderMale}, {"Sophie", core.GenderFemale}, {"Juan", core.GenderMale},
	{"Lucía", core.GenderFemale}, {"William", core.GenderMale}, {"Zoë", core.GenderFemale},
	{"Łukasz", core.GenderMale}, {"Małgorzata", core.GenderFemale}, {"Jürgen", core.GenderMale},
	{"Hélène", core.GenderFemale}, {"François", core.GenderMale}, {"Chloé", core.GenderFemale},
	{"Søren", core.GenderMale}, {"Åsa", core.GenderFemale}, {"Bjørn", core.GenderMale},
	{"Ingrid", core.GenderFemale}, {"Seán", core.GenderMale}, {"Siobhán", core.GenderFemale},
	{"Joanna", core.GenderFemale}, {"Joseph", core.GenderMale}, {"Jonas", core.GenderMale},
	{"Johanna", core.GenderFemale}, {"Jorge", core.GenderMale}, {"Jo", core.GenderOther},
	{"Lena", core.GenderFemale}, {"Paweł", core.GenderMale}, {"Agnieszka", core.GenderFemale},
	{"Wojciech", core.GenderMale}, {"Niamh", core.GenderFemale}, {"Oisín", core.GenderMale},
	{"Aoife", core.GenderFemale}, {"Matteo", core.GenderMale}, {"Giulia", core.GenderFemale},
	{"Lorenzo", core.GenderMale}, {"Francesca", core.GenderFemale}, {"João", core.GenderMale},
	{"Inês", core.GenderFemale}, {"Gonçalo", core.GenderMale}, {"Mehmet", core.GenderMale},
	{"Ayşe", core.GenderFemale}, {"İlker", core.GenderMale}, {"Çağla", core.GenderFemale},
	{"Yusuf", core.GenderMale}, {"Fatima", core.GenderFemale}, {"Omar", core.GenderMale},
	{"Aisha", core.GenderFemale}, {"Priya", core.GenderFemale}, {"Arjun", core.GenderMale},
	{"Wei", core.GenderMale}, {"Mei", core.GenderFemale}, {"Hiroshi", core.GenderMale},
	{"Yuki", core.GenderFemale}, {"Dmitri", core.GenderMale}, {"Olga", core.GenderFemale},
	{"Zoltán", core.GenderMale}, {"Eszter", core.GenderFemale}, {"Camila", core.GenderFemale},
	{"Mateus", core.GenderMale}, {"Valentina", core.GenderFemale}, {"Noah", core.GenderMale},
	{"Liam", core.GenderMale}, {"Mia", core.GenderFemale}, {"Noémie", core.GenderFemale},
	{"Jérôme", core.GenderMale}, {"Amélie", core.GenderFemale}, {"Björn", core.GenderMale},
	{"Kjell", core.GenderMale}, {"Hannah", core.GenderFemale}, {"Günther", core.GenderMale},
	{"Dóra", core.GenderFemale}, {"Sam", core.GenderUnknown}, {"Alex", core.GenderOther},
	{"Charlotte", core.GenderFemale}, {"Patrick", core.GenderMale}, {"Kateřina", core.GenderFemale},
	{"Jiří", core.GenderMale}, {"Nguyệt", core.GenderFemale}, {"Minh", core.GenderMale},
}

// lastNames likewise: English, Spanish, German, Polish, Nordic, Irish,
// French, Italian, Portuguese, Turkish, Vietnamese, Dutch and others.
var lastNames = []string{
	"Smith", "García", "Müller", "Johnson", "Nowak", "Jones", "Martínez", "Hansen", "Brown",
	"Rodríguez", "Schmidt", "Williams", "Kowalski", "Murphy", "Martin", "López", "Jensen",
	"Taylor", "González", "Schneider", "Wilson", "Wiśniewski", "Kelly", "Dubois", "Rossi",
	"Silva", "Davies", "Hernández", "Fischer", "Evans", "Wójcik", "O'Brien", "Bernard", "Russo",
	"Santos", "Thomas", "Pérez", "Weber", "Roberts", "Kowalczyk", "Walsh", "Moreau", "Ferrari",
	"Oliveira", "Johansen", "Sánchez", "Meyer", "Lewis", "Kamiński", "Byrne", "Laurent",
	"Esposito", "Pereira", "Olsen", "Ramírez", "Wagner", "Walker", "Lewandowski", "Ryan",
	"Lefèvre", "Bianchi", "Costa", "Larsen", "Torres", "Becker", "Robinson", "Zieliński",
	"O'Connor", "Simon", "Romano", "Gonçalves", "Andersen", "Núñez", "Schulz", "Wright",
	"Szymański", "McCarthy", "Michel", "Colombo", "Yılmaz", "Pedersen", "Flores", "Hoffmann",
	"Thompson", "Woźniak", "O'Sullivan", "Garnier", "Ricci", "Kaya", "Nilsen", "Díaz",
	"Schäfer", "White", "Dąbrowski", "Doyle", "Faure", "Marino", "Demir", "Ødegaard",
	"Muñoz", "Koch", "Hughes", "Kozłowski", "Lynch", "Rousseau", "Greco", "Şahin", "Jørgensen",
	"Álvarez", "Bauer", "Green", "Jankowski", "Quinn", "Bonnet", "De Luca", "Çelik",
	"Sørensen", "Gutiérrez", "Richter", "Hall", "Mazur", "Nguyễn", "Mercier", "Conti", "Öztürk",
	"Lindqvist", "Ibáñez", "Klein", "Smithson", "Krawczyk", "Trần", "Fontaine", "Gallo",
	"Åberg", "Peña", "Wolf", "Smyth", "Łukaszewicz", "Phạm", "Chevalier", "Van der Berg",
	"Nyström", "Fernández", "Schröder", "Jackson", "Kim", "De Vries", "Nagy", "Papadopoulos",
	"Söderberg", "Ruiz", "Krüger", "Clarke", "Park", "Jansen", "Kovács", "Ivanova",
	"Öberg", "Romero", "Zimmermann", "Baker", "Wang", "Bakker", "Tóth", "Petrov",
	"Bjørklund", "Gómez", "Neumann", "Adams", "Chen", "Visser", "Szabó", "Smirnov",
	"Blacksmith", "Jovanović", "Horváth", "Sato", "Novák", "Dvořák", "Ó Briain", "Mac Giolla",
}

// weighted picks from n choices with weight 1/(rank+20): the first names of
// a list are a few times more common than the last, as in a real
// population, without one name taking a large share.
type weighted struct{ cum []float64 }

func newWeighted(n int) weighted {
	w := weighted{cum: make([]float64, n)}
	total := 0.0
	for i := range n {
		total += 1 / float64(i+20)
		w.cum[i] = total
	}
	return w
}

func (w weighted) pick(r *rand.Rand) int {
	x := r.Float64() * w.cum[len(w.cum)-1]
	return sort.SearchFloat64s(w.cum, x)
}

var emailDomains = []string{"example.org", "example.com", "example.net", "mail.example", "clinic.example"}

var diagnosisCodes = []string{"M54.5", "M25.56", "S83.5", "M75.1", "M17.1", "S93.4", "M79.6", "G56.0"}

// phonePlans make mobile numbers in E.164 for a few countries: a prefix,
// then random digits.
var phonePlans = []struct {
	prefix string
	digits int
}{
	{"+447", 9}, {"+1", 10}, {"+4915", 9}, {"+336", 8}, {"+346", 8}, {"+485", 8},
	{"+474", 7}, {"+393", 9}, {"+3538", 8}, {"+316", 8}, {"+614", 8}, {"+4670", 7},
}

// FakePatients yields n made-up but realistic patients, the same ones for
// the same seed: names from many languages (José, Zoë, Ødegaard, Łukasz,
// Müller, Núñez, O'Brien, ...) with a realistic spread, most with an email
// (local part from the name, reserved example domains), a mobile phone in
// E.164 and a birth year. IDs are empty, for the store to assign. Contract
// tests and the benchmarks of every backend use it.
func FakePatients(seed uint64, n int) iter.Seq[*core.Patient] {
	return func(yield func(*core.Patient) bool) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		pickFirst, pickLast := newWeighted(len(firstNames)), newWeighted(len(lastNames))
		for range n {
			f := firstNames[pickFirst.pick(r)]
			p := &core.Patient{FirstName: f.name, LastName: lastNames[pickLast.pick(r)], Gender: f.gender}
			if r.IntN(10) < 9 {
				p.BirthYear = 1935 + r.IntN(86)
			}
			if r.IntN(10) < 8 {
				p.Email = fakeEmail(r, p)
			}
			if r.IntN(10) < 7 {
				plan := phonePlans[r.IntN(len(phonePlans))]
				var b strings.Builder
				b.WriteString(plan.prefix)
				for range plan.digits {
					b.WriteByte(byte('0' + r.IntN(10)))
				}
				p.Phone = b.String()
			}
			if r.IntN(4) == 0 {
				p.DiagnosisCode = diagnosisCodes[r.IntN(len(diagnosisCodes))]
			}
			if !yield(p) {
				return
			}
		}
	}
}

// fakeEmail makes an address the way people choose them: from their names,
// with ASCII letters only, sometimes with a number.
func fakeEmail(r *rand.Rand, p *core.Patient) string {
	first, last := asciiKey(p.FirstName), asciiKey(p.LastName)
	var local string
	switch r.IntN(5) {
	case 0:
		local = first + "." + last
	case 1:
		local = first[:1] + last
	case 2:
		local = first + last + strconv.Itoa(r.IntN(100))
	case 3:
		local = first + "_" + last
	default:
		local = first + strconv.Itoa(1950+r.IntN(70))
	}
	return local + "@" + emailDomains[r.IntN(len(emailDomains))]
}

func asciiKey(s string) string {
	var b strings.Builder
	for _, c := range search.Key(s) {
		if c < 0x80 {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}
