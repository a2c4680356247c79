package duckdb_test

import (
	"testing"

	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) warehouse.Store { return duckdbtest.Open(t) })
}
