//! A synthetic VICS 2.0 `#Media` document produced lazily by a `Read`, so
//! that tests and benchmarks can parse hundreds of MB without the input
//! itself sitting in memory. Hashes come from a counter through splitmix64;
//! series names are invented. Shared by the streaming test and the benchmark
//! examples (included with `#[path]`).

use std::io::{self, Read};

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn hex(seed: u64, digits: usize, upper: bool) -> String {
    let mut s = String::with_capacity(digits + 16);
    let mut k = 0;
    while s.len() < digits {
        let w = splitmix(seed.wrapping_mul(31).wrapping_add(k));
        if upper {
            s.push_str(&format!("{w:016X}"));
        } else {
            s.push_str(&format!("{w:016x}"));
        }
        k += 1;
    }
    s.truncate(digits);
    s
}

/// One media record in the style of real exports (string booleans and
/// numbers, a MediaFiles entry, a PDQ alternative hash, an unknown field).
pub fn media_record(i: u64) -> String {
    let md5 = hex(i, 32, true);
    format!(
        concat!(
            "{{\"MediaID\":{id},\"Category\":{cat},\"MD5\":\"{md5}\",\"SHA1\":\"{sha1}\",",
            "\"MediaSize\":\"{size}\",\"DateUpdated\":\"2026-01-01T00:00:00Z\",",
            "\"VictimIdentified\":\"{vi}\",\"OffenderIdentified\":\"False\",\"IsDistributed\":\"{dist}\",",
            "\"Series\":\"Synthetic Series {series}\",\"Tags\":null,\"IsPrecategorized\":true,",
            "\"MediaFiles\":[{{\"MD5\":\"{md5}\",\"FileName\":\"f{id}.jpg\",\"FilePath\":\"/synthetic/{series}/f{id}.jpg\"}}],",
            "\"AlternativeHashes\":[{{\"MD5\":\"{md5}\",\"HashName\":\"PDQ\",\"HashValue\":\"{pdq}\",\"Quality\":100}}],",
            "\"VendorField\":{{\"batch\":{batch}}}}}"
        ),
        id = i + 1,
        cat = if i.is_multiple_of(7) {
            "null".to_string()
        } else {
            (i % 5).to_string()
        },
        md5 = md5,
        sha1 = hex(i ^ 0x5555, 40, true),
        size = 10_000 + splitmix(i) % 5_000_000,
        vi = if i.is_multiple_of(3) { "true" } else { "false" },
        dist = if i.is_multiple_of(2) { "True" } else { "0" },
        series = i % 997,
        pdq = hex(i ^ 0xAAAA, 64, false),
        batch = i / 1000,
    )
}

/// A record with just an id, an MD5 and a category.
pub fn minimal_record(i: u64) -> String {
    format!(
        "{{\"MediaID\":{},\"MD5\":\"{}\",\"Category\":{}}}",
        i + 1,
        hex(i, 32, true),
        i % 5
    )
}

/// Streams `{"@odata.context":...,"value":[ record, ... ]}` with `total` records.
pub struct SyntheticVics {
    total: u64,
    next: u64,
    buf: Vec<u8>,
    at: usize,
    finished: bool,
    minimal: bool,
    /// Bytes handed out so far.
    pub produced: u64,
}

impl SyntheticVics {
    pub fn new(total: u64) -> Self {
        let header = "{\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media\",\"value\":[\n";
        Self {
            total,
            next: 0,
            buf: header.as_bytes().to_vec(),
            at: 0,
            finished: false,
            minimal: false,
            produced: 0,
        }
    }

    /// Records with only `MediaID`, `MD5` and `Category` (~80 bytes): many
    /// entries per MB, for tests that run unoptimised.
    pub fn minimal(total: u64) -> Self {
        Self {
            minimal: true,
            ..Self::new(total)
        }
    }

    fn refill(&mut self) {
        self.buf.clear();
        self.at = 0;
        // Batches of records keep the per-read overhead low.
        while self.buf.len() < 64 * 1024 && self.next < self.total {
            if self.next > 0 {
                self.buf.extend_from_slice(b",\n");
            }
            self.buf
                .extend_from_slice(media_record(self.next).as_bytes());
            self.next += 1;
        }
        if self.buf.is_empty() && !self.finished {
            self.buf.extend_from_slice(b"\n]}\n");
            self.finished = true;
        }
    }
}

impl Read for SyntheticVics {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.buf.len() {
            self.refill();
        }
        let n = (self.buf.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        self.produced += n as u64;
        Ok(n)
    }
}
