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

// DrawStatus is where a draw is in its life.
type DrawStatus string

const (
	// DrawStatusCommitted: pool, inspectors, rules, beacon source and the
	// seed's commitment are published; the seed is still secret.
	DrawStatusCommitted DrawStatus = "committed"
	// DrawStatusDrawn: the seed and beacon are published with the result.
	DrawStatusDrawn DrawStatus = "drawn"
)

// GradeProbabilities are one number per grade, published as
// {"A": …, "B": …, "C": …, "D": …}.
type GradeProbabilities struct {
	A Decimal `json:"A"`
	B Decimal `json:"B"`
	C Decimal `json:"C"`
	D Decimal `json:"D"`
}

// DefaultAnnualRates are the share of firms inspected per year by grade, as
// risk-based random inspection does in practice (Henan 2021: high risk 30 %,
// medium-high 10 %, medium 2 %, low 1 %; DOMAIN.md).
func DefaultAnnualRates() GradeProbabilities {
	return GradeProbabilities{A: 10_000, B: 20_000, C: 100_000, D: 300_000}
}

// Of is the value for grade g (0 for an unknown grade).
func (p GradeProbabilities) Of(g model.Grade) Decimal {
	switch g {
	case model.GradeA:
		return p.A
	case model.GradeB:
		return p.B
	case model.GradeC:
		return p.C
	case model.GradeD:
		return p.D
	}
	return 0
}

// ProRate turns annual rates into the probabilities of a draw over period:
// annual × days / 365, both ends of the period counted, capped at 1, rounded
// half up to six decimals: millionths = floor((2 × annual × days + 365) / 730).
// With annual rates of at most six decimals an exact half cannot occur (it
// would need 2 × annual × days, an even number of millionths, to equal an odd
// multiple of 365), so the rounding rule never has to break a tie; it is
// stated so that a verifier need not take that on trust.
func (p GradeProbabilities) ProRate(period Period) GradeProbabilities {
	days := period.Days()
	one := func(annual Decimal) Decimal {
		return min(DecimalOne, Decimal((2*int64(annual)*days+365)/730))
	}
	return GradeProbabilities{A: one(p.A), B: one(p.B), C: one(p.C), D: one(p.D)}
}

func (p GradeProbabilities) validate(what string) error {
	var errs []error
	for _, g := range model.Grades {
		if v := p.Of(g); v < 0 || v > DecimalOne {
			errs = append(errs, fmt.Errorf("%s of grade %s is %s, want 0–1", what, g, v))
		}
	}
	return errors.Join(errs...)
}

// UnmarshalJSON requires all four grades and nothing else.
func (p *GradeProbabilities) UnmarshalJSON(b []byte) error {
	var v struct{ A, B, C, D *Decimal }
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("probabilities: %w", err)
	}
	if v.A == nil || v.B == nil || v.C == nil || v.D == nil {
		return errors.New("probabilities: want A, B, C and D")
	}
	*p = GradeProbabilities{A: *v.A, B: *v.B, C: *v.C, D: *v.D}
	return nil
}

// DrawRules are a draw's published rules.
type DrawRules struct {
	// Probabilities per grade for this draw, already pro-rated to its period.
	Probabilities GradeProbabilities `json:"probabilities"`
	// ExcludeOwnCounty: no inspector inspects a firm of their own county.
	ExcludeOwnCounty bool `json:"exclude_own_county"`
}

// Canonical is the rules' one encoding, the bytes rules_sha256 hashes:
//
//	{"probabilities":{"A":0.002466,"B":0.004932,"C":0.024658,"D":0.073973},"exclude_own_county":true}
//
// compact JSON, keys in this order, numbers in the shortest plain decimal
// form (no exponent, no trailing zeros, "0" and "1" for whole numbers), no
// trailing newline.
func (r DrawRules) Canonical() []byte {
	b := []byte(`{"probabilities":{`)
	for i, g := range model.Grades {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, g...)
		b = append(b, `":`...)
		b = r.Probabilities.Of(g).AppendText(b)
	}
	b = append(b, `},"exclude_own_county":`...)
	b = append(b, fmt.Sprint(r.ExcludeOwnCounty)...)
	return append(b, '}')
}

// SHA256 is the published rules_sha256.
func (r DrawRules) SHA256() string { return sha256Hex(r.Canonical()) }

