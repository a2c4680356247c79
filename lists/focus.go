package lists

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
)

// GradedFirm is one firm's grade in the latest score run.
type GradedFirm struct {
	USCC  model.USCC
	Name  string
	Grade model.Grade
}

// FocusInput is what one run of the focus list reads.
type FocusInput struct {
	// AsOf is the as_of day of the score run the grades come from.
	AsOf time.Time
	// Graded are the firms of that run; only the grades the focus list
	// names matter, so a caller may pass just those.
	Graded []GradedFirm
	// Current is the focus list's published snapshot (nil before the
	// first): a firm that stays on the list keeps its listed_at, and one
	// that leaves it gets a removal.
	Current []model.ListEntry
}

// Validate says what is wrong with the input.
func (in *FocusInput) Validate() error {
	var errs []error
	if in.AsOf.IsZero() {
		errs = append(errs, errors.New("focus: as_of is required"))
	}
	seen := make(map[model.USCC]bool, len(in.Graded))
	for _, g := range in.Graded {
		if !g.Grade.Valid() {
			errs = append(errs, fmt.Errorf("focus: %s: grade %q is not A, B, C or D", g.USCC, g.Grade))
		}
		if seen[g.USCC] {
			errs = append(errs, fmt.Errorf("focus: %s is graded twice", g.USCC))
		}
		seen[g.USCC] = true
	}
	for i := range in.Current {
		if in.Current[i].List != model.ListFocus {
			errs = append(errs, fmt.Errorf("focus: current entry %s is on the %s list", in.Current[i].Key, in.Current[i].List))
		}
	}
	return errors.Join(errs...)
}

// FocusEntries decides the focus-supervision list: an entry for every firm whose
// grade the list names (listed), and a removal (regraded) for every firm
// of the current snapshot that no longer has one. Entries are by key.
func (r *Rules) FocusEntries(in FocusInput) ([]model.ListEntry, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	asOf := dayOf(in.AsOf).Format(dateLayout)
	current := slices.Clone(in.Current)
	slices.SortFunc(current, model.CompareListEntries)
	var out []model.ListEntry
	for _, g := range in.Graded {
		rule := r.focusGrade(g.Grade)
		if rule == nil {
			continue
		}
		key := FocusKey(g.USCC)
		since := asOf
		if i, ok := slices.BinarySearchFunc(current, key, byKey); ok {
			since = current[i].ListedAt // the same stretch on the list, whatever the grade now
		}
		sinceDay, err := time.ParseInLocation(dateLayout, since, model.Shanghai)
		if err != nil {
			return nil, fmt.Errorf("focus: %s: listed_at %q: %w", key, since, err)
		}
		out = append(out, model.ListEntry{
			Authority:     r.authority(r.Publisher),
			AuthorityCode: r.Publisher,
			Basis:         rule.Basis,
			Key:           key,
			List:          model.ListFocus,
			ListedAt:      since,
			Measures:      slices.Clone(r.Focus.Measures),
			Name:          g.Name,
			Reason:        fill(rule.Reason, []string{"grade", string(g.Grade), "grade_label", g.Grade.Label(), "since", chineseDate(sinceDay)}),
			Rule:          rule.ID,
			State:         model.ListStateListed,
			USCC:          g.USCC,
		})
	}
	slices.SortFunc(out, model.CompareListEntries)
	for _, c := range current {
		if _, ok := slices.BinarySearchFunc(out, c.Key, byKey); ok || c.State != model.ListStateListed {
			continue
		}
		c.State, c.RemovedAt, c.RemovedReason = model.ListStateRemoved, asOf, model.RemovalRegraded
		c.RemovedByCode, c.RemovedBy = r.Publisher, r.authority(r.Publisher)
		out = append(out, c)
	}
	slices.SortFunc(out, model.CompareListEntries)
	return out, nil
}

// FocusNames reports whether the focus list takes firms of the grade.
func (r *Rules) FocusNames(g model.Grade) bool { return r.focusGrade(g) != nil }

func (r *Rules) focusGrade(g model.Grade) *FocusGrade {
	for i := range r.Focus.Grades {
		if r.Focus.Grades[i].Grade == g {
			return &r.Focus.Grades[i]
		}
	}
	return nil
}

// byKey compares an entry with a key, for binary searches.
func byKey(e model.ListEntry, key string) int { return strings.Compare(e.Key, key) }
