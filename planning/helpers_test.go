package planning_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/planning"
)

// firmUSCC is a valid USCC for test firm n registered in county.
func firmUSCC(county string, n int) model.USCC {
	return model.CompleteUSCC(fmt.Sprintf("91%s%08d", county, n))
}

// firms makes n firms of grade g spread over counties, numbered from start.
func firms(g model.Grade, n, start int, counties ...string) []planning.PoolFirm {
	out := make([]planning.PoolFirm, n)
	for i := range out {
		c := counties[i%len(counties)]
		out[i] = planning.PoolFirm{USCC: firmUSCC(c, start+i), Grade: g, County: c}
	}
	return out
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, model.Shanghai)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func period(t *testing.T, from, to string) planning.Period {
	t.Helper()
	p, err := planning.ParsePeriod(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func dec(t *testing.T, s string) planning.Decimal {
	t.Helper()
	d, err := planning.ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// seed is a fixed test seed: byte i is b+i.
func seed(b byte) planning.Seed {
	var s planning.Seed
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

// testDraw creates and performs a draw, failing the test on any error.
func testDraw(t *testing.T, in planning.CreateDrawInput, beacon string) (planning.CreatedDraw, planning.DrawResult) {
	t.Helper()
	c, err := planning.CreateDraw(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := planning.PerformDraw(planning.PerformDrawInput{Draw: c.Draw, PoolCSV: c.PoolCSV,
		InspectorsCSV: c.InspectorsCSV, Seed: in.Seed, Beacon: beacon})
	if err != nil {
		t.Fatal(err)
	}
	return c, r
}

func inspectors(specs ...string) []planning.Inspector {
	out := make([]planning.Inspector, 0, len(specs)/2)
	for i := 0; i+1 < len(specs); i += 2 {
		out = append(out, planning.Inspector{ID: specs[i], County: specs[i+1]})
	}
	return out
}
