package ptsso_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"ptdesk/core"
	"ptdesk/core/ptsso"
)

// Open a patient in Physitrack from a desk: build the form from the
// practitioner, the clinic's integration name, the key from the keyring and
// the patient, then let Launch serve it once and open the browser.
func ExampleLaunch() {
	ctx := context.Background()
	srv := ptsso.NewServer(ptsso.Options{})
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	pr := &core.Practitioner{ID: "7", Name: "Dr Ana Silva", Server: "uk"}
	p := &core.Patient{ID: "1042", FirstName: "Jane", LastName: "Doe", BirthYear: 1984}
	f, err := ptsso.NewForm(pr, "umbrella_corporation", "key-from-the-keyring", p)
	if err != nil {
		log.Fatal(core.ErrorMessage(err)) // names the field and the fix
	}
	if err := ptsso.Launch(ctx, srv, ptsso.SystemOpener{}, f); err != nil {
		log.Fatal(err)
	}
}

// Measure "open → launch page served" as percentiles: each Launch with a
// FetchOpener returns once the page has been fetched, so it is one sample.
func ExampleLaunch_percentiles() {
	ctx := context.Background()
	srv := ptsso.NewServer(ptsso.Options{})
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	pr := &core.Practitioner{Name: "Dr Bench", Server: "us"}
	f, err := ptsso.NewForm(pr, "umbrella_corporation", "BenchKey0123456789abcdefghijklmnopQR", &core.Patient{ID: "1", FirstName: "A", LastName: "B"})
	if err != nil {
		log.Fatal(err)
	}
	samples := make([]time.Duration, 1000)
	for i := range samples {
		start := time.Now()
		if err := ptsso.Launch(ctx, srv, ptsso.FetchOpener{}, f); err != nil {
			log.Fatal(err)
		}
		samples[i] = time.Since(start)
	}
	slices.Sort(samples)
	fmt.Println("p50", samples[len(samples)*50/100], "p99", samples[len(samples)*99/100])
}
