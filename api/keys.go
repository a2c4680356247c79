package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// API keys (DESIGN.md, API). A key reads qck_<id>_<secret>: the id (13
// characters) says which key it is and may appear in logs; the secret (52
// characters, 256 random bits) is what proves it. The warehouse keeps the id
// and the SHA-256 of the whole key, never the key.
//
// Why SHA-256 and not bcrypt or argon2: those slow hashes protect guessable
// passwords; a 256-bit random secret cannot be guessed however fast the hash,
// and a slow hash would cost milliseconds on every request. The id finds the
// stored hash; the hashes are compared in constant time
// (crypto/subtle), so a response's timing says nothing about the secret.

// KeyStore is where keys live: append-only records in the warehouse.
type KeyStore interface {
	AppendKeyRecord(ctx context.Context, r warehouse.KeyRecord) error
	KeyRecords(ctx context.Context) ([]warehouse.KeyRecord, error)
}

// Scopes are every scope, in the order the README lists them.
var Scopes = []Scope{ScopePublic, ScopeIngest, ScopePartner, ScopeAnalyst, ScopeAdmin}

// ParseScope reads a scope name.
func ParseScope(s string) (Scope, error) {
	if slices.Contains(Scopes, Scope(s)) {
		return Scope(s), nil
	}
	return "", fmt.Errorf("scope %q is not one of public, ingest, partner, analyst, admin", s)
}

const keyPrefix = "qck_"

