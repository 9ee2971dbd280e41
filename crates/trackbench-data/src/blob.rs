//! Compact serde forms for the numbers inside a profile:
//! - sorted `f64` arrays (a column's exact values, a KLL level above 0) as base64 of LEB128
//!   varints of the gaps between their order-preserving bit patterns, `~4` + that of the `f32`
//!   patterns when every value is an `f32` (integers, float32 data, KLL items, which the sketch
//!   rounds as it promotes them), `~8` + that of the `f64` patterns otherwise. Lossless either
//!   way: a gap takes 1 to 3 bytes where a value took 8;
//! - other `f64` arrays as base64 of their little-endian bytes (bit-exact; also how profiles
//!   written before the sorted form read back);
//! - counts as base64 of LEB128 varints (most counts take one or two bytes);
//! - opaque sketch images (the DataSketches HLL and frequent-items formats) as base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

fn push_varint(bytes: &mut Vec<u8>, mut x: u64) {
    loop {
        let b = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            bytes.push(b);
            return;
        }
        bytes.push(b | 0x80);
    }
}

fn read_varints(bytes: &[u8]) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    let (mut x, mut shift) = (0u64, 0u32);
    for &b in bytes {
        if shift >= 64 {
            return Err("a varint longer than 64 bits".into());
        }
        x |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            out.push(x);
            x = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    if shift != 0 {
        return Err("a truncated varint".into());
    }
    Ok(out)
}

/// `x`'s bits, flipped so that unsigned order is numeric order (NaN-free input).
fn key64(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

fn unkey64(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

fn key32(x: f32) -> u32 {
    let b = x.to_bits();
    if b >> 31 == 1 { !b } else { b | (1 << 31) }
}

fn unkey32(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
}

/// Whether `x` is an `f32` exactly (`-0.0` aside, which profiles never hold).
pub(crate) fn is_f32(x: f64) -> bool {
    let r = x as f32;
    r.is_finite() && f64::from(r).to_bits() == x.to_bits()
}

/// The sorted form of `v`, or `None` when `v` is not sorted ascending (or holds a NaN).
fn sorted_to_string(v: &[f64]) -> Option<String> {
    if v.iter().any(|x| x.is_nan()) || !v.windows(2).all(|w| w[0] <= w[1] && key64(w[0]) <= key64(w[1])) {
        return None;
    }
    let mut bytes = Vec::with_capacity(v.len() * 2);
    let tag = if v.iter().all(|&x| is_f32(x)) {
        let mut prev = 0u32;
        for &x in v {
            let k = key32(x as f32);
            push_varint(&mut bytes, u64::from(k - prev));
            prev = k;
        }
        "~4"
    } else {
        let mut prev = 0u64;
        for &x in v {
            let k = key64(x);
            push_varint(&mut bytes, k - prev);
            prev = k;
        }
        "~8"
    };
    Some(format!("{tag}{}", STANDARD.encode(bytes)))
}

/// Reads any array form: sorted (`~4`, `~8`) or little-endian bytes.
fn string_to_f64s(s: &str) -> Result<Vec<f64>, String> {
    let (tag, body) = (s.get(..2), s.get(2..).unwrap_or_default());
    match tag {
        Some("~4") | Some("~8") => {
            let gaps = read_varints(&STANDARD.decode(body).map_err(|e| e.to_string())?)?;
            let mut out = Vec::with_capacity(gaps.len());
            let mut k = 0u64;
            for g in gaps {
                k = k.checked_add(g).ok_or("a sorted array overflows")?;
                out.push(if tag == Some("~4") {
                    let k32 = u32::try_from(k).map_err(|_| "an f32 key past 32 bits")?;
                    f64::from(unkey32(k32))
                } else {
                    unkey64(k)
                });
            }
            if out.iter().any(|x| x.is_nan()) {
                return Err("a sorted array decodes to NaN".into());
            }
            Ok(out)
        }
        _ => b64_to_f64s(s),
    }
}

fn f64s_to_b64(v: &[f64]) -> String {
    let mut bytes = Vec::with_capacity(v.len() * 8);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    STANDARD.encode(bytes)
}

fn b64_to_f64s(s: &str) -> Result<Vec<f64>, String> {
    let bytes = STANDARD.decode(s).map_err(|e| e.to_string())?;
    if bytes.len() % 8 != 0 {
        return Err("an f64 array's length is not a multiple of 8 bytes".into());
    }
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// `Vec<f64>` as one string: the sorted form when sorted, else little-endian bytes.
pub(crate) mod f64s {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&sorted_to_string(v).unwrap_or_else(|| f64s_to_b64(v)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        string_to_f64s(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// `Vec<Vec<f64>>` (a KLL's levels) as a list of strings, each as [`f64s`].
pub(crate) mod f64_levels {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|l| sorted_to_string(l).unwrap_or_else(|| f64s_to_b64(l))))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| string_to_f64s(s).map_err(D::Error::custom)).collect()
    }
}

/// `Vec<u64>` as base64 of LEB128 varints.
pub(crate) mod varints {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(v.len() * 2);
        for &x in v {
            push_varint(&mut bytes, x);
        }
        s.serialize_str(&STANDARD.encode(bytes))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let bytes = STANDARD.decode(String::deserialize(d)?).map_err(D::Error::custom)?;
        read_varints(&bytes).map_err(D::Error::custom)
    }
}

/// `Vec<u8>` as base64.
pub(crate) mod bytes {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        STANDARD.decode(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: &[f64]) -> Vec<f64> {
        string_to_f64s(&sorted_to_string(v).expect("sorted")).unwrap()
    }

    #[test]
    fn sorted_forms_are_lossless_and_small() {
        let ints: Vec<f64> = (0..4096).map(f64::from).collect();
        let s = sorted_to_string(&ints).unwrap();
        // Little-endian base64 took 43,692 characters.
        assert!(s.starts_with("~4") && s.len() < 4096 * 4, "{}", s.len());
        assert_eq!(round_trip(&ints), ints);
        let odd = [-f64::MAX, -1e300, -1.5, -f64::MIN_POSITIVE, 0.0, 5e-324, 0.1, 1.0, 1e300, f64::MAX];
        assert!(sorted_to_string(&odd).unwrap().starts_with("~8"));
        let back = round_trip(&odd);
        assert!(back.iter().zip(&odd).all(|(a, b)| a.to_bits() == b.to_bits()));
        let f32s = [-3.5f64, -0.25, 0.0, f64::from(0.1f32), f64::from(f32::MAX)];
        assert!(sorted_to_string(&f32s).unwrap().starts_with("~4"));
        assert_eq!(round_trip(&f32s), f32s);
        assert_eq!(round_trip(&[]), Vec::<f64>::new());
        assert_eq!(sorted_to_string(&[2.0, 1.0]), None);
    }

    #[test]
    fn the_little_endian_form_still_reads() {
        let v = [3.0, -1.0, 0.5];
        assert_eq!(string_to_f64s(&f64s_to_b64(&v)).unwrap(), v);
        assert!(string_to_f64s("~4////").is_err());
    }
}
