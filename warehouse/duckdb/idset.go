package duckdb

import (
	"database/sql/driver"
	"fmt"
	"hash/maphash"
	"slices"
)

// storedIDs holds a 64-bit hash of every event id in the events table, so a
// write can tell ids that are certainly new from ids that may be stored
// without joining its batch to the whole table. That join scans every stored
// id and grows with the warehouse: about 0.05 s per batch at 1M events and
// 0.5 s at 30M. A hash that is found is only a candidate: the write then
// joins its batch to the table to tell duplicates from conflicts.
//
// The set must hold every stored id; holding more is harmless. It is loaded
// when the write connection opens and grows after each committed write, so
// events may only be inserted through Store.Write.
//
// The hashes are kept sorted in buckets by their top bits: 30M ids take
// 230 MB, with no pointers for the garbage collector to scan. A Go map took
// 1.15 GB and 19 s to load them.
type storedIDs struct {
	buckets [][]uint64 // maphash.String(Store.idSeed, id), by the top idBucketBits
}

const idBucketBits = 16 // 30M ids: about 460 per bucket

func (s *storedIDs) bucket(h uint64) *[]uint64 { return &s.buckets[h>>(64-idBucketBits)] }

func (s *storedIDs) has(h uint64) bool {
	_, found := slices.BinarySearch(*s.bucket(h), h)
	return found
}

func (s *storedIDs) add(hs []uint64) {
	for _, h := range hs {
		b := s.bucket(h)
		if i, found := slices.BinarySearch(*b, h); !found {
			*b = slices.Insert(*b, i, h)
		}
	}
}

// len counts the hashes held.
func (s *storedIDs) len() int {
	n := 0
	for _, b := range s.buckets {
		n += len(b)
	}
	return n
}

// loadStoredIDs reads every stored event id. 30M ids took 3.9-4.9 s: 2.4 s
// to read them, the rest to hash and sort them into buckets.
func loadStoredIDs(r rawConn, seed maphash.Seed) (*storedIDs, error) {
	var n int64
	if err := r.rows(`SELECT count(*) FROM events`, func(v []driver.Value) error {
		n = v[0].(int64)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count stored ids: %w", err)
	}
	all := make([]uint64, 0, n)
	if err := eachStoredID(r, func(id string) { all = append(all, maphash.String(seed, id)) }); err != nil {
		return nil, fmt.Errorf("read stored ids: %w", err)
	}
	// Partition by bucket (a counting sort on the top bits), then sort each
	// bucket: appending to 65,536 buckets in turn took twice as long.
	const shift = 64 - idBucketBits
	start := make([]int, 1<<idBucketBits+1)
	for _, h := range all {
		start[h>>shift+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]uint64, len(all))
	next := slices.Clone(start[:len(start)-1])
	for _, h := range all {
		b := h >> shift
		sorted[next[b]] = h
		next[b]++
	}
	s := &storedIDs{buckets: make([][]uint64, 1<<idBucketBits)}
	for i := range s.buckets {
		b := sorted[start[i]:start[i+1]]
		slices.Sort(b)
		s.buckets[i] = slices.Clip(slices.Compact(b)) // a later insert copies the bucket out
	}
	return s, nil
}
