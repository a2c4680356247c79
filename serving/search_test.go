package serving

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/model"
)

// testModel is a model over the named enterprises (USCCs made up in order).
func testModel(t *testing.T, names ...string) (*Model, []model.USCC) {
	t.Helper()
	b := newDirectoryBuilder(len(names))
	var usccs []model.USCC
	for i, n := range names {
		u := model.CompleteUSCC(fmt.Sprintf("91320812MA%06d", i))
		usccs = append(usccs, u)
		if !b.add(model.Enterprise{USCC: u, Name: n, Region: "320812", Industry: "C3130"}) {
			t.Fatalf("add %s", n)
		}
	}
	d := b.directory()
	ix, err := buildNameIndex(d)
	if err != nil {
		t.Fatal(err)
	}
	return &Model{base: d, names: ix}, usccs
}

func hitNames(t *testing.T, m *Model, q string) []string {
	t.Helper()
	res, err := m.SearchNames(q, 50)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var out []string
	for _, f := range res.Hits {
		out = append(out, f.Name)
	}
	return out
}

func TestSearchNames(t *testing.T) {
	m, usccs := testModel(t,
		"淮安市清江浦区润昌钢材贸易有限公司",
		"清江浦区润昌钢材有限公司",
		"淮安润昌食品有限公司",
		"江苏钢材集团有限公司",
		"昌钢材料X材有限公司",
		"甲乙丙乙甲",              // has 甲乙 and 乙甲, but not 甲乙甲
		"淮安市（清江浦区）ＡＢＣ贸易有限公司", // full-width and brackets
		"润昌钢材",
	)
	cases := []struct {
		q    string
		want []string
	}{
		// Shorter names first, so the exact name comes first of all.
		{"润昌钢材", []string{"润昌钢材", "清江浦区润昌钢材有限公司", "淮安市清江浦区润昌钢材贸易有限公司"}},
		{"润昌", []string{"润昌钢材", "淮安润昌食品有限公司", "清江浦区润昌钢材有限公司", "淮安市清江浦区润昌钢材贸易有限公司"}},
		{"钢材", []string{"润昌钢材", "江苏钢材集团有限公司", "昌钢材料X材有限公司", "清江浦区润昌钢材有限公司", "淮安市清江浦区润昌钢材贸易有限公司"}},
		{"清江浦区润昌钢材有限公司", []string{"清江浦区润昌钢材有限公司"}},
		{"甲乙甲", nil},
		{"乙甲", []string{"甲乙丙乙甲"}},
		{"abc贸易", []string{"淮安市（清江浦区）ＡＢＣ贸易有限公司"}},
		{"清江浦区 ABC", []string{"淮安市（清江浦区）ＡＢＣ贸易有限公司"}},
		{"润钢", nil},
		{"不存在的名字", nil},
	}
	for _, c := range cases {
		if got := hitNames(t, m, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.q, got, c.want)
		}
	}
	// A USCC finds its enterprise first, in any letter case.
	res, err := m.SearchNames(strings.ToLower(string(usccs[2])), 50)
	if err != nil || len(res.Hits) != 1 || res.Hits[0].USCC != usccs[2] {
		t.Errorf("by USCC: %+v %v", res, err)
	}
	if _, err := m.SearchNames("润", 50); err != ErrShortQuery {
		t.Errorf("one character: %v", err)
	}
	if _, err := m.SearchNames("（ ）", 50); err != ErrShortQuery {
		t.Errorf("punctuation only: %v", err)
	}
}

func TestSearchLimitAndOverlay(t *testing.T) {
	// Given 120 names with 钢材 and an overlay renaming one and adding one,
	// when searched, then 50 come back with More set, the renamed one is
	// found by its new name only, and the added one is found.
	var names []string
	for i := range 120 {
		names = append(names, fmt.Sprintf("淮安%s钢材有限公司", strings.Repeat("甲", i%7+1)))
	}
	m, usccs := testModel(t, names...)
	res, err := m.SearchNames("钢材", 50)
	if err != nil || len(res.Hits) != 50 || !res.More {
		t.Fatalf("limit: %d hits, more %v, %v", len(res.Hits), res.More, err)
	}
	for i := 1; i < len(res.Hits); i++ {
		if len([]rune(res.Hits[i].Name)) < len([]rune(res.Hits[i-1].Name)) {
			t.Fatalf("hit %d is longer than the next", i-1)
		}
	}
	c := newDirectoryBuilder(2)
	c.add(model.Enterprise{USCC: usccs[0], Name: "淮安润昌食品有限公司"})
	added := model.CompleteUSCC("91320812MA999999")
	c.add(model.Enterprise{USCC: added, Name: "钢材"})
	m.changed = c.directory()
	if got := hitNames(t, m, "润昌食品"); !slices.Equal(got, []string{"淮安润昌食品有限公司"}) {
		t.Errorf("renamed: %q", got)
	}
	res, _ = m.SearchNames("钢材", 200)
	if len(res.Hits) != 120 || res.Hits[0].USCC != added {
		t.Errorf("with the overlay: %d hits, first %s", len(res.Hits), res.Hits[0].Name)
	}
	for _, f := range res.Hits {
		if f.USCC == usccs[0] {
			t.Error("the renamed enterprise is found by its old name")
		}
	}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	// Given random names over a small alphabet (many shared bigrams), every
	// query's hits are exactly the names containing it, in rank order.
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	alphabet := []rune("润昌钢材有限公司淮安")
	word := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	var names []string
	for range 2000 {
		names = append(names, word(2+rng.IntN(10)))
	}
	m, usccs := testModel(t, names...)
	for range 300 {
		q := word(2 + rng.IntN(3))
		res, err := m.SearchNames(q, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		var want []int
		for i, n := range names {
			if strings.Contains(n, q) {
				want = append(want, i)
			}
		}
		slices.SortStableFunc(want, func(a, b int) int { return len([]rune(names[a])) - len([]rune(names[b])) })
		if len(res.Hits) != len(want) {
			t.Fatalf("%q: %d hits, want %d", q, len(res.Hits), len(want))
		}
		for i, w := range want {
			if res.Hits[i].USCC != usccs[w] {
				t.Fatalf("%q: hit %d is %s, want %s", q, i, res.Hits[i].Name, names[w])
			}
		}
	}
}
