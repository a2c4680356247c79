package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/warehouse"
)

// AppendPartnerRecords stores partner records in one statement.
func (s *Store) AppendPartnerRecords(ctx context.Context, recs []warehouse.PartnerRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO partner_records VALUES `)
	args := make([]any, 0, len(recs)*5)
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return err
		}
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, r.Partner, string(r.Kind), r.Key, r.Value, r.At)
	}
	if _, err := s.db.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("store partner records: %w", err)
	}
	return nil
}

// PartnerRecords reads partner records in time order (ties by key); a
// record stored twice (a retried insert) is read once.
func (s *Store) PartnerRecords(ctx context.Context, q warehouse.PartnerQuery) ([]warehouse.PartnerRecord, error) {
	where, args := []string{"true"}, []any{}
	if q.Partner != "" {
		where, args = append(where, "partner = ?"), append(args, q.Partner)
	}
	if len(q.Kinds) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Kinds)), ", ")
		where = append(where, "kind IN ("+marks+")")
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
	}
	query := `SELECT DISTINCT partner, kind, key, value, recorded_at FROM partner_records WHERE ` + strings.Join(where, " AND ")
	if q.Latest {
		query += ` QUALIFY row_number() OVER (PARTITION BY partner, kind ORDER BY recorded_at DESC, key DESC) = 1`
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY recorded_at, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("read partner records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.PartnerRecord
	for rows.Next() {
		var r warehouse.PartnerRecord
		var kind string
		if err := rows.Scan(&r.Partner, &kind, &r.Key, &r.Value, &r.At); err != nil {
			return nil, fmt.Errorf("read partner records: %w", err)
		}
		r.Kind = warehouse.PartnerKind(kind)
		out = append(out, r)
	}
	return out, rows.Err()
}
