//! A streaming entropy decoder for baseline (sequential Huffman) JPEGs,
//! which are most photographs.
//!
//! Why: with libjpeg's `jpeg_read_coefficients` the two biggest costs left
//! in hashing a JPEG were libjpeg's Huffman decoder and its whole-image
//! coefficient buffer (zeroing it and faulting its pages in). Here each
//! block goes straight from the bit stream into the sampled IDCT
//! ([`coef::PlaneBuilder`]), one block at a time, with a 64-bit bit buffer
//! and lookahead tables that resolve a code *and* its coefficient bits in
//! one lookup for the common short codes.
//!
//! Exactness: Huffman decoding of a valid stream has exactly one result,
//! so the coefficients equal libjpeg's. Everything libjpeg handles by
//! warning and guessing (bad codes, a coefficient index past 63, running
//! into a marker or the end of data, restart markers out of place, extra
//! bytes before a marker, a scan not followed by EOI, DC overflow) makes
//! this decoder give up with [`Fallback`], and the caller lets libjpeg
//! decode the file instead, so such files get libjpeg's behaviour exactly.
//! Header parsing stays libjpeg's (`jpeg_read_header`); this module only
//! reads the entropy-coded segment that follows the first SOS.
//!
//! Hostile input: no indexing can panic (lookups are masked to their table
//! size or use `get`), and the work is bounded by the MCU count, which the
//! caller has checked against the pixel limit.

use crate::coef::Sampler;

/// The stream is not one this decoder reproduces exactly; use libjpeg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// Lookahead bits of the Huffman tables.
const LB: u32 = 10;
const LSIZE: usize = 1 << LB;

/// Zigzag index -> natural index, padded to 128 entries so that any
/// `k & 127` is in bounds (entries past 63 are never used for output:
/// reaching them makes the decoder fall back).
const NATURAL: [u8; 128] = {
    const Z: [u8; 64] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
        20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];
    let mut t = [63u8; 128];
    let mut i = 0;
    while i < 64 {
        t[i] = Z[i];
        i += 1;
    }
    t
};

/// A decoding table built from a DHT's `bits` and `huffval`.
pub(crate) struct Table {
    /// `symbol << 8 | length` for codes of at most LB bits, 0 otherwise.
    look: Box<[u16; LSIZE]>,
    /// AC only: for a code plus its coefficient bits fitting in LB bits,
    /// `value << 16 | run << 8 | total length`; for the end-of-block code
    /// `0x8000 | length`; 0 otherwise.
    fast: Box<[i32; LSIZE]>,
    /// Largest code of each length (-1: none), for codes longer than LB.
    maxcode: [i32; 18],
    /// `index of the first symbol of length l - first code of length l`.
    valoffset: [i32; 17],
    huffval: [u8; 256],
}

