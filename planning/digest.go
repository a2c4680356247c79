package planning

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Canonical outputs. A run stores rows keyed by (job, version, key) and
// records a digest of them, and two warehouse backends must give the same
// digest for the same run. So each output is cut into rows with a stable key,
// each row's payload is compact JSON of types whose encoding is fixed (no
// floats: Decimal and Fraction print exact decimals; dates as YYYY-MM-DD;
// struct fields in declaration order; lists in a stated order), and the
// digest hashes the rows in key order.

// OutputRow is one row of a run's outputs.
type OutputRow struct {
	Key     string
	Payload []byte
}

// Digest is the lowercase hex SHA-256 of "key TAB payload LF" for each row,
// in key order (byte order). Rows must come from one of the Rows functions
// (keys unique, without TAB or LF).
func Digest(rows []OutputRow) string {
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b OutputRow) int { return strings.Compare(a.Key, b.Key) })
	h := sha256.New()
	for _, r := range sorted {
		h.Write([]byte(r.Key))
		h.Write([]byte{'\t'})
		h.Write(r.Payload)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rowsOf marshals items into rows sorted by key, refusing keys that are
// empty, repeated, or hold a TAB or LF (they would make the digest ambiguous).
func rowsOf[T any](items []T, key func(T) string) ([]OutputRow, error) {
	rows := make([]OutputRow, 0, len(items))
	for _, it := range items {
		k := key(it)
		if k == "" || strings.ContainsAny(k, "\t\n") {
			return nil, fmt.Errorf("output key %q: want a non-empty key without TAB or LF", k)
		}
		b, err := json.Marshal(it)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", k, err)
		}
		rows = append(rows, OutputRow{Key: k, Payload: b})
	}
	slices.SortFunc(rows, func(a, b OutputRow) int { return strings.Compare(a.Key, b.Key) })
	for i := 1; i < len(rows); i++ {
		if rows[i].Key == rows[i-1].Key {
			return nil, fmt.Errorf("output key %q appears twice", rows[i].Key)
		}
	}
	return rows, nil
}

// Rows are the plan's outputs: one row per product, keyed by its name.
func (p Plan) Rows() ([]OutputRow, error) {
	return rowsOf(p.Lines, func(l PlanLine) string { return l.Product })
}

// Rows are a draw's outputs: the published document, keyed by the draw id.
func (d Draw) Rows() ([]OutputRow, error) {
	return rowsOf([]Draw{d}, func(d Draw) string { return d.ID })
}

// Rows are a re-check's outputs: one row per firm to re-check, keyed by USCC.
func (res RecheckResult) Rows() ([]OutputRow, error) {
	return rowsOf(res.Lines(), func(l RecheckLine) string { return string(l.USCC) })
}

// Rows are the overdue complaints, keyed "county/complaint_id/stage".
func (r ComplaintReport) Rows() ([]OutputRow, error) {
	var all []OverdueComplaint
	for _, c := range r.Counties {
		all = append(all, c.Overdue...)
	}
	return rowsOf(all, func(o OverdueComplaint) string {
		return o.County + "/" + o.ComplaintID + "/" + string(o.Stage)
	})
}

// Rows are the units' rates, keyed "unit/USCC", and the overdue serious
// hazards, keyed "hazard/hazard_id".
func (r EquipmentReport) Rows() ([]OutputRow, error) {
	units, err := rowsOf(r.Units, func(u UnitRate) string { return "unit/" + string(u.USCC) })
	if err != nil {
		return nil, err
	}
	hazards, err := rowsOf(r.Overdue, func(h OverdueHazard) string { return "hazard/" + h.HazardID })
	if err != nil {
		return nil, err
	}
	return append(hazards, units...), nil // "hazard/" sorts before "unit/"
}

// KPIRows are the county KPIs, keyed "county/YYYY-MM".
func KPIRows(kpis []CountyKPI) ([]OutputRow, error) {
	return rowsOf(kpis, func(k CountyKPI) string { return k.County + "/" + k.Month.String() })
}
