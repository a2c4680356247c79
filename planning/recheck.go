package planning

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
)

// The re-check of licensed firms (measures 三(二)3(4)): every year at least
// 10 % of the firms newly licensed or re-licensed the year before (抽查10%上年度
// 新取得证（包括复查）企业), drawn the same verifiable way as an inspection
// draw, plus the firms with problems or complaints (不定期抽查重点检查存在问题和受到
// 投诉举报的生产企业), each with its reasons.

const (
	basisRecheckSample   = "淮安市质监局市场主体监管实施办法 三(二)3(4)：抽查10%上年度新取得证（包括复查）企业"
	basisRecheckConcerns = "淮安市质监局市场主体监管实施办法 三(二)3(4)：不定期抽查重点检查存在问题和受到投诉举报的生产企业"

	RuleRecheckSample     = "recheck.sample"
	RuleRecheckComplaints = "recheck.complaints"
	RuleRecheckProblems   = "recheck.problems"
)

// RecheckConfig is what the bureau may change about the re-check.
type RecheckConfig struct {
	// Rate is the least share of the pool drawn: k = ⌈Rate × N⌉ (default 0.1).
	Rate             Decimal
	ExcludeOwnCounty bool
	// MinComplaints and MinProblems add a licensed firm with at least that
	// many complaints or problems (failed checks, penalties, overdue hazards)
	// in the look-back; 0 turns the rule off.
	MinComplaints, MinProblems int
}

// DefaultRecheckConfig is 10 %, own county excluded, one complaint or one
// problem enough to add a firm.
func DefaultRecheckConfig() RecheckConfig {
	return RecheckConfig{Rate: 100_000, ExcludeOwnCounty: true, MinComplaints: 1, MinProblems: 1}
}

// Validate says what is wrong with the configuration.
func (c RecheckConfig) Validate() error {
	var errs []error
	if c.Rate <= 0 || c.Rate > DecimalOne {
		errs = append(errs, fmt.Errorf("re-check rate %s: want more than 0, at most 1", c.Rate))
	}
	if c.MinComplaints < 0 || c.MinProblems < 0 {
		errs = append(errs, errors.New("re-check minimum complaints and problems must not be negative"))
	}
	return errors.Join(errs...)
}

// RecheckRules are a re-check's published rules.
type RecheckRules struct {
	Rate             Decimal `json:"rate"`
	ExcludeOwnCounty bool    `json:"exclude_own_county"`
}

// Canonical is {"rate":0.1,"exclude_own_county":true}: compact, keys in this
// order, the rate in the shortest plain decimal form.
func (r RecheckRules) Canonical() []byte {
	b := append([]byte(`{"rate":`), r.Rate.AppendText(nil)...)
	b = append(b, `,"exclude_own_county":`...)
	b = append(b, fmt.Sprint(r.ExcludeOwnCounty)...)
	return append(b, '}')
}

// SHA256 is the published rules_sha256.
func (r RecheckRules) SHA256() string { return sha256Hex(r.Canonical()) }

// MarshalJSON writes the canonical encoding.
func (r RecheckRules) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.Canonical(), nil
}

// Validate says what is wrong with the rules.
func (r RecheckRules) Validate() error {
	if r.Rate <= 0 || r.Rate > DecimalOne {
		return fmt.Errorf("rate %s: want more than 0, at most 1", r.Rate)
	}
	return nil
}

// Recheck is a re-check draw as published.
type Recheck struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Status DrawStatus `json:"status"`
	// Year: the pool is the firms licensed or re-licensed in this year.
	Year             int          `json:"year"`
	PoolSHA256       string       `json:"pool_sha256"`
	InspectorsSHA256 string       `json:"inspectors_sha256"`
	Rules            RecheckRules `json:"rules"`
	RulesSHA256      string       `json:"rules_sha256"`
	Randomness
	// Added are fixed at creation, with their reasons; they get inspectors at the draw.
	Added []AddedFirm     `json:"added"`
	Drawn []RecheckedFirm `json:"drawn,omitzero"`
}

// RecheckedFirm is a firm drawn for re-check, with its inspectors.
type RecheckedFirm struct {
	USCC       model.USCC `json:"uscc"`
	Inspectors []string   `json:"inspectors"`
}