// MarshalJSON writes the canonical encoding, so a compact published
// document carries exactly the bytes its rules_sha256 hashes.
func (r DrawRules) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.Canonical(), nil
}

// Validate says what is wrong with the rules.
func (r DrawRules) Validate() error { return r.Probabilities.validate("probability") }

// Draw is a random inspection draw (摇号, 双随机) as published at
// GET /api/v1/public/draws/{id}: before the draw (committed) without seed,
// beacon and result; after it (drawn) with them.
type Draw struct {
	ID               string      `json:"id"`
	Name             string      `json:"name"`
	Status           DrawStatus  `json:"status"`
	Period           Period      `json:"period"`
	PoolSHA256       string      `json:"pool_sha256"`
	InspectorsSHA256 string      `json:"inspectors_sha256"`
	Rules            DrawRules   `json:"rules"`
	RulesSHA256      string      `json:"rules_sha256"`
	Randomness                   // beacon_source, commitment, seed, beacon
	Drawn            []DrawnFirm `json:"drawn,omitzero"` // nil until drawn, then a list (maybe empty)
}

// DrawnFirm is one firm drawn, with its inspectors, smallest score first.
// Fewer than two inspectors means fewer were eligible (DrawResult.Short
// flags the firm; a reader of the document sees the short list).
type DrawnFirm struct {
	USCC       model.USCC  `json:"uscc"`
	Grade      model.Grade `json:"grade"`
	Inspectors []string    `json:"inspectors"`
}

// Validate says what is wrong with the document's own fields.
func (d Draw) Validate() error {
	errs := []error{checkID("draw id", d.ID, drawIDChars), d.Period.Validate(), d.Rules.Validate(),
		checkHashField("pool_sha256", d.PoolSHA256), checkHashField("inspectors_sha256", d.InspectorsSHA256),
		checkHashField("rules_sha256", d.RulesSHA256)}
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("draw name is required"))
	}
	errs = append(errs, checkStatus(d.Status, d.Drawn != nil), d.Randomness.validate(d.Status == DrawStatusDrawn))
	return errors.Join(errs...)
}

func checkStatus(s DrawStatus, hasResult bool) error {
	switch {
	case s != DrawStatusCommitted && s != DrawStatusDrawn:
		return fmt.Errorf("status %q: want committed or drawn", s)
	case s == DrawStatusCommitted && hasResult:
		return errors.New("a committed draw has no result yet")
	case s == DrawStatusDrawn && !hasResult:
		return errors.New("a drawn draw publishes its result")
	}
	return nil
}

