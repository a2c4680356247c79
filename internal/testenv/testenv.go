// Package testenv tells integration tests where the real services started by
// `make test` (scripts/test.sh) are. Outside CI a test whose service is not
// configured is skipped with a pointer to `make test`; in CI (CI=true) it fails.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// KafkaBrokers returns the real Apache Kafka broker(s) started for tests.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	return strings.Split(require(t, "QCREDIT_TEST_KAFKA_BROKERS", "Apache Kafka"), ",")
}

// ClickHouse returns the clickhouse:// URL of the server started for tests
// (without a database; tests create their own).
func ClickHouse(t testing.TB) string {
	t.Helper()
	return require(t, "QCREDIT_TEST_CLICKHOUSE", "ClickHouse")
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