// AddedFirm is a firm added to the re-check for its complaints or problems.
type AddedFirm struct {
	USCC       model.USCC     `json:"uscc"`
	County     string         `json:"county"`
	Reasons    []model.Reason `json:"reasons"`
	Inspectors []string       `json:"inspectors,omitzero"`
}

// Validate says what is wrong with the document's own fields.
func (r Recheck) Validate() error {
	errs := []error{checkID("re-check id", r.ID, drawIDChars), r.Rules.Validate(),
		checkHashField("pool_sha256", r.PoolSHA256), checkHashField("inspectors_sha256", r.InspectorsSHA256),
		checkHashField("rules_sha256", r.RulesSHA256),
		checkStatus(r.Status, r.Drawn != nil), r.Randomness.validate(r.Status == DrawStatusDrawn)}
	if strings.TrimSpace(r.Name) == "" {
		errs = append(errs, errors.New("re-check name is required"))
	}
	if r.Year < 2000 || r.Year > 9999 {
		errs = append(errs, fmt.Errorf("year %d: want the licensing year", r.Year))
	}
	for _, a := range r.Added {
		errs = append(errs, checkUSCCSyntax(a.USCC), checkCounty(a.County))
		if len(a.Reasons) == 0 {
			errs = append(errs, fmt.Errorf("added firm %s has no reason", a.USCC))
		}
	}
	return errors.Join(errs...)
}

// ParseRecheck reads a published re-check document.
func ParseRecheck(b []byte) (Recheck, error) {
	var r Recheck
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Recheck{}, fmt.Errorf("re-check document: %w", err)
	}
	return r, nil
}

// LicensedFirm is a firm newly licensed or re-licensed in the pool's year.
type LicensedFirm struct {
	USCC   model.USCC
	County string
}

// Concern is a licensed firm's complaints and problems in the look-back, by
// event id: received complaints, failed spot checks, penalties, hazards left
// past their deadline.
type Concern struct {
	USCC       model.USCC
	County     string
	Complaints []string
	Problems   []string
}

var recheckPoolHeader = []string{"uscc", "county"}

