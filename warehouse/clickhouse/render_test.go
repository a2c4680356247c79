package clickhouse_test

import (
	"strings"
	"testing"

	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

func renderAll(t *testing.T, s clickhouse.Schema) []string {
	t.Helper()
	ms, err := clickhouse.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Statements...)
	}
	if len(out) == 0 {
		t.Fatal("no statements rendered")
	}
	return out
}

func TestRenderOneServer(t *testing.T) {
	// Given no cluster, then the DDL is plain: no ON CLUSTER, no *_local or
	// Distributed tables, no Replicated engines, no newer-server features.
	for _, stmt := range renderAll(t, clickhouse.Schema{DB: "qc"}) {
		for _, bad := range []string{"ON CLUSTER", "_local", "Distributed", "Replicated", "LowCardinality", "{{", "MODIFY COMMENT"} {
			if strings.Contains(stmt, bad) {
				t.Errorf("statement contains %q:\n%s", bad, stmt)
			}
		}
	}
}

func TestRenderCluster(t *testing.T) {
	// Given a cluster, then every statement runs ON CLUSTER, rows live in
	// Replicated *_local tables with per-shard ZooKeeper paths, and the
	// usual names are Distributed tables sharded by USCC (so an exact resend
	// lands on the shard that holds the original).
	stmts := renderAll(t, clickhouse.Schema{DB: "qc", Cluster: "qcredit", Replicated: true})
	joined := strings.Join(stmts, ";\n")
	for _, stmt := range stmts {
		if !strings.HasPrefix(stmt, "INSERT") && !strings.Contains(stmt, " ON CLUSTER qcredit") { // INSERT goes through the Distributed table
			t.Errorf("DDL statement without ON CLUSTER:\n%s", stmt)
		}
	}
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS qc.events_local ON CLUSTER qcredit (",
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/qc/events', '{replica}')",
		"CREATE TABLE IF NOT EXISTS qc.events ON CLUSTER qcredit AS qc.events_local\nENGINE = Distributed(qcredit, qc, events_local, cityHash64(uscc))",
		"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/qc/dead_letters', '{replica}')",
		"ENGINE = Distributed(qcredit, qc, dead_letters_local, cityHash64(key))",
		"ENGINE = Distributed(qcredit, qc, dead_letter_origins_local, cityHash64(key))",
		"RENAME TABLE qc.dead_letters_010_local TO qc.dead_letters_local ON CLUSTER qcredit",
		"CREATE VIEW IF NOT EXISTS qc.enterprises ON CLUSTER qcredit AS",
		"FROM qc.events_by_uscc\n",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS qc.events_by_uscc_mv ON CLUSTER qcredit\nTO qc.events_by_uscc_local",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("rendered cluster DDL lacks %q:\n%s", want, joined)
		}
	}

	plain := strings.Join(renderAll(t, clickhouse.Schema{DB: "qc", Cluster: "qcredit"}), "\n")
	if strings.Contains(plain, "Replicated") || !strings.Contains(plain, "ENGINE = ReplacingMergeTree\nORDER BY id") {
		t.Errorf("unreplicated cluster DDL:\n%s", plain)
	}
}

func TestRenderNewerServer(t *testing.T) {
	// Given a server with LowCardinality and table comments, then the
	// low-cardinality columns use it and tables get comments.
	joined := strings.Join(renderAll(t, clickhouse.Schema{DB: "qc", LowCardinality: true, TableComments: true}), "\n")
	for _, want := range []string{"type        LowCardinality(String)", "reason          LowCardinality(String)",
		"ALTER TABLE qc.events MODIFY COMMENT", "id          String COMMENT"} {
		if !strings.Contains(joined, want) {
			t.Errorf("rendered DDL lacks %q:\n%s", want, joined)
		}
	}
}
