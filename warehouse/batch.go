package warehouse

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Prepared is a batch after the checks every backend does in Go: the first
// item of each id (later exact copies counted as duplicates, later different
// ones turned into conflict dead letters), and dead letters with their keys.
type Prepared struct {
	Items       []Item
	DeadLetters []KeyedDeadLetter
	Duplicates  int
	Conflicts   int
}

// KeyedDeadLetter is a dead letter with its idempotency key.
type KeyedDeadLetter struct {
	model.DeadLetter
	Key string
}

// Prepare dedupes a batch within itself. Backends then only have to compare
// the surviving items with what they already store. A batch without repeated
// ids keeps its items slice: Prepared.Items may share b.Items.
func Prepare(b Batch) Prepared {
	p := Prepared{Items: b.Items}
	first := make(map[string]uint64, len(b.Items))
	copied := false
	for i, it := range b.Items {
		h, seen := first[it.Record.ID]
		if !seen {
			first[it.Record.ID] = it.Record.Hash
			if copied {
				p.Items = append(p.Items, it)
			}
			continue
		}
		if !copied { // the first repeat: from here on keep only the first of each id
			p.Items, copied = append(make([]Item, 0, len(b.Items)), b.Items[:i]...), true
		}
		if h == it.Record.Hash {
			p.Duplicates++
		} else {
			p.Conflicts++
			p.AddDeadLetter(ConflictLetter(it))
		}
	}
	for _, dl := range b.DeadLetters {
		p.AddDeadLetter(dl)
	}
	return p
}

// AddDeadLetter keys a dead letter and adds it.
func (p *Prepared) AddDeadLetter(dl model.DeadLetter) {
	if dl.Received.IsZero() {
		dl.Received = time.Now()
	}
	p.DeadLetters = append(p.DeadLetters, KeyedDeadLetter{DeadLetter: dl, Key: DeadLetterKey(dl)})
}

// ConflictLetter is the dead letter for an item whose id is already taken by
// a different event.
func ConflictLetter(it Item) model.DeadLetter {
	return model.DeadLetter{
		Origin:  it.Origin,
		Reason:  model.DeadLetterConflict,
		Detail:  fmt.Sprintf("event id %q is already stored with different content; send corrections as new events", it.Record.ID),
		Raw:     it.Raw,
		EventID: it.Record.ID,
		Source:  it.Record.Source,
	}
}

// DeadLetterKey identifies a dead letter by its content: the reason and the
// raw bytes, not where they came from, so the same bad input imported from a
// copy of a file, re-imported or redelivered is one dead letter (with one
// more origin). It is the first 16 bytes of SHA-256(reason, 0, raw) in hex;
// migration 010 of both backends computes the same in SQL.
func DeadLetterKey(dl model.DeadLetter) string {
	h := sha256.New()
	h.Write([]byte(dl.Reason))
	h.Write([]byte{0})
	h.Write(dl.Raw)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
