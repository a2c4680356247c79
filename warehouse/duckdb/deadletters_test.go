package duckdb_test

import (
	"testing"

	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestDeadLetterConformance(t *testing.T) {
	conformance.RunDeadLetters(t, func(t *testing.T) conformance.DeadLetterStore { return duckdbtest.Open(t) })
}
