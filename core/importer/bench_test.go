package importer_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"ptdesk/core/importer"
)

// benchCSV is n rows shaped like a PMS export.
func benchCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Patient ID,First Name,Last Name,Date of Birth,Gender,Email,Mobile\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "P%07d,Anne%d,\"Smith, %d\",%02d/%02d/%d,F,p%d@example.org,+447912%06d\n",
			i, i, i, 1+i%28, 1+i%12, 1930+i%90, i, i%1000000)
	}
	return b.Bytes()
}

// BenchmarkCSVReader measures reading and mapping rows, without the store
// and without the patient rules: the importer's own share of an import.
func BenchmarkCSVReader(b *testing.B) {
	data := benchCSV(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := importer.NewReader(bytes.NewReader(data), importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("%d rows", n)
		}
	}
}
