package dashboards_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/scoring"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

// grafanaDashboard is what the test reads of a Grafana dashboard JSON.
type grafanaDashboard struct {
	UID      string `json:"uid"`
	Timezone string `json:"timezone"`
	Panels   []struct {
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
		} `json:"datasource"`
		Targets []struct {
			RawSQL string `json:"rawSql"`
		} `json:"targets"`
	} `json:"panels"`
}

func grafanaDashboards(t *testing.T) map[string]grafanaDashboard {
	t.Helper()
	files, err := filepath.Glob("grafana/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in grafana/: %v", err)
	}
	out := map[string]grafanaDashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d grafanaDashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

func TestGrafanaDashboardsParse(t *testing.T) {
	// Every dashboard is JSON with its times in Asia/Shanghai, and every panel
	// queries the ClickHouse plugin with SQL.
	for f, d := range grafanaDashboards(t) {
		if d.UID == "" || d.Timezone != "Asia/Shanghai" || len(d.Panels) == 0 {
			t.Errorf("%s: uid %q, timezone %q, %d panels", f, d.UID, d.Timezone, len(d.Panels))
		}
		for _, p := range d.Panels {
			if p.Datasource.Type != "grafana-clickhouse-datasource" || len(p.Targets) == 0 || p.Targets[0].RawSQL == "" {
				t.Errorf("%s: panel %q: datasource %q, %d targets", f, p.Title, p.Datasource.Type, len(p.Targets))
			}
		}
	}
}

// expandMacros does what Grafana and the ClickHouse plugin do to a query
// before sending it, with fixed values: the range from..to, a one-day
// interval and the database variable.
func expandMacros(sql, db string, from, to time.Time) string {
	timeFilter := regexp.MustCompile(`\$__timeFilter\(([^)]+)\)`)
	sql = timeFilter.ReplaceAllString(sql, fmt.Sprintf("$1 >= toDateTime(%d) AND $1 <= toDateTime(%d)", from.Unix(), to.Unix()))
	r := strings.NewReplacer("$__fromTime", fmt.Sprintf("toDateTime(%d)", from.Unix()), "$__toTime", fmt.Sprintf("toDateTime(%d)", to.Unix()),
		"$__interval_s", "86400", "${database}", db, "$database", db)
	return r.Replace(sql)
}

func TestGrafanaQueriesRunOnClickHouse(t *testing.T) {
	// Given a ClickHouse warehouse with a simulated city (bad input mixed
	// in) scored and aggregated, when every query of every dashboard runs
	// with its macros expanded, then each runs and returns rows.
	base := testenv.ClickHouse(t)
	b := make([]byte, 6)
	rand.Read(b)
	db := "qcredit_grafana_" + hex.EncodeToString(b)
	quiet := slog.New(slog.DiscardHandler)
	s, err := clickhouse.Open(t.Context(), base+"/"+db, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.DropDatabase(context.WithoutCancel(t.Context()))
		s.Close()
	})
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var lines bytes.Buffer
	if _, err := simulate.Generate(simulate.Config{Enterprises: 300, Years: 2, Seed: 3, End: now.UTC().Truncate(24 * time.Hour), BadRate: 0.02},
		func(l []byte) error { lines.Write(l); lines.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := (ingest.Importer{Store: s}).Import(t.Context(), "sim.jsonl", &lines); err != nil {
		t.Fatal(err)
	}
	sc, err := scoring.Load("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipelines.NewRunner(s, quiet, pipelines.RunnerOptions{Jobs: []pipelines.Job{pipelines.NewScoreJob(s, sc, quiet), pipelines.NewStatsJob(s)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{pipelines.JobScore, pipelines.JobStats} {
		if _, err := r.Run(t.Context(), pipelines.RunRequest{Job: job}); err != nil {
			t.Fatal(err)
		}
	}
	from, to := now.AddDate(-3, 0, 0), now.Add(time.Hour)
	for f, d := range grafanaDashboards(t) {
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				sql := expandMacros(target.RawSQL, db, from, to)
				if strings.Contains(sql, "$") {
					t.Errorf("%s: panel %q: a macro or variable is left: %s", f, p.Title, sql)
					continue
				}
				rows, err := s.Conn().Query(t.Context(), sql)
				if err != nil {
					t.Errorf("%s: panel %q: %v\n%s", f, p.Title, err, sql)
					continue
				}
				n := 0
				for rows.Next() {
					n++
				}
				if err := rows.Err(); err != nil {
					t.Errorf("%s: panel %q: %v", f, p.Title, err)
				}
				rows.Close()
				if n == 0 {
					t.Errorf("%s: panel %q returned no rows:\n%s", f, p.Title, sql)
				}
			}
		}
	}
}