// RecheckPoolCSV is the published pool: `uscc,county`, sorted by USCC. A firm
// licensed twice in the year is in it once.
func RecheckPoolCSV(firms []LicensedFirm) ([]byte, error) {
	sorted := slices.Clone(firms)
	slices.SortFunc(sorted, func(a, b LicensedFirm) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	sorted = slices.Compact(sorted)
	var errs []error
	rows := make([][]string, len(sorted))
	for i, f := range sorted {
		errs = append(errs, checkUSCCSyntax(f.USCC), wrapIf(checkCounty(f.County), "firm "+string(f.USCC)))
		if i > 0 && sorted[i-1].USCC == f.USCC {
			errs = append(errs, fmt.Errorf("firm %s is listed under two counties", f.USCC))
		}
		rows[i] = []string{string(f.USCC), f.County}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("re-check pool: %w", err)
	}
	return encodeCSV(recheckPoolHeader, rows), nil
}

// ParseRecheckPoolCSV reads a published re-check pool.
func ParseRecheckPoolCSV(b []byte) ([]LicensedFirm, error) {
	rows, err := parseCSV("pool.csv", b, recheckPoolHeader)
	if err != nil {
		return nil, err
	}
	out := make([]LicensedFirm, len(rows))
	for i, r := range rows {
		out[i] = LicensedFirm{USCC: model.USCC(r[0]), County: r[1]}
		if err := errors.Join(checkUSCCSyntax(out[i].USCC), checkCounty(r[1])); err != nil {
			return nil, fmt.Errorf("pool.csv line %d: %w", i+2, err)
		}
		if i > 0 && r[0] <= rows[i-1][0] {
			return nil, fmt.Errorf("pool.csv line %d: %s is not after %s (sorted by USCC, each once)", i+2, r[0], rows[i-1][0])
		}
	}
	return out, nil
}

// CreateRecheckInput fixes a re-check before its result can be known.
type CreateRecheckInput struct {
	ID, Name     string
	Year         int
	Licensed     []LicensedFirm
	Concerns     []Concern
	Inspectors   []Inspector
	Config       RecheckConfig
	BeaconSource string
	Seed         Seed
}

// Validate says what is wrong with the input.
func (in CreateRecheckInput) Validate() error {
	errs := []error{checkID("re-check id", in.ID, drawIDChars), in.Config.Validate(), in.Seed.validate()}
	if strings.TrimSpace(in.Name) == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if len(in.Licensed) == 0 && len(in.Concerns) == 0 {
		errs = append(errs, fmt.Errorf("no firm was licensed in %d and none has a concern: nothing to re-check", in.Year))
	}
	if len(in.Inspectors) == 0 {
		errs = append(errs, errors.New("the inspector pool is empty: add inspectors through the admin API"))
	}
	if strings.TrimSpace(in.BeaconSource) == "" {
		errs = append(errs, errors.New("beacon source is required"))
	}
	return errors.Join(errs...)
}

// CreatedRecheck is what creation publishes.
type CreatedRecheck struct {
	Recheck       Recheck
	PoolCSV       []byte
	InspectorsCSV []byte
}

// CreateRecheck fixes the pool, the added firms and their reasons, the rules
// and the commitment.
func CreateRecheck(in CreateRecheckInput) (CreatedRecheck, error) {
	if err := in.Validate(); err != nil {
		return CreatedRecheck{}, fmt.Errorf("create re-check: %w", err)
	}
	pool, err := RecheckPoolCSV(in.Licensed)
	if err != nil {
		return CreatedRecheck{}, fmt.Errorf("create re-check: %w", err)
	}
	inspectors, err := InspectorsCSV(in.Inspectors)
	if err != nil {
		return CreatedRecheck{}, fmt.Errorf("create re-check: %w", err)
	}
	added, err := addedFirms(in.Concerns, in.Config)
	if err != nil {
		return CreatedRecheck{}, fmt.Errorf("create re-check: %w", err)
	}
	rules := RecheckRules{Rate: in.Config.Rate, ExcludeOwnCounty: in.Config.ExcludeOwnCounty}
	r := Recheck{ID: in.ID, Name: in.Name, Status: DrawStatusCommitted, Year: in.Year,
		PoolSHA256: sha256Hex(pool), InspectorsSHA256: sha256Hex(inspectors),
		Rules: rules, RulesSHA256: rules.SHA256(),
		Randomness: Randomness{BeaconSource: in.BeaconSource, Commitment: in.Seed.Commitment()},
		Added:      added}
	return CreatedRecheck{Recheck: r, PoolCSV: pool, InspectorsCSV: inspectors}, nil
}

// addedFirms turns concerns into added firms with reasons, by USCC.
func addedFirms(concerns []Concern, c RecheckConfig) ([]AddedFirm, error) {
	added := []AddedFirm{}
	var errs []error
	for _, k := range concerns {
		if err := errors.Join(checkUSCCSyntax(k.USCC), checkCounty(k.County)); err != nil {
			errs = append(errs, err)
			continue
		}
		// The document is public: a reason counts the events, never names
		// them (event ids are internal; the recheck job's concerns list
		// them for analysts).
		var reasons []model.Reason
		if c.MinComplaints > 0 && len(k.Complaints) >= c.MinComplaints {
			reasons = append(reasons, model.Reason{Rule: RuleRecheckComplaints, Count: int64(len(k.Complaints)),
				Basis:  basisRecheckConcerns,
				Detail: fmt.Sprintf("%d complaints (at least %d add a firm)", len(k.Complaints), c.MinComplaints)})
		}
		if c.MinProblems > 0 && len(k.Problems) >= c.MinProblems {
			reasons = append(reasons, model.Reason{Rule: RuleRecheckProblems, Count: int64(len(k.Problems)),
				Basis:  basisRecheckConcerns,
				Detail: fmt.Sprintf("%d problems: failed checks, penalties, overdue hazards (at least %d add a firm)", len(k.Problems), c.MinProblems)})
		}
		if len(reasons) > 0 {
			added = append(added, AddedFirm{USCC: k.USCC, County: k.County, Reasons: reasons})
		}
	}
	slices.SortFunc(added, func(a, b AddedFirm) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	for i := 1; i < len(added); i++ {
		if added[i].USCC == added[i-1].USCC {
			errs = append(errs, fmt.Errorf("firm %s has two concerns: merge them", added[i].USCC))
		}
	}
	return added, errors.Join(errs...)
}

// PerformRecheckInput is a committed re-check, its files, seed and beacon.
type PerformRecheckInput struct {
	Recheck       Recheck
	PoolCSV       []byte
	InspectorsCSV []byte
	Seed          Seed
	Beacon        string
}

// RecheckResult is a drawn re-check with its arithmetic.
type RecheckResult struct {
	Recheck Recheck
	// Pool is N, Drawn is k = ⌈rate × N⌉.
	Pool, Drawn int64
	Short       []model.USCC
}

// PerformRecheck reveals the seed and draws k = ⌈rate × N⌉ firms with the
// smallest u (ties by USCC), listed by u; every drawn and added firm gets two
// inspectors the way an inspection draw gives them.
func PerformRecheck(in PerformRecheckInput) (RecheckResult, error) {
	r := in.Recheck
	if err := r.Validate(); err != nil {
		return RecheckResult{}, fmt.Errorf("re-check %s: %w", r.ID, err)
	}
	if r.Status != DrawStatusCommitted {
		return RecheckResult{}, fmt.Errorf("re-check %s is already drawn", r.ID)
	}
	pool, inspectors, err := r.inputs(in.PoolCSV, in.InspectorsCSV)
	if err != nil {
		return RecheckResult{}, fmt.Errorf("re-check %s: %w", r.ID, err)
	}
	rnd, key, err := r.Randomness.reveal(in.Seed, in.Beacon)
	if err != nil {
		return RecheckResult{}, fmt.Errorf("re-check %s: %w", r.ID, err)
	}
	r.Status, r.Randomness = DrawStatusDrawn, rnd
	var k int64
	r.Drawn, r.Added, k = recheckFirms(key, r, pool, inspectors)
	res := RecheckResult{Recheck: r, Pool: int64(len(pool)), Drawn: k}
	for _, f := range r.Drawn {
		if len(f.Inspectors) < inspectorsPerFirm {
			res.Short = append(res.Short, f.USCC)
		}
	}
	for _, f := range r.Added {
		if len(f.Inspectors) < inspectorsPerFirm {
			res.Short = append(res.Short, f.USCC)
		}
	}
	return res, nil
}

func (r Recheck) inputs(poolCSV, inspectorsCSV []byte) ([]LicensedFirm, []Inspector, error) {
	var errs []error
	for _, h := range []struct{ name, got, want string }{
		{"pool.csv", sha256Hex(poolCSV), r.PoolSHA256},
		{"inspectors.csv", sha256Hex(inspectorsCSV), r.InspectorsSHA256},
		{"rules", r.Rules.SHA256(), r.RulesSHA256},
	} {
		if h.got != h.want {
			errs = append(errs, fmt.Errorf("%s hashes to %s, published %s", h.name, h.got, h.want))
		}
	}
	pool, err := ParseRecheckPoolCSV(poolCSV)
	errs = append(errs, err)
	inspectors, err := ParseInspectorsCSV(inspectorsCSV)
	errs = append(errs, err)
	return pool, inspectors, errors.Join(errs...)
}

// recheckFirms draws the sample and gives every drawn and added firm its inspectors.
func recheckFirms(key drawKey, r Recheck, pool []LicensedFirm, inspectors []Inspector) ([]RecheckedFirm, []AddedFirm, int64) {
	firms := make([]PoolFirm, len(pool))
	for i, f := range pool {
		firms[i] = PoolFirm{USCC: f.USCC, County: f.County}
	}
	k := r.Rules.Rate.Ceil(int64(len(firms)))
	drawn := []RecheckedFirm{}
	for _, f := range smallest(key, r.ID, firms, k) {
		drawn = append(drawn, RecheckedFirm{USCC: f.USCC,
			Inspectors: pickInspectors(key, r.ID, f.USCC, f.County, inspectors, r.Rules.ExcludeOwnCounty)})
	}
	added := slices.Clone(r.Added)
	for i, a := range added {
		added[i].Inspectors = pickInspectors(key, r.ID, a.USCC, a.County, inspectors, r.Rules.ExcludeOwnCounty)
	}
	return drawn, added, k
}

// RecheckLine is one firm to re-check and why.
type RecheckLine struct {
	USCC       model.USCC     `json:"uscc"`
	Reasons    []model.Reason `json:"reasons"`
	Inspectors []string       `json:"inspectors"`
}

// Lines merges the drawn and the added firms, by USCC, each with every
// reason it is re-checked for (a drawn firm with complaints has both).
func (res RecheckResult) Lines() []RecheckLine {
	by := map[model.USCC]*RecheckLine{}
	sample := model.Reason{Rule: RuleRecheckSample, Count: res.Drawn, Basis: basisRecheckSample,
		Detail: fmt.Sprintf("drawn: %d of the %d firms licensed or re-licensed in %d (⌈%s × %d⌉) in draw %s",
			res.Drawn, res.Pool, res.Recheck.Year, res.Recheck.Rules.Rate, res.Pool, res.Recheck.ID)}
	for _, f := range res.Recheck.Drawn {
		by[f.USCC] = &RecheckLine{USCC: f.USCC, Reasons: []model.Reason{sample}, Inspectors: f.Inspectors}
	}
	for _, a := range res.Recheck.Added {
		if l, ok := by[a.USCC]; ok {
			l.Reasons = append(l.Reasons, a.Reasons...)
			continue
		}
		by[a.USCC] = &RecheckLine{USCC: a.USCC, Reasons: a.Reasons, Inspectors: a.Inspectors}
	}
	out := make([]RecheckLine, 0, len(by))
	for _, l := range by {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b RecheckLine) int { return strings.Compare(string(a.USCC), string(b.USCC)) })
	return out
}

// VerifyRecheckInput is what the bureau published about a re-check.
type VerifyRecheckInput struct {
	Recheck       Recheck
	PoolCSV       []byte
	InspectorsCSV []byte
}

// VerifyRecheck recomputes a re-check from its published inputs alone.
func VerifyRecheck(in VerifyRecheckInput) Verification {
	var v Verification
	r := in.Recheck
	if !v.checkErr(CheckDocument, r.Validate(), "the document is well formed") {
		return v
	}
	pool, errPool := ParseRecheckPoolCSV(in.PoolCSV)
	v.checkErr(CheckPoolFile, errPool, fmt.Sprintf("%d firms, sorted by USCC", len(pool)))
	v.checkHash(CheckPoolSHA256, "pool.csv", in.PoolCSV, r.PoolSHA256)
	inspectors, errInsp := ParseInspectorsCSV(in.InspectorsCSV)
	v.checkErr(CheckInspectorsFile, errInsp, fmt.Sprintf("%d inspectors, sorted by id", len(inspectors)))
	v.checkHash(CheckInspectorsSHA256, "inspectors.csv", in.InspectorsCSV, r.InspectorsSHA256)
	if got := r.Rules.SHA256(); got != r.RulesSHA256 {
		v.fail(CheckRulesSHA256, "", fmt.Sprintf("the rules' canonical encoding %s hashes to %s, published %s", r.Rules.Canonical(), got, r.RulesSHA256))
	} else {
		v.pass(CheckRulesSHA256, "", "the rules' canonical encoding hashes to the published SHA-256")
	}
	if r.Status != DrawStatusDrawn {
		return v
	}
	key, ok := r.Randomness.verify(&v)
	if !ok || errPool != nil || errInsp != nil {
		return v
	}
	drawn, added, _ := recheckFirms(key, r, pool, inspectors)
	toSelected := func(fs []RecheckedFirm) []selected {
		out := make([]selected, len(fs))
		for i, f := range fs {
			out[i] = selected{key: string(f.USCC), label: "drawn", inspectors: f.Inspectors}
		}
		return out
	}
	pub, rec := toSelected(r.Drawn), toSelected(drawn)
	compareSelection(&v, CheckDrawn, "firms", pub, rec)
	for i, a := range r.Added {
		pub = append(pub, selected{key: string(a.USCC), inspectors: a.Inspectors})
		rec = append(rec, selected{key: string(a.USCC), inspectors: added[i].Inspectors})
	}
	compareInspectors(&v, pub, rec)
	return v
}
