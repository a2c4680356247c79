package duckdb

import (
	"hash/maphash"
)

// RowGroupRows is rowGroupRows, for the package's external tests.
const RowGroupRows = rowGroupRows

// RememberID adds id's hash to s's stored ids as if it were stored. s must
// have written before (the ids load with the first write).
func RememberID(s *Store, id string) {
	s.ids.add([]uint64{maphash.String(s.idSeed, id)})
}