impl Table {
    /// Builds a table, refusing exactly what libjpeg's
    /// `jpeg_make_d_derived_tbl` refuses (and DC symbols over 15), so that
    /// such files go to libjpeg for its own error.
    pub fn new(bits: &[u8; 17], huffval: &[u8; 256], dc: bool) -> Result<Table, Fallback> {
        let mut look = Box::new([0u16; LSIZE]);
        let mut fast = Box::new([0i32; LSIZE]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut p: usize = 0;
        for l in 1..=16u32 {
            let count = usize::from(bits[l as usize]);
            if p + count > 256 {
                return Err(Fallback);
            }
            valoffset[l as usize] = p as i32 - code as i32;
            for _ in 0..count {
                let sym = huffval[p];
                if dc && sym > 15 {
                    return Err(Fallback);
                }
                if l <= LB {
                    let shift = LB - l;
                    let first = (code << shift) as usize;
                    for e in first..first + (1usize << shift) {
                        look[e & (LSIZE - 1)] = u16::from(sym) << 8 | l as u16;
                        if !dc {
                            let (run, size) = (u32::from(sym >> 4), u32::from(sym & 15));
                            if sym == 0 {
                                // End of block: a flag outside the run bits.
                                fast[e & (LSIZE - 1)] = 0x8000 | l as i32;
                            } else if size != 0 && l + size <= LB {
                                let extra = ((e >> (LB - l - size)) & ((1 << size) - 1)) as i32;
                                let v = extend(extra, size);
                                fast[e & (LSIZE - 1)] =
                                    v << 16 | (run << 8) as i32 | (l + size) as i32;
                            }
                        }
                    }
                }
                code += 1;
                p += 1;
            }
            if count > 0 {
                maxcode[l as usize] = code as i32 - 1;
            }
            // No code may be all ones (libjpeg's legality check).
            if code >= 1 << l {
                return Err(Fallback);
            }
            code <<= 1;
        }
        // Sentinel: ends the slow search at length 17.
        maxcode[17] = i32::MAX;
        Ok(Table {
            look,
            fast,
            maxcode,
            valoffset,
            huffval: *huffval,
        })
    }
}

/// libjpeg's `HUFF_EXTEND`.
#[inline(always)]
fn extend(v: i32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < 1 << (s - 1) {
        v - (1 << s) + 1
    } else {
        v
    }
}

/// MSB-first bit reader over the entropy-coded segment, with JPEG byte
/// stuffing. It stops in front of a marker (and at the end of the data)
/// and supplies zero bits from there on; consuming such bits drives `n`
/// negative, which the decoder treats as "libjpeg would have warned".
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits, MSB-aligned; below the `n` valid ones only zeros or the
    /// stream's own next bits.
    b: u64,
    n: i32,
    /// A marker (or the end of data) was reached: nothing more loads.
    stop: bool,
    /// The marker code that stopped loading, and the offset after it.
    marker: Option<(u8, usize)>,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            b: 0,
            n: 0,
            stop: false,
            marker: None,
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        if self.stop || self.n > 56 {
            return;
        }
        // Fast path: the next 8 bytes exist and none is 0xFF.
        if let Some(w) = self.data.get(self.pos..self.pos + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            let w = u64::from_be_bytes(a);
            let t = !w;
            if t.wrapping_sub(0x0101_0101_0101_0101) & !t & 0x8080_8080_8080_8080 == 0 {
                let k = ((64 - self.n) / 8) as u32; // 4..=8 because n < 32
                let keep = if k >= 8 {
                    w
                } else {
                    w & !(u64::MAX >> (8 * k))
                };
                self.b |= keep >> self.n;
                self.n += 8 * k as i32;
                self.pos += k as usize;
                return;
            }
        }
        self.refill_slow();
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.n <= 56 && !self.stop {
            let Some(&c) = self.data.get(self.pos) else {
                self.stop = true;
                break;
            };
            let byte = if c == 0xFF {
                // libjpeg skips 0xFF fill bytes; FF 00 is a stuffed data
                // byte, anything else a marker.
                let mut p = self.pos + 1;
                while self.data.get(p) == Some(&0xFF) {
                    p += 1;
                }
                match self.data.get(p) {
                    Some(0) => {
                        self.pos = p + 1;
                        0xFF
                    }
                    Some(&m) => {
                        self.stop = true;
                        self.marker = Some((m, p + 1));
                        break;
                    }
                    None => {
                        self.stop = true;
                        break;
                    }
                }
            } else {
                self.pos += 1;
                c
            };
            self.b |= u64::from(byte) << (56 - self.n);
            self.n += 8;
        }
    }

    #[inline(always)]
    fn ensure(&mut self) {
        if self.n < 32 {
            self.refill();
        }
    }

    #[inline(always)]
    fn consume(&mut self, l: u32) {
        self.b <<= l;
        self.n -= l as i32;
    }

    /// `s` bits (0..=16) as an unsigned value.
    #[inline(always)]
    fn take(&mut self, s: u32) -> i32 {
        if s == 0 {
            return 0;
        }
        let v = (self.b >> (64 - s)) as i32;
        self.consume(s);
        v
    }

    /// Decodes one symbol (at most 16 bits; `ensure` must precede).
    #[inline(always)]
    fn symbol(&mut self, t: &Table) -> Result<u8, Fallback> {
        let e = t.look[(self.b >> (64 - LB)) as usize & (LSIZE - 1)];
        if e != 0 {
            self.consume(u32::from(e & 0xFF));
            return Ok((e >> 8) as u8);
        }
        self.symbol_slow(t)
    }

    #[cold]
    fn symbol_slow(&mut self, t: &Table) -> Result<u8, Fallback> {
        let mut l = LB + 1;
        loop {
            let code = (self.b >> (64 - l)) as i32;
            if code <= t.maxcode[l as usize] {
                let i = code + t.valoffset[l as usize];
                let sym = *t.huffval.get(i as usize).ok_or(Fallback)?;
                self.consume(l);
                return Ok(sym);
            }
            l += 1;
            if l > 16 {
                // No such code: libjpeg warns and substitutes zero.
                return Err(Fallback);
            }
        }
    }
}

