// Package planning is supervision planning (监管计划): the verifiable random
// inspection draw (摇号, 双随机), the 10 % re-check of newly licensed firms, the
// next year's spot-check plan, the assignment of its batches to testing
// agencies (承检机构), complaint follow-up (有报必查、有查必果), the special-
// equipment self-correction rate (自查自纠率) and the county bureaus' KPIs.
//
// It is pure: callers pass values and file bytes, it returns values, the
// bytes to publish and the reasons behind every line. Nothing here reads a
// clock, a file, the network or crypto/rand: a draw's seed is passed in, and
// the as_of day is a parameter, so every output is reproducible.
//
// Draws are published so that anyone can recompute them from what the bureau
// publishes (DOMAIN.md, "The random inspection draw"); testdata/verify_draw.py
// is an independent recomputation in Python's standard library.
package planning
