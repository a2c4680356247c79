package planning

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// keyLabel versions the key derivation: a new derivation gets a new label, so
// a draw published under v1 always recomputes under v1.
const keyLabel = "qcredit-draw-v1\n"

// SeedSize is the size of a draw's secret seed in bytes.
const SeedSize = 32

// Seed is a draw's secret: drawn from crypto/rand by the caller at creation,
// kept secret until the draw, then published. Its SHA-256 is the commitment
// published at creation, so the bureau cannot change it afterwards.
type Seed [SeedSize]byte

// ReadSeed reads a seed from r (crypto/rand.Reader in production, a fixed
// reader in tests), so this package never touches a random source itself.
func ReadSeed(r io.Reader) (Seed, error) {
	var s Seed
	if _, err := io.ReadFull(r, s[:]); err != nil {
		return Seed{}, fmt.Errorf("read %d-byte seed: %w", SeedSize, err)
	}
	return s, nil
}

// ParseSeed reads the published form: 64 lowercase hex digits.
func ParseSeed(s string) (Seed, error) {
	var seed Seed
	if err := parseHex256(s, seed[:]); err != nil {
		return Seed{}, fmt.Errorf("seed: %w", err)
	}
	return seed, nil
}

func (s Seed) String() string { return hex.EncodeToString(s[:]) }

// Commitment is SHA-256 of the seed's 32 bytes, lowercase hex.
func (s Seed) Commitment() string { return sha256Hex(s[:]) }

func (s Seed) validate() error {
	if s == (Seed{}) {
		return errors.New("seed is all zeros: draw it from crypto/rand")
	}
	return nil
}

// beaconSpaces are what NormaliseBeacon trims: Go's unicode.IsSpace set,
// spelled out so that a verifier in another language trims exactly the same
// characters (Python's str.strip() would also trim U+001C–U+001F, JavaScript's
// trim() U+FEFF but not U+0085).
const beaconSpaces = "\t\n\v\f\r \u0085\u00a0\u1680" +
	"\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" +
	"\u2028\u2029\u202f\u205f\u3000"

// NormaliseBeacon is the beacon value as the draw uses it: Unicode NFC, then
// the characters of beaconSpaces trimmed from both ends. Two clerks typing
// the same published value (a composed or decomposed é, a trailing space)
// get the same draw.
func NormaliseBeacon(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("beacon is not valid UTF-8")
	}
	b := strings.Trim(norm.NFC.String(s), beaconSpaces)
	if b == "" {
		return "", errors.New("beacon is empty")
	}
	return b, nil
}

// drawKey is key = HMAC-SHA256(seed, "qcredit-draw-v1\n" + beacon). Never
// SHA-256(seed) alone: that is the commitment, public before the draw.
type drawKey struct{ mac hash.Hash }

func newDrawKey(seed Seed, beacon string) drawKey {
	m := hmac.New(sha256.New, seed[:])
	m.Write([]byte(keyLabel))
	m.Write([]byte(beacon))
	return drawKey{mac: hmac.New(sha256.New, m.Sum(nil))}
}

// score is the first 8 bytes, big-endian, of HMAC-SHA256(key, the parts
// joined by LF). The parts never contain LF (ids and codes are checked), so
// different messages cannot collide by shifting a separator.
func (k drawKey) score(parts ...string) uint64 {
	k.mac.Reset()
	for i, p := range parts {
		if i > 0 {
			k.mac.Write([]byte{'\n'})
		}
		k.mac.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(k.mac.Sum(sum[:0]))
}

// firmScore is u for a firm: message draw_id + "\n" + uscc.
func (k drawKey) firmScore(drawID, uscc string) uint64 { return k.score(drawID, uscc) }

// inspectorScore: message draw_id + "\ninspector\n" + uscc + "\n" + inspector_id.
func (k drawKey) inspectorScore(drawID, uscc, inspector string) uint64 {
	return k.score(drawID, "inspector", uscc, inspector)
}

// agencyScore: message draw_id + "\nagency\n" + batch_id + "\n" + agency_id.
func (k drawKey) agencyScore(drawID, batch, agency string) uint64 {
	return k.score(drawID, "agency", batch, agency)
}

// Randomness is what every verifiable draw publishes about its randomness:
// the beacon source and the commitment at creation, the seed and the beacon
// value at the draw.
type Randomness struct {
	BeaconSource string `json:"beacon_source"`
	Commitment   string `json:"commitment"`
	Seed         string `json:"seed,omitzero"`
	Beacon       string `json:"beacon,omitzero"`
}

// reveal checks the seed against the commitment and normalises the beacon,
// returning the published randomness and the draw's key.
func (r Randomness) reveal(seed Seed, beacon string) (Randomness, drawKey, error) {
	if got := seed.Commitment(); got != r.Commitment {
		return r, drawKey{}, fmt.Errorf("seed does not match the commitment (SHA-256 of the seed is %s, published %s): use the seed stored at creation", got, r.Commitment)
	}
	b, err := NormaliseBeacon(beacon)
	if err != nil {
		return r, drawKey{}, err
	}
	r.Seed, r.Beacon = seed.String(), b
	return r, newDrawKey(seed, b), nil
}

// verify checks the revealed seed and beacon and returns the key they give.
// ok is false when no key could be made (then nothing can be recomputed).
func (r Randomness) verify(v *Verification) (drawKey, bool) {
	seed, err := ParseSeed(r.Seed)
	if err != nil {
		v.fail(CheckCommitment, "", err.Error())
		return drawKey{}, false
	}
	if got := seed.Commitment(); got != r.Commitment {
		v.fail(CheckCommitment, "", fmt.Sprintf("SHA-256 of the published seed is %s, the commitment published at creation is %s", got, r.Commitment))
	} else {
		v.pass(CheckCommitment, "", "SHA-256 of the seed is the commitment")
	}
	b, err := NormaliseBeacon(r.Beacon)
	switch {
	case err != nil:
		v.fail(CheckBeacon, "", err.Error())
		return drawKey{}, false
	case b != r.Beacon:
		v.fail(CheckBeacon, "", fmt.Sprintf("published beacon %q is not in normal form (NFC, trimmed): %q", r.Beacon, b))
	default:
		v.pass(CheckBeacon, "", "beacon is NFC and trimmed")
	}
	return newDrawKey(seed, b), true
}

func (r Randomness) validate(drawn bool) error {
	var errs []error
	if strings.TrimSpace(r.BeaconSource) == "" {
		errs = append(errs, errors.New("beacon source is required: name the public value, out of the bureau's hands, that will be mixed in"))
	}
	if err := parseHex256(r.Commitment, make([]byte, 32)); err != nil {
		errs = append(errs, fmt.Errorf("commitment: %w", err))
	}
	if drawn && (r.Seed == "" || r.Beacon == "") {
		errs = append(errs, errors.New("a drawn draw publishes its seed and beacon"))
	}
	if !drawn && (r.Seed != "" || r.Beacon != "") {
		errs = append(errs, errors.New("a committed draw must not publish its seed or beacon yet"))
	}
	return errors.Join(errs...)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parseHex256 reads 64 lowercase hex digits into dst (32 bytes).
func parseHex256(s string, dst []byte) error {
	if len(s) != 64 || strings.ToLower(s) != s {
		return fmt.Errorf("%q: want 64 lowercase hex digits", s)
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%q: want 64 lowercase hex digits", s)
	}
	return nil
}
