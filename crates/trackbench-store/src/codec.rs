//! Chunk codec: many metric points `(step, wall_ms, value)` packed into one compact blob.
//!
//! Layout (version 1):
//!
//! ```text
//! u8 version | varint n | varint blocks | directory (one entry per block) | block bit streams
//! entry: varint block bytes | varint steps bytes | varint walls bytes
//!        | zigzag step_min | varint step_max - step_min
//!        | f64 min | f64 max | f64 last          (little-endian bits; min/max NaN = none)
//! ```
//!
//! Points are cut into blocks of [`BLOCK_POINTS`]. Each block's bit stream starts afresh, so any
//! block decodes on its own, and its directory entry carries the block's step range, min, max
//! (over non-NaN values) and last value (at the greatest step, the later-logged one on a tie).
//! Downsampled reads fold whole blocks from the directory and decode only the blocks that
//! straddle a bucket edge; whole reads decode blocks in parallel.
//!
//! Inside a block, three byte-aligned streams (their lengths are in the directory entry after
//! the block's total length) hold one column each, so each decodes in its own tight loop and a
//! downsampled read skips the wall times:
//!
//! * steps and wall times: the first raw (64 bits), then delta-of-delta with prefix codes
//!   (`0` = same delta; `10`+5 bits; `110`+9 bits; `1110`+16 bits; `1111`+64 bits). Arithmetic
//!   wraps, so any `i64` sequence (out of order, duplicates, extremes) round-trips.
//! * values: the first raw (64 bits), then the XOR with the previous value (`0` = identical;
//!   `10` = meaningful bits inside the previous window; `11` + 6 bits leading zeros + 6 bits
//!   length-1 + the bits). Works on the IEEE bit pattern, so NaN payloads, -0.0 and infinities
//!   come back bit-exact.
//!
//! A training loop logs at a fixed step stride with smooth values, so steps cost ~1 bit, wall
//! times a few bits and values a fraction of their 64 bits.

use crate::error::StoreError;

const VERSION: u8 = 1;

