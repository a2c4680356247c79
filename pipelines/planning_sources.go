package pipelines

import (
	"context"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// What the supervision-planning jobs and the draws read and write of the
// warehouse (warehouse/planning.go); both backends implement them all.

// PlanningEvents streams events of some types in a window.
type PlanningEvents interface {
	PlanningEvents(ctx context.Context, q warehouse.EventQuery, fn func(warehouse.EventRow) error) error
}

// FirmStates streams the registered firms' states at a cutoff.
type FirmStates interface {
	FirmStates(ctx context.Context, w warehouse.Window, fn func(warehouse.FirmState) error) error
}

// OutputReader reads other jobs' current outputs (the plan reads the
// cluster warnings, a draw the grades).
type OutputReader interface {
	Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error)
	ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error
}

// ProductChecks streams each firm's spot checks per product in a window.
type ProductChecks interface {
	ProductChecks(ctx context.Context, q warehouse.ProductCheckQuery, fn func(warehouse.ProductCheck) error) error
}

// PlanSource is what the plan job reads.
type PlanSource interface {
	PlanningEvents
	FirmStates
	OutputReader
	ProductChecks
}

// KPISource is what the kpi job reads.
type KPISource interface {
	PlanningEvents
	FirmStates
	MonthlyActivity(ctx context.Context, q warehouse.MonthQuery) ([]warehouse.SourceMonth, error)
	CheckedFirms(ctx context.Context, q warehouse.MonthQuery, fn func(model.USCC, int) error) error
}

// RecheckSource is what the recheck job reads.
type RecheckSource interface {
	PlanningEvents
	FirmStates
	ProductChecks
}

// PlanningRecords are the bureau's planning records: the inspector pool,
// the agency registry and the draws' steps.
type PlanningRecords interface {
	AddPlanningRecord(ctx context.Context, r warehouse.PlanningRecord) (warehouse.PlanningRecord, error)
	PlanningRecords(ctx context.Context, q warehouse.RecordQuery) ([]warehouse.PlanningRecord, error)
}

// DrawSeeds keeps the draws' secret seeds.
type DrawSeeds interface {
	StoreDrawSeed(ctx context.Context, drawID string, seed []byte) error
	DrawSeed(ctx context.Context, drawID string) ([]byte, error)
}

// LotteryStore is what the draws (create, draw, the lottery job) need.
type LotteryStore interface {
	PlanningRecords
	DrawSeeds
	PlanningEvents
	FirmStates
	OutputReader
	Watermark(ctx context.Context) (time.Time, error)
}
