package planning

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
)

// PoolFirm is a firm that may be drawn: its USCC, its current grade (empty
// when it has none: then it is not eligible) and its county (the GB/T 2260
// code of its county bureau, which decides the own-county rule).
type PoolFirm struct {
	USCC   model.USCC
	Grade  model.Grade
	County string
}

// Inspector is one member of an inspector pool (执法检查人员), by id only:
// names are never published.
type Inspector struct {
	ID     string
	County string
}

var (
	poolHeader       = []string{"uscc", "grade", "county"}
	inspectorsHeader = []string{"inspector_id", "county"}
)

// PoolCSV is the published pool: the firms with a grade, sorted by USCC, as
// `uscc,grade,county`. It also returns the firms left out for having no grade.
func PoolCSV(firms []PoolFirm) ([]byte, []model.USCC, error) {
	var eligible []PoolFirm
	var ungraded []model.USCC
	var errs []error
	for _, f := range firms {
		if f.Grade == "" {
			ungraded = append(ungraded, f.USCC)
			continue
		}
		if err := f.validate(); err != nil {
			errs = append(errs, err)
		}
		eligible = append(eligible, f)
	}
	slices.SortFunc(eligible, func(a, b PoolFirm) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	rows := make([][]string, len(eligible))
	for i, f := range eligible {
		if i > 0 && eligible[i-1].USCC == f.USCC {
			errs = append(errs, fmt.Errorf("firm %s is in the pool twice", f.USCC))
		}
		rows[i] = []string{string(f.USCC), string(f.Grade), f.County}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("pool: %w", err)
	}
	slices.Sort(ungraded)
	return encodeCSV(poolHeader, rows), ungraded, nil
}

// ParsePoolCSV reads a published pool, refusing any other spelling of it.
func ParsePoolCSV(b []byte) ([]PoolFirm, error) {
	rows, err := parseCSV("pool.csv", b, poolHeader)
	if err != nil {
		return nil, err
	}
	firms := make([]PoolFirm, len(rows))
	for i, r := range rows {
		firms[i] = PoolFirm{USCC: model.USCC(r[0]), Grade: model.Grade(r[1]), County: r[2]}
		if err := firms[i].validate(); err != nil {
			return nil, fmt.Errorf("pool.csv line %d: %w", i+2, err)
		}
		if i > 0 && r[0] <= rows[i-1][0] {
			return nil, fmt.Errorf("pool.csv line %d: %s is not after %s (sorted by USCC, each once)", i+2, r[0], rows[i-1][0])
		}
	}
	return firms, nil
}

func (f PoolFirm) validate() error {
	return errors.Join(checkUSCCSyntax(f.USCC),
		wrapIf(checkGrade(f.Grade), "firm "+string(f.USCC)),
		wrapIf(checkCounty(f.County), "firm "+string(f.USCC)))
}

// InspectorsCSV is the published inspector pool, sorted by id, as
// `inspector_id,county`.
func InspectorsCSV(inspectors []Inspector) ([]byte, error) {
	sorted := slices.Clone(inspectors)
	slices.SortFunc(sorted, func(a, b Inspector) int { return strings.Compare(a.ID, b.ID) })
	var errs []error
	rows := make([][]string, len(sorted))
	for i, in := range sorted {
		if err := in.validate(); err != nil {
			errs = append(errs, err)
		}
		if i > 0 && sorted[i-1].ID == in.ID {
			errs = append(errs, fmt.Errorf("inspector %s is in the pool twice", in.ID))
		}
		rows[i] = []string{in.ID, in.County}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("inspector pool: %w", err)
	}
	return encodeCSV(inspectorsHeader, rows), nil
}

// ParseInspectorsCSV reads a published inspector pool.
func ParseInspectorsCSV(b []byte) ([]Inspector, error) {
	rows, err := parseCSV("inspectors.csv", b, inspectorsHeader)
	if err != nil {
		return nil, err
	}
	out := make([]Inspector, len(rows))
	for i, r := range rows {
		out[i] = Inspector{ID: r[0], County: r[1]}
		if err := out[i].validate(); err != nil {
			return nil, fmt.Errorf("inspectors.csv line %d: %w", i+2, err)
		}
		if i > 0 && r[0] <= rows[i-1][0] {
			return nil, fmt.Errorf("inspectors.csv line %d: %s is not after %s (sorted by id, each once)", i+2, r[0], rows[i-1][0])
		}
	}
	return out, nil
}

func (in Inspector) validate() error {
	return errors.Join(checkID("inspector id", in.ID, idChars), wrapIf(checkCounty(in.County), "inspector "+in.ID))
}

// pickInspectors gives a firm its two inspectors: the eligible ones with the
// smallest score (ties by id), eligible meaning any, or not of the firm's
// county when excludeOwn. Fewer than two eligible gives those there are.
func pickInspectors(k drawKey, drawID string, uscc model.USCC, county string, pool []Inspector, excludeOwn bool) []string {
	type scored struct {
		id string
		u  uint64
	}
	var eligible []scored
	for _, in := range pool {
		if excludeOwn && in.County == county {
			continue
		}
		eligible = append(eligible, scored{id: in.ID, u: k.inspectorScore(drawID, string(uscc), in.ID)})
	}
	slices.SortFunc(eligible, func(a, b scored) int { return cmp.Or(cmp.Compare(a.u, b.u), strings.Compare(a.id, b.id)) })
	best := eligible[:min(len(eligible), inspectorsPerFirm)]
	out := make([]string, len(best))
	for i, s := range best {
		out[i] = s.id
	}
	return out
}

// inspectorsPerFirm is two: 双随机 sends two inspectors to every firm drawn.
const inspectorsPerFirm = 2

// scoredFirm is a firm with its u.
type scoredFirm struct {
	PoolFirm
	U uint64
}

// smallest returns the n firms with the smallest u (ties by USCC), by u.
func smallest(k drawKey, drawID string, firms []PoolFirm, n int64) []scoredFirm {
	all := make([]scoredFirm, len(firms))
	for i, f := range firms {
		all[i] = scoredFirm{PoolFirm: f, U: k.firmScore(drawID, string(f.USCC))}
	}
	slices.SortFunc(all, func(a, b scoredFirm) int {
		return cmp.Or(cmp.Compare(a.U, b.U), strings.Compare(string(a.USCC), string(b.USCC)))
	})
	return all[:min(n, int64(len(all)))]
}

// The characters of ids: draw ids are lowercase so that they read the same in
// a URL and on paper; inspector, agency and batch ids come from other systems.
const (
	drawIDChars = "abcdefghijklmnopqrstuvwxyz0123456789-"
	idChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
	maxIDLength = 64
)

func checkID(what, id, chars string) error {
	if id == "" || len(id) > maxIDLength {
		return fmt.Errorf("%s %q: want 1–%d characters", what, id, maxIDLength)
	}
	for _, c := range id {
		if !strings.ContainsRune(chars, c) {
			return fmt.Errorf("%s %q: character %q is not one of %s", what, id, c, chars)
		}
	}
	return nil
}

// checkUSCCSyntax checks length and alphabet only: a pool is recomputed by
// third parties without qcredit's USCC policy (which may accept pilot codes
// whose check character fails), and the draw does not depend on the checks.
func checkUSCCSyntax(u model.USCC) error {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	if len(u) != 18 || strings.Trim(string(u), alphabet) != "" {
		return fmt.Errorf("uscc %q: want 18 characters of %s", u, alphabet)
	}
	return nil
}

func checkGrade(g model.Grade) error {
	if !g.Valid() {
		return fmt.Errorf("grade %q is not A, B, C or D", g)
	}
	return nil
}

// checkCounty wants a six-digit GB/T 2260 code; which codes exist is not the
// draw's business.
func checkCounty(c string) error {
	if len(c) != 6 || !allDigits(c) {
		return fmt.Errorf("county %q: want a six-digit GB/T 2260 code", c)
	}
	return nil
}

func wrapIf(err error, context string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", context, err)
}

// ValidateInspector says what is wrong with an inspector for a pool: an id
// of 1–64 of A–Z a–z 0–9 . _ - and a six-digit county code.
func ValidateInspector(in Inspector) error { return in.validate() }

// ValidateID checks an inspector, agency or batch id: 1–64 characters of
// A–Z a–z 0–9 . _ -.
func ValidateID(what, id string) error { return checkID(what, id, idChars) }

// ValidateDrawID checks the id of a draw, re-check or assignment: 1–64
// characters of a–z 0–9 -, so it reads the same in a URL and on paper.
func ValidateDrawID(id string) error { return checkID("draw id", id, drawIDChars) }
