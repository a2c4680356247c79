package planning

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Testing agencies (承检机构) and the assignment of a plan's batches among
// them. The measures (三(二)2(4)–(5)) want agencies to apply to undertake
// checks and assignment to move from designation to open competition, and
// from agencies in the city to agencies in and outside it; an assignment by
// the same verifiable draw as an inspection draw is that competition, and
// anyone can recompute it.

// Agency is a testing agency of the registry: its id, name, whether it is in
// the city, and the products it is qualified to test (the spot checks'
// product names).
type Agency struct {
	ID       string
	Name     string
	InCity   bool
	Products []string
}

// Validate says what is wrong with the registry entry.
func (a Agency) Validate() error {
	errs := []error{checkID("agency id", a.ID, idChars)}
	if strings.TrimSpace(a.Name) == "" {
		errs = append(errs, fmt.Errorf("agency %s: name is required", a.ID))
	}
	if len(a.Products) == 0 {
		errs = append(errs, fmt.Errorf("agency %s: qualified for no product", a.ID))
	}
	for _, p := range a.Products {
		errs = append(errs, wrapIf(checkField(p), "agency "+a.ID+": product"))
	}
	return errors.Join(errs...)
}

// Batch is one sample batch of the plan to assign: its id and product.
type Batch struct {
	ID      string `json:"batch"`
	Product string `json:"product"`
	Quarter int    `json:"quarter"`
}

var (
	batchesHeader  = []string{"batch_id", "product"}
	agenciesHeader = []string{"agency_id", "product", "in_city"}
)

// BatchesCSV is the published list of batches: `batch_id,product`, by id.
func BatchesCSV(batches []Batch) ([]byte, error) {
	sorted := slices.Clone(batches)
	slices.SortFunc(sorted, func(a, b Batch) int { return strings.Compare(a.ID, b.ID) })
	var errs []error
	rows := make([][]string, len(sorted))
	for i, b := range sorted {
		errs = append(errs, checkID("batch id", b.ID, idChars), wrapIf(checkField(b.Product), "batch "+b.ID+": product"))
		if i > 0 && sorted[i-1].ID == b.ID {
			errs = append(errs, fmt.Errorf("batch %s is listed twice", b.ID))
		}
		rows[i] = []string{b.ID, b.Product}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("batches: %w", err)
	}
	return encodeCSV(batchesHeader, rows), nil
}

// qualification is one line of agencies.csv.
type qualification struct {
	agency, product string
	inCity          bool
}

