package planning_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/planning"
)

func TestVerifyDrawNamesWhatWasAltered(t *testing.T) {
	d, pool, insp := readPublished(t, exampleDir)
	committed := readDoc(t, "testdata/draw/committed.json")
	otherSeed := seed(9)
	tests := []struct {
		name      string
		alter     func(*planning.VerifyDrawInput)
		committed bool // verify against the copy kept at creation
		want      planning.CheckName
		subject   bool // the failure names a firm
	}{
		{name: "a firm's grade in the pool", want: planning.CheckPoolSHA256, alter: func(in *planning.VerifyDrawInput) {
			in.PoolCSV = bytes.Replace(in.PoolCSV, []byte(",A,"), []byte(",D,"), 1)
		}},
		{name: "the pool with CRLF line ends", want: planning.CheckPoolFile, alter: func(in *planning.VerifyDrawInput) {
			in.PoolCSV = bytes.ReplaceAll(in.PoolCSV, []byte("\n"), []byte("\r\n"))
		}},
		{name: "the pool without its final line feed", want: planning.CheckPoolFile, alter: func(in *planning.VerifyDrawInput) {
			in.PoolCSV = in.PoolCSV[:len(in.PoolCSV)-1]
		}},
		{name: "an inspector's county", want: planning.CheckInspectorsSHA256, alter: func(in *planning.VerifyDrawInput) {
			in.InspectorsCSV = bytes.Replace(in.InspectorsCSV, []byte("insp-xy-01,320830"), []byte("insp-xy-01,320812"), 1)
		}},
		{name: "a probability", want: planning.CheckRulesSHA256, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Rules.Probabilities.D = dec(t, "0.5")
		}},
		{name: "a probability and its hash", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Rules.Probabilities.D = dec(t, "0.5")
			in.Draw.RulesSHA256 = in.Draw.Rules.SHA256()
		}},
		{name: "the own-county rule and its hash, against the copy kept at creation", committed: true,
			want: planning.CheckCreation, alter: func(in *planning.VerifyDrawInput) {
				in.Draw.Rules.ExcludeOwnCounty = false
				in.Draw.RulesSHA256 = in.Draw.Rules.SHA256()
			}},
		{name: "the seed", want: planning.CheckCommitment, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Seed = otherSeed.String()
		}},
		{name: "the seed and the commitment", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Seed, in.Draw.Commitment = otherSeed.String(), otherSeed.Commitment()
		}},
		{name: "the seed and the commitment, against the copy kept at creation", committed: true,
			want: planning.CheckCreation, alter: func(in *planning.VerifyDrawInput) {
				in.Draw.Seed, in.Draw.Commitment = otherSeed.String(), otherSeed.Commitment()
			}},
		{name: "the beacon value", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Beacon = "12 07 33 41 59"
		}},
		{name: "the beacon not in normal form", want: planning.CheckBeacon, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Beacon += " "
		}},
		{name: "a drawn firm swapped for another", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Drawn[2].USCC = "91320812DFC1CE6E55" // in the pool, grade C, not drawn
		}},
		{name: "two drawn firms in the wrong order", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Drawn[2], in.Draw.Drawn[3] = in.Draw.Drawn[3], in.Draw.Drawn[2]
		}},
		{name: "a drawn firm's grade", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Drawn[0].Grade = "B"
		}},
		{name: "a firm left out of the result", want: planning.CheckDrawn, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Drawn = in.Draw.Drawn[1:]
		}},
		{name: "a firm's inspectors", want: planning.CheckInspectors, subject: true, alter: func(in *planning.VerifyDrawInput) {
			in.Draw.Drawn[0].Inspectors = []string{"insp-qjp-01", "insp-qjp-02"}
		}},
		{name: "a firm's inspectors in the other order", want: planning.CheckInspectors, subject: true, alter: func(in *planning.VerifyDrawInput) {
			ins := in.Draw.Drawn[0].Inspectors
			in.Draw.Drawn[0].Inspectors = []string{ins[1], ins[0]}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given the published example, when one part is altered, then verification fails first on that part
			in := planning.VerifyDrawInput{Draw: d, PoolCSV: bytes.Clone(pool), InspectorsCSV: bytes.Clone(insp)}
			in.Draw.Drawn = cloneDrawn(d.Drawn)
			if tt.committed {
				in.Committed = &committed
			}
			tt.alter(&in)
			v := planning.VerifyDraw(in)
			failed := v.Failed()
			if len(failed) == 0 {
				t.Fatal("the altered draw verifies")
			}
			if failed[0].Name != tt.want {
				t.Errorf("first failed check is %s (%s), want %s", failed[0].Name, failed[0].Detail, tt.want)
			}
			if tt.subject && failed[0].Subject != string(in.Draw.Drawn[0].USCC) {
				t.Errorf("the failure names %q, want the firm %s", failed[0].Subject, in.Draw.Drawn[0].USCC)
			}
			t.Log(v.Err())
		})
	}
}

func cloneDrawn(in []planning.DrawnFirm) []planning.DrawnFirm {
	out := make([]planning.DrawnFirm, len(in))
	for i, f := range in {
		f.Inspectors = append([]string(nil), f.Inspectors...)
		out[i] = f
	}
	return out
}

func TestVerifyCommittedDraw(t *testing.T) {
	// given a draw not yet drawn, when verified, then its files and rules are checked and nothing else
	committed := readDoc(t, "testdata/draw/committed.json")
	_, pool, insp := readPublished(t, exampleDir)
	v := planning.VerifyDraw(planning.VerifyDrawInput{Draw: committed, PoolCSV: pool, InspectorsCSV: insp})
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Checks {
		if c.Name == planning.CheckCommitment || c.Name == planning.CheckDrawn {
			t.Errorf("a committed draw was checked for %s", c.Name)
		}
	}
	t.Run("a committed draw that shows a seed", func(t *testing.T) {
		// given a committed document that already publishes a seed, when verified, then the document is refused
		committed := committed
		committed.Seed = seed(3).String()
		v := planning.VerifyDraw(planning.VerifyDrawInput{Draw: committed, PoolCSV: pool, InspectorsCSV: insp})
		if !v.HasFailed(planning.CheckDocument) || !strings.Contains(v.Err().Error(), "must not publish its seed") {
			t.Errorf("verification = %v, want the document refused", v.Err())
		}
	})
}
