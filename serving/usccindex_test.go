package serving

import (
	"fmt"
	"testing"

	"github.com/qcredit/qcredit/model"
)

func TestUSCCIndexFindsEveryKeyAtItsFirstPosition(t *testing.T) {
	// given sorted keys, some repeated in a row (a firm's several penalties), and none, when indexed, then
	// each key is found at its first position and keys not there (or of another length) are not
	for _, n := range []int{0, 1, 2, 3, 1000, 20_000} {
		var keys [][]byte
		first := map[string]int{}
		for i := range n {
			k := []byte(model.CompleteUSCC(fmt.Sprintf("91320800MA%06d", i)))
			for range 1 + i%3 {
				if _, ok := first[string(k)]; !ok {
					first[string(k)] = len(keys)
				}
				keys = append(keys, k)
			}
		}
		key := func(i int) []byte { return keys[i] }
		x := newUSCCIndex(len(keys), key)
		for k, want := range first {
			if got := x.find(k, key); got != want {
				t.Fatalf("n %d: %s at %d, want %d", n, k, got, want)
			}
		}
		for _, absent := range []string{string(model.CompleteUSCC("91320800MB000000")), "", "91320800MA00000"} {
			if got := x.find(absent, key); got != -1 {
				t.Fatalf("n %d: %q found at %d", n, absent, got)
			}
		}
	}
	var unbuilt usccIndex
	if unbuilt.find("91320800MA0000001X", nil) != -1 {
		t.Fatal("an empty index found a key")
	}
}
