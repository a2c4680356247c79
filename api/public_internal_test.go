package api

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestPublicLookupIsWhatEncodingJSONWrites(t *testing.T) {
	// given lookups with every field, with the optional ones empty, with HTML and control characters and
	// penalties with and without a fine, when written by hand, then the bytes are json.Marshal's (c.JSON's)
	fine, tiny := 5000.5, 1e-7
	full := PublicLookup{PublicEnterprise: PublicEnterprise{USCC: "91320830MA1AAA018A", Name: `淮安<"甲">&乙公司` + "\n\u2028\xff",
		Region: "320830", RegionName: "盱眙县", Industry: "C1391", IndustryName: "淀粉及淀粉制品制造", Cluster: "xuyi-food",
		Deregistered: true, Grade: model.GradeC, GradeLabel: model.GradeC.Label(), AsOf: "2025-06-30", Listing: "列入严重失信名单"},
		Penalties: []PublicPenalty{
			{DecidedOn: "2025-01-02", DecisionNo: "淮市监处罚〔2025〕1号", Authority: "淮安市市场监督管理局", AuthorityCode: "320800",
				Violation: "生产、销售假冒产品", Severity: "较重", FineYuan: &fine, PublishedTill: "2028-01-02"},
			{DecidedOn: "2025-02-03", DecisionNo: `a\b`, Authority: "x", AuthorityCode: "320830", Violation: "其他", Severity: "轻微",
				PublishedTill: "2025-05-03"},
			{FineYuan: &tiny},
		}}
	// every field is set in full, so that a field added to the types but not to appendJSON fails here
	for _, v := range []any{full.PublicEnterprise, full.Penalties[0]} {
		rv := reflect.ValueOf(v)
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Fatalf("%s.%s is not set in the test", rv.Type().Name(), rv.Type().Field(i).Name)
			}
		}
	}
	for name, p := range map[string]PublicLookup{
		"full":  full,
		"empty": {PublicEnterprise: PublicEnterprise{USCC: "91320812MA1BBB025H"}, Penalties: []PublicPenalty{}},
	} {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.appendJSON(nil); string(got) != string(want) {
			t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
		}
	}
}
