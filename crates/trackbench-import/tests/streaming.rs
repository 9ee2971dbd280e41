//! Large inputs are streamed, not read whole: a counting global allocator measures the most
//! heap the import holds at once (live bytes, not time), which must stay far below the size of
//! the file. One test only in this binary, so no other test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use trackbench_import::tfrecord::{self, Reader, frame};
use trackbench_import::{tensorboard, wandb};
use trackbench_store::{StepRange, Store, StoreOptions};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns what it returned and the most heap it held above what was live before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1 << 20;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u64, data: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// An `Event { wall_time, step, summary { value { tag, simple_value | image-ish bytes } } }`.
fn event(step: i64, tag: &str, value: Option<f32>, blob: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    bytes_field(1, tag.as_bytes(), &mut v);
    match value {
        Some(x) => {
            v.push(2 << 3 | 5);
            v.extend(x.to_le_bytes());
        }
        None => bytes_field(4, blob, &mut v), // an image: not a scalar
    }
    let mut summary = Vec::new();
    bytes_field(1, &v, &mut summary);
    let mut e = vec![1 << 3 | 1];
    e.extend((1.7e9 + step as f64).to_le_bytes());
    e.push(2 << 3);
    varint(step as u64, &mut e);
    bytes_field(5, &summary, &mut e);
    e
}

/// A reader serving `head` once and then `block` `times` times, made on the fly: a file of
/// any size with no memory behind it.
struct Repeat<'a> {
    head: &'a [u8],
    block: &'a [u8],
    times: usize,
    pos: usize,
}

impl Read for Repeat<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let total = self.head.len() + self.block.len() * self.times;
        if self.pos >= total {
            return Ok(0);
        }
        let (src, at) = if self.pos < self.head.len() {
            (self.head, self.pos)
        } else {
            (self.block, (self.pos - self.head.len()) % self.block.len())
        };
        let n = buf.len().min(src.len() - at);
        buf[..n].copy_from_slice(&src[at..at + n]);
        self.pos += n;
        Ok(n)
    }
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

fn wandb_fragment(kind: u8, data: &[u8], out: &mut Vec<u8>) {
    let mut h = vec![kind];
    h.extend_from_slice(data);
    out.extend(crc32(&h).to_le_bytes());
    out.extend((data.len() as u16).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(data);
}

/// One 32 KiB block of whole W&B records: history rows of about 1 KiB, zero padded.
fn wandb_block(first: bool) -> Vec<u8> {
    let mut block = if first { b":W&B\x00\x00\x00".to_vec() } else { Vec::new() };
    if first {
        // The run record: field 17 { id = 1 }.
        let mut run = Vec::new();
        bytes_field(1, b"bigrun", &mut run);
        let mut rec = Vec::new();
        bytes_field(17, &run, &mut rec);
        wandb_fragment(1, &rec, &mut block);
    }
    let pad = "x".repeat(900);
    let mut item = Vec::new();
    bytes_field(1, b"note", &mut item);
    bytes_field(16, format!("\"{pad}\"").as_bytes(), &mut item);
    let mut history = Vec::new();
    bytes_field(1, &item, &mut history);
    let mut rec = Vec::new();
    bytes_field(2, &history, &mut rec);
    while 32 * 1024 - block.len() >= rec.len() + 7 {
        wandb_fragment(1, &rec, &mut block);
    }
    block.resize(32 * 1024, 0);
    block
}

#[test]
fn large_files_are_read_with_bounded_memory() {
    // 1. The TFRecord reader over a 256 MiB stream that exists nowhere: 1 MiB records, and
    //    one of 80 MiB (over the limit: checked and skipped, never held).
    let record = frame(&event(0, "img", None, &vec![7u8; MIB]));
    let huge = frame(&vec![0u8; 80 * MIB]);
    let tail = frame(&event(1, "loss", Some(0.5), b""));
    let mut head = huge.clone();
    head.extend_from_slice(&tail);
    drop(huge);
    let times = 176; // 80 MiB + 176 x 1 MiB = 256 MiB
    let (records, peak) = peak_during(|| {
        let mut r = Reader::new(Repeat { head: &head, block: &record, times, pos: 0 }, 0);
        let mut n = 0;
        while r.read_record().is_some() {
            n += 1;
        }
        assert_eq!((r.stop.clone(), r.skipped_large), (None, 1));
        assert_eq!(r.offset(), (head.len() + record.len() * times) as u64);
        n
    });
    assert_eq!(records, 1 + times);
    assert!(peak < 8 * MIB, "the reader held {peak} bytes of a 256 MiB stream");

    // A length prefix claiming 1 GiB (and one claiming 2^63) over 100 bytes: nothing is
    // allocated for what is not there.
    for claim in [1u64 << 30, 1 << 63] {
        let len = claim.to_le_bytes();
        let mut short = len.to_vec();
        short.extend(tfrecord::masked_crc(&len).to_le_bytes());
        short.extend([0u8; 100]);
        let (stop, peak) = peak_during(|| {
            let mut r = Reader::new(&short[..], 0);
            while r.read_record().is_some() {}
            r.stop
        });
        assert_eq!(stop, Some(tfrecord::Stop::Incomplete { offset: 0 }));
        assert!(peak < MIB, "a {claim}-byte claim allocated {peak} bytes");
    }

    // 2. A TensorBoard import of a 64 MiB event file on disk: scalars between 1 MiB images.
    let logs = tempfile::tempdir().unwrap();
    let run_dir = logs.path().join("big");
    std::fs::create_dir_all(&run_dir).unwrap();
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(run_dir.join("events.out.tfevents.1.big")).unwrap());
        for step in 0..64 {
            f.write_all(&frame(&event(step, "loss", Some(step as f32), b""))).unwrap();
            f.write_all(&record).unwrap();
        }
        f.write_all(&tfrecord::frame(&event(64, "loss", Some(64.0), b""))).unwrap();
        f.flush().unwrap();
    }
    drop((head, record, tail));
    let store_dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(store_dir.path(), StoreOptions::default()).unwrap();
    let (reports, peak) = peak_during(|| tensorboard::import(&mut store, logs.path(), "tb").unwrap());
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].scalars, 65, "{reports:?}");
    assert!(reports[0].problems.is_empty(), "{reports:?}");
    let loss = store.series(reports[0].run.as_ref().unwrap(), "loss", StepRange::ALL).unwrap();
    assert_eq!(loss.values.last(), Some(&64.0));
    assert!(peak < 16 * MIB, "importing a 64 MiB event file held {peak} bytes");

    // 3. A 64 MiB W&B run file (2048 blocks of history rows), read as a stream.
    let (first, block) = (wandb_block(true), wandb_block(false));
    let ((run, problems), peak) = peak_during(|| {
        let (run, problems) = wandb::read_run(Repeat { head: &first, block: &block, times: 2047, pos: 0 });
        (run.id().to_string(), problems)
    });
    assert_eq!(run, "bigrun");
    assert!(problems.iter().all(|p| p.contains("non-numeric") || p.is_empty()), "{problems:?}");
    assert!(peak < 8 * MIB, "reading a 64 MiB W&B run file held {peak} bytes");
}
