//! The network forms of a [`Batch`]: what a remote SDK sends to a server's
//! `POST /api/v1/runs/{id}/batch`. Defined once: the SDK writes them, the server reads them.
//!
//! * JSON (`application/json`): each series column-wise (`steps`, `wall_ms`, `values`),
//!   non-finite values as [`json_f64`] strings, `writer` + `seq` for the retry mark. The SDK
//!   writes [`WireBatchRef`] (borrowing the batch), the server reads [`WireBatch`].
//! * Binary ([`BINARY_CONTENT_TYPE`]): the points as the store's own codec chunks, which the
//!   server checks and stores as they came ([`encode_binary`], [`decode_binary`]). Layout
//!   (version 1; varints are LEB128, signed ones zigzag, a string is a varint length and UTF-8):
//!
//! ```text
//! "TBWB" | u8 version | u8 flags (1 = mark, 2 = heartbeat)
//! [mark: string writer | svarint seq] [heartbeat: svarint ms]
//! varint series   { string key | varint chunks { varint len | codec chunk } }
//! varint params   { string key | string JSON value }
//! varint tags     { string key | string value }
//! varint summary  { string key | string JSON value }
//! varint lines    { u8 stream (0 stdout, 1 stderr) | svarint ts_ms | string line }
//! ```
//!
//! Nothing may follow the last line. Each chunk holds at most [`CHUNK_POINTS`] points and a
//! request at most [`MAX_BINARY_POINTS`], so a small body cannot claim a huge allocation.

use serde::{Deserialize, Serialize};

use crate::chunking::{CHUNK_POINTS, EncodedChunk};
use crate::codec::{self, Points};
use crate::error::{Result, StoreError};
use crate::model::json_f64::{self, Floats};
use crate::model::{Batch, LogLine, SeriesBatch, Stream};

/// One series of a batch, borrowed for writing.
#[derive(Serialize)]
struct SeriesRef<'a> {
    key: &'a str,
    steps: &'a [i64],
    wall_ms: &'a [i64],
    values: Floats<'a>,
}

/// A [`Batch`] as it goes on the wire, borrowing it.
#[derive(Serialize)]
pub struct WireBatchRef<'a> {
    series: Vec<SeriesRef<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    params: &'a [(String, serde_json::Value)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [(String, String)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    summary: &'a [(String, serde_json::Value)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    log_lines: &'a [LogLine],
    heartbeat_ms: Option<i64>,
    writer: Option<&'a str>,
    seq: Option<i64>,
}

