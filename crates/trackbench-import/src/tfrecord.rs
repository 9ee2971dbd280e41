//! TFRecord framing: `u64 length | u32 masked crc32c(length) | data | u32 masked crc32c(data)`,
//! little-endian. [`Reader`] yields whole, checked records and stops at the first incomplete or
//! corrupt one, saying where, so a truncated file imports what is valid and a growing file can
//! be read again from [`Reader::offset`] later.

/// CRC-32C (Castagnoli), table-driven.
pub fn crc32c(data: &[u8]) -> u32 {
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
    let mut crc = !0u32;
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
    !crc
}

/// TensorFlow's masking of stored CRCs.
pub fn masked_crc(data: &[u8]) -> u32 {
    let c = crc32c(data);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Why reading stopped before the end of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The data ends inside a record (a truncated file, or one still being written).
    Incomplete { offset: u64 },
    /// A checksum does not match: the file is corrupt from here.
    Corrupt { offset: u64, what: &'static str },
}

/// Reads records from a byte buffer starting at an offset.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    pub stop: Option<Stop>,
}

impl<'a> Reader<'a> {
    /// Reads `data`, which starts at file offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> Reader<'a> {
        Reader { data, pos: 0, base, stop: None }
    }

    /// File offset just past the last whole record read.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.stop.is_some() {
            return None;
        }
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let offset = self.offset();
        if rest.len() < 12 {
            self.stop = Some(Stop::Incomplete { offset });
            return None;
        }
        let len_bytes = &rest[..8];
        let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
        let len_crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        if masked_crc(len_bytes) != len_crc {
            self.stop = Some(Stop::Corrupt { offset, what: "length checksum" });
            return None;
        }
        let Some(end) = usize::try_from(len).ok().and_then(|l| l.checked_add(16)) else {
            self.stop = Some(Stop::Corrupt { offset, what: "record length" });
            return None;
        };
        if rest.len() < end {
            self.stop = Some(Stop::Incomplete { offset });
            return None;
        }
        let body = &rest[12..12 + len as usize];
        let crc = u32::from_le_bytes(rest[end - 4..end].try_into().expect("4 bytes"));
        if masked_crc(body) != crc {
            self.stop = Some(Stop::Corrupt { offset, what: "data checksum" });
            return None;
        }
        self.pos += end;
        Some(body)
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
    }

    #[test]
    fn records_round_trip_and_stop_where_broken() {
        let mut data = frame(b"one");
        data.extend(frame(b"two, longer"));
        let whole: Vec<&[u8]> = Reader::new(&data, 0).collect();
        assert_eq!(whole, [&b"one"[..], &b"two, longer"[..]]);
        let cut = &data[..data.len() - 3];
        let mut r = Reader::new(cut, 0);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.stop, Some(Stop::Incomplete { offset: 19 }));
        assert_eq!(r.offset(), 19);
        let mut bad = data.clone();
        bad[14] ^= 1; // inside "one"
        let mut r = Reader::new(&bad, 0);
        assert_eq!(r.by_ref().count(), 0);
        assert!(matches!(r.stop, Some(Stop::Corrupt { offset: 0, what: "data checksum" })));
    }
}