/// Points per independently decodable block.
pub const BLOCK_POINTS: usize = 128;

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

    #[inline(always)]
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

    /// The next 64 bits (left-aligned; at least `avail` of them valid), refilling first so
    /// that at least 56 are valid unless the stream ends sooner.
    #[inline(always)]
    fn peek(&mut self) -> (u64, u32) {
        if self.avail < 56 {
            self.refill();
        }
        (self.buf, self.avail)
    }

    /// Drops `bits` (<= `avail`) bits.
    #[inline(always)]
    fn consume(&mut self, bits: u32) {
        debug_assert!(bits <= self.avail && bits < 64);
        self.buf <<= bits;
        self.avail -= bits;
    }

    /// Reads `bits` (<= 56) bits, or `None` past the end.
    #[inline(always)]
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
    #[inline(always)]
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
            } else if (-16..=15).contains(&dod) {
                w.write(0b10, 2);
                w.write(dod as u64, 5);
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

    #[inline(always)]
    fn decode(&mut self, r: &mut BitReader, first: bool) -> Option<i64> {
        let v = if first {
            r.read(64)? as i64
        } else {
            // One peek decodes the prefix and the short payloads (at most 20 bits).
            let (w, avail) = r.peek();
            let dod = match w.leading_ones() {
                0 if avail >= 1 => {
                    r.consume(1);
                    0
                }
                1 if avail >= 7 => {
                    r.consume(7);
                    sign_extend((w << 2) >> 59, 5)
                }
                2 if avail >= 12 => {
                    r.consume(12);
                    sign_extend((w << 3) >> 55, 9)
                }
                3 if avail >= 20 => {
                    r.consume(20);
                    sign_extend((w << 4) >> 48, 16)
                }
                4.. if avail >= 4 => {
                    r.consume(4);
                    r.read(64)? as i64
                }
                _ => return None,
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

    #[inline(always)]
    fn decode(&mut self, r: &mut BitReader, first: bool) -> Option<f64> {
        let bits = if first {
            r.read(64)?
        } else {
            let (w, avail) = r.peek();
            if avail == 0 {
                return None;
            }
            if w >> 63 == 0 {
                r.consume(1);
                self.prev
            } else if (w >> 62) & 1 == 0 {
                if !self.has_window || avail < 2 {
                    return None;
                }
                let len = 64 - self.leading - self.trailing;
                let xor = if 2 + len <= avail && 2 + len < 64 {
                    r.consume(2 + len);
                    (w << 2) >> (64 - len)
                } else {
                    r.consume(2);
                    r.read(len)?
                };
                self.prev ^ (xor << self.trailing)
            } else {
                if avail < 14 {
                    return None;
                }
                let leading = ((w >> 56) & 63) as u32;
                let len = ((w >> 50) & 63) as u32 + 1;
                if leading + len > 64 {
                    return None;
                }
                let xor = if 14 + len <= avail && 14 + len < 64 {
                    r.consume(14 + len);
                    (w << 14) >> (64 - len)
                } else {
                    r.consume(14);
                    r.read(len)?
                };
                let trailing = 64 - leading - len;
                self.leading = leading;
                self.trailing = trailing;
                self.has_window = true;
                self.prev ^ (xor << trailing)
            }
        };
        self.prev = bits;
        Some(f64::from_bits(bits))
    }
}

/// Summary of one block, from the directory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockMeta {
    /// Byte offsets within the blob: steps stream at `start..walls`, wall times at
    /// `walls..values`, values at `values..end`.
    start: usize,
    walls: usize,
    values: usize,
    end: usize,
    pub count: usize,
    pub step_min: i64,
    pub step_max: i64,
    /// Over non-NaN values; `None` when every value is NaN.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Value at `step_max` (the later-logged one on a tie). May be NaN.
    pub last: f64,
}

/// A parsed chunk: its directory, and the blob to decode blocks from.
pub struct Chunk<'a> {
    blob: &'a [u8],
    pub len: usize,
    pub blocks: Vec<BlockMeta>,
}

fn corrupt(why: &str) -> StoreError {
    StoreError::CorruptChunk(why.to_string())
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn opt_bits(v: Option<f64>) -> u64 {
    v.map_or(f64::NAN.to_bits(), f64::to_bits)
}

/// Encodes `points[range]` into one chunk blob.
pub fn encode(points: &Points, range: std::ops::Range<usize>) -> Vec<u8> {
    let n = range.len();
    let mut dir = Vec::with_capacity(8 + n.div_ceil(BLOCK_POINTS) * 32);
    let mut data = Vec::with_capacity(n * 8);
    dir.push(VERSION);
    write_varint(&mut dir, n as u64);
    write_varint(&mut dir, n.div_ceil(BLOCK_POINTS) as u64);
    let mut start = range.start;
    while start < range.end {
        let end = (start + BLOCK_POINTS).min(range.end);
        // Three byte-aligned streams: steps, wall times, values.
        let before = data.len();
        let mut w = BitWriter { out: std::mem::take(&mut data), acc: 0, nbits: 0 };
        let mut s = IntState::default();
        for idx in start..end {
            s.encode(&mut w, points.steps[idx], idx == start);
        }
        let mut out = w.finish();
        let steps_len = out.len() - before;
        let mut w = BitWriter { out: std::mem::take(&mut out), acc: 0, nbits: 0 };
        let mut t = IntState::default();
        for idx in start..end {
            t.encode(&mut w, points.wall_ms[idx], idx == start);
        }
        let mut out = w.finish();
        let walls_len = out.len() - before - steps_len;
        let mut w = BitWriter { out: std::mem::take(&mut out), acc: 0, nbits: 0 };
        let mut v = FloatState::default();
        for idx in start..end {
            v.encode(&mut w, points.values[idx], idx == start);
        }
        data = w.finish();
        let (mut step_min, mut step_max) = (i64::MAX, i64::MIN);
        let (mut min, mut max, mut last) = (None::<f64>, None::<f64>, f64::NAN);
        for idx in start..end {
            let (step, value) = (points.steps[idx], points.values[idx]);
            step_min = step_min.min(step);
            if step >= step_max {
                step_max = step;
                last = value;
            }
            if !value.is_nan() {
                min = Some(min.map_or(value, |m| m.min(value)));
                max = Some(max.map_or(value, |m| m.max(value)));
            }
        }
        write_varint(&mut dir, (data.len() - before) as u64);
        write_varint(&mut dir, steps_len as u64);
        write_varint(&mut dir, walls_len as u64);
        write_varint(&mut dir, zigzag(step_min));
        write_varint(&mut dir, step_max.wrapping_sub(step_min) as u64);
        dir.extend_from_slice(&opt_bits(min).to_le_bytes());
        dir.extend_from_slice(&opt_bits(max).to_le_bytes());
        dir.extend_from_slice(&last.to_bits().to_le_bytes());
        start = end;
    }
    dir.extend_from_slice(&data);
    dir
}

/// Smallest directory entry of a block: five one-byte varints and three 8-byte floats.
const MIN_DIR_BYTES: usize = 5 + 3 * 8;

impl<'a> Chunk<'a> {
    /// Parses a blob's header and directory (no point is decoded yet).
    pub fn parse(blob: &'a [u8]) -> Result<Chunk<'a>, StoreError> {
        let (&version, _) = blob.split_first().ok_or_else(|| corrupt("empty blob"))?;
        if version != VERSION {
            return Err(corrupt(&format!("unknown chunk version {version}")));
        }
        let mut pos = 1;
        let varint = |pos: &mut usize| -> Result<u64, StoreError> {
            let (v, used) = read_varint(blob.get(*pos..).unwrap_or(&[])).ok_or_else(|| corrupt("bad varint"))?;
            *pos += used;
            Ok(v)
        };
        let n = usize::try_from(varint(&mut pos)?).map_err(|_| corrupt("point count overflow"))?;
        let nblocks = usize::try_from(varint(&mut pos)?).map_err(|_| corrupt("block count overflow"))?;
        if nblocks != n.div_ceil(BLOCK_POINTS) {
            return Err(corrupt("block count does not match the point count"));
        }
        // Each block's directory entry takes at least MIN_DIR_BYTES: a corrupt count cannot
        // make the directory below allocate more than the blob could describe.
        if nblocks > (blob.len() - pos) / MIN_DIR_BYTES {
            return Err(corrupt("block count exceeds what the blob holds"));
        }
        let mut metas = Vec::with_capacity(nblocks);
        let mut lens = Vec::with_capacity(nblocks);
        for b in 0..nblocks {
            let len = usize::try_from(varint(&mut pos)?).map_err(|_| corrupt("block length overflow"))?;
            let steps_len = usize::try_from(varint(&mut pos)?).map_err(|_| corrupt("stream length overflow"))?;
            let walls_len = usize::try_from(varint(&mut pos)?).map_err(|_| corrupt("stream length overflow"))?;
            if steps_len.checked_add(walls_len).is_none_or(|l| l > len) {
                return Err(corrupt("stream lengths exceed the block"));
            }
            let step_min = unzigzag(varint(&mut pos)?);
            let step_max = step_min.wrapping_add(varint(&mut pos)? as i64);
            let f = |pos: &mut usize| -> Result<f64, StoreError> {
                let bytes = blob.get(*pos..*pos + 8).ok_or_else(|| corrupt("truncated directory"))?;
                *pos += 8;
                Ok(f64::from_bits(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))))
            };
            let (min, max, last) = (f(&mut pos)?, f(&mut pos)?, f(&mut pos)?);
            let count = if b + 1 == nblocks { n - b * BLOCK_POINTS } else { BLOCK_POINTS };
            lens.push((len, steps_len, walls_len));
            metas.push(BlockMeta {
                start: 0,
                walls: 0,
                values: 0,
                end: 0,
                count,
                step_min,
                step_max,
                min: (!min.is_nan()).then_some(min),
                max: (!max.is_nan()).then_some(max),
                last,
            });
        }
        for (m, (len, steps_len, walls_len)) in metas.iter_mut().zip(lens) {
            m.start = pos;
            m.end = pos.checked_add(len).filter(|e| *e <= blob.len()).ok_or_else(|| corrupt("truncated block"))?;
            m.walls = pos + steps_len;
            m.values = m.walls + walls_len;
            pos = m.end;
        }
        Ok(Chunk { blob, len: n, blocks: metas })
    }

    /// Decodes the `count` integers of one stream into `out`.
    #[inline(always)]
    fn decode_ints(data: &[u8], out: &mut [i64]) -> Result<(), StoreError> {
        let mut r = BitReader::new(data);
        let mut st = IntState::default();
        for (j, slot) in out.iter_mut().enumerate() {
            *slot = st.decode(&mut r, j == 0).ok_or_else(|| corrupt("truncated integer stream"))?;
        }
        Ok(())
    }

    #[inline(always)]
    fn decode_floats(data: &[u8], out: &mut [f64]) -> Result<(), StoreError> {
        let mut r = BitReader::new(data);
        let mut st = FloatState::default();
        for (j, slot) in out.iter_mut().enumerate() {
            *slot = st.decode(&mut r, j == 0).ok_or_else(|| corrupt("truncated value stream"))?;
        }
        Ok(())
    }

    /// Decodes block `i` into slices of exactly its point count; `walls` may be skipped.
    #[inline]
    pub fn decode_block_to(
        &self,
        i: usize,
        steps: &mut [i64],
        walls: Option<&mut [i64]>,
        values: &mut [f64],
    ) -> Result<(), StoreError> {
        let m = &self.blocks[i];
        if steps.len() != m.count || values.len() != m.count || walls.as_ref().is_some_and(|w| w.len() != m.count) {
            return Err(corrupt("output slices do not match the block"));
        }
        Self::decode_ints(&self.blob[m.start..m.walls], steps)?;
        if let Some(w) = walls {
            Self::decode_ints(&self.blob[m.walls..m.values], w)?;
        }
        Self::decode_floats(&self.blob[m.values..m.end], values)
    }

    /// Decodes block `i` without its wall times, calling `sink(step, value)` per point.
    pub fn decode_block_steps_values(&self, i: usize, mut sink: impl FnMut(i64, f64)) -> Result<(), StoreError> {
        let n = self.blocks[i].count;
        let (mut st, mut va) = ([0i64; BLOCK_POINTS], [0f64; BLOCK_POINTS]);
        self.decode_block_to(i, &mut st[..n], None, &mut va[..n])?;
        for j in 0..n {
            sink(st[j], va[j]);
        }
        Ok(())
    }

    /// Appends block `i`'s points to `out`.
    pub fn decode_block(&self, i: usize, out: &mut Points) -> Result<(), StoreError> {
        let n = self.blocks[i].count;
        let base = out.len();
        out.steps.resize(base + n, 0);
        out.wall_ms.resize(base + n, 0);
        out.values.resize(base + n, 0.0);
        let result =
            self.decode_block_to(i, &mut out.steps[base..], Some(&mut out.wall_ms[base..]), &mut out.values[base..]);
        if result.is_err() {
            out.steps.truncate(base);
            out.wall_ms.truncate(base);
            out.values.truncate(base);
        }
        result
    }

    /// Decodes every point into three slices of exactly [`Chunk::len`] elements.
    pub fn decode_to_slices(&self, steps: &mut [i64], walls: &mut [i64], values: &mut [f64]) -> Result<(), StoreError> {
        if steps.len() != self.len || walls.len() != self.len || values.len() != self.len {
            return Err(corrupt("output slices do not match the point count"));
        }
        let mut base = 0;
        for i in 0..self.blocks.len() {
            let end = base + self.blocks[i].count;
            self.decode_block_to(i, &mut steps[base..end], Some(&mut walls[base..end]), &mut values[base..end])?;
            base = end;
        }
        Ok(())
    }
}

/// Decodes a chunk blob, appending its points to `out`.
pub fn decode_into(blob: &[u8], out: &mut Points) -> Result<usize, StoreError> {
    let chunk = Chunk::parse(blob)?;
    for i in 0..chunk.blocks.len() {
        chunk.decode_block(i, out)?;
    }
    Ok(chunk.len)
}

/// Decodes a chunk blob that came from outside (a remote SDK's batch), refusing anything a
/// stored chunk could not be: a version other than this one, bytes after the last block, and
/// a directory whose step range, min, max or last value differs from its block's points (reads
/// trust the directory, and downsampling folds whole blocks from it without decoding them).
pub fn decode_checked(blob: &[u8], out: &mut Points) -> Result<usize, StoreError> {
    let chunk = Chunk::parse(blob)?;
    if chunk.blocks.last().map_or(blob.len(), |m| m.end) != blob.len() {
        return Err(corrupt("bytes after the last block"));
    }
    for (i, m) in chunk.blocks.iter().enumerate() {
        let base = out.len();
        chunk.decode_block(i, out)?;
        let (mut step_min, mut step_max) = (i64::MAX, i64::MIN);
        let (mut min, mut max, mut last) = (None::<f64>, None::<f64>, f64::NAN);
        for idx in base..out.len() {
            let (step, value) = (out.steps[idx], out.values[idx]);
            step_min = step_min.min(step);
            if step >= step_max {
                step_max = step;
                last = value;
            }
            if !value.is_nan() {
                min = Some(min.map_or(value, |m| m.min(value)));
                max = Some(max.map_or(value, |m| m.max(value)));
            }
        }
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        if (m.step_min, m.step_max) != (step_min, step_max)
            || bits(m.min) != bits(min)
            || bits(m.max) != bits(max)
            || m.last.to_bits() != last.to_bits()
        {
            out.steps.truncate(base);
            out.wall_ms.truncate(base);
            out.values.truncate(base);
            return Err(corrupt("a block's directory entry does not match its points"));
        }
    }
    Ok(chunk.len)
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
        for (s, t) in [
            (i64::MAX, 0),
            (i64::MIN, -1),
            (0, i64::MAX),
            (5, 5),
            (5, 5),
            (3, i64::MIN),
            (64, 0),
            (-64, 256),
            (0, 63),
            (0, -64),
            (1000, 1000 + 32767),
        ] {
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
    fn directory_summarises_each_block() {
        let mut p = Points::default();
        for i in 0..300i64 {
            let v = if i == 7 { f64::NAN } else { (i % 50) as f64 };
            p.push(1000 - i, i, v);
        }
        p.push(744, 0, -5.0); // the later-logged point at an equal step wins `last`
        let blob = roundtrip(&p);
        let c = Chunk::parse(&blob).unwrap();
        assert_eq!(c.len, 301);
        assert_eq!(c.blocks.len(), 3);
        let b = c.blocks[0];
        assert_eq!(
            (b.count, b.step_min, b.step_max, b.min, b.max, b.last),
            (128, 873, 1000, Some(0.0), Some(49.0), 0.0)
        );
        let last = c.blocks[2];
        assert_eq!((last.count, last.step_min, last.step_max, last.last), (45, 701, 744, -5.0));
        let mut one = Points::default();
        c.decode_block(1, &mut one).unwrap();
        assert_eq!(one.steps[0], 1000 - 128);
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
        assert!(decode(&[1, 200, 1, 2]).is_err(), "block count must match");
        // 2^63 points in 2^56 blocks, in a 20-byte blob: refused before any allocation.
        let mut huge = vec![VERSION];
        write_varint(&mut huge, 1 << 63);
        write_varint(&mut huge, 1 << 56);
        huge.extend_from_slice(&[0; 8]);
        assert!(decode(&huge).is_err());
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

        /// Headers that pass the version and block-count checks with any point count, then
        /// garbage: an error (or a few points), never a panic or an allocation the bytes do
        /// not justify.
        #[test]
        fn corrupt_counts_allocate_nothing_huge(
            n in prop_oneof![any::<u64>(), 0u64..100_000, Just(u64::MAX)],
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut blob = vec![VERSION];
            write_varint(&mut blob, n);
            write_varint(&mut blob, n.div_ceil(BLOCK_POINTS as u64));
            blob.extend_from_slice(&tail);
            if let Ok(c) = Chunk::parse(&blob) {
                prop_assert!(c.blocks.len() <= blob.len() / MIN_DIR_BYTES);
                prop_assert!(c.len <= c.blocks.len() * BLOCK_POINTS);
            }
            let _ = decode(&blob);
        }

        /// Valid chunks with bytes flipped, cut or spliced: decoding ends with an error or
        /// some points, never a panic.
        #[test]
        fn damaged_chunks_never_panic(
            raw in proptest::collection::vec((any::<i64>(), any::<i64>(), any::<u64>()), 1..400),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut p = Points::default();
            for (s, t, v) in raw {
                p.push(s, t, f64::from_bits(v));
            }
            let mut blob = encode(&p, 0..p.len());
            for (at, b) in edits {
                let i = at.index(blob.len());
                blob[i] ^= b;
            }
            let _ = decode(&blob);
            let _ = decode(&blob[..cut.index(blob.len() + 1)]);
        }
    }
}
