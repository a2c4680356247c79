package clusters

// Level is a cluster's risk level (预警等级). The empty level is none.
type Level string

const (
	LevelNone   Level = ""
	LevelBlue   Level = "blue"   // 蓝: a watch, not a warning
	LevelYellow Level = "yellow" // 黄
	LevelOrange Level = "orange" // 橙
	LevelRed    Level = "red"    // 红
)

var levelLabels = map[Level]string{LevelBlue: "蓝色", LevelYellow: "黄色", LevelOrange: "橙色", LevelRed: "红色"}

// Label is the level's Chinese name (红色, 橙色, 黄色, 蓝色; "" for none).
func (l Level) Label() string { return levelLabels[l] }

// rank orders levels by severity: 0 for none (and unknown words), 4 for red.
func (l Level) rank() int {
	switch l {
	case LevelBlue:
		return 1
	case LevelYellow:
		return 2
	case LevelOrange:
		return 3
	case LevelRed:
		return 4
	}
	return 0
}

// AtLeast reports whether l is as severe as o or more.
func (l Level) AtLeast(o Level) bool { return l.rank() >= o.rank() }

// AccidentGrade is the grade of a special-equipment accident (特种设备事故等级).
type AccidentGrade string

const (
	AccidentGradeGeneral         AccidentGrade = "general"          // 一般
	AccidentGradeLarger          AccidentGrade = "larger"           // 较大
	AccidentGradeMajor           AccidentGrade = "major"            // 重大
	AccidentGradeEspeciallyMajor AccidentGrade = "especially_major" // 特别重大
)

var accidentLabels = map[AccidentGrade]string{AccidentGradeGeneral: "一般", AccidentGradeLarger: "较大",
	AccidentGradeMajor: "重大", AccidentGradeEspeciallyMajor: "特别重大"}

// Valid reports whether g is one of the four grades of the contract.
func (g AccidentGrade) Valid() bool { _, ok := accidentLabels[g]; return ok }

// Label is the grade's Chinese name.
func (g AccidentGrade) Label() string { return accidentLabels[g] }

// Limit is the funnel-plot limit a cluster's z' crossed.
type Limit string

const (
	LimitNone  Limit = ""
	LimitAlert Limit = "alert" // 95 %
	LimitAlarm Limit = "alarm" // 99.8 %
)

// AssessmentStatus says whether a cluster was assessed statistically.
type AssessmentStatus string

const (
	AssessmentStatusAssessed         AssessmentStatus = "assessed"
	AssessmentStatusInsufficientData AssessmentStatus = "insufficient_data" // 样本不足: below the minimum sample
)

// BaselineScope says which checks the baseline p0 came from.
type BaselineScope string

const (
	BaselineScopeDivision BaselineScope = "division" // the same division in the other clusters
	BaselineScopeCity     BaselineScope = "city"     // every other cluster of the city (too few in the division)
	BaselineScopeNone     BaselineScope = ""         // no other cluster had a check
)
