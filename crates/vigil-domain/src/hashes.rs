//! Fixed-size digests and the PDQ perceptual hash, as values.
//!
//! Every crate that touches hashes (media, hash sets, the PDQ index, chat
//! extraction, packages) speaks these types, so that "an MD5" is never a bare
//! string whose case or length someone forgot to check.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A hex string had the wrong length or a non-hex character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: expected {expected} hex digits")]
pub struct HexError {
    pub kind: &'static str,
    pub value: String,
    pub expected: usize,
}

fn decode_hex<const N: usize>(kind: &'static str, s: &str) -> Result<[u8; N], HexError> {
    let err = || HexError {
        kind,
        value: s.chars().take(80).collect(),
        expected: N * 2,
    };
    let bytes = s.trim().as_bytes();
    if bytes.len() != N * 2 {
        return Err(err());
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
        let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! digest_type {
    ($name:ident, $len:expr, $label:expr) => {
        #[doc = concat!("A ", $label, " digest; displayed and parsed as lowercase hex.")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub const LEN: usize = $len;

            pub fn from_hex(s: &str) -> Result<Self, HexError> {
                decode_hex::<$len>($label, s).map(Self)
            }

            pub fn to_hex(&self) -> String {
                self.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = HexError;
            fn from_str(s: &str) -> Result<Self, HexError> {
                Self::from_hex(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(Md5, 16, "MD5");
digest_type!(Sha1, 20, "SHA-1");
digest_type!(Sha256, 32, "SHA-256");
digest_type!(PdqHash, 32, "PDQ hash");

impl PdqHash {
    /// PDQ's conventional near-duplicate threshold (Meta: distance <= 31).
    pub const DEFAULT_MAX_DISTANCE: u32 = 31;
    /// Meta's recommendation: hashes of quality below this are unreliable.
    pub const MIN_RELIABLE_QUALITY: u8 = 50;

    /// Builds a hash from the reference implementation's sixteen 16-bit words
    /// (word 0 holds bits 0..16). The byte layout is the hex printing order
    /// (word 15 first, high byte first), so `to_hex` equals the reference
    /// `Hash256::format()` output.
    pub fn from_words(words: [u16; 16]) -> Self {
        let mut out = [0u8; 32];
        for (i, w) in words.iter().rev().enumerate() {
            out[2 * i] = (w >> 8) as u8;
            out[2 * i + 1] = (*w & 0xff) as u8;
        }
        Self(out)
    }

    /// The reference's sixteen 16-bit words (inverse of [`PdqHash::from_words`]).
    pub fn words(&self) -> [u16; 16] {
        let mut words = [0u16; 16];
        for (i, w) in words.iter_mut().rev().enumerate() {
            *w = u16::from(self.0[2 * i]) << 8 | u16::from(self.0[2 * i + 1]);
        }
        words
    }

    /// Bit `k` in the reference numbering (k = 16*row + column of the DCT).
    pub fn bit(&self, k: usize) -> bool {
        self.words()[k >> 4] >> (k & 15) & 1 == 1
    }

    /// Hamming distance: the number of differing bits (0..=256).
    pub fn distance(&self, other: &Self) -> u32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// The hash as four little-endian u64 lanes, the layout the index uses.
    pub fn lanes(&self) -> [u64; 4] {
        let mut lanes = [0u64; 4];
        for (i, lane) in lanes.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
            *lane = u64::from_le_bytes(b);
        }
        lanes
    }

    /// Inverse of [`PdqHash::lanes`].
    pub fn from_lanes(lanes: [u64; 4]) -> Self {
        let mut out = [0u8; 32];
        for (i, lane) in lanes.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&lane.to_le_bytes());
        }
        Self(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

    #[test]
    fn pdq_hex_round_trip_and_words() {
        let h = PdqHash::from_hex(BRIDGE).unwrap();
        assert_eq!(h.to_hex(), BRIDGE);
        assert_eq!(PdqHash::from_words(h.words()), h);
        // bit 0 is the lowest bit of the last hex digit ('2' = 0b0010)
        assert!(!h.bit(0));
        assert!(h.bit(1));
        // the first hex digit 'f' holds bits 252..=255
        assert!(h.bit(255) && h.bit(252));
        assert_eq!(PdqHash::from_lanes(h.lanes()), h);
    }

    #[test]
    fn distance_counts_bits() {
        let a = PdqHash::from_hex(BRIDGE).unwrap();
        let mut b = a;
        b.0[0] ^= 0b1010_0000;
        b.0[31] ^= 1;
        assert_eq!(a.distance(&b), 3);
        assert_eq!(a.distance(&a), 0);
    }

    #[test]
    fn bad_hex_names_kind_and_length() {
        let e = Md5::from_hex("abc").unwrap_err();
        assert_eq!(e.to_string(), "invalid MD5 \"abc\": expected 32 hex digits");
        assert!(Sha1::from_hex(&"g".repeat(40)).is_err());
        assert_eq!(
            Sha256::from_hex(&"AB".repeat(32)).unwrap().to_hex(),
            "ab".repeat(32)
        );
    }
}
