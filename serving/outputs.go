package serving

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/qcredit/qcredit/warehouse"
)

// Outputs is a job's current run held whole, for jobs whose outputs are
// few and read often: the published draws (the lottery job), the county
// KPIs and follow-up lists (kpi), the plan and the re-check frame. Rows are
// sorted by key; their strings and payloads live in one arena, so the part
// holds no pointer per row.
type Outputs struct {
	run   warehouse.Run
	rows  []outputRow
	arena []byte
}

type outputRow struct {
	key, uscc, label, payload span
	value                     int64
}

// OutputsLoader is the part loader of a job served whole from memory.
func OutputsLoader(job string) PartLoader {
	return PartLoader{Job: job, Load: func(ctx context.Context, src Source, run warehouse.Run, _ *Model) (Part, error) {
		return LoadOutputs(ctx, src, run)
	}}
}

// LoadOutputs reads a run's outputs, with payloads, into memory.
func LoadOutputs(ctx context.Context, src Source, run warehouse.Run) (*Outputs, error) {
	o := &Outputs{run: run}
	var last string
	err := src.ReadOutputs(ctx, warehouse.OutputQuery{Job: run.Job, Version: run.Version, Payload: true}, func(r warehouse.OutputRow) error {
		if len(o.rows) > 0 && r.Key <= last {
			return fmt.Errorf("output %q after %q: not in key order", r.Key, last)
		}
		last = r.Key
		row := outputRow{value: r.Value}
		var err error
		for _, f := range []struct {
			dst *span
			s   []byte
		}{{&row.key, []byte(r.Key)}, {&row.uscc, []byte(r.USCC)}, {&row.label, []byte(r.Label)}, {&row.payload, r.Payload}} {
			if *f.dst, err = o.put(f.s); err != nil {
				return err
			}
		}
		o.rows = append(o.rows, row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Outputs) put(b []byte) (span, error) {
	if len(o.arena)+len(b) > 1<<32-1 {
		return span{}, fmt.Errorf("outputs of %s exceed 4 GB", o.run.ID)
	}
	s := span{off: uint32(len(o.arena)), len: uint32(len(b))}
	o.arena = append(o.arena, b...)
	return s, nil
}

func (o *Outputs) str(s span) string { return string(o.arena[s.off : s.off+s.len]) }

// Bytes is the part's memory.
func (o *Outputs) Bytes() int64 { return int64(cap(o.arena)) + int64(cap(o.rows))*40 }

// Run is the run the outputs are of.
func (o *Outputs) Run() warehouse.Run { return o.run }

// Len is the number of outputs.
func (o *Outputs) Len() int { return len(o.rows) }

func (o *Outputs) row(i int) warehouse.OutputRow {
	r := o.rows[i]
	p := r.payload
	return warehouse.OutputRow{Key: o.str(r.key), USCC: o.str(r.uscc), Label: o.str(r.label), Value: r.value,
		Payload: o.arena[p.off : p.off+p.len : p.off+p.len]} // capped: an append copies
}

// Get is the output with the key. Its payload is shared: do not change it.
func (o *Outputs) Get(key string) (warehouse.OutputRow, bool) {
	i := o.search(key)
	if i < len(o.rows) && o.str(o.rows[i].key) == key {
		return o.row(i), true
	}
	return warehouse.OutputRow{}, false
}

// Prefix hands over the outputs whose key starts with prefix, in key
// order, until fn returns false.
func (o *Outputs) Prefix(prefix string, fn func(warehouse.OutputRow) bool) {
	for i := o.search(prefix); i < len(o.rows) && strings.HasPrefix(o.str(o.rows[i].key), prefix); i++ {
		if !fn(o.row(i)) {
			return
		}
	}
}

// search is the first row whose key is not before key (comparing the
// arena's bytes in place: no string per probe).
func (o *Outputs) search(key string) int {
	return sort.Search(len(o.rows), func(i int) bool {
		k := o.rows[i].key
		return string(o.arena[k.off:k.off+k.len]) >= key
	})
}

// Outputs is the part of job if it is served whole (OutputsLoader), else nil.
func (m *Model) Outputs(job string) *Outputs {
	o, _ := m.parts[job].(*Outputs)
	return o
}
