package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/warehouse"
)

// AppendKeyRecord stores one API key record.
func (s *Store) AppendKeyRecord(ctx context.Context, r warehouse.KeyRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var expires any
	if !r.ExpiresAt.IsZero() {
		expires = r.ExpiresAt
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Name, string(r.Action), r.ID, r.Hash, r.Scope, r.Source, expires, r.At)
	if err != nil {
		return fmt.Errorf("store key record %s: %w", r.Name, err)
	}
	return nil
}

// KeyRecords reads every API key record.
func (s *Store) KeyRecords(ctx context.Context) ([]warehouse.KeyRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, action, key_id, hash, scope, source, expires_at, recorded_at FROM api_keys ORDER BY recorded_at, name`)
	if err != nil {
		return nil, fmt.Errorf("read key records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.KeyRecord
	for rows.Next() {
		var r warehouse.KeyRecord
		var action string
		var expires sql.NullTime
		if err := rows.Scan(&r.Name, &action, &r.ID, &r.Hash, &r.Scope, &r.Source, &expires, &r.At); err != nil {
			return nil, fmt.Errorf("read key records: %w", err)
		}
		r.Action, r.ExpiresAt = warehouse.KeyAction(action), expires.Time
		out = append(out, r)
	}
	return out, rows.Err()
}

// AppendAudit stores audit records in one statement.
func (s *Store) AppendAudit(ctx context.Context, recs []warehouse.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO api_audit SELECT * FROM (VALUES `)
	args := make([]any, 0, len(recs)*11)
	for i, r := range recs {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?, ?::INTEGER, ?::BIGINT, ?, ?::BIGINT)`)
		args = append(args, r.ID, r.At, r.Key, r.Scope, r.Method, r.Route, r.Params, r.Status, r.Items, r.Detail, r.DurationMS)
	}
	// Not already stored: a flush retried after a lost answer stores a call once.
	q.WriteString(`) v WHERE NOT EXISTS (SELECT 1 FROM api_audit a WHERE a.id = v.col0)`)
	if _, err := s.db.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("store audit records: %w", err)
	}
	return nil
}

// Audit reads audit records, oldest first.
func (s *Store) Audit(ctx context.Context, q warehouse.AuditQuery) ([]warehouse.AuditRecord, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	query := `SELECT id, at_time, key_name, scope, method, route, params, status, items, detail, duration_ms FROM api_audit
		WHERE (?::TIMESTAMPTZ IS NULL OR at_time >= ?) AND (?::TIMESTAMPTZ IS NULL OR at_time < ?)
		  AND (? = '' OR key_name = ?) AND (? = '' OR scope = ?) AND (? = '' OR route = ?)
		ORDER BY at_time, id`
	args := []any{optZero(q.Since), optZero(q.Since), optZero(q.Until), optZero(q.Until),
		q.Key, q.Key, q.Scope, q.Scope, q.Route, q.Route}
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []warehouse.AuditRecord{}
	for rows.Next() {
		var r warehouse.AuditRecord
		if err := rows.Scan(&r.ID, &r.At, &r.Key, &r.Scope, &r.Method, &r.Route, &r.Params, &r.Status, &r.Items,
			&r.Detail, &r.DurationMS); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
