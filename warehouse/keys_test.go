package warehouse

import (
	"testing"
	"time"
)

func TestResolveKeys(t *testing.T) {
	// Given two processes creating the same name at once (ClickHouse has no
	// transactions), a revoke, a repeat of a record and a re-creation, then
	// every reader resolves the same keys: the earlier create holds, the
	// racing one is ignored, the revoke ends the held key only.
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	rec := func(name string, a KeyAction, id string, at time.Duration) KeyRecord {
		r := KeyRecord{Name: name, Action: a, At: t0.Add(at)}
		if a == KeyActionCreate {
			r.ID, r.Hash, r.Scope = id, "h"+id, "analyst"
		}
		return r
	}
	recs := []KeyRecord{
		rec("a", KeyActionCreate, "k2", time.Second), // a racing create, a second later
		rec("a", KeyActionCreate, "k1", 0),
		rec("a", KeyActionRevoke, "", time.Minute),
		rec("a", KeyActionRevoke, "", time.Minute), // a retried insert
		rec("a", KeyActionCreate, "k3", time.Hour),
		rec("b", KeyActionCreate, "k4", 0),
		rec("b", KeyActionCreate, "k4", 0), // the same record twice
	}
	keys := ResolveKeys(recs)
	if len(keys) != 3 {
		t.Fatalf("keys: %+v", keys)
	}
	now := t0.Add(2 * time.Hour)
	if keys[0].ID != "k1" || keys[0].Active(now) || keys[0].RevokedAt == nil || !keys[0].RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("a's first key: %+v", keys[0])
	}
	if keys[1].ID != "k3" || !keys[1].Active(now) {
		t.Errorf("a's second key: %+v", keys[1])
	}
	if keys[2].ID != "k4" || !keys[2].Active(now) {
		t.Errorf("b's key: %+v", keys[2])
	}
	exp := rec("c", KeyActionCreate, "k5", 0)
	exp.ExpiresAt = t0.Add(time.Hour)
	k := ResolveKeys([]KeyRecord{exp})[0]
	if !k.Active(t0.Add(59*time.Minute)) || k.Active(t0.Add(time.Hour)) {
		t.Errorf("expiry: active until, not at, ExpiresAt")
	}
}
