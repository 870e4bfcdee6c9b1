//! A minimal, strict POSIX ustar writer and reader for package containers.
//!
//! Why tar: every receiving agency can take a package apart with `tar -x`
//! and check it with the standard `minisign` and `age` tools, without Vigil.
//! Why hand-written and strict: the reader accepts exactly the canonical form
//! the writer produces (fixed member names in a fixed order, regular files,
//! mode 0644, uid/gid 0, empty owner names, zero padding, two zero end
//! blocks, nothing after). So any changed byte of structure is refused as
//! malformed instead of being silently tolerated.

const BLOCK: usize = 512;

/// One archive member.
pub(crate) struct Entry<'a> {
    pub name: &'static str,
    pub data: &'a [u8],
}

fn octal(field: &mut [u8], value: u64) {
    // field.len()-1 octal digits, then NUL.
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

fn header(name: &str, size: u64, mtime: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[148..156].copy_from_slice(b"        ");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

/// Largest member size the 11-digit octal size field can hold (8 GiB − 1).
pub(crate) const MAX_MEMBER: u64 = 0o77777777777;

/// Writes the members in order. `mtime` is seconds since the epoch (clamped
/// into the field's range).
pub(crate) fn write(entries: &[Entry<'_>], mtime: i64) -> Result<Vec<u8>, String> {
    let mtime = mtime.clamp(0, MAX_MEMBER as i64) as u64;
    let total: usize = entries
        .iter()
        .map(|e| BLOCK + e.data.len().div_ceil(BLOCK) * BLOCK)
        .sum::<usize>()
        + 2 * BLOCK;
    let mut out = Vec::with_capacity(total);
    for e in entries {
        if e.name.len() > 99 || e.data.len() as u64 > MAX_MEMBER {
            return Err(format!("member {} too large for ustar", e.name));
        }
        out.extend_from_slice(&header(e.name, e.data.len() as u64, mtime));
        out.extend_from_slice(e.data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let (digits, nul) = field.split_at(field.len() - 1);
    if nul != [0] || !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(8)?.checked_add(u64::from(b - b'0'))
    })
}

/// Reads exactly the members named in `names`, in that order, and returns
/// their contents and the shared mtime. Anything else is an error message.
pub(crate) fn read<'a>(bytes: &'a [u8], names: &[&str]) -> Result<(Vec<&'a [u8]>, u64), String> {
    let mut pos = 0usize;
    let mut out = Vec::with_capacity(names.len());
    let mut mtime_seen = None;
    for &name in names {
        let h = bytes
            .get(pos..pos + BLOCK)
            .ok_or_else(|| format!("truncated before member {name}"))?;
        let size = parse_octal(&h[124..136]).ok_or_else(|| format!("bad size field for {name}"))?;
        let mtime =
            parse_octal(&h[136..148]).ok_or_else(|| format!("bad mtime field for {name}"))?;
        if *mtime_seen.get_or_insert(mtime) != mtime {
            return Err("members have different mtimes".into());
        }
        if h[..] != header(name, size, mtime)[..] {
            let got: String = h[..100]
                .iter()
                .take_while(|&&b| b != 0)
                .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
                .collect();
            return Err(if got != name {
                format!("expected member {name}, found {got:?}")
            } else {
                format!("header of {name} is not canonical (changed or damaged)")
            });
        }
        pos += BLOCK;
        let size = usize::try_from(size).map_err(|_| "member too large".to_string())?;
        let end = pos
            .checked_add(size)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(|| format!("member {name} truncated"))?;
        out.push(&bytes[pos..end]);
        let padded = end.div_ceil(BLOCK) * BLOCK;
        let pad = bytes
            .get(end..padded)
            .ok_or_else(|| format!("padding after {name} truncated"))?;
        if pad.iter().any(|&b| b != 0) {
            return Err(format!("non-zero padding after {name}"));
        }
        pos = padded;
    }
    let tail = &bytes[pos..];
    if tail.len() != 2 * BLOCK || tail.iter().any(|&b| b != 0) {
        return Err("archive does not end with exactly two zero blocks".into());
    }
    Ok((out, mtime_seen.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let a = write(
            &[
                Entry {
                    name: "a.txt",
                    data: b"hello",
                },
                Entry {
                    name: "b.bin",
                    data: &[7u8; 600],
                },
            ],
            1_700_000_000,
        )
        .unwrap();
        assert_eq!(a.len() % BLOCK, 0);
        let (parts, mtime) = read(&a, &["a.txt", "b.bin"]).unwrap();
        assert_eq!(parts[0], b"hello");
        assert_eq!(parts[1], &[7u8; 600][..]);
        assert_eq!(mtime, 1_700_000_000);
        assert!(read(&a, &["b.bin", "a.txt"]).is_err());
        assert!(read(&a, &["a.txt"]).is_err());
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 0x20;
            let r = read(&b, &["a.txt", "b.bin"]);
            // Only data bytes may change without a structural error.
            let in_data = (512..517).contains(&i) || (1536..2136).contains(&i);
            assert_eq!(r.is_ok(), in_data, "byte {i}");
        }
        let mut extra = a.clone();
        extra.extend_from_slice(&[0u8; 512]);
        assert!(read(&extra, &["a.txt", "b.bin"]).is_err());
    }
}
