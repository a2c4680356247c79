package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// DeadLetters lists the dead letters f selects, oldest first, each with
// every origin it was seen at. FINAL counts each key once (see the package doc).
func (s *Store) DeadLetters(ctx context.Context, f warehouse.DeadLetterFilter) ([]warehouse.StoredDeadLetter, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.Reason != "" {
		where, args = append(where, "reason = ?"), append(args, string(f.Reason))
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, f.Source)
	}
	if !f.Since.IsZero() {
		where = append(where, fmt.Sprintf("received_at >= toDateTime(%d)", f.Since.Unix()))
	}
	q := fmt.Sprintf(`SELECT key, toString(reason), detail, event_id, toString(source), raw, received_at FROM %s FINAL`, s.table("dead_letters"))
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY received_at, key"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer rows.Close()
	letters := []warehouse.StoredDeadLetter{}
	for rows.Next() {
		var dl warehouse.StoredDeadLetter
		var reason string
		if err := rows.Scan(&dl.Key, &reason, &dl.Detail, &dl.EventID, &dl.Source, &dl.Raw, &dl.Received); err != nil {
			return nil, fmt.Errorf("read dead letters: %w", err)
		}
		dl.Reason = model.DeadLetterReason(reason)
		letters = append(letters, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	origins := map[string][]warehouse.DeadLetterOrigin{}
	if len(letters) > 0 {
		keys := make([]string, len(letters))
		for i, dl := range letters {
			keys[i] = dl.Key
		}
		err := s.originsOf(ctx, keys, func(key string, o warehouse.DeadLetterOrigin) { origins[key] = append(origins[key], o) })
		if err != nil {
			return nil, fmt.Errorf("read dead-letter origins: %w", err)
		}
	}
	warehouse.GroupOrigins(letters, origins)
	return letters, nil
}