/// What the walk from SOI to the first SOS found. libjpeg has already
/// parsed (and accepted) the same header; the caller cross-checks the two.
#[derive(Debug)]
pub(crate) struct Header {
    /// The SOF marker code (0xC0 baseline, 0xC1 extended sequential, ...).
    pub sof: u8,
    /// Huffman tables as last defined before the SOS: `(bits, huffval)`.
    pub dc: [Option<([u8; 17], [u8; 256])>; 4],
    pub ac: [Option<([u8; 17], [u8; 256])>; 4],
    pub restart_interval: usize,
    /// Scan components: (component id, DC table, AC table).
    pub scan: Vec<(u8, u8, u8)>,
    /// Ss, Se, Ah, Al of the scan.
    pub spectral: (u8, u8, u8, u8),
    /// Offset of the entropy-coded segment.
    pub scan_start: usize,
}

fn be16(d: &[u8], at: usize) -> Result<usize, Fallback> {
    match (d.get(at), d.get(at + 1)) {
        (Some(&a), Some(&b)) => Ok(usize::from(a) << 8 | usize::from(b)),
        _ => Err(Fallback),
    }
}

/// Walks the markers up to the first SOS. Anything unexpected (garbage
/// between markers, standalone markers, EOI first) is a [`Fallback`].
pub(crate) fn parse_header(d: &[u8]) -> Result<Header, Fallback> {
    if d.get(..2) != Some(&[0xFF, 0xD8][..]) {
        return Err(Fallback);
    }
    let mut h = Header {
        sof: 0,
        dc: [None; 4],
        ac: [None; 4],
        restart_interval: 0,
        scan: Vec::new(),
        spectral: (0, 0, 0, 0),
        scan_start: 0,
    };
    let mut pos = 2;
    loop {
        if d.get(pos) != Some(&0xFF) {
            return Err(Fallback);
        }
        while d.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let code = *d.get(pos).ok_or(Fallback)?;
        pos += 1;
        if matches!(code, 0x00 | 0x01 | 0xD0..=0xD9) {
            return Err(Fallback);
        }
        let len = be16(d, pos)?;
        if len < 2 {
            return Err(Fallback);
        }
        let seg = d.get(pos + 2..pos + len).ok_or(Fallback)?;
        match code {
            0xC4 => {
                let mut p = 0;
                while p < seg.len() {
                    let index = *seg.get(p).ok_or(Fallback)?;
                    let counts = seg.get(p + 1..p + 17).ok_or(Fallback)?;
                    let mut bits = [0u8; 17];
                    bits[1..].copy_from_slice(counts);
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    if total > 256 {
                        return Err(Fallback);
                    }
                    let vals = seg.get(p + 17..p + 17 + total).ok_or(Fallback)?;
                    let mut huffval = [0u8; 256];
                    huffval[..total].copy_from_slice(vals);
                    let slot = usize::from(index & 0x0F);
                    let tables = match index & 0xF0 {
                        0x00 => &mut h.dc,
                        0x10 => &mut h.ac,
                        _ => return Err(Fallback),
                    };
                    *tables.get_mut(slot).ok_or(Fallback)? = Some((bits, huffval));
                    p += 17 + total;
                }
            }
            0xDD => h.restart_interval = be16(seg, 0)?,
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                if h.sof != 0 {
                    return Err(Fallback);
                }
                h.sof = code;
            }
            0xDA => {
                let ns = usize::from(*seg.first().ok_or(Fallback)?);
                for i in 0..ns {
                    let id = *seg.get(1 + 2 * i).ok_or(Fallback)?;
                    let t = *seg.get(2 + 2 * i).ok_or(Fallback)?;
                    h.scan.push((id, t >> 4, t & 15));
                }
                let sp = seg.get(1 + 2 * ns..4 + 2 * ns).ok_or(Fallback)?;
                h.spectral = (sp[0], sp[1], sp[2] >> 4, sp[2] & 15);
                h.scan_start = pos + len;
                return Ok(h);
            }
            _ => {}
        }
        pos += len;
    }
}

