//! TFRecord framing: `u64 length | u32 masked crc32c(length) | data | u32 masked crc32c(data)`,
//! little-endian. [`Reader`] yields whole, checked records from any [`Read`] (a `BufReader` over
//! the file, so a file of any size is read with bounded memory) and stops at the first
//! incomplete or corrupt one, saying where, so a truncated file imports what is valid and a
//! growing file can be read again from [`Reader::offset`] later. A record longer than
//! [`MAX_RECORD`] (a large image or tensor, never a scalar) is checked and skipped without being
//! held in memory.

use std::io::Read;

/// CRC-32C (Castagnoli), table-driven.
pub fn crc32c(data: &[u8]) -> u32 {
    !crc32c_update(!0, data)
}

/// Continues a CRC-32C over more data: start with `!0`, finish with `!` (what [`crc32c`] does).
pub fn crc32c_update(mut crc: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[[u32; 256]; 8]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [[0u32; 256]; 8];
        for i in 0..256u32 {
            let mut c = i;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ 0x82F6_3B78 } else { c >> 1 };
            }
            t[0][i as usize] = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            }
        }
        t
    });
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// TensorFlow's masking of stored CRCs.
pub fn masked_crc(data: &[u8]) -> u32 {
    mask(crc32c(data))
}

fn mask(c: u32) -> u32 {
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Why reading stopped before the end of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The data ends inside a record (a truncated file, or one still being written).
    Incomplete { offset: u64 },
    /// A checksum does not match: the file is corrupt from here.
    Corrupt { offset: u64, what: &'static str },
    /// Reading failed (an I/O error) at this record.
    Unreadable { offset: u64, error: String },
}

/// The longest record held in memory (64 MiB); longer ones are checked and skipped.
pub const MAX_RECORD: u64 = 64 << 20;

/// Reads records from `R` (a byte slice, or a `BufReader` over a file) that starts at file
/// offset `base`. Memory use is one record (at most [`MAX_RECORD`]) plus what `R` buffers.
pub struct Reader<R> {
    input: R,
    offset: u64,
    buf: Vec<u8>,
    max_record: u64,
    /// Why reading stopped early, if it did.
    pub stop: Option<Stop>,
    /// Records longer than the limit, checked and skipped.
    pub skipped_large: usize,
}

impl<R: Read> Reader<R> {
    /// Reads `input`, which starts at file offset `base`.
    pub fn new(input: R, base: u64) -> Reader<R> {
        Reader { input, offset: base, buf: Vec::new(), max_record: MAX_RECORD, stop: None, skipped_large: 0 }
    }

    /// The same with another longest record held (tests use a small one).
    pub fn with_max_record(mut self, max: u64) -> Reader<R> {
        self.max_record = max;
        self
    }

    /// File offset just past the last whole record read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next whole, checked record (borrowed until the next call), or `None` at the end or
    /// where reading stopped ([`Reader::stop`] says why).
    pub fn read_record(&mut self) -> Option<&[u8]> {
        loop {
            if self.stop.is_some() {
                return None;
            }
            let offset = self.offset;
            let mut head = [0u8; 12];
            match fill(&mut self.input, &mut head) {
                Ok(0) => return None,
                Ok(n) if n < head.len() => return self.halt(Stop::Incomplete { offset }),
                Ok(_) => {}
                Err(e) => return self.halt(Stop::Unreadable { offset, error: e.to_string() }),
            }
            let len = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
            let len_crc = u32::from_le_bytes(head[8..].try_into().expect("4 bytes"));
            if masked_crc(&head[..8]) != len_crc {
                return self.halt(Stop::Corrupt { offset, what: "length checksum" });
            }
            let Some(end) = len.checked_add(16).and_then(|n| offset.checked_add(n)) else {
                return self.halt(Stop::Corrupt { offset, what: "record length" });
            };
            if len > self.max_record {
                // Too long to hold: check it in passing and go on after it.
                match self.skip_checked(len) {
                    Ok(true) => {
                        self.offset = end;
                        self.skipped_large += 1;
                        continue;
                    }
                    Ok(false) => return self.halt(Stop::Incomplete { offset }),
                    Err(stop) => return self.halt(stop.at(offset)),
                }
            }
            let len = len as usize; // at most max_record
            self.buf.clear();
            match (&mut self.input).take(len as u64 + 4).read_to_end(&mut self.buf) {
                Ok(n) if n < len + 4 => return self.halt(Stop::Incomplete { offset }),
                Ok(_) => {}
                Err(e) => return self.halt(Stop::Unreadable { offset, error: e.to_string() }),
            }
            let crc = u32::from_le_bytes(self.buf[len..len + 4].try_into().expect("4 bytes"));
            if masked_crc(&self.buf[..len]) != crc {
                return self.halt(Stop::Corrupt { offset, what: "data checksum" });
            }
            self.offset = end;
            return Some(&self.buf[..len]);
        }
    }

    fn halt(&mut self, stop: Stop) -> Option<&[u8]> {
        self.stop = Some(stop);
        None
    }

    /// Reads `len` bytes and the data checksum, checking it without keeping the bytes.
    /// `Ok(false)`: the input ended first.
    fn skip_checked(&mut self, len: u64) -> Result<bool, Stop> {
        let mut chunk = vec![0u8; 64 * 1024];
        let mut left = len;
        let mut crc = !0u32;
        while left > 0 {
            let want = left.min(chunk.len() as u64) as usize;
            match fill(&mut self.input, &mut chunk[..want]) {
                Ok(n) => {
                    crc = crc32c_update(crc, &chunk[..n]);
                    if n < want {
                        return Ok(false);
                    }
                    left -= n as u64;
                }
                Err(e) => return Err(Stop::Unreadable { offset: 0, error: e.to_string() }),
            }
        }
        let mut tail = [0u8; 4];
        match fill(&mut self.input, &mut tail) {
            Ok(4) => {}
            Ok(_) => return Ok(false),
            Err(e) => return Err(Stop::Unreadable { offset: 0, error: e.to_string() }),
        }
        if mask(!crc) != u32::from_le_bytes(tail) {
            return Err(Stop::Corrupt { offset: 0, what: "data checksum" });
        }
        Ok(true)
    }
}

impl Stop {
    fn at(self, offset: u64) -> Stop {
        match self {
            Stop::Incomplete { .. } => Stop::Incomplete { offset },
            Stop::Corrupt { what, .. } => Stop::Corrupt { offset, what },
            Stop::Unreadable { error, .. } => Stop::Unreadable { offset, error },
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        self.read_record().map(<[u8]>::to_vec)
    }
}

/// Frames `data` as one record (for tests and writers).
pub fn frame(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_values() {
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(!crc32c_update(crc32c_update(!0, b"1234"), b"56789"), 0xE306_9283);
    }

    #[test]
    fn records_round_trip_and_stop_where_broken() {
        let mut data = frame(b"one");
        data.extend(frame(b"two, longer"));
        let whole: Vec<Vec<u8>> = Reader::new(&data[..], 0).collect();
        assert_eq!(whole, [&b"one"[..], &b"two, longer"[..]]);
        let cut = &data[..data.len() - 3];
        let mut r = Reader::new(cut, 0);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.stop, Some(Stop::Incomplete { offset: 19 }));
        assert_eq!(r.offset(), 19);
        let mut bad = data.clone();
        bad[14] ^= 1; // inside "one"
        let mut r = Reader::new(&bad[..], 0);
        assert_eq!(r.by_ref().count(), 0);
        assert!(matches!(r.stop, Some(Stop::Corrupt { offset: 0, what: "data checksum" })));
    }

    #[test]
    fn records_over_the_limit_are_checked_and_skipped() {
        let mut data = frame(b"small");
        data.extend(frame(&[7u8; 100]));
        data.extend(frame(b"after"));
        let mut r = Reader::new(&data[..], 0).with_max_record(10);
        assert_eq!(r.by_ref().collect::<Vec<_>>(), [&b"small"[..], &b"after"[..]]);
        assert_eq!((r.skipped_large, r.stop.clone(), r.offset()), (1, None, data.len() as u64));
        let mut bad = data.clone();
        bad[21 + 12 + 50] ^= 1;
        let mut r = Reader::new(&bad[..], 0).with_max_record(10);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.stop, Some(Stop::Corrupt { offset: 21, what: "data checksum" }));
        let mut r = Reader::new(&data[..21 + 60], 0).with_max_record(10);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.stop, Some(Stop::Incomplete { offset: 21 }));
    }

    #[test]
    fn a_huge_length_allocates_nothing_and_stops() {
        let len = (1u64 << 63).to_le_bytes();
        let mut data = len.to_vec();
        data.extend(masked_crc(&len).to_le_bytes());
        data.extend([0u8; 100]);
        let mut r = Reader::new(&data[..], 5);
        assert_eq!(r.by_ref().count(), 0);
        assert_eq!(r.stop, Some(Stop::Incomplete { offset: 5 }));
        let len = u64::MAX.to_le_bytes();
        let mut data = len.to_vec();
        data.extend(masked_crc(&len).to_le_bytes());
        let mut r = Reader::new(&data[..], 0);
        assert_eq!(r.by_ref().count(), 0);
        assert_eq!(r.stop, Some(Stop::Corrupt { offset: 0, what: "record length" }));
    }
}