// AgenciesCSV is the published registry: one line per agency and product it
// is qualified for, `agency_id,product,in_city` (true or false), sorted by
// agency id, then product (byte order). Names are not needed to recompute.
func AgenciesCSV(agencies []Agency) ([]byte, error) {
	var errs []error
	var quals []qualification
	seen := map[string]bool{}
	for _, a := range agencies {
		if err := a.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[a.ID] {
			errs = append(errs, fmt.Errorf("agency %s is in the registry twice", a.ID))
		}
		seen[a.ID] = true
		for _, p := range slices.Compact(slices.Sorted(slices.Values(a.Products))) {
			quals = append(quals, qualification{agency: a.ID, product: p, inCity: a.InCity})
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("agency registry: %w", err)
	}
	slices.SortFunc(quals, func(a, b qualification) int {
		return cmp.Or(strings.Compare(a.agency, b.agency), strings.Compare(a.product, b.product))
	})
	rows := make([][]string, len(quals))
	for i, q := range quals {
		rows[i] = []string{q.agency, q.product, fmt.Sprint(q.inCity)}
	}
	return encodeCSV(agenciesHeader, rows), nil
}

func parseBatchesCSV(b []byte) ([]Batch, error) {
	rows, err := parseCSV("batches.csv", b, batchesHeader)
	if err != nil {
		return nil, err
	}
	out := make([]Batch, len(rows))
	for i, r := range rows {
		if err := checkID("batch id", r[0], idChars); err != nil {
			return nil, fmt.Errorf("batches.csv line %d: %w", i+2, err)
		}
		if i > 0 && r[0] <= rows[i-1][0] {
			return nil, fmt.Errorf("batches.csv line %d: %s is not after %s (sorted by id, each once)", i+2, r[0], rows[i-1][0])
		}
		out[i] = Batch{ID: r[0], Product: r[1]}
	}
	return out, nil
}

func parseAgenciesCSV(b []byte) ([]qualification, error) {
	rows, err := parseCSV("agencies.csv", b, agenciesHeader)
	if err != nil {
		return nil, err
	}
	out := make([]qualification, len(rows))
	for i, r := range rows {
		if err := checkID("agency id", r[0], idChars); err != nil {
			return nil, fmt.Errorf("agencies.csv line %d: %w", i+2, err)
		}
		if r[2] != "true" && r[2] != "false" {
			return nil, fmt.Errorf("agencies.csv line %d: in_city %q: want true or false", i+2, r[2])
		}
		out[i] = qualification{agency: r[0], product: r[1], inCity: r[2] == "true"}
		if i > 0 {
			prev := out[i-1]
			if c := cmp.Or(strings.Compare(prev.agency, r[0]), strings.Compare(prev.product, r[1])); c >= 0 {
				return nil, fmt.Errorf("agencies.csv line %d: not after the line before (sorted by agency, then product, each once)", i+2)
			}
			if prev.agency == r[0] && prev.inCity != out[i].inCity {
				return nil, fmt.Errorf("agencies.csv line %d: agency %s is both in and outside the city", i+2, r[0])
			}
		}
	}
	return out, nil
}

// AssignmentRules are an assignment's published rules.
type AssignmentRules struct {
	// OutsideCity lets agencies outside the city compete (由在本市内机构中选择向
	// 市内、外机构共同参与竞争转变); otherwise only agencies in the city.
	OutsideCity bool `json:"outside_city"`
}

// Canonical is {"outside_city":true}.
func (r AssignmentRules) Canonical() []byte {
	return fmt.Appendf(nil, `{"outside_city":%t}`, r.OutsideCity)
}

// SHA256 is the published rules_sha256.
func (r AssignmentRules) SHA256() string { return sha256Hex(r.Canonical()) }

// MarshalJSON writes the canonical encoding.
func (r AssignmentRules) MarshalJSON() ([]byte, error) { return r.Canonical(), nil }

// Assignment is an assignment of batches to agencies as published.
type Assignment struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Status DrawStatus `json:"status"`
	// Plan names the plan the batches come from (its run and rules version).
	Plan           string          `json:"plan"`
	BatchesSHA256  string          `json:"batches_sha256"`
	AgenciesSHA256 string          `json:"agencies_sha256"`
	Rules          AssignmentRules `json:"rules"`
	RulesSHA256    string          `json:"rules_sha256"`
	Randomness
	Assigned []AssignedBatch `json:"assigned,omitzero"`
	// Unassigned are batches no eligible agency is qualified for.
	Unassigned []string `json:"unassigned,omitzero"`
}

// AssignedBatch is one batch and the agency that tests it.
type AssignedBatch struct {
	Batch  string `json:"batch"`
	Agency string `json:"agency"`
}

// Validate says what is wrong with the document's own fields.
func (a Assignment) Validate() error {
	errs := []error{checkID("assignment id", a.ID, drawIDChars),
		checkHashField("batches_sha256", a.BatchesSHA256), checkHashField("agencies_sha256", a.AgenciesSHA256),
		checkHashField("rules_sha256", a.RulesSHA256),
		checkStatus(a.Status, a.Assigned != nil), a.Randomness.validate(a.Status == DrawStatusDrawn)}
	if strings.TrimSpace(a.Name) == "" {
		errs = append(errs, errors.New("assignment name is required"))
	}
	if a.Status == DrawStatusDrawn && a.Unassigned == nil {
		errs = append(errs, errors.New("a drawn assignment lists its unassigned batches (maybe none)"))
	}
	return errors.Join(errs...)
}