/// One component of the scan, in scan order.
pub(crate) struct ScanComp {
    /// Index into the frame's components (and the sampler's planes).
    pub index: usize,
    pub h: usize,
    pub v: usize,
    pub dc: usize,
    pub ac: usize,
}

/// Where the blocks go: the sampled reconstruction, or (in tests) a
/// collector that compares every coefficient with libjpeg's.
pub(crate) trait BlockSink {
    fn wants(&self, comp: usize, by: usize, bx: usize) -> bool;
    fn put(&mut self, comp: usize, by: usize, bx: usize, block: &[i16; 64]);
}

impl BlockSink for Sampler<'_> {
    #[inline(always)]
    fn wants(&self, comp: usize, by: usize, bx: usize) -> bool {
        self.planes.get(comp).is_some_and(|p| p.wants(by, bx))
    }

    #[inline(always)]
    fn put(&mut self, comp: usize, by: usize, bx: usize, block: &[i16; 64]) {
        if let Some(p) = self.planes.get_mut(comp) {
            p.put(by, bx, block);
        }
    }
}

/// The single scan of a baseline file.
pub(crate) struct Scan<'a> {
    /// The whole file; the entropy-coded segment starts at `start`.
    pub data: &'a [u8],
    pub start: usize,
    pub comps: Vec<ScanComp>,
    /// MCUs per row and MCU rows (for one component: its blocks).
    pub mcus_x: usize,
    pub mcus_y: usize,
    pub restart_interval: usize,
    pub dc_tables: Vec<Table>,
    pub ac_tables: Vec<Table>,
}

/// Decodes one block. Natural order into `blk`, which must be zero.
///
/// The bit buffer is worked on in locals (written back before every
/// refill and at the end) so that it stays in registers.
#[inline(always)]
fn block(
    bits: &mut Bits,
    dc: &Table,
    ac: &Table,
    pred: &mut i32,
    blk: &mut [i16; 64],
) -> Result<(), Fallback> {
    bits.ensure();
    let s = u32::from(bits.symbol(dc)?);
    let v = bits.take(s);
    *pred = pred.checked_add(extend(v, s)).ok_or(Fallback)?;
    // libjpeg stores the running DC as JCOEF (a C cast to short).
    blk[0] = *pred as i16;
    let fast: &[i32; LSIZE] = &ac.fast;
    let (mut b, mut n) = (bits.b, bits.n);
    let mut k: usize = 1;
    // A coefficient index past 63 (libjpeg would write it into 63).
    let mut overflow = false;
    while k < 64 {
        if n < 32 {
            (bits.b, bits.n) = (b, n);
            bits.refill();
            (b, n) = (bits.b, bits.n);
        }
        let f = fast[(b >> (64 - LB)) as usize & (LSIZE - 1)];
        if f != 0 {
            let len = (f & 0xFF) as u32;
            b <<= len;
            n -= len as i32;
            if f & 0x8000 != 0 {
                break; // end of block
            }
            k += ((f >> 8) & 0xFF) as usize;
            overflow |= k > 63;
            blk[usize::from(NATURAL[k & 127] & 63)] = (f >> 16) as i16;
            k += 1;
            continue;
        }
        (bits.b, bits.n) = (b, n);
        let sym = bits.symbol(ac)?;
        let (r, s) = (usize::from(sym >> 4), u32::from(sym & 15));
        if s != 0 {
            k += r;
            overflow |= k > 63;
            let v = bits.take(s);
            blk[usize::from(NATURAL[k & 127] & 63)] = extend(v, s) as i16;
        } else if r == 15 {
            k += 15;
        } else {
            (b, n) = (bits.b, bits.n);
            break;
        }
        (b, n) = (bits.b, bits.n);
        k += 1;
    }
    (bits.b, bits.n) = (b, n);
    if overflow {
        return Err(Fallback);
    }
    Ok(())
}

