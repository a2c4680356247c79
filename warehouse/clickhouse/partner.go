package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/warehouse"
)

// AppendPartnerRecords stores partner records as one insert.
func (s *Store) AppendPartnerRecords(ctx context.Context, recs []warehouse.PartnerRecord) error {
	if len(recs) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("partner_records")+` (partner, kind, key, value, at_us)`)
	if err != nil {
		return fmt.Errorf("store partner records: %w", err)
	}
	defer batch.Abort()
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			return err
		}
		if err := batch.Append(r.Partner, string(r.Kind), r.Key, r.Value, micros(r.At)); err != nil {
			return fmt.Errorf("store partner records: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store partner records: %w", err)
	}
	return nil
}

// PartnerRecords reads partner records in time order (ties by key). A
// record stored twice (a retried insert not merged yet) is read once.
func (s *Store) PartnerRecords(ctx context.Context, q warehouse.PartnerQuery) ([]warehouse.PartnerRecord, error) {
	where, args := []string{"1"}, []any{}
	if q.Partner != "" {
		where, args = append(where, "partner = ?"), append(args, q.Partner)
	}
	if len(q.Kinds) > 0 {
		kinds := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			kinds[i] = "'" + strings.ReplaceAll(string(k), "'", "") + "'"
		}
		where = append(where, "kind IN ("+strings.Join(kinds, ", ")+")")
	}
	query := `SELECT DISTINCT partner, kind, key, value, at_us FROM ` + s.table("partner_records") + ` WHERE ` + strings.Join(where, " AND ")
	if q.Latest {
		// 18.16 has no window functions: the greatest (at_us, key) per partner and kind.
		query = `SELECT partner, kind, tupleElement(m, 2) AS key, tupleElement(m, 3) AS value, tupleElement(m, 1) AS at_us FROM (
			SELECT partner, kind, max((at_us, key, value)) AS m FROM ` + s.table("partner_records") + ` WHERE ` + strings.Join(where, " AND ") + `
			GROUP BY partner, kind)`
	}
	rows, err := s.conn.Query(ctx, query+` ORDER BY at_us, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("read partner records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.PartnerRecord
	for rows.Next() {
		var r warehouse.PartnerRecord
		var kind string
		var at uint64
		if err := rows.Scan(&r.Partner, &kind, &r.Key, &r.Value, &at); err != nil {
			return nil, fmt.Errorf("read partner records: %w", err)
		}
		r.Kind, r.At = warehouse.PartnerKind(kind), fromMicros(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
