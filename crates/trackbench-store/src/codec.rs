//! Chunk codec: many metric points `(step, wall_ms, value)` packed into one compact blob.
//!
//! Layout (version 1): one header byte `1`, the point count as a LEB128 varint, then one
//! bit stream holding three interleaved Gorilla-style encodings, point by point:
//!
//! * steps and wall times: the first raw (64 bits), then delta-of-delta with prefix codes
//!   (`0` = same delta; `10`+7 bits; `110`+9 bits; `1110`+16 bits; `1111`+64 bits). Arithmetic
//!   wraps, so any `i64` sequence (out of order, duplicates, extremes) round-trips.
//! * values: the first raw (64 bits), then the XOR with the previous value (`0` = identical;
//!   `10` = meaningful bits inside the previous window; `11` + 6 bits leading zeros + 6 bits
//!   length-1 + the bits). Works on the IEEE bit pattern, so NaN payloads, -0.0 and infinities
//!   come back bit-exact.
//!
//! A training loop logs at a fixed step stride with smooth values, so steps cost ~1 bit and
//! values a fraction of their 64 bits. Decoding does no allocation beyond the output vectors.

use crate::error::StoreError;

const VERSION: u8 = 1;

/// Points of one series, column-wise. All three vectors have the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points {
    pub steps: Vec<i64>,
    pub wall_ms: Vec<i64>,
    pub values: Vec<f64>,
}

impl Points {
    pub fn with_capacity(n: usize) -> Points {
        Points { steps: Vec::with_capacity(n), wall_ms: Vec::with_capacity(n), values: Vec::with_capacity(n) }
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn push(&mut self, step: i64, wall_ms: i64, value: f64) {
        self.steps.push(step);
        self.wall_ms.push(wall_ms);
        self.values.push(value);
    }

    /// Appends `other[range]`.
    pub fn extend_from(&mut self, other: &Points, range: std::ops::Range<usize>) {
        self.steps.extend_from_slice(&other.steps[range.clone()]);
        self.wall_ms.extend_from_slice(&other.wall_ms[range.clone()]);
        self.values.extend_from_slice(&other.values[range]);
    }

    /// Bitwise equality (NaN == NaN when the bits match), for tests and checks.
    pub fn bit_eq(&self, other: &Points) -> bool {
        self.steps == other.steps
            && self.wall_ms == other.wall_ms
            && self.values.len() == other.values.len()
            && self.values.iter().zip(&other.values).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    /// Number of bits held in `acc` (always < 64 between calls).
    nbits: u32,
}

impl BitWriter {
    fn write(&mut self, value: u64, bits: u32) {
        debug_assert!(bits <= 64);
        if bits == 0 {
            return;
        }
        let value = if bits == 64 { value } else { value & ((1u64 << bits) - 1) };
        let free = 64 - self.nbits;
        if bits < free {
            self.acc = (self.acc << bits) | value;
            self.nbits += bits;
        } else {
            let rest = bits - free;
            let high = if free == 64 { value } else { value >> rest };
            let acc = if free == 64 { high } else { (self.acc << free) | high };
            self.out.extend_from_slice(&acc.to_be_bytes());
            self.acc = if rest == 0 { 0 } else { value & ((1u64 << rest) - 1) };
            self.nbits = rest;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.nbits > 0 {
            let acc = self.acc << (64 - self.nbits);
            let bytes = self.nbits.div_ceil(8) as usize;
            self.out.extend_from_slice(&acc.to_be_bytes()[..bytes]);
        }
        self.out
    }
}

/// Reads bits MSB-first through a 64-bit window refilled 8 bytes at a time.
struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `buf`.
    pos: usize,
    /// Unread bits, left-aligned.
    buf: u64,
    /// Number of valid bits in `buf`.
    avail: u32,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader { data, pos: 0, buf: 0, avail: 0 }
    }

    #[inline]
    fn refill(&mut self) {
        if let Some(bytes) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(bytes.try_into().unwrap_or([0; 8]));
            // avail < 64 here; load as many whole bytes as fit.
            self.buf |= word >> self.avail;
            let n = (63 - self.avail) / 8;
            self.pos += n as usize;
            self.avail += n * 8;
        } else {
            while self.avail <= 56 && self.pos < self.data.len() {
                self.buf |= u64::from(self.data[self.pos]) << (56 - self.avail);
                self.pos += 1;
                self.avail += 8;
            }
        }
    }

    /// Reads `bits` (<= 56) bits, or `None` past the end.
    #[inline]
    fn read_small(&mut self, bits: u32) -> Option<u64> {
        debug_assert!((1..=56).contains(&bits));
        if self.avail < bits {
            self.refill();
            if self.avail < bits {
                return None;
            }
        }
        let v = self.buf >> (64 - bits);
        self.buf <<= bits;
        self.avail -= bits;
        Some(v)
    }

