// Package serving is the read model of one process: the current output of
// each job, loaded in bulk from the warehouse and laid out for reads that
// come many times a second (the public lookup, name search, list
// snapshots, dashboard aggregates), swapped whole when a new version
// appears. No request it answers queries the warehouse.
//
// The layout is pointer-free: enterprises sorted by USCC in fixed-size
// records, their strings in one arena, so a million enterprises are a few
// large allocations the garbage collector scans in no time.
package serving

import (
	"time"
	"unsafe"

	"github.com/qcredit/qcredit/model"
)

// usccLen is the length of a USCC (every stored one is valid).
const usccLen = 18

// firm is one enterprise's record: offsets into the arena, and small values.
type firm struct {
	name, cluster  span
	industry       span
	region         uint32 // the 6-digit code as a number
	score          int16  // tenths of a point; meaningful when grade != 0
	grade          byte   // 'A'…'D', 0 when unscored
	scale          byte   // index into scales
	deregistered   bool
	registeredUnix int64
	updatedUnix    int64
}

// span is a string in the arena.
type span struct{ off, len uint32 }

var scales = []model.Scale{"", model.ScaleMicro, model.ScaleSmall, model.ScaleMedium, model.ScaleLarge}

// directory is the enterprises, sorted by USCC.
type directory struct {
	keys  []byte // n × usccLen
	firms []firm
	arena []byte
	index usccIndex // built when the directory is (directoryBuilder.directory)
}

// Firm is what the read model knows of one enterprise. Its strings share
// the read model's memory: they stay valid as long as it is referenced.
type Firm struct {
	USCC         model.USCC
	Name         string
	Region       string
	Industry     string
	Cluster      string // declared cluster id, or ""
	Scale        model.Scale
	Deregistered bool
	RegisteredAt int64 // Unix seconds
	UpdatedAt    int64
	// Grade and Score are the current score run's; Grade is "" when the
	// enterprise has not been scored yet.
	Grade model.Grade
	Score model.Points
}

// ClusterKey is the firm's industrial cluster: its declared cluster id,
// else county + GB/T 4754 division (model.Enterprise.ClusterKey).
func (f Firm) ClusterKey() string {
	return model.Enterprise{Cluster: f.Cluster, Region: f.Region, Industry: f.Industry}.ClusterKey()
}

func (d *directory) len() int { return len(d.firms) }

// find is the index of uscc, or -1.
func (d *directory) find(uscc string) int {
	if len(uscc) != usccLen {
		return -1
	}
	return d.index.find(uscc, d.key)
}

func (d *directory) key(i int) []byte { return d.keys[i*usccLen : (i+1)*usccLen] }

func (d *directory) str(s span) string {
	if s.len == 0 {
		return ""
	}
	return unsafe.String(&d.arena[s.off], int(s.len))
}

func (d *directory) firm(i int) Firm {
	f := &d.firms[i]
	out := Firm{
		USCC:         model.USCC(unsafe.String(&d.keys[i*usccLen], usccLen)),
		Name:         d.str(f.name),
		Region:       regionCode(f.region),
		Industry:     d.str(f.industry),
		Cluster:      d.str(f.cluster),
		Scale:        scales[f.scale],
		Deregistered: f.deregistered,
		RegisteredAt: f.registeredUnix,
		UpdatedAt:    f.updatedUnix,
	}
	if f.grade != 0 {
		out.Grade, out.Score = model.Grade(f.grade), model.Points(f.score)
	}
	return out
}

func regionCode(r uint32) string {
	if r == 0 {
		return ""
	}
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = byte('0' + r%10)
		r /= 10
	}
	return string(b[:])
}

// bytes is the directory's memory.
func (d *directory) bytes() int64 {
	return int64(cap(d.keys) + cap(d.arena) + cap(d.firms)*int(unsafe.Sizeof(firm{})) + d.index.bytes())
}

// directoryBuilder collects enterprises in USCC order.
type directoryBuilder struct {
	d       directory
	strings map[string]span // industries and clusters repeat: stored once
}

func newDirectoryBuilder(sizeHint int) *directoryBuilder {
	return &directoryBuilder{
		d: directory{keys: make([]byte, 0, sizeHint*usccLen), firms: make([]firm, 0, sizeHint),
			arena: make([]byte, 0, sizeHint*40)},
		strings: map[string]span{},
	}
}

// add appends e; enterprises must come in ascending USCC order.
func (b *directoryBuilder) add(e model.Enterprise) bool {
	if len(e.USCC) != usccLen {
		return false
	}
	if n := b.d.len(); n > 0 && string(b.d.key(n-1)) >= string(e.USCC) {
		return false
	}
	b.d.keys = append(b.d.keys, e.USCC...)
	f := firm{name: b.text(e.Name), industry: b.shared(e.Industry), cluster: b.shared(e.Cluster),
		region: parseRegion(e.Region), deregistered: e.Deregistered,
		registeredUnix: e.RegisteredAt.Unix(), updatedUnix: e.UpdatedAt.Unix()}
	for i, s := range scales {
		if s == e.Scale {
			f.scale = byte(i)
		}
	}
	b.d.firms = append(b.d.firms, f)
	return true
}

// directory is the enterprises added, indexed by USCC; add no more after.
func (b *directoryBuilder) directory() *directory {
	b.d.index = newUSCCIndex(b.d.len(), b.d.key)
	return &b.d
}

func (b *directoryBuilder) text(s string) span {
	sp := span{off: uint32(len(b.d.arena)), len: uint32(len(s))}
	b.d.arena = append(b.d.arena, s...)
	return sp
}

func (b *directoryBuilder) shared(s string) span {
	if s == "" {
		return span{}
	}
	if sp, ok := b.strings[s]; ok {
		return sp
	}
	sp := b.text(s)
	b.strings[s] = sp
	return sp
}

func parseRegion(s string) uint32 {
	if len(s) != 6 {
		return 0
	}
	var r uint32
	for i := range 6 {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		r = r*10 + uint32(c-'0')
	}
	return r
}

func unix(s int64) time.Time { return time.Unix(s, 0) }
