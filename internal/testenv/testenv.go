// Package testenv tells integration tests where the real services started by
// `make test` (scripts/test.sh) are. Outside CI a test whose service is not
// configured is skipped with a pointer to `make test`; in CI (CI=true) it fails.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KafkaBrokers returns the real Apache Kafka broker(s) started for tests.
// When the test fails, the machine's state and the end of the broker's log
// (QCREDIT_TEST_KAFKA_LOG) are logged with it.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	brokers := strings.Split(require(t, "QCREDIT_TEST_KAFKA_BROKERS", "Apache Kafka"), ",")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(MachineState())
			if log := os.Getenv("QCREDIT_TEST_KAFKA_LOG"); log != "" {
				t.Logf("end of the broker's log %s:\n%s", log, tail(log, 30))
			}
		}
	})
	return brokers
}

// MachineState describes what the machine is doing, for the log of a failed
// integration test: load, free memory and disk, and the busiest processes.
func MachineState() string {
	var b strings.Builder
	b.WriteString("machine state at failure:\n")
	for _, cmd := range [][]string{
		{"cat", "/proc/loadavg"},
		{"free", "-m"},
		{"df", "-h", os.TempDir()},
		{"ps", "-eo", "pid,pcpu,rss,etime,args", "--sort=-pcpu", "--columns", "160"},
	} {
		out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		lines := strings.SplitAfter(string(out), "\n")
		if len(lines) > 10 {
			lines = lines[:10]
		}
		fmt.Fprintf(&b, "$ %s (err %v)\n%s", strings.Join(cmd, " "), err, strings.Join(lines, ""))
	}
	return b.String()
}

// tail returns the last n lines of a file, or why it cannot.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.SplitAfter(string(data), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "")
}

// ClickHouse returns the clickhouse:// URL of the server started for tests
// (without a database; tests create their own).
func ClickHouse(t testing.TB) string {
	t.Helper()
	url := require(t, "QCREDIT_TEST_CLICKHOUSE", "ClickHouse")
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(MachineState())
		}
	})
	return url
}

// Binary returns the path of the qcredit binary built by `make test`, for
// tests that run it as a child process.
func Binary(t testing.TB) string {
	t.Helper()
	return require(t, "QCREDIT_TEST_BINARY", "the qcredit binary")
}

func require(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI but %s is not set: scripts/test.sh starts it", what, env)
	}
	t.Skipf("%s not configured (%s); run `make test` to start it", what, env)
	return ""
}

// Chromium returns the path of Debian's chromium (or another Chromium on
// PATH) for tests that print or drive a browser; scripts/test.sh installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI but none is on PATH: scripts/test.sh installs Debian's chromium")
	}
	t.Skip("no Chromium on PATH; run `make test` to install it")
	return ""
}

// OutputDir is a directory for a test's artifacts that outlive it (a
// printed PDF), test-output/<name> at the repository's root.
func OutputDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-output", name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}
