package lists

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// RunOutput is what one lists run produces: the entries of both lists in
// every state, and the records flagged for review.
type RunOutput struct {
	Entries []Entry
	Reviews []Review
}

// listOrder puts the dishonest list before the focus list, so a job that
// evaluates firms in USCC order can stream the dishonest entries first.
var listOrder = map[List]int{ListDishonest: 0, ListFocus: 1}

// Canonical is the run's outputs in canonical order: the entries' canonical
// lines by list (dishonest, then focus) and key, then the reviews' lines
// (the same encoding) by USCC, key, kind and event. Two runs, or two
// backends, agree exactly when these bytes do.
func (o RunOutput) Canonical() ([]byte, error) {
	var b []byte
	err := o.eachLine(func(line []byte) { b = append(b, line...) })
	return b, err
}

// Digest is the hex SHA-256 of Canonical, for the run record.
func (o RunOutput) Digest() (string, error) {
	h := sha256.New()
	if err := o.eachLine(func(line []byte) { h.Write(line) }); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (o RunOutput) eachLine(fn func(line []byte)) error {
	entries := slices.Clone(o.Entries)
	slices.SortFunc(entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(listOrder[a.List], listOrder[b.List]), strings.Compare(a.Key, b.Key))
	})
	reviews := slices.Clone(o.Reviews)
	slices.SortFunc(reviews, compareReviews)
	var w canonicalWriter
	for i := range entries {
		line, err := w.line(&entries[i])
		if err != nil {
			return fmt.Errorf("run output: %w", err)
		}
		fn(line)
	}
	for i := range reviews {
		line, err := w.line(&reviews[i])
		if err != nil {
			return fmt.Errorf("run output: %w", err)
		}
		fn(line)
	}
	return nil
}
