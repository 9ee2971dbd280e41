//! The readers of foreign bytes, driven with arbitrary input and with mutations of the real
//! fixtures: the TFRecord reader, the protobuf wire-format reader (through TensorBoard event
//! parsing too), the W&B block/record reader (through run parsing too) and trackio's timestamp
//! parser. None may panic (arithmetic overflows included: tests build with debug assertions),
//! loop, or allocate by what a length prefix claims rather than by the bytes really there.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use trackbench_import::protobuf::{Wire, fields};
use trackbench_import::tfrecord::{Reader, Stop, frame, masked_crc};
use trackbench_import::{tensorboard, trackio, wandb};

const BLOCK: usize = 32 * 1024;

fn fixture(path: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path);
    let file = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).find(|p| p.is_file()).unwrap();
    std::fs::read(file).unwrap()
}

/// The fixtures' event files and W&B run files.
fn event_files() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        ["tensorboard/logs/baseline", "tensorboard/logs/tensor", "tensorboard/logs/hparams/trial"]
            .iter()
            .map(|p| fixture(p))
            .collect()
    })
}

fn wandb_files() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wandb/wandb");
        wandb::discover(&root).unwrap().iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

/// Every record of a fixture file, whole.
fn event_records() -> &'static [Vec<u8>] {
    static RECS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    RECS.get_or_init(|| event_files().iter().flat_map(|f| Reader::new(&f[..], 0).collect::<Vec<_>>()).collect())
}

fn wandb_records() -> &'static [Vec<u8>] {
    static RECS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    RECS.get_or_init(|| wandb_files().iter().flat_map(|f| wandb::records(f).0).collect())
}

/// Flips bytes at positions (taken modulo the length), then keeps at most `cut` bytes.
fn mutate(data: &[u8], flips: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut d = data.to_vec();
    if !d.is_empty() {
        for &(at, x) in flips {
            let i = at % d.len();
            d[i] ^= x;
        }
    }
    if let Some(c) = cut {
        d.truncate(c % (d.len() + 1));
    }
    d
}

