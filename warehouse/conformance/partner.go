package conformance

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

func testPartnerRecords(t *testing.T, open Opener) {
	// Given two partners' watches, webhook and deliveries, one record stored twice (a retried insert), when
	// they are read by partner and kind, then they come back once each in time order; with Latest, only each
	// partner's latest delivery
	s := open(t)
	defer s.Close()
	at := func(min int) time.Time { return time.Date(2026, 1, 5, 9, min, 0, 123456000, shanghai) }
	rec := func(p string, k warehouse.PartnerKind, key, value string, min int) warehouse.PartnerRecord {
		return warehouse.PartnerRecord{Partner: p, Kind: k, Key: key, Value: value, At: at(min)}
	}
	recs := []warehouse.PartnerRecord{
		rec("p1", warehouse.PartnerWatch, string(FirmA), "", 1), rec("p1", warehouse.PartnerWatch, string(FirmB), "", 1),
		rec("p1", warehouse.PartnerWebhook, "https://p1.example/hook", "s3cret", 2), rec("p1", warehouse.PartnerUnwatch, string(FirmB), "", 3),
		rec("p1", warehouse.PartnerDelivered, "dishonest.1.3", "", 4), rec("p1", warehouse.PartnerDelivered, "dishonest.2.0", "", 6),
		rec("p2", warehouse.PartnerWatch, string(FirmC), "", 2), rec("p2", warehouse.PartnerDelivered, "focus.1.9", "", 5),
	}
	for _, batch := range [][]warehouse.PartnerRecord{recs, recs[4:5]} {
		if err := s.AppendPartnerRecords(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	line := func(rs []warehouse.PartnerRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s %s %s %s %s", r.Partner, r.Kind, r.Key, r.Value, r.At.UTC().Format(time.RFC3339Nano)))
		}
		return out
	}
	for _, c := range []struct {
		q    warehouse.PartnerQuery
		want []warehouse.PartnerRecord
	}{
		{warehouse.PartnerQuery{Partner: "p1", Kinds: []warehouse.PartnerKind{warehouse.PartnerWatch, warehouse.PartnerUnwatch, warehouse.PartnerWebhook}},
			[]warehouse.PartnerRecord{recs[1], recs[0], recs[2], recs[3]}}, // ties by key
		{warehouse.PartnerQuery{Kinds: []warehouse.PartnerKind{warehouse.PartnerWatch}}, []warehouse.PartnerRecord{recs[1], recs[0], recs[6]}},
		{warehouse.PartnerQuery{Kinds: []warehouse.PartnerKind{warehouse.PartnerDelivered}}, []warehouse.PartnerRecord{recs[4], recs[7], recs[5]}},
		{warehouse.PartnerQuery{Kinds: []warehouse.PartnerKind{warehouse.PartnerDelivered}, Latest: true}, []warehouse.PartnerRecord{recs[7], recs[5]}},
		{warehouse.PartnerQuery{Partner: "p2", Kinds: []warehouse.PartnerKind{warehouse.PartnerDelivered}, Latest: true}, []warehouse.PartnerRecord{recs[7]}},
		{warehouse.PartnerQuery{Partner: "nobody"}, nil},
	} {
		got, err := s.PartnerRecords(t.Context(), c.q)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := line(got), line(c.want); !slices.Equal(g, w) {
			t.Errorf("%+v:\n got %q\nwant %q", c.q, g, w)
		}
	}
	if err := s.AppendPartnerRecords(t.Context(), []warehouse.PartnerRecord{{Partner: "p1", Kind: warehouse.PartnerWatch, At: at(9)}}); err == nil {
		t.Error("a watch without a USCC was stored")
	}
}