// ParseAssignment reads a published assignment document.
func ParseAssignment(b []byte) (Assignment, error) {
	var a Assignment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Assignment{}, fmt.Errorf("assignment document: %w", err)
	}
	return a, nil
}

// CreateAssignmentInput fixes an assignment before its result can be known.
type CreateAssignmentInput struct {
	ID, Name, Plan string
	Batches        []Batch
	Agencies       []Agency
	Rules          AssignmentRules
	BeaconSource   string
	Seed           Seed
}

// Validate says what is wrong with the input.
func (in CreateAssignmentInput) Validate() error {
	errs := []error{checkID("assignment id", in.ID, drawIDChars), in.Seed.validate()}
	if strings.TrimSpace(in.Name) == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if len(in.Batches) == 0 {
		errs = append(errs, errors.New("the plan has no batches to assign"))
	}
	if len(in.Agencies) == 0 {
		errs = append(errs, errors.New("the agency registry is empty: record the agencies' applications first"))
	}
	if strings.TrimSpace(in.BeaconSource) == "" {
		errs = append(errs, errors.New("beacon source is required"))
	}
	return errors.Join(errs...)
}

// CreatedAssignment is what creation publishes.
type CreatedAssignment struct {
	Assignment  Assignment
	BatchesCSV  []byte
	AgenciesCSV []byte
}

// CreateAssignment fixes the batches, the registry, the rules and the commitment.
func CreateAssignment(in CreateAssignmentInput) (CreatedAssignment, error) {
	if err := in.Validate(); err != nil {
		return CreatedAssignment{}, fmt.Errorf("create assignment: %w", err)
	}
	batches, err := BatchesCSV(in.Batches)
	if err != nil {
		return CreatedAssignment{}, fmt.Errorf("create assignment: %w", err)
	}
	agencies, err := AgenciesCSV(in.Agencies)
	if err != nil {
		return CreatedAssignment{}, fmt.Errorf("create assignment: %w", err)
	}
	a := Assignment{ID: in.ID, Name: in.Name, Status: DrawStatusCommitted, Plan: in.Plan,
		BatchesSHA256: sha256Hex(batches), AgenciesSHA256: sha256Hex(agencies),
		Rules: in.Rules, RulesSHA256: in.Rules.SHA256(),
		Randomness: Randomness{BeaconSource: in.BeaconSource, Commitment: in.Seed.Commitment()}}
	return CreatedAssignment{Assignment: a, BatchesCSV: batches, AgenciesCSV: agencies}, nil
}

// PerformAssignmentInput is a committed assignment, its files, seed and beacon.
type PerformAssignmentInput struct {
	Assignment  Assignment
	BatchesCSV  []byte
	AgenciesCSV []byte
	Seed        Seed
	Beacon      string
}

// PerformAssignment reveals the seed and gives each batch, in id order, the
// eligible qualified agency with the smallest first 8 bytes of
// HMAC-SHA256(key, id + "\nagency\n" + batch_id + "\n" + agency_id), ties by
// agency id; eligible means in the city, or anywhere when the rules say so.
func PerformAssignment(in PerformAssignmentInput) (Assignment, error) {
	a := in.Assignment
	if err := a.Validate(); err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	if a.Status != DrawStatusCommitted {
		return Assignment{}, fmt.Errorf("assignment %s is already drawn", a.ID)
	}
	batches, quals, err := a.inputs(in.BatchesCSV, in.AgenciesCSV)
	if err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	rnd, key, err := a.Randomness.reveal(in.Seed, in.Beacon)
	if err != nil {
		return Assignment{}, fmt.Errorf("assignment %s: %w", a.ID, err)
	}
	a.Status, a.Randomness = DrawStatusDrawn, rnd
	a.Assigned, a.Unassigned = assignBatches(key, a.ID, a.Rules, batches, quals)
	return a, nil
}

