package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

// AppendKeyRecord stores one API key record.
func (s *Store) AppendKeyRecord(ctx context.Context, r warehouse.KeyRecord) error {
	if err := r.Validate(); err != nil {
		return err
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("api_keys")+
		` (name, action, key_id, hash, scope, source, expires_us, at_us)`)
	if err != nil {
		return fmt.Errorf("store key record %s: %w", r.Name, err)
	}
	defer batch.Abort()
	if err := batch.Append(r.Name, string(r.Action), r.ID, r.Hash, r.Scope, r.Source, micros(r.ExpiresAt), micros(r.At)); err != nil {
		return fmt.Errorf("store key record %s: %w", r.Name, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store key record %s: %w", r.Name, err)
	}
	return nil
}

// KeyRecords reads every API key record. A record stored twice (a retried
// insert not merged yet) resolves the same: ResolveKeys ignores repeats.
func (s *Store) KeyRecords(ctx context.Context) ([]warehouse.KeyRecord, error) {
	rows, err := s.conn.Query(ctx, `SELECT name, action, key_id, hash, scope, source, expires_us, at_us FROM `+
		s.table("api_keys")+` ORDER BY at_us, name`)
	if err != nil {
		return nil, fmt.Errorf("read key records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.KeyRecord
	for rows.Next() {
		var r warehouse.KeyRecord
		var action string
		var expires, at uint64
		if err := rows.Scan(&r.Name, &action, &r.ID, &r.Hash, &r.Scope, &r.Source, &expires, &at); err != nil {
			return nil, fmt.Errorf("read key records: %w", err)
		}
		r.Action, r.ExpiresAt, r.At = warehouse.KeyAction(action), fromMicros(expires), fromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// AppendAudit stores audit records as one insert.
func (s *Store) AppendAudit(ctx context.Context, recs []warehouse.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("api_audit")+
		` (id, at_us, at, key_name, scope, method, route, params, status, items, detail, duration_ms)`)
	if err != nil {
		return fmt.Errorf("store audit records: %w", err)
	}
	defer batch.Abort()
	for _, r := range recs {
		if err := batch.Append(r.ID, micros(r.At), r.At, r.Key, r.Scope, r.Method, r.Route, r.Params, uint16(r.Status),
			int64(r.Items), r.Detail, r.DurationMS); err != nil {
			return fmt.Errorf("store audit records: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store audit records: %w", err)
	}
	return nil
}

// Audit reads audit records, oldest first, each id once.
func (s *Store) Audit(ctx context.Context, q warehouse.AuditQuery) ([]warehouse.AuditRecord, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	until := uint64(1<<63 - 1)
	if !q.Until.IsZero() {
		until = micros(q.Until)
	}
	query := `SELECT id, at_us, key_name, scope, method, route, params, status, items, detail, duration_ms
		FROM ` + s.table("api_audit") + ` FINAL
		WHERE at_us >= ? AND at_us < ? AND (? = '' OR key_name = ?) AND (? = '' OR scope = ?) AND (? = '' OR route = ?)
		ORDER BY at_us, id`
	args := []any{micros(q.Since), until, q.Key, q.Key, q.Scope, q.Scope, q.Route, q.Route}
	if q.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []warehouse.AuditRecord{}
	for rows.Next() {
		var r warehouse.AuditRecord
		var at uint64
		var status uint16
		var items int64
		if err := rows.Scan(&r.ID, &at, &r.Key, &r.Scope, &r.Method, &r.Route, &r.Params, &status, &items,
			&r.Detail, &r.DurationMS); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		r.At, r.Status, r.Items = time.UnixMicro(int64(at)), int(status), int(items)
		out = append(out, r)
	}
	return out, rows.Err()
}
