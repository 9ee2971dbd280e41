//! Sweep grids and parameter substitution: `lr=1e-3,1e-2` specs, their cartesian product (or
//! a seeded random sample of it), `{name}` placeholders in arguments, and the environment a
//! job gets for its parameters (`TRACKBENCH_PARAM_LR=1e-3`).

use crate::LaunchError;

/// One assignment of values to parameter names, in the order the names were given.
pub type Params = Vec<(String, String)>;

fn invalid(spec: &str, why: &str) -> LaunchError {
    LaunchError::Invalid { what: "parameter spec", why: format!("`{spec}`: {why} (expected NAME=V1,V2,…)") }
}

fn check_name(spec: &str, name: &str) -> Result<(), LaunchError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
        return Err(invalid(spec, "the name must be letters, digits, `_`, `-` or `.`"));
    }
    Ok(())
}

/// One assignment given as a name and a value (from JSON, say): the name checked as a spec's.
pub fn param(name: &str, value: &str) -> Result<(String, String), LaunchError> {
    let spec = format!("{name}={value}");
    check_name(&spec, name)?;
    if value.is_empty() {
        return Err(invalid(&spec, "empty value"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// Parses `name=v1,v2,…` (at least one value, none empty).
pub fn parse_axis(spec: &str) -> Result<(String, Vec<String>), LaunchError> {
    let (name, values) = spec.split_once('=').ok_or_else(|| invalid(spec, "no `=`"))?;
    let name = name.trim();
    check_name(spec, name)?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(invalid(spec, "empty value"));
    }
    Ok((name.to_string(), values))
}

/// Parses `a=1,b=2` or `a=1` into single assignments (an A/B arm, a base).
pub fn parse_assignments(spec: &str) -> Result<Params, LaunchError> {
    let mut out: Params = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| invalid(spec, "no `=`"))?;
        check_name(spec, k.trim())?;
        if v.trim().is_empty() {
            return Err(invalid(spec, "empty value"));
        }
        if out.iter().any(|(x, _)| x == k.trim()) {
            return Err(invalid(spec, "a name given twice"));
        }
        out.push((k.trim().to_string(), v.trim().to_string()));
    }
    if out.is_empty() {
        return Err(invalid(spec, "nothing assigned"));
    }
    Ok(out)
}

/// Every combination of the axes (the last axis varies fastest).
pub fn product(axes: &[(String, Vec<String>)]) -> Vec<Params> {
    let mut out: Vec<Params> = vec![Vec::new()];
    for (name, values) in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((name.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    out
}

/// `n` distinct combinations chosen with a seeded generator (all of them, shuffled, when
/// `n` is at least their number).
pub fn sample(mut all: Vec<Params>, n: usize, seed: u64) -> Vec<Params> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    // Partial Fisher-Yates.
    let take = n.min(all.len());
    for i in 0..take {
        let j = i + (next() % (all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(take);
    all
}

/// Replaces `{name}` in `arg` with the parameter's value (unknown names stay as written).
pub fn substitute(arg: &str, params: &Params) -> String {
    let mut s = arg.to_string();
    for (k, v) in params {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// The environment variables of `params`: `TRACKBENCH_PARAM_<NAME>` (upper case, `-` and `.`
/// as `_`).
pub fn env(params: &Params) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (format!("TRACKBENCH_PARAM_{}", k.to_ascii_uppercase().replace(['-', '.'], "_")), v.clone()))
        .collect()
}

/// `lr=0.01 hidden=64`.
pub fn describe(params: &Params) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_expand_and_substitute() {
        let axes = vec![parse_axis("lr=1e-3, 1e-2").unwrap(), parse_axis("hidden=64,128").unwrap()];
        let all = product(&axes);
        assert_eq!(all.len(), 4);
        assert_eq!(describe(&all[1]), "lr=1e-3 hidden=128");
        assert_eq!(substitute("--lr={lr} --h {hidden} {other}", &all[3]), "--lr=1e-2 --h 128 {other}");
        assert_eq!(env(&all[0])[0], ("TRACKBENCH_PARAM_LR".into(), "1e-3".into()));
        let s = sample(all.clone(), 3, 7);
        assert_eq!(s.len(), 3);
        assert_eq!(s, sample(all.clone(), 3, 7), "seeded");
        assert!(s.iter().all(|p| all.contains(p)));
        assert_eq!(sample(all, 10, 1).len(), 4);
        for bad in ["lr", "lr=", "lr=1,,2", "=1", "l r=1"] {
            assert!(parse_axis(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_assignments("lr=1e-2,epochs=3").unwrap().len(), 2);
        assert!(parse_assignments("lr=1,lr=2").is_err());
    }
}
