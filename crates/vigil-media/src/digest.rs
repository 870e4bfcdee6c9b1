//! MD5 + SHA-1 + SHA-256 from a single pass over the bytes.
//!
//! Reading a file once and feeding all three hashers is what makes the scan
//! faster than running three tools: the read is paid once. The bytes are fed
//! in sub-blocks that fit in the L1/L2 cache, so that the second and third
//! hasher read the block from cache rather than from memory.

use md5::Digest as _;
use vigil_domain::{Md5, Sha1, Sha256};

/// The three cryptographic digests of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digests {
    pub md5: Md5,
    pub sha1: Sha1,
    pub sha256: Sha256,
}

/// Sub-block size for interleaving the hashers: an L1d's worth, so the
/// second and third hasher read from L1/L2 even on CPUs with small caches.
/// On the project VM (2 MiB L2) 8 KiB..4 MiB measured within 2 % of each
/// other (bench/results/vigil-media.md), so this is insurance, not a tuning.
const SUB_BLOCK: usize = 32 * 1024;

/// Incremental MD5 + SHA-1 + SHA-256.
#[derive(Clone, Default)]
pub struct MultiHasher {
    md5: md5::Md5,
    sha1: sha1::Sha1,
    sha256: sha2::Sha256,
}

impl MultiHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        for block in data.chunks(SUB_BLOCK) {
            self.md5.update(block);
            self.sha1.update(block);
            self.sha256.update(block);
        }
    }

    pub fn finalize(self) -> Digests {
        Digests {
            md5: Md5(self.md5.finalize().into()),
            sha1: Sha1(self.sha1.finalize().into()),
            sha256: Sha256(self.sha256.finalize().into()),
        }
    }
}

/// SHA-1 and SHA-256 of a buffer whose MD5 is computed elsewhere (batched
/// in lanes, see `md5lanes`).
pub(crate) fn sha_pair(data: &[u8]) -> (Sha1, Sha256) {
    let mut sha1 = sha1::Sha1::new();
    let mut sha256 = sha2::Sha256::new();
    for block in data.chunks(SUB_BLOCK) {
        sha1.update(block);
        sha256.update(block);
    }
    (
        Sha1(sha1.finalize().into()),
        Sha256(sha256.finalize().into()),
    )
}

/// Digests of an in-memory buffer.
pub fn digest_bytes(data: &[u8]) -> Digests {
    let mut h = MultiHasher::new();
    h.update(data);
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = digest_bytes(b"abc");
        assert_eq!(d.md5.to_hex(), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha1.to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            d.sha256.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn incremental_equals_one_shot_across_sub_blocks() {
        let data: Vec<u8> = (0..(3 * SUB_BLOCK + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut h = MultiHasher::new();
        for piece in data.chunks(SUB_BLOCK / 3 + 5) {
            h.update(piece);
        }
        assert_eq!(h.finalize(), digest_bytes(&data));
    }
}
