package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// DeadLetters lists the dead letters f selects, oldest first, each with
// every origin it was seen at.
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
		where, args = append(where, "received_at >= ?"), append(args, f.Since)
	}
	q := `SELECT key, reason, detail, event_id, source, raw, received_at FROM dead_letters`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY received_at, key"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer rows.Close()
	letters := []warehouse.StoredDeadLetter{}
	for rows.Next() {
		var dl warehouse.StoredDeadLetter
		var reason string
		var raw []byte
		if err := rows.Scan(&dl.Key, &reason, &dl.Detail, &dl.EventID, &dl.Source, &raw, &dl.Received); err != nil {
			return nil, fmt.Errorf("read dead letters: %w", err)
		}
		dl.Reason, dl.Raw = model.DeadLetterReason(reason), string(raw)
		letters = append(letters, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	origins, err := s.deadLetterOrigins(ctx, letters)
	if err != nil {
		return nil, err
	}
	warehouse.GroupOrigins(letters, origins)
	return letters, nil
}

func (s *Store) deadLetterOrigins(ctx context.Context, letters []warehouse.StoredDeadLetter) (map[string][]warehouse.DeadLetterOrigin, error) {
	out := map[string][]warehouse.DeadLetterOrigin{}
	if len(letters) == 0 {
		return out, nil
	}
	keys := make([]string, len(letters))
	for i, dl := range letters {
		keys[i] = dl.Key
	}
	// A list parameter keeps the query one statement whatever the number of keys.
	rows, err := s.db.QueryContext(ctx, `SELECT key, origin_kind, origin_name, origin_position, received_at
		FROM dead_letter_origins WHERE list_contains(?::VARCHAR[], key)`, keys)
	if err != nil {
		return nil, fmt.Errorf("read dead-letter origins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var o warehouse.DeadLetterOrigin
		if err := rows.Scan(&key, &o.Kind, &o.Name, &o.Position, &o.Received); err != nil {
			return nil, fmt.Errorf("read dead-letter origins: %w", err)
		}
		out[key] = append(out[key], o)
	}
	return out, rows.Err()
}
