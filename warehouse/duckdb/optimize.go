package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Events appended after the sorted prefix (events_layout) are scanned by
// every lookup by USCC; Optimize sorts the table again once they pass both
// bounds: a million rows cost a lookup about 1 ms, and rewriting more often
// than every quarter of the table would dominate a bulk import.
const (
	unsortedRowsMin  = 1_000_000
	unsortedShareMin = 0.25
)

// Optimize rewrites the events table in ukey order when enough unsorted
// rows have been appended (see the constants), so lookups by USCC stay
// fast; otherwise it does nothing. It holds the write lock meanwhile
// (30M events: about a minute), so writers wait and readers go on.
func (s *Store) Optimize(ctx context.Context) error {
	s.writeM.Lock()
	defer s.writeM.Unlock()
	var total, sorted int64
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events), (SELECT coalesce(max(sorted_rows), 0) FROM events_layout)`).
		Scan(&total, &sorted); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	unsorted := total - sorted
	if unsorted < unsortedRowsMin || float64(unsorted) < unsortedShareMin*float64(sorted) {
		return nil
	}
	start := time.Now()
	s.log.Info("sorting events by USCC for fast credit-file reads", "events", total, "unsorted", unsorted)
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	defer c.Close()
	// The rewritten table gets the comments and the view on it back as they
	// are now, so this code keeps no second copy of the migrations' DDL.
	create, keep, err := eventsDDL(ctx, c)
	if err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	stmts := append([]string{
		`BEGIN TRANSACTION`,
		`DROP VIEW enterprises`,
		create,
		`INSERT INTO events_sorted SELECT * FROM events ORDER BY ukey, uscc, occurred_at, id`,
		`DROP TABLE events`,
		`ALTER TABLE events_sorted RENAME TO events`,
	}, keep...)
	stmts = append(stmts, `DELETE FROM events_layout`, `INSERT INTO events_layout SELECT count(*) FROM events`, `COMMIT`)
	for _, q := range stmts {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
			return fmt.Errorf("optimize: %w", err)
		}
	}
	s.log.Info("events sorted", "events", total, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// eventsDDL is the events table's CREATE statement for events_sorted, and
// the statements that restore its comments and the enterprises view.
func eventsDDL(ctx context.Context, c *sql.Conn) (create string, restore []string, err error) {
	var table, comment sql.NullString
	if err := c.QueryRowContext(ctx, `SELECT sql, comment FROM duckdb_tables() WHERE table_name = 'events'`).Scan(&table, &comment); err != nil {
		return "", nil, fmt.Errorf("events table: %w", err)
	}
	create, ok := strings.CutPrefix(strings.TrimSpace(table.String), "CREATE TABLE events(")
	if !ok {
		return "", nil, fmt.Errorf("events table: unexpected DDL %.60q", table.String)
	}
	create = "CREATE TABLE events_sorted(" + strings.TrimSuffix(create, ";")
	out, err := eventsDependents(ctx, c, comment.String)
	return create, out, err
}

func eventsDependents(ctx context.Context, c *sql.Conn, tableComment string) ([]string, error) {
	var out []string
	var view string
	if err := c.QueryRowContext(ctx, `SELECT sql FROM duckdb_views() WHERE view_name = 'enterprises' AND NOT internal`).Scan(&view); err != nil {
		return nil, fmt.Errorf("enterprises view: %w", err)
	}
	out = append(out, strings.TrimSuffix(strings.TrimSpace(view), ";"))
	if tableComment != "" {
		out = append(out, `COMMENT ON TABLE events IS `+quote(tableComment))
	}
	rows, err := c.QueryContext(ctx, `SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'events' AND comment IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("events column comments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var col, comment string
		if err := rows.Scan(&col, &comment); err != nil {
			return nil, err
		}
		out = append(out, `COMMENT ON COLUMN events.`+col+` IS `+quote(comment))
	}
	return out, rows.Err()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
