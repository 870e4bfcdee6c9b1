//! PDQ perceptual hashing (placeholder API; the implementation lands with the
//! media-triage issue).

use vigil_domain::PdqHash;

/// Caps applied before any pixel buffer is allocated, so a decompression bomb
/// is refused instead of exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 200_000_000,
        }
    }
}

/// The result of hashing one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdqOutput {
    pub hash: PdqHash,
    /// 0..=100, the reference's integer quality.
    pub quality: u8,
    /// orig, rot90, rot180, rot270, flipx, flipy, flipplus1, flipminus1.
    pub dihedral: [PdqHash; 8],
    pub width: u32,
    pub height: u32,
    /// EXIF orientation tag (1..=8) when present; recorded, never applied.
    pub exif_orientation: Option<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdqError {
    #[error("not an image format PDQ can decode")]
    Unsupported,
    #[error("image of {width}x{height} exceeds the decode limit of {limit} pixels")]
    TooLarge { width: u64, height: u64, limit: u64 },
    #[error("corrupt image: {0}")]
    Corrupt(String),
}

/// Decodes `bytes` (JPEG, PNG, GIF, BMP, WebP, TIFF) and hashes it.
pub fn hash_image_bytes(_bytes: &[u8], _limits: &DecodeLimits) -> Result<PdqOutput, PdqError> {
    Err(PdqError::Unsupported)
}
