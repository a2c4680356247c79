package clickhouse

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/qcredit/qcredit/warehouse"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Schema says how to render the migrations: for one server, or for a cluster
// (ON CLUSTER DDL, *_local tables behind Distributed ones), and which newer
// server features to use.
type Schema struct {
	DB      string
	Cluster string // remote_servers cluster name; "" for one server
	// Replicated selects Replicated*MergeTree engines on a cluster (needs
	// ZooKeeper and the {shard}/{replica} macros on every server).
	Replicated bool
	// LowCardinality and TableComments are used only when the server has them
	// (LowCardinality from 19.x, MODIFY COMMENT from 21.x); 18.16 has neither.
	LowCardinality bool
	TableComments  bool
}

// OnCluster is the ON CLUSTER clause of every DDL statement, or "".
func (s Schema) OnCluster() string {
	if s.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + s.Cluster
}

func (s Schema) funcs() template.FuncMap {
	return template.FuncMap{
		"local": func(table string) string {
			if s.Cluster == "" {
				return table
			}
			return table + "_local"
		},
		// engine "ReplacingMergeTree" "t" "version" is ReplacingMergeTree(version)
		// on one server, ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/t',
		// '{replica}', version) on a replicated cluster.
		"engine": func(engine, table string, args ...string) string {
			if s.Cluster != "" && s.Replicated {
				engine = "Replicated" + engine
				args = append([]string{fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", s.DB, table), "'{replica}'"}, args...)
			}
			if len(args) == 0 {
				return engine
			}
			return engine + "(" + strings.Join(args, ", ") + ")"
		},
		// 18.16 cannot create a Replicated table with column comments ("Table
		// structure in ZooKeeper is too different"), and ALTER … COMMENT COLUMN
		// corrupts its metadata file; servers with table comments are fine.
		"comment": func(text string) string {
			if s.Cluster != "" && s.Replicated && !s.TableComments {
				return ""
			}
			return "COMMENT '" + text + "'"
		},
		"lc": func() string {
			if s.LowCardinality {
				return "LowCardinality(String)"
			}
			return "String"
		},
	}
}

// Render reads the embedded NNN_name.sql files, renders each for the schema
// and splits it into statements, in version order.
func Render(s Schema) ([]warehouse.Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []warehouse.Migration
	for _, e := range entries {
		m, err := renderFile(s, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %03d_%s and %03d_%s share a version", out[i].Version, out[i].Name, out[i-1].Version, out[i-1].Name)
		}
	}
	return out, nil
}

func renderFile(s Schema, file string) (warehouse.Migration, error) {
	num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || !strings.HasSuffix(file, ".sql") {
		return warehouse.Migration{}, fmt.Errorf("migration %s: name must be NNN_name.sql", file)
	}
	body, err := migrationFS.ReadFile("migrations/" + file)
	if err != nil {
		return warehouse.Migration{}, fmt.Errorf("read migration %s: %w", file, err)
	}
	tmpl, err := template.New(file).Funcs(s.funcs()).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return warehouse.Migration{}, fmt.Errorf("parse migration %s: %w", file, err)
	}
	var sql strings.Builder
	if err := tmpl.Execute(&sql, s); err != nil {
		return warehouse.Migration{}, fmt.Errorf("render migration %s: %w", file, err)
	}
	return warehouse.Migration{Version: v, Name: name, Statements: warehouse.SplitStatements(sql.String())}, nil
}

// Migrate applies the migrations not yet recorded in schema_migrations.
// ClickHouse DDL is not transactional: every statement is idempotent, and a
// migration is recorded only after all its statements ran, so one that died
// half way runs again whole.
func (s *Store) Migrate(ctx context.Context) ([]string, error) { return s.MigrateTo(ctx, math.MaxInt) }

// MigrateTo applies the pending migrations up to version last (tests of a
// migration start from the version before it).
func (s *Store) MigrateTo(ctx context.Context, last int) ([]string, error) {
	migrations, err := Render(s.schema)
	if err != nil {
		return nil, err
	}
	if err := s.conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.schema_migrations%s (
		version UInt32, name String, applied_at DateTime DEFAULT now()
	) ENGINE = ReplacingMergeTree ORDER BY version`, s.schema.DB, s.schema.OnCluster())); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	done, err := s.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range migrations {
		if m.Version > last {
			break
		}
		if done[uint32(m.Version)] {
			continue
		}
		for _, stmt := range m.Statements {
			// insertCtx: a migration's INSERT … SELECT into a Distributed
			// table must have reached the shards before the next statement
			// drops what it copied.
			if err := s.conn.Exec(s.insertCtx(ctx), stmt); err != nil && !addedBefore(stmt, err) {
				return applied, fmt.Errorf("migration %03d_%s: %w\n%s", m.Version, m.Name, err, stmt)
			}
		}
		if err := s.conn.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.schema_migrations (version, name) SELECT %d, '%s'`,
			s.schema.DB, m.Version, m.Name)); err != nil {
			return applied, fmt.Errorf("record migration %03d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, fmt.Sprintf("%03d_%s", m.Version, m.Name))
	}
	return applied, nil
}

// addedBefore reports whether err says that the column an ALTER … ADD
// COLUMN adds is already there: done by an earlier attempt of the same
// migration (18.16 has no ADD COLUMN IF NOT EXISTS).
func addedBefore(stmt string, err error) bool {
	return strings.Contains(stmt, "ADD COLUMN") && strings.Contains(err.Error(), "already exists")
}

func (s *Store) appliedVersions(ctx context.Context) (map[uint32]bool, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT DISTINCT version FROM %s.schema_migrations`, s.schema.DB))
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = true
	}
	return done, rows.Err()
}