/// Decodes the whole scan into `sink`. `Err(Fallback)`: nothing about the
/// file is decided; let libjpeg decode it.
pub(crate) fn decode(scan: &Scan, sink: &mut dyn BlockSink) -> Result<(), Fallback> {
    let mut bits = Bits::new(scan.data, scan.start);
    let mut preds = [0i32; 4];
    let mut blk = [0i16; 64];
    let mut todo = scan.restart_interval;
    let mut next_rst = 0u8;
    let single = scan.comps.len() == 1;
    let mut tables = Vec::with_capacity(scan.comps.len());
    for c in &scan.comps {
        let dc = scan.dc_tables.get(c.dc).ok_or(Fallback)?;
        let ac = scan.ac_tables.get(c.ac).ok_or(Fallback)?;
        tables.push((dc, ac));
    }
    if scan.comps.len() > preds.len() {
        return Err(Fallback);
    }
    for my in 0..scan.mcus_y {
        for mx in 0..scan.mcus_x {
            if scan.restart_interval > 0 {
                if todo == 0 {
                    restart(&mut bits, next_rst)?;
                    next_rst = (next_rst + 1) & 7;
                    preds = [0; 4];
                    todo = scan.restart_interval;
                }
                todo -= 1;
            }
            for (i, (c, &(dc, ac))) in scan.comps.iter().zip(&tables).enumerate() {
                let (h, v) = if single { (1, 1) } else { (c.h, c.v) };
                for yy in 0..v {
                    for xx in 0..h {
                        block(&mut bits, dc, ac, &mut preds[i], &mut blk)?;
                        let (by, bx) = (my * v + yy, mx * h + xx);
                        if sink.wants(c.index, by, bx) {
                            sink.put(c.index, by, bx, &blk);
                        }
                        blk = [0; 64];
                    }
                }
            }
            if bits.n < 0 {
                // Used bits past a marker or the end: libjpeg's warning case.
                return Err(Fallback);
            }
        }
    }
    // The scan must end cleanly: only padding bits left, then EOI.
    bits.refill();
    if bits.n < 0 || bits.n >= 8 || bits.marker.map(|m| m.0) != Some(0xD9) {
        return Err(Fallback);
    }
    Ok(())
}

/// Expects RSTn right after the current interval's padding bits.
fn restart(bits: &mut Bits, n: u8) -> Result<(), Fallback> {
    bits.refill();
    if bits.n < 0 || bits.n >= 8 {
        return Err(Fallback);
    }
    match bits.marker {
        Some((m, after)) if m == 0xD0 + n => {
            *bits = Bits::new(bits.data, after);
            Ok(())
        }
        _ => Err(Fallback),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_is_libjpegs() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0, 3), -7);
        assert_eq!(extend(5, 3), 5);
        assert_eq!(extend(0, 15), -32767);
    }

    #[test]
    fn tables_refuse_what_libjpeg_refuses() {
        let mut bits = [0u8; 17];
        let vals = [0u8; 256];
        // Three codes of length 1 cannot exist.
        bits[1] = 3;
        assert!(Table::new(&bits, &vals, false).is_err());
        // Two codes of length 1 would include the all-ones code.
        bits[1] = 2;
        assert!(Table::new(&bits, &vals, false).is_err());
        bits[1] = 1;
        assert!(Table::new(&bits, &vals, false).is_ok());
        // A DC symbol above 15.
        let mut v = vals;
        v[0] = 16;
        assert!(Table::new(&bits, &v, true).is_err());
    }

    #[test]
    fn stuffed_bytes_fill_and_markers() {
        // AB, FF00 (a data FF), FF FF D9 (fill, then EOI).
        let data = [0xAB, 0xFF, 0x00, 0xFF, 0xFF, 0xD9];
        let mut b = Bits::new(&data, 0);
        b.refill();
        assert_eq!(b.n, 16);
        assert_eq!(b.take(16), 0xABFF);
        assert_eq!(b.marker, Some((0xD9, 6)));
        b.consume(1);
        assert!(b.n < 0);
    }
}
