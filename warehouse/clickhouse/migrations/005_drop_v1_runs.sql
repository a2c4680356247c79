-- The run records and scores of before 003, now in runs and run_outputs.
-- Dropped in a migration of their own, so a 003 that died half way can run
-- again with its sources still there.
DROP TABLE IF EXISTS {{.DB}}.scores{{.OnCluster}};
DROP TABLE IF EXISTS {{.DB}}.pipeline_runs{{.OnCluster}};
{{if .Cluster}}
DROP TABLE IF EXISTS {{.DB}}.scores_local{{.OnCluster}};
DROP TABLE IF EXISTS {{.DB}}.pipeline_runs_local{{.OnCluster}};
{{end}}