impl<'a> WireBatchRef<'a> {
    pub fn new(batch: &'a Batch) -> WireBatchRef<'a> {
        WireBatchRef {
            series: batch
                .series
                .iter()
                .map(|s| SeriesRef {
                    key: &s.key,
                    steps: &s.points.steps,
                    wall_ms: &s.points.wall_ms,
                    values: Floats(&s.points.values),
                })
                .collect(),
            params: &batch.params,
            tags: &batch.tags,
            summary: &batch.summary,
            log_lines: &batch.log_lines,
            heartbeat_ms: batch.heartbeat_ms,
            writer: batch.mark.as_ref().map(|m| m.0.as_str()),
            seq: batch.mark.as_ref().map(|m| m.1),
        }
    }
}

/// A value that may arrive as a number or as "NaN"/"Infinity"/"-Infinity".
#[derive(Deserialize, Clone, Copy)]
#[serde(transparent)]
struct Value(#[serde(with = "json_f64")] f64);

/// One series of a received batch.
#[derive(Deserialize)]
struct WireSeries {
    key: String,
    steps: Vec<i64>,
    wall_ms: Vec<i64>,
    values: Vec<Value>,
}

/// A received batch; [`WireBatch::into_batch`] checks it.
#[derive(Deserialize)]
pub struct WireBatch {
    #[serde(default)]
    series: Vec<WireSeries>,
    #[serde(default)]
    params: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    tags: Vec<(String, String)>,
    #[serde(default)]
    summary: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    log_lines: Vec<LogLine>,
    heartbeat_ms: Option<i64>,
    /// Writer id and batch number (retries of one batch carry the same pair).
    writer: Option<String>,
    seq: Option<i64>,
}

impl WireBatch {
    /// The batch, or [`StoreError::Invalid`] when a series' columns differ in length or only
    /// one of `writer` and `seq` is given.
    pub fn into_batch(self) -> Result<Batch> {
        let mut series = Vec::with_capacity(self.series.len());
        for s in self.series {
            if s.steps.len() != s.wall_ms.len() || s.steps.len() != s.values.len() {
                return Err(StoreError::invalid(
                    "batch",
                    format!(
                        "series `{}`: steps, wall_ms and values must have the same length ({}, {}, {})",
                        s.key,
                        s.steps.len(),
                        s.wall_ms.len(),
                        s.values.len()
                    ),
                ));
            }
            let points =
                Points { steps: s.steps, wall_ms: s.wall_ms, values: s.values.into_iter().map(|v| v.0).collect() };
            series.push(SeriesBatch { key: s.key, points });
        }
        let mark = match (self.writer, self.seq) {
            (Some(w), Some(n)) => Some((w, n)),
            (None, None) => None,
            _ => return Err(StoreError::invalid("batch", "`writer` and `seq` go together")),
        };
        Ok(Batch {
            series,
            params: self.params,
            tags: self.tags,
            summary: self.summary,
            log_lines: self.log_lines,
            heartbeat_ms: self.heartbeat_ms,
            mark,
        })
    }
}

/// The `Content-Type` of a binary batch.
pub const BINARY_CONTENT_TYPE: &str = "application/x-trackbench-batch";

const MAGIC: &[u8; 4] = b"TBWB";
/// The binary layout's version; a reader refuses any other.
pub const BINARY_VERSION: u8 = 1;
const FLAG_MARK: u8 = 1;
const FLAG_HEARTBEAT: u8 = 2;

/// Most points one binary request may carry (the SDK sends at most 200,000).
pub const MAX_BINARY_POINTS: usize = 4_000_000;

/// A binary batch as received: the batch with its points decoded (to check them and fold the
/// summaries) and, per series, the chunks they came in, to be stored as they are.
#[derive(Debug, Clone, Default)]
pub struct ChunkedBatch {
    pub batch: Batch,
    /// One entry per `batch.series`, holding exactly its points in order.
    pub chunks: Vec<Vec<EncodedChunk>>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_svarint(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// `batch` in the binary form, its points cut into chunks of [`CHUNK_POINTS`].
pub fn encode_binary(batch: &Batch) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + batch.point_count() * 4);
    out.extend_from_slice(MAGIC);
    out.push(BINARY_VERSION);
    let flags = if batch.mark.is_some() { FLAG_MARK } else { 0 }
        | if batch.heartbeat_ms.is_some() { FLAG_HEARTBEAT } else { 0 };
    out.push(flags);
    if let Some((writer, seq)) = &batch.mark {
        put_str(&mut out, writer);
        put_svarint(&mut out, *seq);
    }
    if let Some(ms) = batch.heartbeat_ms {
        put_svarint(&mut out, ms);
    }
    put_varint(&mut out, batch.series.len() as u64);
    for s in &batch.series {
        put_str(&mut out, &s.key);
        let n = s.points.len();
        put_varint(&mut out, n.div_ceil(CHUNK_POINTS) as u64);
        let mut start = 0;
        while start < n {
            let end = (start + CHUNK_POINTS).min(n);
            let chunk = codec::encode(&s.points, start..end);
            put_varint(&mut out, chunk.len() as u64);
            out.extend_from_slice(&chunk);
            start = end;
        }
    }
    put_json_pairs(&mut out, &batch.params);
    put_varint(&mut out, batch.tags.len() as u64);
    for (k, v) in &batch.tags {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    put_json_pairs(&mut out, &batch.summary);
    put_varint(&mut out, batch.log_lines.len() as u64);
    for l in &batch.log_lines {
        out.push(match l.stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        });
        put_svarint(&mut out, l.ts_ms);
        put_str(&mut out, &l.line);
    }
    out
}

fn put_json_pairs(out: &mut Vec<u8>, pairs: &[(String, serde_json::Value)]) {
    put_varint(out, pairs.len() as u64);
    for (k, v) in pairs {
        put_str(out, k);
        put_str(out, &v.to_string());
    }
}

/// A cursor over a binary batch; every read says what was cut short or malformed.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

fn bad(why: impl Into<String>) -> StoreError {
    StoreError::invalid("batch", format!("binary batch: {}", why.into()))
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        let end = end.ok_or_else(|| bad(format!("truncated in {what} at byte {}", self.pos)))?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }

    fn varint(&mut self, what: &str) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8(what)?;
            if i == 9 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad(format!("bad varint in {what} at byte {}", self.pos)))
    }

    fn svarint(&mut self, what: &str) -> Result<i64> {
        let v = self.varint(what)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count of items of at least `min_bytes` each: more than the rest of the input could
    /// hold is refused before anything is allocated for them.
    fn count(&mut self, what: &str, min_bytes: usize) -> Result<usize> {
        let n = self.varint(what)?;
        let left = (self.data.len() - self.pos) / min_bytes.max(1);
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= left)
            .ok_or_else(|| bad(format!("{what}: count {n} exceeds the input")))
    }

    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.count(what, 1)?;
        let at = self.pos;
        let b = self.bytes(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad(format!("{what} at byte {at} is not UTF-8")))
    }

    fn json(&mut self, what: &str) -> Result<serde_json::Value> {
        let at = self.pos;
        let text = self.string(what)?;
        serde_json::from_str(&text).map_err(|e| bad(format!("{what} at byte {at} is not JSON: {e}")))
    }
}

