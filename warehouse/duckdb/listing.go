package duckdb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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

// listingSQL reads the listing records of a window, in USCC order only:
// sorting a million records by (uscc, occurred_at, id) cost DuckDB more
// than sorting each firm's few records here.
const listingSQL = `WITH ` + retractedCTE + `
	SELECT uscc, id, type, source, occurred_at, ref,
	CASE WHEN type = 'licence.revoked' AND link = '' THEN coalesce(data->>'decision_no', '') ELSE link END AS link,
	result, severity, category
	FROM events WHERE type IN (` + "%s" + `) AND occurred_at >= $since AND occurred_at < $cutoff AND ingested_at <= $wm
	  AND ` + notRetracted + `
	ORDER BY uscc`

// ListingRecords streams the listing rules' records of q's window per firm
// in USCC order, each firm's in (occurred_at, id) order, retracted ones
// left out. A licence.revoked stored before decision_no filled the link
// column has it from its data.
func (s *Store) ListingRecords(ctx context.Context, q warehouse.ListingQuery, fn func(warehouse.FirmRecords) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("listing query: %w", err)
	}
	var cur warehouse.FirmRecords
	flush := func() error {
		slices.SortFunc(cur.Records, func(a, b model.Record) int {
			return cmp.Or(a.OccurredAt.Compare(b.OccurredAt), strings.Compare(a.ID, b.ID))
		})
		return fn(cur)
	}
	add := func(r model.Record) error {
		if r.USCC != cur.USCC && cur.USCC != "" {
			if err := flush(); err != nil {
				return err
			}
			cur = warehouse.FirmRecords{}
		}
		cur.USCC = r.USCC
		cur.Records = append(cur.Records, r)
		return nil
	}
	args := []any{sql.Named("since", q.Since), sql.Named("cutoff", q.Cutoff), sql.Named("wm", q.Watermark)}
	if err := s.listingRows(ctx, fmt.Sprintf(listingSQL, listingTypes), args, add); err != nil {
		return fmt.Errorf("listing records: %w", err)
	}
	if cur.USCC != "" {
		return flush()
	}
	return nil
}

// FirmNames streams the firms registered as q knows them, in USCC order,
// with their latest name: registration and updates before the cutoff and
// ingested by the watermark, latest by (occurred_at, id).
func (s *Store) FirmNames(ctx context.Context, q warehouse.NameQuery, fn func(warehouse.FirmName) error) error {
	rows, err := s.db.QueryContext(ctx, `WITH `+retractedCTE+`
		SELECT uscc, arg_max(data->>'name', (occurred_at, id)) FILTER (WHERE data->>'name' IS NOT NULL)
		FROM events WHERE type IN ('enterprise.registered', 'enterprise.updated') AND occurred_at < $cutoff AND ingested_at <= $wm
		  AND `+notRetracted+`
		GROUP BY uscc HAVING count(*) FILTER (WHERE type = 'enterprise.registered') > 0 ORDER BY uscc`,
		sql.Named("cutoff", q.Cutoff), sql.Named("wm", q.Watermark))
	if err != nil {
		return fmt.Errorf("firm names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uscc string
		var name sql.NullString
		if err := rows.Scan(&uscc, &name); err != nil {
			return fmt.Errorf("firm names: %w", err)
		}
		if err := fn(warehouse.FirmName{USCC: model.USCC(uscc), Name: name.String}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("firm names: %w", err)
	}
	return nil
}
