package simulate

// county is a Huai'an county-level bureau with how many of the city's firms
// it holds and the codes older firms' USCCs still carry.
type county struct {
	code, name string
	weight     float64
	// historical holds codes in force before the 2016 mergers; firms founded
	// before 2016 in this county were issued USCCs under one of them.
	historical []string
	// sectors are this county's specialised industries (Huai'an's profile).
	sectors []sector
}

// sector is a specialised industry of a county, optionally a declared cluster.
type sector struct {
	class   string  // GB/T 4754-2017 class
	cluster string  // declared industrial-cluster id, "" for none
	share   float64 // share of the county's firms
}

// industry is what the simulator knows of a GB/T 4754 class: the word used in
// firm names, the products sampled in spot checks and the base failure rate.
type industry struct {
	class    string
	word     string
	products []string
	failRate float64
	// manufacturing firms hold production licences and are spot-checked;
	// other firms mostly appear as users of special equipment.
	manufacturing bool
}

var counties = []county{
	{code: "320812", name: "清江浦区", weight: 0.20, historical: []string{"320802", "320811"},
		sectors: []sector{{"C3120", "qjp-special-steel", 0.08}, {"C3130", "qjp-special-steel", 0.10}}},
	{code: "320803", name: "淮安区", weight: 0.15,
		sectors: []sector{{"C2612", "hazhou-salt-chemical", 0.10}, {"C2613", "hazhou-salt-chemical", 0.12}}},
	{code: "320804", name: "淮阴区", weight: 0.13},
	{code: "320871", name: "淮安经济技术开发区", weight: 0.12, sectors: []sector{
		{"C3981", "hetda-electronics", 0.12}, {"C3982", "hetda-electronics", 0.12},
		{"C3670", "", 0.12}, {"C3841", "", 0.06}}},
	{code: "320826", name: "涟水县", weight: 0.12, sectors: []sector{
		{"C1512", "lianshui-liquor", 0.14}, {"C1311", "", 0.08}, {"C1361", "", 0.05}}},
	{code: "320830", name: "盱眙县", weight: 0.11, sectors: []sector{
		{"C3099", "xuyi-attapulgite", 0.18}, {"C1361", "", 0.10}, {"C1369", "", 0.08}, {"C1311", "", 0.05}}},
	{code: "320813", name: "洪泽区", weight: 0.08, historical: []string{"320829"},
		sectors: []sector{{"C2612", "hazhou-salt-chemical", 0.08}, {"C2613", "hazhou-salt-chemical", 0.10}}},
	{code: "320831", name: "金湖县", weight: 0.09, sectors: []sector{
		{"C3512", "jinhu-petromachinery", 0.18}, {"C4011", "jinhu-petromachinery", 0.12}}},
}

// clusterHome is the county and GB/T 4754 division a declared cluster is
// reported under in the truth file.
var clusterHome = []struct{ id, region, division string }{
	{"xuyi-attapulgite", "320830", "C30"},
	{"jinhu-petromachinery", "320831", "C35"},
	{"lianshui-liquor", "320826", "C15"},
	{"hazhou-salt-chemical", "320803", "C26"},
	{"qjp-special-steel", "320812", "C31"},
	{"hetda-electronics", "320871", "C39"},
}

var industries = []industry{
	{"C1311", "粮油", []string{"大米", "糙米"}, 0.05, true},
	{"C1361", "水产食品", []string{"冻小龙虾", "龙虾尾"}, 0.07, true},
	{"C1369", "食品", []string{"调味小龙虾", "虾仁制品"}, 0.08, true},
	{"C1512", "酒业", []string{"白酒", "浓香型白酒"}, 0.05, true},
	{"C2612", "盐化", []string{"纯碱", "烧碱"}, 0.05, true},
	{"C2613", "化工", []string{"工业盐", "元明粉", "食用盐"}, 0.05, true},
	{"C3099", "凹土科技", []string{"凹凸棒石黏土", "凹土干燥剂", "脱色剂"}, 0.06, true},
	{"C3120", "特钢", []string{"合金结构钢", "轴承钢"}, 0.04, true},
	{"C3130", "钢材", []string{"热轧带肋钢筋", "冷轧钢板"}, 0.05, true},
	{"C3512", "石油机械", []string{"抽油机", "井口装置", "钻采阀门"}, 0.06, true},
	{"C3670", "汽车零部件", []string{"制动器衬片", "汽车安全带", "机动车轮胎"}, 0.06, true},
	{"C3841", "新能源科技", []string{"锂离子电池", "移动电源"}, 0.08, true},
	{"C3981", "电子", []string{"电容器", "电感器"}, 0.05, true},
	{"C3982", "电路科技", []string{"印制电路板"}, 0.05, true},
	{"C4011", "仪表", []string{"电磁流量计", "涡街流量计"}, 0.06, true},
	{"C3311", "钢结构", []string{"钢结构件"}, 0.07, true},
	{"C2927", "塑业", []string{"塑料日用品", "塑料购物袋"}, 0.09, true},
	{"C1810", "服饰", []string{"针织服装", "儿童服装"}, 0.09, true},
	{"C2110", "家具", []string{"木质家具", "办公椅"}, 0.08, true},
	{"C3824", "电器", []string{"电线电缆", "插座"}, 0.08, true},
	{"C2624", "化工", []string{"复混肥料"}, 0.08, true},
	{"C3021", "建材", []string{"水泥", "预拌混凝土"}, 0.05, true},
	{"H6110", "酒店管理", []string{"电梯"}, 0.05, false},
	{"K7020", "物业管理", []string{"电梯"}, 0.05, false},
	{"F5211", "商贸", []string{"日用百货", "儿童玩具"}, 0.07, false},
}

// genericClasses are small manufacturers found in every county; nonMfg are
// users of special equipment (hotels, property managers, department stores).
var (
	genericClasses = []string{"C3311", "C2927", "C1810", "C2110", "C3824", "C2624", "C3021"}
	nonMfgClasses  = []string{"H6110", "K7020", "F5211"}
)

// industryIndex finds an industry by class; the tables are small and fixed.
func industryIndex(class string) int {
	for i, ind := range industries {
		if ind.class == class {
			return i
		}
	}
	return -1
}
