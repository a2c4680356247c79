package lists_test

import (
	"testing"

	"github.com/qcredit/qcredit/lists"
	"github.com/qcredit/qcredit/model"
)

func focus(t *testing.T, r *lists.Rules, asOf string, current []model.ListEntry, graded ...lists.GradedFirm) []model.ListEntry {
	t.Helper()
	out, err := r.FocusEntries(lists.FocusInput{AsOf: at(asOf), Graded: graded, Current: current})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFocusListFollowsGrades(t *testing.T) {
	r := defaultRules(t)
	firmC := lists.GradedFirm{USCC: firmA, Name: "甲公司", Grade: model.GradeC}
	firmOK := lists.GradedFirm{USCC: firmB, Name: "乙公司", Grade: model.GradeB}

	// given grades C and B, when the focus list is made, then only the C firm is listed, since that day
	first := focus(t, r, "2025-03-01", nil, firmC, firmOK)
	if len(first) != 1 || first[0].Key != string(firmA) || first[0].State != model.ListStateListed ||
		first[0].ListedAt != "2025-03-01" || first[0].Rule != "focus.grade_c" {
		t.Fatalf("first run: %+v", first)
	}
	if first[0].Reason != "质量信用等级为C级（失信），2025年3月1日起列入重点监管" {
		t.Errorf("reason %q", first[0].Reason)
	}

	// given the firm stays C, when the next run lists it, then the entry is the same (no change to publish)
	same := focus(t, r, "2025-03-02", first, firmC)
	if len(same) != 1 || same[0].ListedAt != "2025-03-01" || same[0].Reason != first[0].Reason {
		t.Fatalf("same grade: %+v", same)
	}

	// given the firm falls to D, when listed, then the same key keeps its listed_at under the D rule
	firmD := firmC
	firmD.Grade = model.GradeD
	worse := focus(t, r, "2025-04-01", first, firmD)
	if len(worse) != 1 || worse[0].Key != first[0].Key || worse[0].ListedAt != "2025-03-01" || worse[0].Rule != "focus.grade_d" {
		t.Fatalf("regraded D: %+v", worse)
	}

	// given the firm improves to B, when the list is made, then its entry is removed as regraded by the publisher
	better := firmC
	better.Grade = model.GradeB
	gone := focus(t, r, "2025-05-01", worse, better)
	if len(gone) != 1 || gone[0].State != model.ListStateRemoved || gone[0].RemovedReason != model.RemovalRegraded ||
		gone[0].RemovedAt != "2025-05-01" || gone[0].RemovedByCode != "320800" {
		t.Fatalf("regraded B: %+v", gone)
	}
}
