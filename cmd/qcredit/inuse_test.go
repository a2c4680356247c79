package main

import (
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

func TestDuckDBFileInUseIsRefusedAtOnce(t *testing.T) {
	// Given `qcredit serve` holding a DuckDB file, when another command opens
	// the same file, then it fails at once with ErrInUse instead of hanging.
	dir := t.TempDir()
	url := "duckdb://" + filepath.Join(dir, "w.duckdb")
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	serve := exec.Command(testenv.Binary(t), "serve", "--listen", "127.0.0.1:0")
	serve.Env = append(os.Environ(), "QCREDIT_WAREHOUSE="+url, "QCREDIT_KAFKA_BROKERS=")
	serve.Stdout, serve.Stderr = logFile, logFile
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "msg=serving") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond) // polling the log for a condition, with a deadline
	}

	t.Setenv("QCREDIT_WAREHOUSE", url)
	start := time.Now()
	_, err = run(t, "", "stats")
	if !errors.Is(err, warehouse.ErrInUse) {
		t.Fatalf("want ErrInUse, got %v", err)
	}
	if !strings.Contains(err.Error(), "send the work to its API") {
		t.Errorf("the error should say what to do: %v", err)
	}
	t.Logf("refused after %v", time.Since(start))
}
