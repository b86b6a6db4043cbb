package main

import (
	"context"
	"math/rand/v2"

	"ptdesk/core"
	"ptdesk/core/storetest"
)

// importSample imports n patients generated from seed into store, in one
// import, and returns a uniform sample of size of them (reservoir sampling:
// the sample is kept without holding every patient) to type as queries,
// with the random source that chose it, which goes on to draw the queries:
// the same seed gives the same directory and the same queries every run.
func importSample(ctx context.Context, store core.PatientStore, seed uint64, n, size int) ([]*core.Patient, *rand.Rand, error) {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	sample := make([]*core.Patient, 0, size)
	im, err := store.BeginImport(ctx)
	if err != nil {
		return nil, nil, err
	}
	i := 0
	for p := range storetest.FakePatients(seed, n) {
		if _, err := im.Upsert(ctx, p); err != nil {
			im.Rollback()
			return nil, nil, err
		}
		if len(sample) < cap(sample) {
			sample = append(sample, p)
		} else if j := r.IntN(i + 1); j < len(sample) {
			sample[j] = p
		}
		i++
	}
	return sample, r, im.Commit()
}
