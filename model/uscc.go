package model

import (
	"fmt"
)

// USCC is an 18-character unified social credit code (统一社会信用代码, GB 32100-2015).
type USCC string

// usccAlphabet lists the characters of a USCC in value order (0–30); I, O, S, V
// and Z are never used.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccValue maps a byte to its value in usccAlphabet, or -1.
var usccValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		t[usccAlphabet[i]] = int8(i)
	}
	return t
}()

// USCCProblem says what is wrong with a code. Kinds are stable words that
// callers may switch on; Detail is for people.
type USCCProblem struct {
	Kind     USCCProblemKind
	Detail   string
	Expected string // the expected check character, for the two check kinds
}

// USCCProblemKind names one way a code can be wrong.
type USCCProblemKind string

const (
	USCCProblemLength     USCCProblemKind = "length"
	USCCProblemCharacter  USCCProblemKind = "character"
	USCCProblemCheck      USCCProblemKind = "check_character"
	USCCProblemOrgCheck   USCCProblemKind = "org_code_check"
	USCCProblemRegion     USCCProblemKind = "region"
	USCCProblemRegionNote USCCProblemKind = "region_unknown" // a warning, not an error
)

func (p USCCProblem) Error() string { return p.Detail }

// USCCPolicy decides which lawful oddities are accepted.
type USCCPolicy struct {
	// AcceptCheckFailures accepts codes whose mod-31 check character is wrong.
	// Some legally issued pilot codes (e.g. Fujian 91350211M000…) fail it; the
	// bureau decides whether to accept them. Off by default.
	AcceptCheckFailures bool
}

// USCCResult is the outcome of validating one code.
type USCCResult struct {
	Code     string
	Problems []USCCProblem // errors, in the order found
	Warnings []USCCProblem // e.g. a region code missing from the 1983–2019 table
	Region   Region        // when the 6-digit region is known
}

// Valid reports whether the code has no problems.
func (r USCCResult) Valid() bool { return len(r.Problems) == 0 }

// Err returns the first problem, or nil.
func (r USCCResult) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return r.Problems[0]
}

// ParseUSCC validates s with the strict default policy.
func ParseUSCC(s string) (USCC, error) {
	r := USCCPolicy{}.Check(s)
	if err := r.Err(); err != nil {
		return "", err
	}
	return USCC(s), nil
}

// Check validates s: length, alphabet, the GB 11714 organisation-code check
// digit (position 17), the GB 32100 mod-31 check character (position 18), and
// the region (positions 3–8). Every problem found is reported, not just the first.
func (p USCCPolicy) Check(s string) USCCResult {
	res := USCCResult{Code: s}
	if n := len([]rune(s)); n != 18 {
		res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemLength,
			Detail: fmt.Sprintf("length is %d characters, a USCC has 18", n)})
		return res
	}
	for i, c := range s {
		if c >= 'a' && c <= 'z' {
			res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemCharacter,
				Detail: fmt.Sprintf("character %d %q is lower case; USCCs use upper case", i+1, c)})
			return res
		}
		if c >= 0x80 || usccValue[c] < 0 {
			res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemCharacter,
				Detail: fmt.Sprintf("character %d %q is not allowed (0-9 and A-Y without I, O, S, V, Z)", i+1, c)})
			return res
		}
	}
	if want, ok := orgCodeCheck(s[8:16]); !ok {
		res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemCharacter,
			Detail: fmt.Sprintf("organisation code %s has a character outside 0-9 and A-Z", s[8:16])})
	} else if s[16] != want {
		res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemOrgCheck, Expected: string(want),
			Detail: fmt.Sprintf("organisation-code check digit (character 17) is %c, expected %c", s[16], want)})
	}
	if want := usccCheck(s); s[17] != want && !p.AcceptCheckFailures {
		res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemCheck, Expected: string(want),
			Detail: fmt.Sprintf("check character (character 18) is %c, expected %c", s[17], want)})
	}
	region := s[2:8]
	if !IsProvinceCode(region[:2]) {
		res.Problems = append(res.Problems, USCCProblem{Kind: USCCProblemRegion,
			Detail: fmt.Sprintf("region %s: %s is no province-level code", region, region[:2])})
	} else if r, ok := LookupRegion(region); ok {
		res.Region = r
	} else {
		res.Warnings = append(res.Warnings, USCCProblem{Kind: USCCProblemRegionNote,
			Detail: fmt.Sprintf("region %s is not in the GB/T 2260 table (1983–2019 editions)", region)})
	}
	return res
}

// usccCheck computes the GB 32100 check character over the first 17 characters:
// weights 3^(i-1) mod 31, C18 = (31 − Σ mod 31) mod 31.
func usccCheck(s string) byte {
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += int(usccValue[s[i]]) * w
		w = w * 3 % 31
	}
	return usccAlphabet[(31-sum%31)%31]
}

// orgCodeCheck computes the GB 11714 check digit of an 8-character organisation
// code body: values 0–9, A=10 … Z=35; weights 3,7,9,10,5,8,4,2; 11 − Σ mod 11,
// with 10 → X and 11 → 0.
func orgCodeCheck(body string) (byte, bool) {
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0, false
		}
		sum += v * weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', true
	case 11:
		return '0', true
	default:
		return byte('0' + c), true
	}
}

// CompleteUSCC appends the organisation-code check digit and the check
// character to a 16-character prefix (registration authority, entity type,
// region, 8-character organisation code body). It is how test and simulated
// data get valid codes; it does not validate the prefix.
func CompleteUSCC(prefix16 string) USCC {
	c17, _ := orgCodeCheck(prefix16[8:16])
	s := prefix16 + string(c17) + "0"
	return USCC(s[:17] + string(usccCheck(s)))
}

// SortKey is an int64 that orders as the code's first 12 characters do
// (base 31 in the code's alphabet, which is in ASCII order), so a table kept
// in SortKey order is in USCC order, and a zone map (a block's min and max)
// on it narrows a lookup by USCC to one block. DuckDB keeps only an 8-byte
// prefix of strings in its zone maps, which for a city's codes is little
// more than the county; 12 characters are as many as fit (31^12 < 2^63).
// Characters outside the alphabet count as 0; a code shorter than 12 is
// padded with 0.
func (c USCC) SortKey() int64 {
	var k int64
	for i := range 12 {
		var v int8
		if i < len(c) {
			v = max(usccValue[c[i]], 0)
		}
		k = k*31 + int64(v)
	}
	return k
}
