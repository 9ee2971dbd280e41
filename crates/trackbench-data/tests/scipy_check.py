"""Recomputes trackbench-data's drift statistics with scipy/numpy from the raw data.

Input: the JSON the Rust test `data::scipy` writes (sets of columns, raw reference and current
values, and trackbench's result per test). Non-finite values are dropped first, as trackbench
does (it counts them apart). Exact results must equal scipy/numpy to 1e-9 (relative above 1);
sketched ones must lie within their stated error bound (KS, Wasserstein); KS p-values from the
asymptotic branch within ASYMP_KS_P_TOL; `auto`'s verdict must
match the column's expected drift. Exits 1 listing every failure.
"""

import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance

TOL = 1e-9
# Above 10 000 values ks_2samp's p-value comes from kstwo(round(en)); trackbench uses Kolmogorov's
# limit with Stephens' correction (see src/ks.rs), within this of it.
ASYMP_KS_P_TOL = 1e-3


def finite(values, kind):
    if kind == "cat":
        return np.array(values, dtype=object)
    a = np.array([float(x) for x in values], dtype=np.float64)
    return a[np.isfinite(a)]


def feel_zeroes(p):
    nz = p[p != 0]
    if nz.size:
        m = nz.min()
        np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
    return p


def binned(r, c, kind):
    """Evidently's get_binned_data: Sturges bins for numbers with > 20 distinct reference values."""
    if kind == "num" and np.unique(r).size > 20:
        edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
        rp = np.histogram(r, edges)[0] / len(r)
        cp = np.histogram(c, edges)[0] / len(c)
    else:
        keys = sorted(set(r.tolist()) | set(c.tolist()))
        rc = {k: 0 for k in keys}
        cc = {k: 0 for k in keys}
        for x in r.tolist():
            rc[x] += 1
        for x in c.tolist():
            cc[x] += 1
        rp = np.array([rc[k] for k in keys]) / len(r)
        cp = np.array([cc[k] for k in keys]) / len(c)
    return feel_zeroes(rp.astype(float)), feel_zeroes(cp.astype(float))


def expected(test, r, c, kind):
    """(statistic, p-value or None, raw Wasserstein or None) as scipy/numpy compute them."""
    if test == "ks":
        res = stats.ks_2samp(r, c)
        return float(res.statistic), float(res.pvalue), None
    if test == "wasserstein":
        w = stats.wasserstein_distance(r, c)
        return w / max(np.std(r), 0.001), None, w
    if test == "chi2":
        keys = sorted(set(r.tolist()) | set(c.tolist()))
        rl, cl = r.tolist(), c.tolist()
        table = np.array([[rl.count(k) for k in keys], [cl.count(k) for k in keys]])
        if len(keys) < 2:
            return 0.0, 1.0, None
        res = stats.chi2_contingency(table)
        return float(res.statistic), float(res.pvalue), None
    rp, cp = binned(r, c, kind)
    if test == "js":
        return float(distance.jensenshannon(rp, cp)), None, None
    if test == "psi":
        return float(np.sum((rp - cp) * np.log(rp / cp))), None, None
    raise ValueError(test)


def close(a, b):
    return abs(a - b) <= TOL * max(1.0, abs(b))


def main(path):
    data = json.load(open(path))
    failures, checked = [], 0
    for s in data["sets"]:
        print(f"== {s['name']}")
        for col in s["columns"]:
            r, c = finite(col["ref"], col["kind"]), finite(col["cur"], col["kind"])
            for res in col["results"]:
                test = res["test"]
                stat, p, w = expected(test, r, c, col["kind"])
                where = f"{s['name']}/{col['name']}/{res['requested']}->{test}"
                ours = res["statistic"]
                line = f"{where:40} stat {ours:.12g} scipy {stat:.12g}"
                if res["exact"]:
                    ok = close(ours, stat)
                    if p is not None and test == "ks" and max(len(r), len(c)) > 10_000:
                        ok = ok and abs(res["p_value"] - p) <= ASYMP_KS_P_TOL
                        line += f"  (asymptotic p, tolerance {ASYMP_KS_P_TOL})"
                        line += f"  p {res['p_value']:.6g} scipy {p:.6g}"
                    elif p is not None:
                        ok = ok and close(res["p_value"], p)
                        line += f"  p {res['p_value']:.6g} scipy {p:.6g}"
                    if w is not None:
                        ok = ok and close(res["wasserstein"], w)
                else:
                    bound = res["error_bound"]
                    if bound is not None:
                        ok = abs(ours - stat) <= bound
                        line += f"  |diff| {abs(ours - stat):.3g} <= bound {bound:.3g}"
                    else:
                        ok = True
                        line += f"  |diff| {abs(ours - stat):.3g} (no bound; {'; '.join(res['notes'])})"
                if res["requested"] == "auto":
                    line += f"  drift {res['drift']} (expected {col['drifts']})"
                    ok = ok and res["drift"] == col["drifts"]
                checked += 1
                print(("ok   " if ok else "FAIL ") + line)
                if not ok:
                    failures.append(line)
    print(f"{checked} results checked, {len(failures)} failures")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
