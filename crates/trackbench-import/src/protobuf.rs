//! A minimal protobuf wire-format reader: enough to walk the few messages the importers need
//! without generated code or a protobuf dependency. Unknown fields are skipped; malformed input
//! is an error, never a panic.

/// One field's value as the wire format carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Wire<'a> {
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Wire::Fixed64(v) => Some(f64::from_bits(v)),
            Wire::Fixed32(v) => Some(f32::from_bits(v) as f64),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Wire::Varint(v) => Some(v as i64),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Wire::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

/// The input is not a well-formed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf at byte {0}")]
pub struct Malformed(pub usize);

/// Iterates `(field number, value)` over a message's bytes.
pub struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

pub fn fields(data: &[u8]) -> Fields<'_> {
    Fields { data, pos: 0, failed: false }
}

fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Wire<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        let item = (|| {
            let key = varint(self.data, &mut self.pos)?;
            let field = u32::try_from(key >> 3).ok()?;
            let v = match key & 7 {
                0 => Wire::Varint(varint(self.data, &mut self.pos)?),
                1 => {
                    let b = self.data.get(self.pos..self.pos + 8)?;
                    self.pos += 8;
                    Wire::Fixed64(u64::from_le_bytes(b.try_into().ok()?))
                }
                2 => {
                    let len = usize::try_from(varint(self.data, &mut self.pos)?).ok()?;
                    let b = self.data.get(self.pos..self.pos.checked_add(len)?)?;
                    self.pos += len;
                    Wire::Bytes(b)
                }
                5 => {
                    let b = self.data.get(self.pos..self.pos + 4)?;
                    self.pos += 4;
                    Wire::Fixed32(u32::from_le_bytes(b.try_into().ok()?))
                }
                _ => return None,
            };
            Some((field, v))
        })();
        match item {
            Some(x) => Some(Ok(x)),
            None => {
                self.failed = true;
                Some(Err(Malformed(start)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type_and_refuses_garbage() {
        // field 1 varint 150, field 2 fixed64 1.5, field 3 bytes "hi", field 4 fixed32 2.5f
        let mut m = vec![0x08, 0x96, 0x01, 0x11];
        m.extend(1.5f64.to_le_bytes());
        m.extend([0x1a, 2, b'h', b'i', 0x25]);
        m.extend(2.5f32.to_le_bytes());
        let got: Vec<(u32, Wire)> = fields(&m).map(Result::unwrap).collect();
        assert_eq!(got[0], (1, Wire::Varint(150)));
        assert_eq!(got[1].1.as_f64(), Some(1.5));
        assert_eq!(got[2].1.as_str(), Some("hi"));
        assert_eq!(got[3].1.as_f64(), Some(2.5));
        let bad = [0x1a, 10, b'x'];
        assert_eq!(fields(&bad).collect::<Vec<_>>(), [Err(Malformed(0))]);
        assert_eq!(fields(&[0x0f]).next(), Some(Err(Malformed(0))), "wire type 7 does not exist");
    }
}