/// CRC-32 (IEEE), the checksum of W&B's fragments.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Writes records as W&B does: a 7-byte header, then fragments that never cross a 32 KiB
/// block (FULL, or FIRST/MIDDLE*/LAST), blocks ending in zero padding.
fn write_wandb(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b":W&B\xe1\xbe\x00".to_vec();
    for rec in records {
        let mut rest = &rec[..];
        let mut first = true;
        loop {
            let left = BLOCK - out.len() % BLOCK;
            if left < 7 {
                out.resize(out.len() + left, 0);
                continue;
            }
            let n = rest.len().min(left - 7);
            let last = n == rest.len();
            let kind = match (first, last) {
                (true, true) => 1u8,
                (true, false) => 2,
                (false, false) => 3,
                (false, true) => 4,
            };
            let mut h = vec![kind];
            h.extend_from_slice(&rest[..n]);
            out.extend(crc32(&h).to_le_bytes());
            out.extend((n as u16).to_le_bytes());
            out.push(kind);
            out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            first = false;
            if last {
                break;
            }
        }
    }
    out
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Arbitrary protobuf-shaped messages: small field numbers (so the importers' own fields are
/// hit often), every wire type, nested messages in length-delimited fields.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop::collection::vec((1u64..20, 0u8..4, any::<u64>(), prop::collection::vec(any::<u8>(), 0..24)), 0..6)
        .prop_map(|fields| {
            let mut out = Vec::new();
            for (n, kind, v, bytes) in fields {
                match kind {
                    0 => {
                        varint(n << 3, &mut out);
                        varint(v, &mut out);
                    }
                    1 => {
                        varint(n << 3 | 1, &mut out);
                        out.extend(v.to_le_bytes());
                    }
                    2 => {
                        varint(n << 3 | 2, &mut out);
                        varint(bytes.len() as u64, &mut out);
                        out.extend(bytes);
                    }
                    _ => {
                        varint(n << 3 | 5, &mut out);
                        out.extend((v as u32).to_le_bytes());
                    }
                }
            }
            out
        });
    leaf.prop_recursive(5, 256, 6, |inner| {
        prop::collection::vec((1u64..20, inner), 0..6).prop_map(|fields| {
            let mut out = Vec::new();
            for (n, m) in fields {
                varint(n << 3 | 2, &mut out);
                varint(m.len() as u64, &mut out);
                out.extend(m);
            }
            out
        })
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn flips() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), 1u8..), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tfrecord_reader_takes_any_bytes(data in bytes(2048), base in 0u64..u64::MAX / 2) {
        let mut r = Reader::new(&data[..], base);
        let mut total = 0;
        while let Some(rec) = r.read_record() {
            total += rec.len() + 16;
        }
        prop_assert!(total <= data.len());
        prop_assert_eq!(r.offset() - base, total as u64, "the offset is just past the last whole record");
    }

    #[test]
    fn tfrecord_length_prefixes_claim_nothing(len in any::<u64>(), tail in bytes(512), base in any::<u64>()) {
        // A length with a valid checksum, then fewer bytes than it claims (or as many).
        let head = len.to_le_bytes();
        let mut data = head.to_vec();
        data.extend(masked_crc(&head).to_le_bytes());
        data.extend(&tail);
        let mut r = Reader::new(&data[..], base);
        let got: Vec<Vec<u8>> = r.by_ref().collect();
        match &r.stop {
            None => prop_assert!(got.len() == 1 && len.checked_add(16) == Some(data.len() as u64)),
            Some(Stop::Incomplete { offset } | Stop::Corrupt { offset, .. }) => prop_assert_eq!(*offset, base),
            Some(other) => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn protobuf_fields_stay_inside_the_message(data in bytes(1024)) {
        let range = data.as_ptr_range();
        let mut n = 0;
        let mut failed = false;
        let mut it = fields(&data);
        for f in it.by_ref() {
            prop_assert!(!failed, "nothing after an error");
            n += 1;
            match f {
                Ok((_, Wire::Bytes(b))) => {
                    let r = b.as_ptr_range();
                    prop_assert!(range.start <= r.start && r.end <= range.end);
                }
                Ok(_) => {}
                Err(_) => failed = true,
            }
        }
        prop_assert!(n <= data.len());
        prop_assert!(it.next().is_none());
    }

    #[test]
    fn tensorboard_events_take_any_record(body in bytes(1024), msg in message()) {
        for rec in [&body, &msg] {
            let mut acc = tensorboard::Parsed::default();
            let data = frame(rec);
            let (offset, stop) = tensorboard::parse_events(&data, 0, &mut acc);
            prop_assert_eq!((offset, stop, acc.records), (data.len() as u64, None, 1));
        }
    }

    #[test]
    fn tensorboard_takes_mutated_fixtures(
        which in any::<prop::sample::Index>(),
        flips in flips(),
        cut in any::<Option<usize>>(),
        rec in any::<prop::sample::Index>(),
        rec_flips in flips(),
        rec_cut in any::<Option<usize>>(),
    ) {
        // The file mutated (checksums catch it: what comes before imports)...
        let file = which.get::<Vec<u8>>(event_files());
        let mut acc = tensorboard::Parsed::default();
        let data = mutate(file, &flips, cut);
        let (offset, _) = tensorboard::parse_events(&data, 0, &mut acc);
        prop_assert!(offset <= data.len() as u64);
        // ...and one record mutated then framed again with good checksums (the event parser
        // sees it), streamed from a reader.
        let body = mutate(rec.get::<Vec<u8>>(event_records()), &rec_flips, rec_cut);
        let mut acc = tensorboard::Parsed::default();
        let framed = frame(&body);
        let (offset, stop) = tensorboard::parse_stream(&framed[..], 7, &mut acc);
        prop_assert_eq!((offset, stop), (framed.len() as u64 + 7, None));
    }

    #[test]
    fn wandb_reader_takes_any_bytes(data in bytes(4096), header in any::<bool>()) {
        let mut input = if header { b":W&B\0\0\0".to_vec() } else { Vec::new() };
        input.extend(&data);
        let (recs, _) = wandb::records(&input);
        prop_assert!(recs.iter().map(Vec::len).sum::<usize>() <= input.len());
        let _ = wandb::read_run(&input[..]);
    }

    #[test]
    fn wandb_records_round_trip_across_blocks(recs in prop::collection::vec(bytes(3000), 0..40), big in 0usize..3) {
        let mut recs = recs;
        // Some records longer than a block (FIRST, MIDDLEs, LAST).
        for i in 0..big {
            recs.push(vec![i as u8; BLOCK * (i + 1) + 5]);
        }
        let file = write_wandb(&recs);
        let (got, stop) = wandb::records(&file);
        prop_assert_eq!(stop, None);
        prop_assert_eq!(&got, &recs);
        // Cut anywhere: a prefix of the records, and a stop when inside one.
        let cut = file.len() * 2 / 3;
        let (got, _) = wandb::records(&file[..cut]);
        prop_assert!(got.len() <= recs.len() && got[..] == recs[..got.len()]);
        // A record over the limit is skipped, the next one still read.
        let mut r = wandb::Records::new(&file[..]).with_max_record(2000);
        let kept: Vec<Vec<u8>> = r.by_ref().collect();
        let want: Vec<&Vec<u8>> = recs.iter().filter(|r| r.len() <= 2000).collect();
        prop_assert_eq!(kept.iter().collect::<Vec<_>>(), want);
        prop_assert_eq!(r.skipped_large, recs.len() - kept.len());
    }

    #[test]
    fn wandb_takes_mutated_fixtures(
        which in any::<prop::sample::Index>(),
        flips in flips(),
        cut in any::<Option<usize>>(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), flips(), any::<Option<usize>>()), 1..12),
        extra in prop::collection::vec(message(), 0..4),
    ) {
        // The file mutated (checksums catch it)...
        let data = mutate(which.get::<Vec<u8>>(wandb_files()), &flips, cut);
        let _ = wandb::read_run(&data[..]);
        // ...and records mutated, plus arbitrary messages, written again with good checksums
        // (the run parser sees them).
        let mut recs: Vec<Vec<u8>> =
            picks.iter().map(|(i, f, c)| mutate(i.get::<Vec<u8>>(wandb_records()), f, *c)).collect();
        recs.extend(extra);
        let file = write_wandb(&recs);
        let (_, problems) = wandb::read_run(&file[..]);
        prop_assert!(problems.iter().all(|p| p.contains("malformed")), "{:?}", problems);
    }

    #[test]
    fn trackio_timestamps_take_any_text(
        s in ".{0,40}",
        t in "-?[0-9]{1,20}-[0-9]{1,3}-[0-9]{1,3}[T ][0-9]{1,20}:[0-9]{1,20}(:[0-9.eE+-]{1,12})?([+-][0-9]{1,20}(:[0-9]{1,20})?|Z)?",
    ) {
        let _ = trackio::iso_ms(&s);
        let _ = trackio::iso_ms(&t);
    }
}
