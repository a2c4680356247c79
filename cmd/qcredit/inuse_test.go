package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/warehouse"
)

// startServe starts `qcredit serve` on the warehouse at url and waits until
// it serves; it is stopped when the test ends.
func startServe(t *testing.T, url string, env ...string) (logPath string) {
	t.Helper()
	dir := t.TempDir()
	logPath = filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	serve := exec.Command(testenv.Binary(t), "serve", "--listen", "127.0.0.1:0")
	serve.Env = append(append(os.Environ(), "QCREDIT_WAREHOUSE="+url, "QCREDIT_KAFKA_BROKERS="), env...)
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "msg=serving") {
			return logPath
		}
		if time.Now().After(deadline) || serve.ProcessState != nil {
			t.Fatalf("serve did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond) // polling the log for a condition, with a deadline
	}
}

// firstFirmOf is the USCC of the first registration in a simulated file.
func firstFirmOf(t *testing.T, path string) string { return string(firstFirm(t, path)) }

// binary runs the qcredit binary as an operator would, with env added.
func binary(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCommandsGoThroughTheRunningServer(t *testing.T) {
	// Given `qcredit serve` holding a DuckDB file with a simulated city,
	// when an operator runs pipeline commands from another process, then
	// they run inside the server over its owner-only admin socket and
	// succeed; a command without an op (migrate) is refused at once with
	// what to do.
	dir := t.TempDir()
	db := filepath.Join(dir, "w.duckdb")
	env := []string{"QCREDIT_WAREHOUSE=duckdb://" + db, "QCREDIT_LOG_LEVEL=warn"}
	sim := filepath.Join(dir, "sim.jsonl")
	if _, stderr, err := binary(t, env, "simulate", "--enterprises", "200", "--years", "1", "--seed", "3", "--out", sim); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr)
	}
	if _, stderr, err := binary(t, env, "import", "-q", sim); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	startServe(t, "duckdb://"+db)

	fi, err := os.Stat(db + ".sock")
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("admin socket: %v, mode %v; want an owner-only socket", err, fi.Mode())
	}
	out, stderr, err := binary(t, env, "pipeline", "run", "score")
	if err != nil {
		t.Fatalf("pipeline run while serve holds the file: %v\n%s", err, stderr)
	}
	var run warehouse.Run
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Status != warehouse.RunSucceeded || run.Counts["enterprises"] == 0 {
		t.Fatalf("run record: %v\n%s", err, out)
	}
	out, stderr, err = binary(t, env, "pipeline", "list", "--json")
	if err != nil || !strings.Contains(out, `"id": "`+run.ID+`"`) {
		t.Errorf("pipeline list: %v\n%s%s", err, out, stderr)
	}
	_, stderr, err = binary(t, env, "pipeline", "run", "nope")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr, `unknown job "nope"`) {
		t.Errorf("an op's error comes back with its exit code: %v\n%s", err, stderr)
	}

	// Import (a file and standard input), stats and dead-letters go through
	// the server too.
	late := filepath.Join(dir, "more.jsonl")
	os.WriteFile(late, []byte(`{"id":"320830-x-1","type":"award.granted","uscc":"`+firstFirmOf(t, sim)+`","source":"320830","occurred_at":"2025-01-01T09:00:00+08:00","data":{"award":"市长质量奖"}}`+"\n"+
		`{"id":"320830-x-2","type":"award.granted"}`+"\n"), 0o644)
	out, stderr, err = binary(t, env, "import", "-q", late)
	var rep struct {
		Stored       int `json:"stored"`
		DeadLettered int `json:"dead_lettered"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Stored != 1 || rep.DeadLettered != 1 {
		t.Errorf("import while serve runs: %v %+v\n%s%s", err, rep, out, stderr)
	}
	cmd := exec.Command(testenv.Binary(t), "import", "-q", "-")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(`{"id":"320830-x-3","type":"award.granted","uscc":"` + firstFirmOf(t, sim) + `","source":"320830","occurred_at":"2025-01-02T09:00:00+08:00","data":{"award":"质量奖"}}` + "\n")
	if b, err := cmd.Output(); err != nil || !strings.Contains(string(b), `"stored": 1`) {
		t.Errorf("import - while serve runs: %v\n%s", err, b)
	}
	out, _, err = binary(t, env, "stats")
	var st warehouse.Stats
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Events.ByType["award.granted"] < 2 || st.DeadLetters.Total < 1 {
		t.Errorf("stats while serve runs: %v\n%s", err, out)
	}
	out, _, err = binary(t, env, "dead-letters", "--json")
	if err != nil || !strings.Contains(out, "missing_field") {
		t.Errorf("dead-letters while serve runs: %v\n%s", err, out)
	}

	start := time.Now()
	_, stderr, err = binary(t, env, "migrate")
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr, "is in use") {
		t.Fatalf("migrate: want exit 2 saying the file is in use, got %v\n%s", err, stderr)
	}
	t.Logf("migrate refused after %v", time.Since(start))
}