var (
	keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	keyPattern  = regexp.MustCompile(`^qck_([a-z2-7]{13})_[a-z2-7]{52}$`)
	namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// newKey makes a random key, its id and its hash.
func newKey() (key, id, hash string, err error) {
	var b [8 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("random key: %w", err)
	}
	id = keyEncoding.EncodeToString(b[:8])
	key = keyPrefix + id + "_" + keyEncoding.EncodeToString(b[8:])
	return key, id, hashKey(key), nil
}

func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// keyID is the id of a well-formed key.
func keyID(key string) (string, bool) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// KeyRequest asks for a new key.
type KeyRequest struct {
	Name  string `json:"name"`
	Scope Scope  `json:"scope"`
	// Source binds an ingest key (required) or an analyst key (optional) to
	// a region: the city 320800 covers every county, a county itself only.
	Source string `json:"source,omitempty"`
	// Expires is when the key stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
}

// Validate says everything that is wrong with the request.
func (q KeyRequest) Validate() error {
	var errs []error
	if !namePattern.MatchString(q.Name) {
		errs = append(errs, fmt.Errorf("name %q: want 1–64 of a-z 0-9 . _ - starting with a letter or digit", q.Name))
	}
	if _, err := ParseScope(string(q.Scope)); err != nil {
		errs = append(errs, err)
	}
	switch {
	case q.Source != "" && q.Scope != ScopeIngest && q.Scope != ScopeAnalyst:
		errs = append(errs, fmt.Errorf("--source binds ingest and analyst keys only, not %s keys", q.Scope))
	case q.Source != "" && !model.IsHuaianBureau(q.Source):
		errs = append(errs, fmt.Errorf("source %q is not the city (320800) or a Huai'an county code (3208xx)", q.Source))
	case q.Source == "" && q.Scope == ScopeIngest:
		errs = append(errs, errors.New("an ingest key needs --source: the region whose events it reports (320800 for the city bureau)"))
	}
	return errors.Join(errs...)
}

// KeyInfo is what is shown of a key: never the key itself.
type KeyInfo struct {
	Name      string     `json:"name"`
	ID        string     `json:"id"`
	Scope     Scope      `json:"scope"`
	Source    string     `json:"source,omitempty"`
	Status    string     `json:"status"` // active, expired or revoked
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func keyInfo(k warehouse.KeyState, now time.Time) KeyInfo {
	info := KeyInfo{Name: k.Name, ID: k.ID, Scope: Scope(k.Scope), Source: k.Source, Status: "active", CreatedAt: local(k.At)}
	if !k.ExpiresAt.IsZero() {
		t := local(k.ExpiresAt)
		info.ExpiresAt = &t
		if !now.Before(k.ExpiresAt) {
			info.Status = "expired"
		}
	}
	if k.RevokedAt != nil {
		t := local(*k.RevokedAt)
		info.RevokedAt, info.Status = &t, "revoked"
	}
	return info
}

// CreateKey stores a new key and returns it: the only time it is shown.
// A name with a key not revoked is refused.
func CreateKey(ctx context.Context, store KeyStore, q KeyRequest, now time.Time) (string, KeyInfo, error) {
	if err := q.Validate(); err != nil {
		return "", KeyInfo{}, err
	}
	if !q.Expires.IsZero() && !q.Expires.After(now) {
		return "", KeyInfo{}, fmt.Errorf("--expires %s is not in the future: the key would never work",
			local(q.Expires).Format(time.RFC3339))
	}
	recs, err := store.KeyRecords(ctx)
	if err != nil {
		return "", KeyInfo{}, err
	}
	if k, ok := liveKey(warehouse.ResolveKeys(recs), q.Name); ok {
		return "", KeyInfo{}, fmt.Errorf("key %s exists (%s, created %s): revoke it first, or choose another name",
			q.Name, k.Scope, local(k.At).Format(time.DateTime))
	}
	key, id, hash, err := newKey()
	if err != nil {
		return "", KeyInfo{}, err
	}
	rec := warehouse.KeyRecord{Name: q.Name, Action: warehouse.KeyActionCreate, ID: id, Hash: hash, Scope: string(q.Scope),
		Source: q.Source, ExpiresAt: q.Expires, At: now}
	if err := store.AppendKeyRecord(ctx, rec); err != nil {
		return "", KeyInfo{}, err
	}
	// Read back: on a warehouse without transactions (ClickHouse) a racing
	// create of the same name may have come first, and then it is the key.
	if recs, err = store.KeyRecords(ctx); err != nil {
		return "", KeyInfo{}, err
	}
	k, ok := liveKey(warehouse.ResolveKeys(recs), q.Name)
	if !ok || k.ID != id {
		return "", KeyInfo{}, fmt.Errorf("key %s was created at the same time by another process: revoke it and try again", q.Name)
	}
	return key, keyInfo(k, now), nil
}

// liveKey is the name's key that is not revoked.
func liveKey(keys []warehouse.KeyState, name string) (warehouse.KeyState, bool) {
	for _, k := range keys {
		if k.Name == name && k.RevokedAt == nil {
			return k, true
		}
	}
	return warehouse.KeyState{}, false
}

// ListKeys lists every key, revoked ones too, by name.
func ListKeys(ctx context.Context, store KeyStore, now time.Time) ([]KeyInfo, error) {
	recs, err := store.KeyRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := []KeyInfo{}
	for _, k := range warehouse.ResolveKeys(recs) {
		out = append(out, keyInfo(k, now))
	}
	return out, nil
}

// RevokeKey revokes the name's key.
func RevokeKey(ctx context.Context, store KeyStore, name string, now time.Time) (KeyInfo, error) {
	recs, err := store.KeyRecords(ctx)
	if err != nil {
		return KeyInfo{}, err
	}
	k, ok := liveKey(warehouse.ResolveKeys(recs), name)
	if !ok {
		return KeyInfo{}, fmt.Errorf("no key %s to revoke (qcredit keys list shows the keys)", name)
	}
	if err := store.AppendKeyRecord(ctx, warehouse.KeyRecord{Name: name, Action: warehouse.KeyActionRevoke, At: now}); err != nil {
		return KeyInfo{}, err
	}
	k.RevokedAt = &now
	return keyInfo(k, now), nil
}

// ParseExpiry reads --expires: a day (the key works through the end of it,
// Asia/Shanghai) or an RFC 3339 time.
func ParseExpiry(s string) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, s, model.Shanghai); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expires %q: want a day YYYY-MM-DD or an RFC 3339 time", s)
	}
	return t, nil
}

// keySet is one loaded version of the keys, by id.
type keySet struct {
	byID map[string]warehouse.KeyState
}

func newKeySet(recs []warehouse.KeyRecord) *keySet {
	ks := &keySet{byID: map[string]warehouse.KeyState{}}
	for _, k := range warehouse.ResolveKeys(recs) {
		ks.byID[k.ID] = k
	}
	return ks
}

// Why a presented key was refused.
var (
	errKeyUnknown = errors.New("unknown API key")
	errKeyRevoked = errors.New("the API key was revoked")
	errKeyExpired = errors.New("the API key has expired")
)

// check finds the key presented and says whether it works at now.
func (ks *keySet) check(presented string, now time.Time) (warehouse.KeyState, error) {
	id, ok := keyID(presented)
	if !ok {
		return warehouse.KeyState{}, errKeyUnknown
	}
	k, found := ks.byID[id]
	want := k.Hash
	if !found {
		want = strings.Repeat("0", sha256.Size*2) // compare anyway: the same work either way
	}
	if subtle.ConstantTimeCompare([]byte(hashKey(presented)), []byte(want)) != 1 || !found {
		return warehouse.KeyState{}, errKeyUnknown
	}
	switch {
	case k.RevokedAt != nil:
		return k, errKeyRevoked
	case !k.Active(now):
		return k, errKeyExpired
	}
	return k, nil
}
