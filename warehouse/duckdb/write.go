package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Staging tables live on the write connection; a batch is appended there at
// appender speed, then moved into events with one anti-joined INSERT inside a
// transaction, so a batch is stored whole or not at all.
const stagingDDL = `
SET preserve_insertion_order = false;
CREATE TEMP TABLE IF NOT EXISTS staging_events AS SELECT * FROM events LIMIT 0;
CREATE TEMP TABLE IF NOT EXISTS staging_dead_letters AS SELECT * FROM dead_letters LIMIT 0`

func (s *Store) writeConn(ctx context.Context) (*sql.Conn, error) {
	if s.wconn != nil {
		return s.wconn, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("write connection: %w", err)
	}
	for _, stmt := range warehouse.SplitStatements(stagingDDL) {
		if _, err := c.ExecContext(ctx, stmt); err != nil {
			c.Close()
			return nil, fmt.Errorf("create staging tables: %w", err)
		}
	}
	s.wconn = c
	return c, nil
}

// Write stores a batch; see warehouse.Store.
func (s *Store) Write(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	p := warehouse.Prepare(b)
	res := warehouse.WriteResult{Duplicates: p.Duplicates, Conflicts: p.Conflicts}
	s.writeM.Lock()
	defer s.writeM.Unlock()
	c, err := s.writeConn(ctx)
	if err != nil {
		return res, err
	}
	for _, t := range []string{"staging_events", "staging_dead_letters"} {
		if _, err := c.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return res, fmt.Errorf("clear %s: %w", t, err)
		}
	}
	if err := stageEvents(c, p.Items); err != nil {
		return res, err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin write: %w", err)
	}
	defer tx.Rollback()

	dups, conflicts, err := classifyStored(ctx, tx, p.Items)
	if err != nil {
		return res, err
	}
	res.Duplicates += dups
	res.Conflicts += len(conflicts)
	for _, dl := range conflicts {
		p.AddDeadLetter(dl)
	}
	insert := `INSERT INTO events SELECT * FROM staging_events`
	if dups+len(conflicts) > 0 {
		insert += ` s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = s.id)`
	}
	n, err := execCount(ctx, tx, insert)
	if err != nil {
		return res, fmt.Errorf("insert events: %w", err)
	}
	res.Stored = int(n)

	if len(p.DeadLetters) > 0 {
		if err := stageDeadLetters(c, p.DeadLetters); err != nil {
			return res, err
		}
		n, err := execCount(ctx, tx, `INSERT INTO dead_letters
			SELECT DISTINCT ON (key) * FROM staging_dead_letters s
			WHERE NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.key = s.key)`)
		if err != nil {
			return res, fmt.Errorf("insert dead letters: %w", err)
		}
		res.DeadLettered = int(n)
		res.DeadLetterRepeats = len(p.DeadLetters) - int(n)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit write: %w", err)
	}
	return res, nil
}

// classifyStored compares staged items with stored events of the same id:
// the same hash is a duplicate, another hash a conflict.
func classifyStored(ctx context.Context, tx *sql.Tx, items []warehouse.Item) (int, []model.DeadLetter, error) {
	rows, err := tx.QueryContext(ctx, `SELECT s.id, s.hash = e.hash FROM staging_events s JOIN events e ON e.id = s.id`)
	if err != nil {
		return 0, nil, fmt.Errorf("find stored ids: %w", err)
	}
	defer rows.Close()
	conflicting := map[string]bool{}
	dups := 0
	for rows.Next() {
		var id string
		var same bool
		if err := rows.Scan(&id, &same); err != nil {
			return 0, nil, fmt.Errorf("find stored ids: %w", err)
		}
		if same {
			dups++
		} else {
			conflicting[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("find stored ids: %w", err)
	}
	var letters []model.DeadLetter
	if len(conflicting) > 0 {
		for _, it := range items {
			if conflicting[it.Record.ID] {
				letters = append(letters, warehouse.ConflictLetter(it))
			}
		}
	}
	return dups, letters, nil
}

func execCount(ctx context.Context, tx *sql.Tx, query string) (int64, error) {
	r, err := tx.ExecContext(ctx, query)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func withAppender(c *sql.Conn, table string, fill func(*duckdb.Appender) error) error {
	return c.Raw(func(dc any) error {
		a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", table)
		if err != nil {
			return fmt.Errorf("appender %s: %w", table, err)
		}
		if err := fill(a); err != nil {
			a.Close()
			return fmt.Errorf("append %s: %w", table, err)
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush %s: %w", table, err)
		}
		return nil
	})
}

func stageEvents(c *sql.Conn, items []warehouse.Item) error {
	now := time.Now()
	return withAppender(c, "staging_events", func(a *duckdb.Appender) error {
		for _, it := range items {
			r := it.Record
			if err := a.AppendRow(r.ID, string(r.Type), string(r.USCC), r.Source, r.OccurredAt, optTime(r.ReportedAt),
				r.Facets.Ref, r.Facets.Link, r.Facets.Result, r.Facets.Severity, r.Facets.Category,
				optFloat(r.Facets.Amount), optDate(r.Facets.Due), string(r.Data), r.Hash, it.Origin.String(), now); err != nil {
				return err
			}
		}
		return nil
	})
}

func stageDeadLetters(c *sql.Conn, letters []warehouse.KeyedDeadLetter) error {
	return withAppender(c, "staging_dead_letters", func(a *duckdb.Appender) error {
		for _, dl := range letters {
			raw := dl.Raw
			if raw == nil {
				raw = []byte{}
			}
			if err := a.AppendRow(dl.Key, dl.Origin.Kind, dl.Origin.Name, dl.Origin.Position, string(dl.Reason),
				dl.Detail, dl.EventID, raw, dl.Received); err != nil {
				return err
			}
		}
		return nil
	})
}

func optTime(t *time.Time) driver.Value {
	if t == nil {
		return nil
	}
	return *t
}

func optFloat(f *float64) driver.Value {
	if f == nil {
		return nil
	}
	return *f
}

func optDate(d string) driver.Value {
	if d == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return nil
	}
	return t
}
