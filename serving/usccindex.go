package serving

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

// usccIndex finds a USCC among sorted keys in a probe or two instead of a
// binary search's twenty (most of them cache misses over a million
// firms): an open-addressing table of positions (+1, 0 is empty), at most
// half full, without pointers.
type usccIndex struct {
	seed  maphash.Seed
	slots []uint32
}

// newUSCCIndex indexes the n keys key(0) … key(n-1), each under its first
// position: a key repeated at positions in a row is found at the first.
func newUSCCIndex(n int, key func(int) []byte) usccIndex {
	x := usccIndex{seed: maphash.MakeSeed(), slots: make([]uint32, 1<<bits.Len(uint(2*n)))}
	mask := uint64(len(x.slots) - 1)
	for i := range n {
		k := key(i)
		if i > 0 && string(key(i-1)) == string(k) {
			continue
		}
		h := maphash.Bytes(x.seed, k) & mask
		for x.slots[h] != 0 {
			h = (h + 1) & mask
		}
		x.slots[h] = uint32(i + 1)
	}
	return x
}

// find is uscc's first position, or -1.
func (x *usccIndex) find(uscc string, key func(int) []byte) int {
	if len(x.slots) == 0 {
		return -1
	}
	mask := uint64(len(x.slots) - 1)
	for h := maphash.String(x.seed, uscc) & mask; x.slots[h] != 0; h = (h + 1) & mask {
		if i := int(x.slots[h]) - 1; string(key(i)) == uscc {
			return i
		}
	}
	return -1
}

func (x *usccIndex) bytes() int { return len(x.slots) * int(unsafe.Sizeof(uint32(0))) }
