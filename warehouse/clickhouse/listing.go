package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// listingTypes is warehouse.ListingEventTypes as an SQL list.
var listingTypes = func() string {
	var b strings.Builder
	for i, t := range warehouse.ListingEventTypes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + string(t) + "'")
	}
	return b.String()
}()

// ListingRecords streams the listing rules' records of q's window per firm
// in USCC order, each firm's in (occurred_at, id) order, retracted ones
// left out. A licence.revoked
// stored before decision_no filled the link column has it from its data.
// FINAL: an event stored twice (a retried write) counts once.
func (s *Store) ListingRecords(ctx context.Context, q warehouse.ListingQuery, fn func(warehouse.FirmRecords) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("listing query: %w", err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT uscc, id, type, source, occurred_at, ref,
		if(type = 'licence.revoked' AND link = '', visitParamExtractString(data, 'decision_no'), link),
		result, severity, category
		FROM %s FINAL WHERE type IN (%s) AND occurred_at >= toDateTime(%d) AND occurred_at < toDateTime(%d) AND ingested_us <= %d
		  AND %s
		ORDER BY uscc, occurred_at, id`, s.table("events"), listingTypes, q.Since.Unix(), q.Cutoff.Unix(), q.Watermark.UnixMicro(),
		s.notRetracted(q.Watermark)))
	if err != nil {
		return fmt.Errorf("listing records: %w", err)
	}
	defer rows.Close()
	var cur warehouse.FirmRecords
	for rows.Next() {
		var r model.Record
		var typ, uscc string
		var at time.Time
		f := &r.Facets
		if err := rows.Scan(&uscc, &r.ID, &typ, &r.Source, &at, &f.Ref, &f.Link, &f.Result, &f.Severity, &f.Category); err != nil {
			return fmt.Errorf("listing records: %w", err)
		}
		r.Type, r.USCC, r.OccurredAt = model.EventType(typ), model.USCC(uscc), at
		if r.USCC != cur.USCC && cur.USCC != "" {
			if err := fn(cur); err != nil {
				return err
			}
			cur = warehouse.FirmRecords{}
		}
		cur.USCC = r.USCC
		cur.Records = append(cur.Records, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing records: %w", err)
	}
	if cur.USCC != "" {
		return fn(cur)
	}
	return nil
}

// FirmNames streams the firms registered as q knows them, in USCC order,
// with their latest name: registration and updates before the cutoff and
// ingested by the watermark, latest by (occurred_at, id).
func (s *Store) FirmNames(ctx context.Context, q warehouse.NameQuery, fn func(warehouse.FirmName) error) error {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT uscc,
		argMaxIf(visitParamExtractString(data, 'name'), (occurred_at, id), visitParamHas(data, 'name'))
		FROM %s FINAL WHERE type IN ('enterprise.registered', 'enterprise.updated') AND occurred_at < toDateTime(%d) AND ingested_us <= %d
		  AND %s
		GROUP BY uscc HAVING countIf(type = 'enterprise.registered') > 0 ORDER BY uscc`,
		s.table("events"), q.Cutoff.Unix(), q.Watermark.UnixMicro(), s.notRetracted(q.Watermark)))
	if err != nil {
		return fmt.Errorf("firm names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n warehouse.FirmName
		var uscc string
		if err := rows.Scan(&uscc, &n.Name); err != nil {
			return fmt.Errorf("firm names: %w", err)
		}
		n.USCC = model.USCC(uscc)
		if err := fn(n); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("firm names: %w", err)
	}
	return nil
}
