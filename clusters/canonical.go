package clusters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/qcredit/qcredit/model"
)

// canonicalDecimals is how many decimals every non-integer number keeps in
// the canonical form: far below any printed figure, and it absorbs a last
// bit of floating-point difference should a backend ever sum in another order.
const canonicalDecimals = 9

// AppendCanonical appends the canonical bytes of a run's outputs, for its
// digest (the job hashes them with SHA-256): a line with the run (the result
// without its clusters), a line per cluster in key order, then a line per
// warning in id order. Each line is JSON with keys sorted, no spaces, times
// as the outputs hold them (model.Shanghai) and every non-integer number
// written with 9 decimals; lines end with LF. Two warehouses that return the
// same rows give the same bytes.
func AppendCanonical(b []byte, res *Result, warnings []model.Warning) ([]byte, error) {
	head := *res
	head.Clusters = nil
	b, err := appendCanonicalLine(b, head)
	if err != nil {
		return nil, fmt.Errorf("canonical run: %w", err)
	}
	as := slices.Clone(res.Clusters)
	slices.SortFunc(as, func(x, y model.ClusterAssessment) int { return strings.Compare(x.Cluster, y.Cluster) })
	for _, a := range as {
		if b, err = appendCanonicalLine(b, a); err != nil {
			return nil, fmt.Errorf("canonical assessment %s: %w", a.Cluster, err)
		}
	}
	ws := slices.Clone(warnings)
	slices.SortFunc(ws, func(x, y model.Warning) int { return strings.Compare(x.ID, y.ID) })
	for _, w := range ws {
		if b, err = appendCanonicalLine(b, w); err != nil {
			return nil, fmt.Errorf("canonical warning %s: %w", w.ID, err)
		}
	}
	return b, nil
}

// CanonicalJSON is the canonical form of one output (an assessment, a
// warning, a funnel plot) as AppendCanonical writes its lines, without the
// LF: JSON with keys sorted, no spaces and 9 decimals for every non-integer
// number. The clusters job stores its outputs in this form, so their digest
// is the same on every warehouse.
func CanonicalJSON(v any) ([]byte, error) {
	b, err := appendCanonicalLine(nil, v)
	if err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil
}

// appendCanonicalLine encodes v with encoding/json, reads it back with
// numbers kept as text, rewrites the non-integer ones with fixed decimals
// and encodes it again (which sorts the keys).
func appendCanonicalLine(b []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var generic any
	if err := d.Decode(&generic); err != nil {
		return nil, err
	}
	fixed, err := fixNumbers(generic)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fixed); err != nil {
		return nil, err
	}
	return append(b, buf.Bytes()...), nil // Encode ends the line with LF
}

func fixNumbers(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f, err := fixNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = f
		}
	case []any:
		for i, e := range x {
			f, err := fixNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = f
		}
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			return x, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, err
		}
		s := strconv.FormatFloat(f, 'f', canonicalDecimals, 64)
		if strings.Trim(s, "-0.") == "" {
			s = strconv.FormatFloat(0, 'f', canonicalDecimals, 64) // no "-0.000000000"
		}
		return json.Number(s), nil
	}
	return v, nil
}
