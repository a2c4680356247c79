package planning

import (
	"errors"
	"fmt"
)

// CheckName names one part of a draw that verification recomputes.
type CheckName string

const (
	CheckDocument         CheckName = "document" // the published document itself: id, status, hashes' form
	CheckCreation         CheckName = "creation" // what creation fixed, against a copy kept then
	CheckPoolFile         CheckName = "pool.csv"
	CheckPoolSHA256       CheckName = "pool_sha256"
	CheckInspectorsFile   CheckName = "inspectors.csv"
	CheckInspectorsSHA256 CheckName = "inspectors_sha256"
	CheckBatchesFile      CheckName = "batches.csv"
	CheckBatchesSHA256    CheckName = "batches_sha256"
	CheckAgenciesFile     CheckName = "agencies.csv"
	CheckAgenciesSHA256   CheckName = "agencies_sha256"
	CheckRulesSHA256      CheckName = "rules_sha256"
	CheckCommitment       CheckName = "commitment"
	CheckBeacon           CheckName = "beacon"
	CheckDrawn            CheckName = "drawn"      // the drawn firms, their grades and order
	CheckInspectors       CheckName = "inspectors" // one firm's two inspectors
	CheckAdded            CheckName = "added"      // firms added to a re-check with reasons
	CheckAssigned         CheckName = "assigned"   // one batch's agency
)

// Check is the outcome of one recomputation.
type Check struct {
	Name CheckName `json:"check"`
	// Subject is the firm (USCC) or batch a per-item check is about.
	Subject string `json:"subject,omitempty"`
	OK      bool   `json:"ok"`
	Detail  string `json:"detail"`
}

func (c Check) Error() string {
	if c.Subject != "" {
		return fmt.Sprintf("%s of %s: %s", c.Name, c.Subject, c.Detail)
	}
	return fmt.Sprintf("%s: %s", c.Name, c.Detail)
}

// Verification lists every check made, in the order made: the files and
// their hashes, the rules, the commitment and beacon, then the result.
type Verification struct {
	Checks []Check `json:"checks"`
}

// OK reports whether every check passed (and at least one was made).
func (v Verification) OK() bool { return len(v.Checks) > 0 && len(v.Failed()) == 0 }

// Failed lists the checks that failed.
func (v Verification) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Err joins the failed checks, nil when the draw verifies.
func (v Verification) Err() error {
	var errs []error
	for _, c := range v.Failed() {
		errs = append(errs, c)
	}
	if len(v.Checks) == 0 {
		errs = append(errs, errors.New("nothing was checked"))
	}
	return errors.Join(errs...)
}

// HasFailed reports whether a check of that name failed.
func (v Verification) HasFailed(name CheckName) bool {
	for _, c := range v.Failed() {
		if c.Name == name {
			return true
		}
	}
	return false
}

func (v *Verification) pass(name CheckName, subject, detail string) {
	v.Checks = append(v.Checks, Check{Name: name, Subject: subject, OK: true, Detail: detail})
}

func (v *Verification) fail(name CheckName, subject, detail string) {
	v.Checks = append(v.Checks, Check{Name: name, Subject: subject, Detail: detail})
}

// checkErr records err as a failure or a pass with the detail.
func (v *Verification) checkErr(name CheckName, err error, detail string) bool {
	if err != nil {
		v.fail(name, "", err.Error())
		return false
	}
	v.pass(name, "", detail)
	return true
}

// checkHash compares a file's SHA-256 with the published one.
func (v *Verification) checkHash(name CheckName, file string, b []byte, published string) {
	if got := sha256Hex(b); got != published {
		v.fail(name, "", fmt.Sprintf("%s hashes to %s, published %s", file, got, published))
		return
	}
	v.pass(name, "", fmt.Sprintf("%s hashes to the published SHA-256", file))
}
