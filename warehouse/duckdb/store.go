// Package duckdb is the embedded warehouse backend: one DuckDB file under
// ./data/ that one process opens for writing.
package duckdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/warehouse"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the DuckDB warehouse.
type Store struct {
	db   *sql.DB
	conn *duckdb.Connector
	log  *slog.Logger
	path string
	// memoryLimit is the memory_limit the path set, "" for DuckDB's default.
	memoryLimit string
	writeM      sync.Mutex // one Write at a time: it owns the staging tables
	wconn       *sql.Conn  // the connection whose temp tables stage writes
	ids         *storedIDs // loaded with wconn; guarded by writeM
	idSeed      maphash.Seed
	lastStamp   time.Time // ingested_at of the last write; guarded by writeM
	// Clock stamps ingested_at and planning records (nil: time.Now); tests
	// set it so that two warehouses stamp the same input alike.
	Clock func() time.Time
}

var _ warehouse.Store = (*Store)(nil)

// Open opens the DuckDB file at path, creating it and its directory when
// missing; ":memory:" or "" opens an in-memory warehouse. A file held by
// another process gives an error wrapping warehouse.ErrInUse.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	return OpenWith(ctx, path, warehouse.OpenModeCreate, log)
}

// OpenWith is Open as mode says: with warehouse.OpenModeExisting a missing
// file is an error wrapping warehouse.ErrNoWarehouse, and nothing is created.
func OpenWith(ctx context.Context, path string, mode warehouse.OpenMode, log *slog.Logger) (*Store, error) {
	path, dsn, memoryLimit, err := connString(path)
	if err != nil {
		return nil, err
	}
	if dsn != "" {
		switch _, err := os.Stat(path); {
		case mode == warehouse.OpenModeExisting && errors.Is(err, fs.ErrNotExist):
			where := ""
			if abs, err := filepath.Abs(path); err == nil && abs != path {
				where = " (" + abs + ")"
			}
			return nil, fmt.Errorf("%w: %s%s does not exist (create it with `qcredit migrate` or `qcredit import`, or point --warehouse or QCREDIT_WAREHOUSE at an existing one)",
				warehouse.ErrNoWarehouse, path, where)
		case mode == warehouse.OpenModeCreate:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("create warehouse directory: %w", err)
			}
		}
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("%w: %s is open in another qcredit process (stop it, or send the work to its API): %v", warehouse.ErrInUse, path, err)
		}
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	s := &Store{db: db, conn: connector, log: log, path: path, memoryLimit: memoryLimit, idSeed: maphash.MakeSeed()}
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	return s, nil
}

// connString splits a warehouse path into the file and DuckDB's connection
// string, and returns the memory_limit it sets, if any: DuckDB settings may
// follow a '?' (data/x.duckdb?memory_limit=4GB&threads=2). ":memory:" or ""
// is an in-memory warehouse.
func connString(path string) (file, dsn, memoryLimit string, err error) {
	file, query, _ := strings.Cut(path, "?")
	if file == "" || file == ":memory:" {
		return file, "", "", nil
	}
	settings, err := url.ParseQuery(query)
	if err != nil {
		return file, "", "", fmt.Errorf("duckdb settings in %q: %w", path, err)
	}
	return file, path, settings.Get("memory_limit"), nil
}

// ReleaseMemory gives back the memory DuckDB holds for table blocks it has
// read: it keeps them cached up to memory_limit (by default 80 % of the
// machine's memory). Loading serve's read model from the 30M-event bench
// city left 1.46 GB of event blocks cached (RSS 2.6 GB; 0.15 GB after
// this). It lowers the limit for a moment, so a query running meanwhile
// could fail for want of memory: call it only while nothing else uses the
// warehouse (serve does, once its read model is loaded, before it starts
// the scheduler and the API).
func (s *Store) ReleaseMemory(ctx context.Context) error {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("release memory: %w", err)
	}
	defer c.Close()
	// DuckDB evicts cached blocks down to a lowered limit; the limit is
	// then put back as the path set it, or to what it was. (RESET
	// memory_limit shows DuckDB's default again but leaves the buffer
	// manager at the lowered limit: serve's next large query failed for
	// want of memory.) At 1 MB the statement putting it back could fail
	// for want of memory itself.
	limit := s.memoryLimit
	if limit == "" {
		if err := c.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&limit); err != nil {
			return fmt.Errorf("release memory: read the memory limit: %w", err)
		}
	}
	_, err = c.ExecContext(ctx, `SET memory_limit = '64MB'`)
	if _, rerr := c.ExecContext(ctx, `SET memory_limit = `+quote(limit)); rerr != nil {
		return errors.Join(err, fmt.Errorf("release memory: restore the memory limit %s: %w", limit, rerr))
	}
	if err != nil {
		return fmt.Errorf("release memory: %w", err)
	}
	return nil
}

func isLockError(err error) bool {
	return strings.Contains(err.Error(), "Could not set lock") || strings.Contains(err.Error(), "Conflicting lock")
}

// DB exposes the database for backend-specific queries inside this module.
// Events are written through Write only: it remembers the ids it stores.
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close checkpoints and closes the file.
func (s *Store) Close() error {
	var errs []error
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	errs = append(errs, s.db.Close(), s.conn.Close())
	return errors.Join(errs...)
}

// Migrate applies the embedded migrations not yet recorded in schema_migrations.
func (s *Store) Migrate(ctx context.Context) ([]string, error) { return s.MigrateTo(ctx, math.MaxInt) }

// MigrateTo applies the pending migrations up to version last (tests of a
// migration start from the version before it).
func (s *Store) MigrateTo(ctx context.Context, last int) ([]string, error) {
	migrations, err := warehouse.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range migrations {
		if m.Version > last {
			break
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return applied, fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, fmt.Sprintf("%03d_%s", m.Version, m.Name))
	}
	return applied, nil
}

func (s *Store) apply(ctx context.Context, m warehouse.Migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %03d_%s: %w", m.Version, m.Name, err)
	}
	defer tx.Rollback()
	for _, stmt := range m.Statements {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migration %03d_%s: %w\n%s", m.Version, m.Name, err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.Version, m.Name); err != nil {
		return fmt.Errorf("record migration %03d_%s: %w", m.Version, m.Name, err)
	}
	return tx.Commit()
}
