#!/usr/bin/env python3
"""Recompute a published qcredit random inspection draw (摇号) independently.

Usage: verify_draw.py DIR   (DIR holds draw.json, pool.csv and inspectors.csv
exactly as published at /api/v1/public/draws/{id}, .../pool.csv, .../inspectors.csv)

Written from the specification (DOMAIN.md, "The random inspection draw"), not
from qcredit's Go code, with Python's standard library only, so that it shows a
third party can recompute a draw. Prints one line per check; exits 1 if any fails.
"""
import decimal
import hashlib
import hmac
import json
import sys
import unicodedata
from pathlib import Path

GRADES = ["A", "B", "C", "D"]
# The characters trimmed from the beacon (Go's unicode.IsSpace), spelled out:
# str.strip() with no argument would also trim U+001C..U+001F.
BEACON_SPACES = ("\t\n\v\f\r \u0085\u00a0\u1680"
                 "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                 "\u2028\u2029\u202f\u205f\u3000")

failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + (": " + detail if detail else ""))
    if not ok:
        failures += 1


def read_csv(data, header):
    """Rows of a file in the published form: UTF-8, no BOM, LF, header, final LF."""
    text = data.decode("utf-8")
    assert not text.startswith("\ufeff") and "\r" not in text and text.endswith("\n"), "not in the published form"
    lines = text[:-1].split("\n")
    assert lines[0] == header, "header is %r" % lines[0]
    return [line.split(",") for line in lines[1:]]


def canonical_decimal(d):
    """Shortest plain form: no exponent, no trailing zeros (0.3, 0.073973, 1, 0)."""
    return "0" if d == 0 else format(d.normalize(), "f")


def canonical_rules(rules):
    probs = ",".join('"%s":%s' % (g, canonical_decimal(rules["probabilities"][g])) for g in GRADES)
    own = "true" if rules["exclude_own_county"] else "false"
    return '{"probabilities":{%s},"exclude_own_county":%s}' % (probs, own)


def score(key, message):
    return int.from_bytes(hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()[:8], "big")


def main(directory):
    d = Path(directory)
    draw = json.loads((d / "draw.json").read_text("utf-8"), parse_float=decimal.Decimal, parse_int=decimal.Decimal)
    pool_bytes = (d / "pool.csv").read_bytes()
    insp_bytes = (d / "inspectors.csv").read_bytes()

    check("pool_sha256", hashlib.sha256(pool_bytes).hexdigest() == draw["pool_sha256"])
    check("inspectors_sha256", hashlib.sha256(insp_bytes).hexdigest() == draw["inspectors_sha256"])
    rules = draw["rules"]
    for g in GRADES:
        p = rules["probabilities"][g]
        check("rules: probability of " + g, 0 <= p <= 1 and p.normalize().as_tuple().exponent >= -6, str(p))
    check("rules_sha256", hashlib.sha256(canonical_rules(rules).encode()).hexdigest() == draw["rules_sha256"],
          canonical_rules(rules))

    seed = bytes.fromhex(draw["seed"])
    check("commitment", len(seed) == 32 and hashlib.sha256(seed).hexdigest() == draw["commitment"])
    beacon = draw["beacon"]
    check("beacon", unicodedata.normalize("NFC", beacon).strip(BEACON_SPACES) == beacon and beacon != "")

    key = hmac.new(seed, ("qcredit-draw-v1\n" + beacon).encode("utf-8"), hashlib.sha256).digest()
    draw_id = draw["id"]
    pool = read_csv(pool_bytes, "uscc,grade,county")
    inspectors = read_csv(insp_bytes, "inspector_id,county")
    county_of = {uscc: county for uscc, _, county in pool}

    drawn = []
    for g in GRADES:
        firms = [uscc for uscc, grade, _ in pool if grade == g]
        p = rules["probabilities"][g]
        k = int((p * len(firms) + decimal.Decimal("0.5")).to_integral_value(rounding=decimal.ROUND_FLOOR))
        ranked = sorted(firms, key=lambda uscc: (score(key, draw_id + "\n" + uscc), uscc))
        print("     grade %s: N=%d p=%s k=%d" % (g, len(firms), canonical_decimal(p), k))
        drawn += [(uscc, g) for uscc in ranked[:k]]

    want = []
    for uscc, g in drawn:
        eligible = [i for i, county in inspectors
                    if not (rules["exclude_own_county"] and county == county_of[uscc])]
        eligible.sort(key=lambda i: (score(key, draw_id + "\ninspector\n" + uscc + "\n" + i), i))
        want.append({"uscc": uscc, "grade": g, "inspectors": eligible[:2]})

    published = draw["drawn"]
    check("drawn", [(f["uscc"], f["grade"]) for f in published] == drawn,
          "%d firms published, %d recomputed" % (len(published), len(drawn)))
    by_uscc = {f["uscc"]: f["inspectors"] for f in want}
    for f in published:
        if f["uscc"] in by_uscc:
            check("inspectors of " + f["uscc"], f["inspectors"] == by_uscc[f["uscc"]],
                  " ".join(f["inspectors"]) + (" (fewer than two eligible)" if len(f["inspectors"]) < 2 else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
