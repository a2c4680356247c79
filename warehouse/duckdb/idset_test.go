package duckdb

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStoredIDsFindExactlyWhatWasAdded(t *testing.T) {
	s := &storedIDs{buckets: make([][]uint64, 1<<idBucketBits)}
	rng := rand.New(rand.NewPCG(1, 2))
	added := make([]uint64, 200_000)
	for i := range added {
		added[i] = rng.Uint64()
	}
	added = append(added, 5, 5, 1<<63, 1<<63+1) // repeats and neighbours in one bucket
	s.add(added)
	for _, h := range added {
		if !s.has(h) {
			t.Fatalf("%x added but not found", h)
		}
	}
	for range 200_000 {
		if h := rng.Uint64(); s.has(h) && !slices.Contains(added, h) {
			t.Fatalf("%x found but never added", h)
		}
	}
	if s.len() != len(added)-1 {
		t.Errorf("holds %d hashes, want %d", s.len(), len(added)-1)
	}
}
