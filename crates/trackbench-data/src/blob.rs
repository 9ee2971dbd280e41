//! Compact serde forms for the numbers inside a profile: arrays of `f64` as base64 of their
//! little-endian bytes (bit-exact, NaN-free by construction, a third the size of decimal JSON),
//! counts as base64 of LEB128 varints (most counts take one or two bytes), and opaque sketch
//! images (the DataSketches HLL and frequent-items formats) as base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

fn f64s_to_b64(v: &[f64]) -> String {
    let mut bytes = Vec::with_capacity(v.len() * 8);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    STANDARD.encode(bytes)
}

fn b64_to_f64s<E: serde::de::Error>(s: &str) -> Result<Vec<f64>, E> {
    let bytes = STANDARD.decode(s).map_err(E::custom)?;
    if bytes.len() % 8 != 0 {
        return Err(E::custom("an f64 array's length is not a multiple of 8 bytes"));
    }
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
}

/// `Vec<f64>` as one base64 string.
pub(crate) mod f64s {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&f64s_to_b64(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        b64_to_f64s(&String::deserialize(d)?)
    }
}

/// `Vec<Vec<f64>>` as a list of base64 strings.
pub(crate) mod f64_levels {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[Vec<f64>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|l| f64s_to_b64(l)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|s| b64_to_f64s(s)).collect()
    }
}

/// `Vec<u64>` as base64 of LEB128 varints.
pub(crate) mod varints {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(v.len() * 2);
        for &x in v {
            let mut x = x;
            loop {
                let b = (x & 0x7f) as u8;
                x >>= 7;
                if x == 0 {
                    bytes.push(b);
                    break;
                }
                bytes.push(b | 0x80);
            }
        }
        s.serialize_str(&STANDARD.encode(bytes))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let bytes = STANDARD.decode(String::deserialize(d)?).map_err(D::Error::custom)?;
        let mut out = Vec::new();
        let (mut x, mut shift) = (0u64, 0u32);
        for b in bytes {
            if shift >= 64 {
                return Err(D::Error::custom("a varint longer than 64 bits"));
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
            return Err(D::Error::custom("a truncated varint"));
        }
        Ok(out)
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
