package duckdb

import (
	"database/sql/driver"
	"fmt"
	"hash/maphash"
)

// storedIDs holds a 64-bit hash of every event id in the events table, so a
// write can tell ids that are certainly new from ids that may be stored
// without joining its batch to the whole table. That join scans every stored
// id and grows with the warehouse: about 0.05 s per batch at 1M events and
// 0.5 s at 30M. A hash that is found is only a candidate: the write then
// checks its batch against the table, as it did for every batch before.
//
// The set must hold every stored id; holding more is harmless. It is loaded
// when the write connection opens and grows after each committed write, so
// events may only be inserted through Store.Write. It costs about 14 bytes
// per stored event (30M events: about 420 MB); it holds no pointers, so the
// garbage collector does not scan it.
type storedIDs struct {
	hashes map[uint64]struct{} // maphash.String(Store.idSeed, id)
}

func (s *storedIDs) has(h uint64) bool {
	_, ok := s.hashes[h]
	return ok
}

func (s *storedIDs) add(hs []uint64) {
	for _, h := range hs {
		s.hashes[h] = struct{}{}
	}
}

// loadStoredIDs reads every stored event id.
func loadStoredIDs(r rawConn, seed maphash.Seed) (*storedIDs, error) {
	var n int64
	if err := r.rows(`SELECT count(*) FROM events`, func(v []driver.Value) error {
		n = v[0].(int64)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count stored ids: %w", err)
	}
	s := &storedIDs{hashes: make(map[uint64]struct{}, n)}
	if err := eachStoredID(r, func(id string) { s.hashes[maphash.String(seed, id)] = struct{}{} }); err != nil {
		return nil, fmt.Errorf("read stored ids: %w", err)
	}
	return s, nil
}
