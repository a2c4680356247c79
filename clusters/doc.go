// Package clusters is the industrial-cluster risk warning model
// (产业集聚区质量风险预警): a pure function from the enterprises of the city
// and their records in a 12-month window to an assessment of every cluster,
// by the method of DOMAIN.md ("Cluster risk warnings: the statistics"):
// funnel-plot z against the division's baseline, adjusted for
// overdispersion, a Bernoulli CUSUM for a rising trend, and levels as data.
//
// The steps of a run, each a function of values only:
//
//	cfg, _ := clusters.Parse(fileBytes)          // or clusters.Default()
//	res, _ := cfg.Compute(&input)                // one model.ClusterAssessment per cluster
//	tr, _  := cfg.Track(clusters.TrackInput{...}) // warnings carried across runs
//	payload, _ := clusters.CanonicalJSON(tr.Warnings[0]) // outputs in canonical form
//	plot, _ := cfg.Funnel(res, "C30")            // funnel plot data of a division
//	html, _ := cfg.RenderLetter(clusters.LetterInput{...}) // 质量风险提示函
//
// Its outputs are model types (model.ClusterAssessment, model.Warning,
// model.FunnelPlot), so the read model and the API can read them without
// this package. The method (default.yaml, embedded) is versioned by the hash of its bytes;
// every result names it.
package clusters