/// Reads a binary batch, checking every chunk ([`codec::decode_checked`]). Truncated, garbled
/// or oversized input is [`StoreError::Invalid`] saying where; the rules on keys and values
/// are the store's, applied when the batch is stored, as for a JSON batch.
pub fn decode_binary(data: &[u8]) -> Result<ChunkedBatch> {
    let mut r = Reader { data, pos: 0 };
    if r.bytes(4, "the header").ok() != Some(&MAGIC[..]) {
        return Err(bad("not a Trackbench batch (no `TBWB` header)"));
    }
    let version = r.u8("the header")?;
    if version != BINARY_VERSION {
        return Err(bad(format!("version {version} is not one this server reads (it reads {BINARY_VERSION})")));
    }
    let flags = r.u8("the header")?;
    if flags & !(FLAG_MARK | FLAG_HEARTBEAT) != 0 {
        return Err(bad(format!("unknown flags {flags:#04x}")));
    }
    let mut out = ChunkedBatch::default();
    let b = &mut out.batch;
    if flags & FLAG_MARK != 0 {
        b.mark = Some((r.string("the writer id")?, r.svarint("the batch number")?));
    }
    if flags & FLAG_HEARTBEAT != 0 {
        b.heartbeat_ms = Some(r.svarint("the heartbeat")?);
    }
    let mut total = 0usize;
    let nseries = r.count("series", 2)?;
    for _ in 0..nseries {
        let key = r.string("a series key")?;
        let nchunks = r.count("chunks", 2)?;
        let mut points = Points::default();
        let mut chunks = Vec::with_capacity(nchunks);
        for _ in 0..nchunks {
            let len = r.count("a chunk", 1)?;
            let at = r.pos;
            let data = r.bytes(len, "a chunk")?;
            let why = |e: StoreError| bad(format!("series `{key}`, chunk at byte {at}: {e}"));
            let n = codec::Chunk::parse(data).map_err(why)?.len;
            if n == 0 || n > CHUNK_POINTS {
                return Err(bad(format!("series `{key}`: a chunk of {n} points (1 to {CHUNK_POINTS} allowed)")));
            }
            total += n;
            if total > MAX_BINARY_POINTS {
                return Err(bad(format!("more than {MAX_BINARY_POINTS} points in one request")));
            }
            codec::decode_checked(data, &mut points).map_err(why)?;
            chunks.push(EncodedChunk { n, data: data.to_vec() });
        }
        b.series.push(SeriesBatch { key, points });
        out.chunks.push(chunks);
    }
    let b = &mut out.batch;
    for _ in 0..r.count("params", 2)? {
        b.params.push((r.string("a param key")?, r.json("a param value")?));
    }
    for _ in 0..r.count("tags", 2)? {
        b.tags.push((r.string("a tag key")?, r.string("a tag value")?));
    }
    for _ in 0..r.count("summary values", 2)? {
        b.summary.push((r.string("a summary key")?, r.json("a summary value")?));
    }
    for _ in 0..r.count("log lines", 3)? {
        let stream = match r.u8("a log line")? {
            0 => Stream::Stdout,
            1 => Stream::Stderr,
            s => return Err(bad(format!("unknown log stream {s}"))),
        };
        let ts_ms = r.svarint("a log line")?;
        b.log_lines.push(LogLine { stream, ts_ms, line: r.string("a log line")? });
    }
    if r.pos != data.len() {
        return Err(bad(format!("{} bytes after the end of the batch", data.len() - r.pos)));
    }
    Ok(out)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stream;

    #[test]
    fn a_batch_round_trips_bit_exactly() {
        let mut b = Batch::default();
        for (i, v) in [0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e-300].into_iter().enumerate() {
            b.push_metric(if i % 2 == 0 { "a" } else { "b/c" }, i as i64, 1000 + i as i64, v);
        }
        b.params = vec![("lr".into(), serde_json::json!(0.01))];
        b.tags = vec![("t".into(), "v".into())];
        b.summary = vec![("best".into(), serde_json::json!({"x": 1}))];
        b.log_lines = vec![LogLine { stream: Stream::Stderr, ts_ms: 5, line: "oops".into() }];
        b.heartbeat_ms = Some(7);
        b.mark = Some(("w1".into(), 3));
        let text = serde_json::to_string(&WireBatchRef::new(&b)).unwrap();
        assert!(text.contains(r#""NaN""#) && text.contains(r#""-Infinity""#), "{text}");
        let back = serde_json::from_str::<WireBatch>(&text).unwrap().into_batch().unwrap();
        assert_eq!(back.series.len(), b.series.len());
        for (x, y) in back.series.iter().zip(&b.series) {
            assert_eq!((&x.key, &x.points.steps, &x.points.wall_ms), (&y.key, &y.points.steps, &y.points.wall_ms));
            let bits = |p: &Points| p.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x.points), bits(&y.points), "values bit-exact");
        }
        assert_eq!((back.params, back.tags, back.summary), (b.params, b.tags, b.summary));
        assert_eq!((back.log_lines, back.heartbeat_ms, back.mark), (b.log_lines, b.heartbeat_ms, b.mark));
    }

    #[test]
    fn malformed_batches_are_refused() {
        let uneven = r#"{"series":[{"key":"a","steps":[1,2],"wall_ms":[1],"values":[1.0,2.0]}]}"#;
        let err = serde_json::from_str::<WireBatch>(uneven).unwrap().into_batch().err().unwrap();
        assert!(err.to_string().contains("same length"), "{err}");
        let half_mark = r#"{"writer":"w"}"#;
        assert!(serde_json::from_str::<WireBatch>(half_mark).unwrap().into_batch().is_err());
        let bad_value = r#"{"series":[{"key":"a","steps":[1],"wall_ms":[1],"values":["lots"]}]}"#;
        assert!(serde_json::from_str::<WireBatch>(bad_value).is_err());
        let lenient = r#"{"series":[{"key":"a","steps":[1,2],"wall_ms":[1,2],"values":["nan", 3]}]}"#;
        let b = serde_json::from_str::<WireBatch>(lenient).unwrap().into_batch().unwrap();
        assert!(b.series[0].points.values[0].is_nan() && b.series[0].points.values[1] == 3.0);
    }

    /// A batch with every part filled: series of `n` points (NaN, ±inf, -0.0 among them).
    fn full_batch(n: i64) -> Batch {
        let mut b = Batch::default();
        for i in 0..n {
            let v = match i % 7 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                _ => (i as f64).sin(),
            };
            b.push_metric("loss", i, 1_700_000_000_000 + i * 3, v);
            if i % 3 == 0 {
                b.push_metric("gpu/util é", -i, i, i as f64);
            }
        }
        b.params = vec![("lr".into(), serde_json::json!(0.01)), ("arch".into(), serde_json::json!({"l": [1, 2]}))];
        b.tags = vec![("t".into(), "v".into())];
        b.summary = vec![("best".into(), serde_json::json!(0.5))];
        b.log_lines = vec![
            LogLine { stream: Stream::Stderr, ts_ms: -5, line: "oops".into() },
            LogLine { stream: Stream::Stdout, ts_ms: 6, line: "".into() },
        ];
        b.heartbeat_ms = Some(7);
        b.mark = Some(("w1".into(), i64::MIN));
        b
    }

    fn assert_same(a: &Batch, b: &Batch) {
        assert_eq!(a.series.len(), b.series.len());
        for (x, y) in a.series.iter().zip(&b.series) {
            assert_eq!(x.key, y.key);
            assert!(x.points.bit_eq(&y.points), "series `{}` differs", x.key);
        }
        assert_eq!((&a.params, &a.tags, &a.summary), (&b.params, &b.tags, &b.summary));
        assert_eq!((&a.log_lines, a.heartbeat_ms, &a.mark), (&b.log_lines, b.heartbeat_ms, &b.mark));
    }

    #[test]
    fn a_binary_batch_round_trips_bit_exactly_in_whole_chunks() {
        let b = full_batch(10_000);
        let bytes = encode_binary(&b);
        assert!(bytes.starts_with(b"TBWB\x01"));
        let back = decode_binary(&bytes).unwrap();
        assert_same(&back.batch, &b);
        let sizes: Vec<usize> = back.chunks[0].iter().map(|c| c.n).collect();
        assert_eq!(sizes, [4096, 4096, 1808]);
        assert_eq!(back.chunks[0][0].data, codec::encode(&b.series[0].points, 0..4096), "the SDK's own chunks");
        let empty = decode_binary(&encode_binary(&Batch::default())).unwrap();
        assert_same(&empty.batch, &Batch::default());
        assert!(empty.chunks.is_empty());
    }

    #[test]
    fn truncated_or_extended_binary_batches_are_refused() {
        let bytes = encode_binary(&full_batch(300));
        for cut in 0..bytes.len() {
            let err = decode_binary(&bytes[..cut]).err().unwrap_or_else(|| panic!("cut at {cut} accepted"));
            assert!(matches!(err, StoreError::Invalid { what: "batch", .. }), "{err}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_binary(&longer).unwrap_err().to_string().contains("after the end"));
    }

    #[test]
    fn garbage_and_lying_chunks_are_refused_with_a_reason() {
        let check = |bytes: &[u8], says: &str| {
            let err = decode_binary(bytes).unwrap_err().to_string();
            assert!(err.contains(says), "{err:?} should say {says:?}");
        };
        check(b"", "no `TBWB` header");
        check(b"{\"series\": []}", "no `TBWB` header");
        check(b"TBWB\x02\x00", "version 2");
        check(b"TBWB\x01\x80", "unknown flags");
        check(b"TBWB\x01\x00\xff\xff\xff\xff\x0f", "exceeds the input");
        check(b"TBWB\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", "bad varint");
        // A series whose key is not UTF-8.
        check(b"TBWB\x01\x00\x01\x01\xff\x00\x00\x00\x00\x00", "not UTF-8");
        // A param value that is not JSON.
        check(b"TBWB\x01\x00\x00\x01\x01k\x03{x:\x00\x00\x00", "not JSON");

        // A chunk whose directory lies about its block (the max), checksum-free but caught.
        let mut b = Batch::default();
        for i in 0..10 {
            b.push_metric("m", i, i, i as f64);
        }
        let bytes = encode_binary(&b);
        let chunk = codec::encode(&b.series[0].points, 0..10);
        let at = bytes.windows(chunk.len()).position(|w| w == chunk).unwrap();
        // The directory entry: version, n, blocks, three lengths, step min and span (one byte
        // each here), then min, max, last as little-endian f64.
        let max_at = at + 1 + 1 + 1 + 3 + 2 + 8;
        let mut lying = bytes.clone();
        lying[max_at..max_at + 8].copy_from_slice(&100.0f64.to_le_bytes());
        check(&lying, "does not match its points");
        // Random garbage in place of the chunk's streams.
        let mut garbled = bytes.clone();
        for (i, byte) in garbled[at + 40..at + chunk.len()].iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(97).wrapping_add(13);
        }
        assert!(decode_binary(&garbled).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_batch_round_trips(
            rows in proptest::collection::vec((0usize..3, proptest::num::i64::ANY, proptest::num::i64::ANY, proptest::num::u64::ANY), 0..600),
            mark in proptest::option::of(("[a-z0-9-]{0,12}", proptest::num::i64::ANY)),
            beat in proptest::option::of(proptest::num::i64::ANY),
            line in "\\PC{0,20}",
        ) {
            let mut b = Batch { mark, heartbeat_ms: beat, ..Batch::default() };
            for (k, step, wall, bits) in rows {
                b.push_metric(["a", "b/c", "ü"][k], step, wall, f64::from_bits(bits));
            }
            b.log_lines.push(LogLine { stream: Stream::Stdout, ts_ms: 1, line });
            let back = decode_binary(&encode_binary(&b)).unwrap();
            assert_same(&back.batch, &b);
        }
    }
}
