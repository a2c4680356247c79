package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
)

func TestTwoServersOnOneClickHouse(t *testing.T) {
	// Given two `qcredit serve` replicas on one ClickHouse warehouse, both
	// scheduling score every 6 seconds, then each scheduled slot produces
	// exactly one run, and after a late report of a firm's heavy penalty,
	// decided a month before (its notice period over: it is listed), and the
	// next scheduled run both replicas show its new grade D without a restart.
	b := make([]byte, 6)
	rand.Read(b)
	url := testenv.ClickHouse(t) + "/qcredit_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		if s, err := clickhouse.Open(ctx, url, slog.New(slog.DiscardHandler)); err == nil {
			s.DropDatabase(ctx)
			s.Close()
		}
	})
	dir := t.TempDir()
	yesterday := time.Now().In(model.Shanghai).AddDate(0, 0, -1).Format(time.DateOnly)
	env := []string{"QCREDIT_WAREHOUSE=" + url, "QCREDIT_LOG_LEVEL=warn"}
	sim := filepath.Join(dir, "sim.jsonl")
	if _, stderr, err := binary(t, env, "simulate", "--enterprises", "300", "--years", "1", "--seed", "9", "--end", yesterday, "--out", sim); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr)
	}
	if _, stderr, err := binary(t, env, "import", "-q", sim); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	config := filepath.Join(dir, "qcredit.yaml")
	os.WriteFile(config, []byte("scheduler:\n  schedules:\n    score: \"*/6 * * * * *\"\nserving:\n  refresh: 1s\nlog:\n  level: info\n"), 0o644)
	a := serverAddr(t, startServe(t, url, "QCREDIT_CONFIG="+config))
	z := serverAddr(t, startServe(t, url, "QCREDIT_CONFIG="+config))

	runs := waitRuns(t, env, 3, time.Minute)
	slots := map[int64]string{}
	for _, r := range runs {
		slot := r.StartedAt.Unix() / 6
		if other, dup := slots[slot]; dup {
			t.Errorf("runs %s and %s both ran the slot at %v", other, r.ID, time.Unix(slot*6, 0))
		}
		slots[slot] = r.ID
		if r.AsOf != yesterday {
			t.Errorf("scheduled run %s is as of %s, want %s", r.ID, r.AsOf, yesterday)
		}
	}

	firm := firstFirm(t, sim)
	for _, addr := range []string{a, z} {
		if g := waitGrade(t, addr, firm, func(g model.Grade) bool { return g != "" && g != model.GradeD }); g == "" {
			t.Fatalf("replica %s has no grade for %s", addr, firm)
		}
	}
	late := filepath.Join(dir, "late.jsonl")
	decided := time.Now().In(model.Shanghai).AddDate(0, -1, 0).Format(time.DateOnly)
	os.WriteFile(late, []byte(fmt.Sprintf(`{"id":"320800-late-1","type":"penalty.decided","uscc":"%s","source":"320800",`+
		`"occurred_at":"%sT10:00:00+08:00","data":{"case_no":"LATE-1","violation":"counterfeit","severity":"heavy"}}`+"\n", firm, decided)), 0o644)
	if _, stderr, err := binary(t, env, "import", "-q", late); err != nil {
		t.Fatalf("import late: %v\n%s", err, stderr)
	}
	for _, addr := range []string{a, z} {
		if g := waitGrade(t, addr, firm, func(g model.Grade) bool { return g == model.GradeD }); g != model.GradeD {
			t.Errorf("replica %s shows %s for %s after the late heavy penalty, want D", addr, g, firm)
		}
	}
}

// serverAddr reads the address a serve logged.
func serverAddr(t *testing.T, logPath string) string {
	t.Helper()
	b, _ := os.ReadFile(logPath)
	m := regexp.MustCompile(`msg=serving addr=(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no address in the log:\n%s", b)
	}
	return string(m[1])
}

// waitRuns polls `pipeline list` until n score runs succeeded.
func waitRuns(t *testing.T, env []string, n int, timeout time.Duration) []warehouse.Run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, stderr, err := binary(t, env, "pipeline", "list", "--json", "--limit", "100")
		if err != nil {
			t.Fatalf("pipeline list: %v\n%s", err, stderr)
		}
		var list struct{ Runs []warehouse.Run }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		var done []warehouse.Run
		for _, r := range list.Runs {
			if r.Job == "score" && r.Status == warehouse.RunSucceeded {
				done = append(done, r)
			}
		}
		if len(done) >= n {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d score runs within %v, want %d: %+v", len(done), timeout, n, list.Runs)
		}
		time.Sleep(500 * time.Millisecond) // polling for a condition, with a deadline
	}
}

// waitGrade polls a replica's public lookup of uscc until ok(grade).
func waitGrade(t *testing.T, addr string, uscc model.USCC, ok func(model.Grade) bool) model.Grade {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var g model.Grade
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/api/v1/public/enterprises/" + string(uscc))
		if err == nil {
			var p struct{ Grade model.Grade }
			json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if g = p.Grade; ok(g) {
				return g
			}
		}
		time.Sleep(200 * time.Millisecond) // polling for a condition, with a deadline
	}
	return g
}

// firstFirm is the first enterprise registered in a simulated file.
func firstFirm(t *testing.T, path string) model.USCC {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var e model.Event
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == model.EventEnterpriseRegistered {
			return e.USCC
		}
	}
	t.Fatal("no registration in the simulated file")
	return ""
}
