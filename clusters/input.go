package clusters

import (
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
)

// Input is everything one run reads: the enterprises at the cutoff and
// their records. Records may come in any order and may reach outside the
// window (Compute keeps [WindowStart, Cutoff) only), so a warehouse can fill
// the slices straight from a streamed query; Window says what to push down.
type Input struct {
	// AsOf is the run's date, YYYY-MM-DD; the cutoff is the end of that day
	// in model.Shanghai.
	AsOf        string
	Enterprises []Enterprise
	Checks      []Check
	// Penalties are penalty.decided records not revoked before the cutoff.
	Penalties []Record
	// Complaints are complaint.closed records with verified = true.
	Complaints []Record
	// OverdueHazards are equipment.hazard_found records whose deadline is
	// before AsOf and that no hazard_corrected of the same hazard_id closed
	// before the cutoff.
	OverdueHazards []Record
	Accidents      []Accident
}

// Enterprise is one enterprise registered before the cutoff and not
// deregistered then: membership is the enterprise's state at the cutoff.
type Enterprise struct {
	USCC model.USCC
	Name string
	// Cluster is the cluster key: the declared cluster id, else County + "-"
	// + Division (model.Enterprise.ClusterKey with the current county).
	Cluster string
	// County is the current GB/T 2260 code of the enterprise's region.
	County string
	// Division is the GB/T 4754 division of its industry (model.Division).
	Division string
	// Grade is its latest quality-credit grade; empty when it has none.
	Grade model.Grade
}

// Check is one spot_check.completed record (re-checks included).
type Check struct {
	EventID    string
	USCC       model.USCC
	OccurredAt time.Time
	Failed     bool
	Product    string
}

// Record is one record the indicators count.
type Record struct {
	EventID    string
	USCC       model.USCC
	OccurredAt time.Time
}

// Accident is one equipment.accident record.
type Accident struct {
	EventID    string
	USCC       model.USCC
	OccurredAt time.Time
	Grade      model.AccidentGrade
}

// maxProblems bounds how many bad rows Validate names: an input of millions
// of rows with one systematic fault should say so in a few lines.
const maxProblems = 10

// Validate says what is wrong with the input: a bad as_of, enterprises
// without a key or listed twice, records without an id, a USCC or a time.
func (in *Input) Validate() error {
	p := problems{}
	if _, err := ParseAsOf(in.AsOf); err != nil {
		p.add(err)
	}
	seen := make(map[model.USCC]bool, len(in.Enterprises))
	for i := range in.Enterprises {
		e := &in.Enterprises[i]
		switch {
		case e.USCC == "":
			p.addf("enterprise %d: uscc is required", i)
		case seen[e.USCC]:
			p.addf("enterprise %s: listed twice", e.USCC)
		case e.Cluster == "" || e.County == "" || e.Division == "":
			p.addf("enterprise %s: cluster, county and division are required", e.USCC)
		case e.Grade != "" && !e.Grade.Valid():
			p.addf("enterprise %s: grade %q is not A, B, C, D or empty", e.USCC, e.Grade)
		}
		seen[e.USCC] = true
	}
	for i := range in.Checks {
		c := &in.Checks[i]
		p.record("spot check", i, c.EventID, c.USCC, c.OccurredAt)
	}
	for _, kind := range []struct {
		name string
		rs   []Record
	}{{"penalty", in.Penalties}, {"complaint", in.Complaints}, {"overdue hazard", in.OverdueHazards}} {
		for i, r := range kind.rs {
			p.record(kind.name, i, r.EventID, r.USCC, r.OccurredAt)
		}
	}
	for i := range in.Accidents {
		a := &in.Accidents[i]
		p.record("accident", i, a.EventID, a.USCC, a.OccurredAt)
		if !a.Grade.Valid() {
			p.addf("accident %s: grade %q is not general, larger, major or especially_major", a.EventID, a.Grade)
		}
	}
	return p.err()
}

// ParseAsOf reads a YYYY-MM-DD date.
func ParseAsOf(asOf string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, asOf, model.Shanghai)
	if err != nil {
		return time.Time{}, fmt.Errorf("as_of %q: want YYYY-MM-DD", asOf)
	}
	return d, nil
}

// Window is the run's window: [Start, Cutoff), with the CUSUM's recent
// months starting at Recent.
type Window struct {
	Start  time.Time `json:"start"`
	Recent time.Time `json:"recent"`
	Cutoff time.Time `json:"cutoff"`
}

// WindowOf gives the window of an as_of date: the cutoff is the end of the
// day in model.Shanghai, the start window_months calendar months before.
func (c *Config) WindowOf(asOf string) (Window, error) {
	d, err := ParseAsOf(asOf)
	if err != nil {
		return Window{}, err
	}
	cutoff := d.AddDate(0, 0, 1)
	return Window{Start: cutoff.AddDate(0, -c.WindowMonths, 0), Recent: cutoff.AddDate(0, -c.RecentMonths, 0), Cutoff: cutoff}, nil
}

func (w Window) contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.Cutoff) }

// problems collects validation errors up to maxProblems and counts the rest.
type problems struct {
	errs []error
	more int
}

func (p *problems) add(err error) {
	if len(p.errs) < maxProblems {
		p.errs = append(p.errs, err)
		return
	}
	p.more++
}

func (p *problems) addf(format string, args ...any) { p.add(fmt.Errorf(format, args...)) }

func (p *problems) record(kind string, i int, id string, uscc model.USCC, at time.Time) {
	switch {
	case id == "":
		p.addf("%s %d: event id is required", kind, i)
	case uscc == "":
		p.addf("%s %s: uscc is required", kind, id)
	case at.IsZero():
		p.addf("%s %s: occurred_at is required", kind, id)
	}
}

func (p *problems) err() error {
	if p.more > 0 {
		p.errs = append(p.errs, fmt.Errorf("and %d more problems", p.more))
	}
	return errors.Join(p.errs...)
}