    /// Reads `bits` (<= 64) bits, or `None` past the end.
    #[inline]
    fn read(&mut self, bits: u32) -> Option<u64> {
        match bits {
            0 => Some(0),
            1..=56 => self.read_small(bits),
            _ => {
                let hi = self.read_small(32)?;
                let lo = self.read_small(bits - 32)?;
                Some((hi << (bits - 32)) | lo)
            }
        }
    }

    #[inline]
    fn bit(&mut self) -> Option<bool> {
        self.read_small(1).map(|b| b == 1)
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Delta-of-delta state for one integer column.
#[derive(Default)]
struct IntState {
    prev: i64,
    delta: i64,
}

impl IntState {
    fn encode(&mut self, w: &mut BitWriter, v: i64, first: bool) {
        if first {
            w.write(v as u64, 64);
        } else {
            let delta = v.wrapping_sub(self.prev);
            let dod = delta.wrapping_sub(self.delta);
            if dod == 0 {
                w.write(0, 1);
            } else if (-64..=63).contains(&dod) {
                w.write(0b10, 2);
                w.write(dod as u64, 7);
            } else if (-256..=255).contains(&dod) {
                w.write(0b110, 3);
                w.write(dod as u64, 9);
            } else if (-32768..=32767).contains(&dod) {
                w.write(0b1110, 4);
                w.write(dod as u64, 16);
            } else {
                w.write(0b1111, 4);
                w.write(dod as u64, 64);
            }
            self.delta = delta;
        }
        self.prev = v;
    }

    #[inline]
    fn decode(&mut self, r: &mut BitReader, first: bool) -> Option<i64> {
        let v = if first {
            r.read(64)? as i64
        } else {
            let dod = if !r.bit()? {
                0
            } else if !r.bit()? {
                sign_extend(r.read(7)?, 7)
            } else if !r.bit()? {
                sign_extend(r.read(9)?, 9)
            } else if !r.bit()? {
                sign_extend(r.read(16)?, 16)
            } else {
                r.read(64)? as i64
            };
            self.delta = self.delta.wrapping_add(dod);
            self.prev.wrapping_add(self.delta)
        };
        self.prev = v;
        Some(v)
    }
}

#[inline]
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// XOR state for the value column.
#[derive(Default)]
struct FloatState {
    prev: u64,
    leading: u32,
    trailing: u32,
    has_window: bool,
}

impl FloatState {
    fn encode(&mut self, w: &mut BitWriter, v: f64, first: bool) {
        let bits = v.to_bits();
        if first {
            w.write(bits, 64);
        } else {
            let xor = bits ^ self.prev;
            if xor == 0 {
                w.write(0, 1);
            } else {
                let leading = xor.leading_zeros().min(63);
                let trailing = xor.trailing_zeros();
                if self.has_window && leading >= self.leading && trailing >= self.trailing {
                    w.write(0b10, 2);
                    let len = 64 - self.leading - self.trailing;
                    w.write(xor >> self.trailing, len);
                } else {
                    let len = 64 - leading - trailing;
                    w.write(0b11, 2);
                    w.write(u64::from(leading), 6);
                    w.write(u64::from(len - 1), 6);
                    w.write(xor >> trailing, len);
                    self.leading = leading;
                    self.trailing = trailing;
                    self.has_window = true;
                }
            }
        }
        self.prev = bits;
    }

    #[inline]
    fn decode(&mut self, r: &mut BitReader, first: bool) -> Option<f64> {
        let bits = if first {
            r.read(64)?
        } else if !r.bit()? {
            self.prev
        } else if !r.bit()? {
            if !self.has_window {
                return None;
            }
            let len = 64 - self.leading - self.trailing;
            self.prev ^ (r.read(len)? << self.trailing)
        } else {
            let leading = r.read(6)? as u32;
            let len = r.read(6)? as u32 + 1;
            if leading + len > 64 {
                return None;
            }
            let trailing = 64 - leading - len;
            self.leading = leading;
            self.trailing = trailing;
            self.has_window = true;
            self.prev ^ (r.read(len)? << trailing)
        };
        self.prev = bits;
        Some(f64::from_bits(bits))
    }
}

/// Encodes `points[range]` into one chunk blob.
pub fn encode(points: &Points, range: std::ops::Range<usize>) -> Vec<u8> {
    let n = range.len();
    let mut head = Vec::with_capacity(12 + n * 4);
    head.push(VERSION);
    write_varint(&mut head, n as u64);
    let mut w = BitWriter { out: head, acc: 0, nbits: 0 };
    let (mut s, mut t, mut v) = (IntState::default(), IntState::default(), FloatState::default());
    for (i, idx) in range.enumerate() {
        let first = i == 0;
        s.encode(&mut w, points.steps[idx], first);
        t.encode(&mut w, points.wall_ms[idx], first);
        v.encode(&mut w, points.values[idx], first);
    }
    w.finish()
}

/// Decodes a chunk blob, appending its points to `out`.
pub fn decode_into(blob: &[u8], out: &mut Points) -> Result<usize, StoreError> {
    let corrupt = |why: &str| StoreError::CorruptChunk(why.to_string());
    let (&version, rest) = blob.split_first().ok_or_else(|| corrupt("empty blob"))?;
    if version != VERSION {
        return Err(corrupt(&format!("unknown chunk version {version}")));
    }
    let (n, used) = read_varint(rest).ok_or_else(|| corrupt("bad point count"))?;
    let n = usize::try_from(n).map_err(|_| corrupt("point count overflow"))?;
    // Each point takes at least 3 bits; refuse counts the blob cannot hold.
    if n > (rest.len() - used) * 8 / 3 + 1 {
        return Err(corrupt("point count larger than the blob"));
    }
    let mut r = BitReader::new(&rest[used..]);
    out.steps.reserve(n);
    out.wall_ms.reserve(n);
    out.values.reserve(n);
    let (mut s, mut t, mut v) = (IntState::default(), IntState::default(), FloatState::default());
    for i in 0..n {
        let first = i == 0;
        let step = s.decode(&mut r, first).ok_or_else(|| corrupt("truncated steps"))?;
        let wall = t.decode(&mut r, first).ok_or_else(|| corrupt("truncated wall times"))?;
        let value = v.decode(&mut r, first).ok_or_else(|| corrupt("truncated values"))?;
        out.push(step, wall, value);
    }
    Ok(n)
}

/// Decodes a whole chunk blob.
pub fn decode(blob: &[u8]) -> Result<Points, StoreError> {
    let mut out = Points::default();
    decode_into(blob, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(p: &Points) -> Vec<u8> {
        let blob = encode(p, 0..p.len());
        let back = decode(&blob).expect("decodes");
        assert!(back.bit_eq(p), "round trip differs:\n{p:?}\n{back:?}");
        blob
    }

    #[test]
    fn special_values_round_trip_bit_exact() {
        let mut p = Points::default();
        let odd_nan = f64::from_bits(0x7ff8_0000_dead_beef);
        for (i, v) in [0.0, -0.0, f64::NAN, odd_nan, f64::INFINITY, f64::NEG_INFINITY, f64::MIN_POSITIVE, f64::MAX, 1.5]
            .into_iter()
            .enumerate()
        {
            p.push(i as i64, 1_700_000_000_000 + i as i64, v);
        }
        roundtrip(&p);
    }

    #[test]
    fn extreme_and_unordered_steps_round_trip() {
        let mut p = Points::default();
        for (s, t) in [(i64::MAX, 0), (i64::MIN, -1), (0, i64::MAX), (5, 5), (5, 5), (3, i64::MIN), (64, 0), (-64, 256), (0, 63), (0, -64), (1000, 1000 + 32767)] {
            p.push(s, t, 1.0);
        }
        roundtrip(&p);
    }

    #[test]
    fn smooth_curve_is_compact() {
        let mut p = Points::default();
        for i in 0..4096i64 {
            p.push(i, 1_700_000_000_000 + i * 50, (-(i as f64) / 1000.0).exp() as f32 as f64);
        }
        let blob = roundtrip(&p);
        let per_point = blob.len() as f64 / p.len() as f64;
        assert!(per_point < 5.0, "f32-valued curve took {per_point} bytes/point");
    }

    #[test]
    fn corrupt_blobs_are_errors_not_panics() {
        let mut p = Points::default();
        for i in 0..100 {
            p.push(i, i * 7, i as f64 * 0.1);
        }
        let blob = encode(&p, 0..p.len());
        for cut in 0..blob.len() {
            let _ = decode(&blob[..cut]);
        }
        assert!(decode(&[]).is_err());
        assert!(decode(&[9, 1]).is_err());
        assert!(decode(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    proptest! {
        #[test]
        fn any_points_round_trip(raw in proptest::collection::vec((any::<i64>(), any::<i64>(), any::<u64>()), 0..300)) {
            let mut p = Points::default();
            for (s, t, v) in raw {
                p.push(s, t, f64::from_bits(v));
            }
            roundtrip(&p);
        }

        #[test]
        fn training_like_series_round_trip(start in -1000i64..1000, stride in 1i64..5, jitter in proptest::collection::vec(-3i64..3, 1..500), seed in 0u32..1000) {
            let mut p = Points::default();
            let mut wall = 1_700_000_000_000i64;
            for (i, j) in jitter.iter().enumerate() {
                wall += 40 + j;
                let x = i as f64 + f64::from(seed);
                p.push(start + stride * i as i64, wall, (x * 0.37).sin() / (1.0 + x));
            }
            roundtrip(&p);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }
    }
}