func checkHashField(name, v string) error {
	if err := parseHex256(v, make([]byte, 32)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ParseDraw reads a published draw document, refusing unknown fields.
func ParseDraw(b []byte) (Draw, error) {
	var d Draw
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Draw{}, fmt.Errorf("draw document: %w", err)
	}
	return d, nil
}

// CreateDrawInput is what fixes a draw before anyone can know its result.
type CreateDrawInput struct {
	ID     string // [a-z0-9-], 1–64 characters
	Name   string
	Period Period
	// Firms are the candidates (a named pool: by region, industry, licence);
	// those without a current grade are left out.
	Firms      []PoolFirm
	Inspectors []Inspector
	// AnnualRates per grade (DefaultAnnualRates), pro-rated to Period.
	AnnualRates      GradeProbabilities
	ExcludeOwnCounty bool
	// BeaconSource names the public value, fixed after this moment and out of
	// the bureau's hands, that the draw will mix in.
	BeaconSource string
	// Seed is the secret, from crypto/rand via ReadSeed. Store it; publish it
	// only at the draw.
	Seed Seed
}

// Validate says what is wrong with the input.
func (in CreateDrawInput) Validate() error {
	errs := []error{checkID("draw id", in.ID, drawIDChars), in.Period.Validate(),
		in.AnnualRates.validate("annual rate"), in.Seed.validate()}
	if strings.TrimSpace(in.Name) == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if in.AnnualRates == (GradeProbabilities{}) {
		errs = append(errs, errors.New("annual rates are all zero: nothing would be drawn (start from DefaultAnnualRates)"))
	}
	if len(in.Firms) == 0 {
		errs = append(errs, errors.New("the pool has no firms: widen the region, industry or licence filter"))
	}
	if len(in.Inspectors) == 0 {
		errs = append(errs, errors.New("the inspector pool is empty: add inspectors through the admin API"))
	}
	if strings.TrimSpace(in.BeaconSource) == "" {
		errs = append(errs, errors.New("beacon source is required: name the public value, out of the bureau's hands, that will be mixed in"))
	}
	return errors.Join(errs...)
}

// CreatedDraw is what creation publishes (Draw and the two files) and the
// firms left out of the pool for having no grade.
type CreatedDraw struct {
	Draw          Draw
	PoolCSV       []byte
	InspectorsCSV []byte
	Ungraded      []model.USCC
}

// CreateDraw fixes the pool, the inspector pool and the pro-rated rules and
// commits to the seed (DOMAIN.md, The random inspection draw, step 1).
func CreateDraw(in CreateDrawInput) (CreatedDraw, error) {
	if err := in.Validate(); err != nil {
		return CreatedDraw{}, fmt.Errorf("create draw: %w", err)
	}
	pool, ungraded, err := PoolCSV(in.Firms)
	if err != nil {
		return CreatedDraw{}, fmt.Errorf("create draw: %w", err)
	}
	if len(ungraded) == len(in.Firms) {
		return CreatedDraw{}, fmt.Errorf("create draw: none of the %d firms has a grade: run the score job first", len(in.Firms))
	}
	inspectors, err := InspectorsCSV(in.Inspectors)
	if err != nil {
		return CreatedDraw{}, fmt.Errorf("create draw: %w", err)
	}
	rules := DrawRules{Probabilities: in.AnnualRates.ProRate(in.Period), ExcludeOwnCounty: in.ExcludeOwnCounty}
	d := Draw{
		ID: in.ID, Name: in.Name, Status: DrawStatusCommitted, Period: in.Period,
		PoolSHA256: sha256Hex(pool), InspectorsSHA256: sha256Hex(inspectors),
		Rules: rules, RulesSHA256: rules.SHA256(),
		Randomness: Randomness{BeaconSource: in.BeaconSource, Commitment: in.Seed.Commitment()},
	}
	return CreatedDraw{Draw: d, PoolCSV: pool, InspectorsCSV: inspectors, Ungraded: ungraded}, nil
}

// PerformDrawInput is a committed draw, its files, the stored seed and the
// beacon value as the source published it.
type PerformDrawInput struct {
	Draw          Draw
	PoolCSV       []byte
	InspectorsCSV []byte
	Seed          Seed
	Beacon        string
}

// Stratum is one grade's share of a draw: N firms, probability p, k drawn.
type Stratum struct {
	Grade       model.Grade `json:"grade"`
	Firms       int64       `json:"firms"`
	Probability Decimal     `json:"probability"`
	Drawn       int64       `json:"drawn"`
}

// DrawResult is a drawn draw, the arithmetic behind it, and the firms that
// got fewer than two inspectors (flagged: the pool needs more inspectors from
// other counties).
type DrawResult struct {
	Draw   Draw
	Strata []Stratum
	Short  []model.USCC
}

// PerformDraw reveals the seed and draws (steps 2–4). It refuses files that
// do not hash to what was published and a seed that does not match the
// commitment, so a stored draw altered since creation is never drawn.
func PerformDraw(in PerformDrawInput) (DrawResult, error) {
	d := in.Draw
	if err := d.Validate(); err != nil {
		return DrawResult{}, fmt.Errorf("draw %s: %w", d.ID, err)
	}
	if d.Status != DrawStatusCommitted {
		return DrawResult{}, fmt.Errorf("draw %s is already drawn", d.ID)
	}
	pool, inspectors, err := d.inputs(in.PoolCSV, in.InspectorsCSV)
	if err != nil {
		return DrawResult{}, fmt.Errorf("draw %s: %w", d.ID, err)
	}
	r, key, err := d.Randomness.reveal(in.Seed, in.Beacon)
	if err != nil {
		return DrawResult{}, fmt.Errorf("draw %s: %w", d.ID, err)
	}
	d.Status, d.Randomness = DrawStatusDrawn, r
	var strata []Stratum
	d.Drawn, strata = drawFirms(key, d.ID, d.Rules, pool, inspectors)
	res := DrawResult{Draw: d, Strata: strata}
	for _, f := range d.Drawn {
		if len(f.Inspectors) < inspectorsPerFirm {
			res.Short = append(res.Short, f.USCC)
		}
	}
	return res, nil
}

// inputs checks the files and rules against their published hashes and reads them.
func (d Draw) inputs(poolCSV, inspectorsCSV []byte) ([]PoolFirm, []Inspector, error) {
	var errs []error
	for _, h := range []struct{ name, got, want string }{
		{"pool.csv", sha256Hex(poolCSV), d.PoolSHA256},
		{"inspectors.csv", sha256Hex(inspectorsCSV), d.InspectorsSHA256},
		{"rules", d.Rules.SHA256(), d.RulesSHA256},
	} {
		if h.got != h.want {
			errs = append(errs, fmt.Errorf("%s hashes to %s, published %s", h.name, h.got, h.want))
		}
	}
	pool, err := ParsePoolCSV(poolCSV)
	errs = append(errs, err)
	inspectors, err := ParseInspectorsCSV(inspectorsCSV)
	errs = append(errs, err)
	return pool, inspectors, errors.Join(errs...)
}

// drawFirms is steps 2–3: per grade, best first, the k_g = floor(p_g × N_g + 1/2)
// firms with the smallest u, each with its inspectors.
func drawFirms(key drawKey, drawID string, rules DrawRules, pool []PoolFirm, inspectors []Inspector) ([]DrawnFirm, []Stratum) {
	drawn := []DrawnFirm{}
	var strata []Stratum
	for _, g := range model.Grades {
		var firms []PoolFirm
		for _, f := range pool {
			if f.Grade == g {
				firms = append(firms, f)
			}
		}
		p := rules.Probabilities.Of(g)
		k := p.RoundHalfUp(int64(len(firms)))
		strata = append(strata, Stratum{Grade: g, Firms: int64(len(firms)), Probability: p, Drawn: k})
		for _, f := range smallest(key, drawID, firms, k) {
			drawn = append(drawn, DrawnFirm{USCC: f.USCC, Grade: g,
				Inspectors: pickInspectors(key, drawID, f.USCC, f.County, inspectors, rules.ExcludeOwnCounty)})
		}
	}
	return drawn, strata
}

// VerifyDrawInput is what the bureau published about a draw.
type VerifyDrawInput struct {
	Draw          Draw
	PoolCSV       []byte
	InspectorsCSV []byte
	// Committed is the document as published at creation, if the verifier
	// kept a copy: what was fixed then must not have changed since. Without
	// it, a bureau that rewrote files, hashes, commitment and result together
	// would publish a document that is consistent with itself.
	Committed *Draw
}

// VerifyDraw recomputes a draw from its published inputs alone and says which
// check failed. A committed draw verifies its files and rules; a drawn one
// also its commitment, beacon, drawn firms and every firm's inspectors.
func VerifyDraw(in VerifyDrawInput) Verification {
	var v Verification
	d := in.Draw
	if !v.checkErr(CheckDocument, d.Validate(), "the document is well formed") {
		return v
	}
	if in.Committed != nil {
		checkCreation(&v, *in.Committed, d)
	}
	pool, errPool := ParsePoolCSV(in.PoolCSV)
	v.checkErr(CheckPoolFile, errPool, fmt.Sprintf("%d firms, sorted by USCC", len(pool)))
	v.checkHash(CheckPoolSHA256, "pool.csv", in.PoolCSV, d.PoolSHA256)
	inspectors, errInsp := ParseInspectorsCSV(in.InspectorsCSV)
	v.checkErr(CheckInspectorsFile, errInsp, fmt.Sprintf("%d inspectors, sorted by id", len(inspectors)))
	v.checkHash(CheckInspectorsSHA256, "inspectors.csv", in.InspectorsCSV, d.InspectorsSHA256)
	if got := d.Rules.SHA256(); got != d.RulesSHA256 {
		v.fail(CheckRulesSHA256, "", fmt.Sprintf("the rules' canonical encoding %s hashes to %s, published %s", d.Rules.Canonical(), got, d.RulesSHA256))
	} else {
		v.pass(CheckRulesSHA256, "", "the rules' canonical encoding hashes to the published SHA-256")
	}
	if d.Status != DrawStatusDrawn {
		return v
	}
	key, ok := d.Randomness.verify(&v)
	if !ok || errPool != nil || errInsp != nil {
		return v // nothing to recompute from
	}
	want, _ := drawFirms(key, d.ID, d.Rules, pool, inspectors)
	compareDrawn(&v, d.Drawn, want)
	return v
}

// checkCreation compares what creation fixed with what is published now.
func checkCreation(v *Verification, committed, now Draw) {
	var changed []string
	for _, f := range []struct {
		name      string
		then, now any
	}{
		{"id", committed.ID, now.ID},
		{"period", committed.Period.String(), now.Period.String()},
		{"pool_sha256", committed.PoolSHA256, now.PoolSHA256},
		{"inspectors_sha256", committed.InspectorsSHA256, now.InspectorsSHA256},
		{"rules", string(committed.Rules.Canonical()), string(now.Rules.Canonical())},
		{"rules_sha256", committed.RulesSHA256, now.RulesSHA256},
		{"beacon_source", committed.BeaconSource, now.BeaconSource},
		{"commitment", committed.Commitment, now.Commitment},
	} {
		if f.then != f.now {
			changed = append(changed, fmt.Sprintf("%s was %v, is %v", f.name, f.then, f.now))
		}
	}
	if len(changed) > 0 {
		v.fail(CheckCreation, "", "changed since creation: "+strings.Join(changed, "; "))
		return
	}
	v.pass(CheckCreation, "", "what creation fixed is unchanged")
}

// compareDrawn reports the drawn list (set, grades, order) and then each
// firm's inspectors.
func compareDrawn(v *Verification, published, want []DrawnFirm) {
	pub := make([]selected, len(published))
	for i, f := range published {
		pub[i] = selected{key: string(f.USCC), label: string(f.Grade), inspectors: f.Inspectors}
	}
	rec := make([]selected, len(want))
	for i, f := range want {
		rec[i] = selected{key: string(f.USCC), label: string(f.Grade), inspectors: f.Inspectors}
	}
	compareSelection(v, CheckDrawn, "firms", pub, rec)
	compareInspectors(v, pub, rec)
}

// selected is one published pick, the same shape for every kind of draw.
type selected struct {
	key, label string // USCC and grade, or batch and agency
	inspectors []string
}

// compareSelection reports one check: the published picks against the
// recomputed ones, naming what is missing, extra, relabelled or out of order.
func compareSelection(v *Verification, name CheckName, what string, published, want []selected) {
	pubBy := map[string]selected{}
	for _, s := range published {
		pubBy[s.key] = s
	}
	wantBy := map[string]selected{}
	for _, s := range want {
		wantBy[s.key] = s
	}
	var problems []string
	for _, s := range want {
		p, ok := pubBy[s.key]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (%s) is missing", s.key, s.label))
		case p.label != s.label:
			problems = append(problems, fmt.Sprintf("%s is published as %s, recomputed as %s", s.key, p.label, s.label))
		}
	}
	for _, p := range published {
		if _, ok := wantBy[p.key]; !ok {
			problems = append(problems, fmt.Sprintf("%s (%s) was not drawn", p.key, p.label))
		}
	}
	if len(published) != len(pubBy) {
		problems = append(problems, "an entry appears twice")
	}
	if len(problems) == 0 && !slices.EqualFunc(published, want, func(a, b selected) bool { return a.key == b.key }) {
		problems = append(problems, "the right entries in the wrong order")
	}
	if len(problems) > 0 {
		v.fail(name, "", fmt.Sprintf("published %d %s, recomputed %d: %s", len(published), what, len(want), strings.Join(problems, "; ")))
		return
	}
	v.pass(name, "", fmt.Sprintf("%d %s recomputed, the same and in the same order", len(want), what))
}

// compareInspectors checks the inspectors of every firm published and
// recomputed alike (firms that differ were reported by compareSelection).
func compareInspectors(v *Verification, published, want []selected) {
	wantBy := map[string][]string{}
	for _, s := range want {
		wantBy[s.key] = s.inspectors
	}
	checked, failed := 0, false
	for _, p := range published {
		w, ok := wantBy[p.key]
		if !ok {
			continue
		}
		checked++
		if !slices.Equal(p.inspectors, w) {
			failed = true
			v.fail(CheckInspectors, p.key, fmt.Sprintf("published [%s], recomputed [%s]", strings.Join(p.inspectors, " "), strings.Join(w, " ")))
		}
	}
	if !failed {
		v.pass(CheckInspectors, "", fmt.Sprintf("the inspectors of %d firms recomputed, the same", checked))
	}
}