func (a Assignment) inputs(batchesCSV, agenciesCSV []byte) ([]Batch, []qualification, error) {
	var errs []error
	for _, h := range []struct{ name, got, want string }{
		{"batches.csv", sha256Hex(batchesCSV), a.BatchesSHA256},
		{"agencies.csv", sha256Hex(agenciesCSV), a.AgenciesSHA256},
		{"rules", a.Rules.SHA256(), a.RulesSHA256},
	} {
		if h.got != h.want {
			errs = append(errs, fmt.Errorf("%s hashes to %s, published %s", h.name, h.got, h.want))
		}
	}
	batches, err := parseBatchesCSV(batchesCSV)
	errs = append(errs, err)
	quals, err := parseAgenciesCSV(agenciesCSV)
	errs = append(errs, err)
	return batches, quals, errors.Join(errs...)
}

func assignBatches(key drawKey, id string, rules AssignmentRules, batches []Batch, quals []qualification) ([]AssignedBatch, []string) {
	byProduct := map[string][]string{} // eligible agencies per product, by id
	for _, q := range quals {
		if q.inCity || rules.OutsideCity {
			byProduct[q.product] = append(byProduct[q.product], q.agency)
		}
	}
	assigned, unassigned := []AssignedBatch{}, []string{}
	for _, b := range batches {
		best, bestU := "", uint64(0)
		for _, ag := range byProduct[b.Product] {
			if u := key.agencyScore(id, b.ID, ag); best == "" || u < bestU || (u == bestU && ag < best) {
				best, bestU = ag, u
			}
		}
		if best == "" {
			unassigned = append(unassigned, b.ID)
			continue
		}
		assigned = append(assigned, AssignedBatch{Batch: b.ID, Agency: best})
	}
	return assigned, unassigned
}

// VerifyAssignmentInput is what the bureau published about an assignment.
type VerifyAssignmentInput struct {
	Assignment  Assignment
	BatchesCSV  []byte
	AgenciesCSV []byte
}

// VerifyAssignment recomputes an assignment from its published inputs alone.
func VerifyAssignment(in VerifyAssignmentInput) Verification {
	var v Verification
	a := in.Assignment
	if !v.checkErr(CheckDocument, a.Validate(), "the document is well formed") {
		return v
	}
	batches, errB := parseBatchesCSV(in.BatchesCSV)
	v.checkErr(CheckBatchesFile, errB, fmt.Sprintf("%d batches, sorted by id", len(batches)))
	v.checkHash(CheckBatchesSHA256, "batches.csv", in.BatchesCSV, a.BatchesSHA256)
	quals, errA := parseAgenciesCSV(in.AgenciesCSV)
	v.checkErr(CheckAgenciesFile, errA, fmt.Sprintf("%d qualifications, sorted by agency and product", len(quals)))
	v.checkHash(CheckAgenciesSHA256, "agencies.csv", in.AgenciesCSV, a.AgenciesSHA256)
	if got := a.Rules.SHA256(); got != a.RulesSHA256 {
		v.fail(CheckRulesSHA256, "", fmt.Sprintf("the rules' canonical encoding %s hashes to %s, published %s", a.Rules.Canonical(), got, a.RulesSHA256))
	} else {
		v.pass(CheckRulesSHA256, "", "the rules' canonical encoding hashes to the published SHA-256")
	}
	if a.Status != DrawStatusDrawn {
		return v
	}
	key, ok := a.Randomness.verify(&v)
	if !ok || errB != nil || errA != nil {
		return v
	}
	assigned, unassigned := assignBatches(key, a.ID, a.Rules, batches, quals)
	toSelected := func(as []AssignedBatch, none []string) []selected {
		var out []selected
		for _, x := range as {
			out = append(out, selected{key: x.Batch, label: x.Agency})
		}
		for _, b := range none {
			out = append(out, selected{key: b, label: "no agency"})
		}
		return out
	}
	compareSelection(&v, CheckAssigned, "batches", toSelected(a.Assigned, a.Unassigned), toSelected(assigned, unassigned))
	return v
}
