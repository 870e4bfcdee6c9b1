//! Category schemes: what a `Category` label means in the set it came from.
//!
//! Labels are kept raw (exactly as the file wrote them, so that export is
//! lossless) *and* normalised to one scheme-independent vocabulary, so that
//! "is this CSAM?" has one answer whichever agency categorised the image.
//! Under a known scheme an unknown label is an entry error: silently accepting
//! "7" in a Project VIC set would mis-triage images.
//!
//! Sources (anchors.md §4.3): the current Project VIC scheme and the older DHS
//! scheme are as used by Autopsy's image gallery. The UK labels are CAID's
//! A/B/C severity grades plus the non-CSAM classes UK tooling uses; no public
//! VICS file with the `UK` profile was available to confirm whether UK sets
//! write them as letters or numbers, so only the letter/word forms are known.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The category scheme a hash set was categorised under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryScheme {
    /// Project VIC (US) today: 0 Non-Pertinent, 1 CAM, 2 Child Exploitive
    /// (non-CAM) / age difficult, 3 CGI/animation, 4 comparison. Null = not
    /// categorised (distinct from 0).
    ProjectVicUs,
    /// The older DHS scheme: 0 uncategorised, 1 child exploitation (illegal),
    /// 2 non-illegal / age difficult, 3 CGI/animation, 4 exemplar/comparison,
    /// 5 non-pertinent.
    Dhs,
    /// UK CAID: A, B, C (indecent images by severity), plus non-photographic
    /// "prohibited" images, extreme pornography, and not indecent.
    Uk,
    /// Free labels; each distinct label is its own normalised category.
    Custom,
}

impl CategoryScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProjectVicUs => "project-vic-us",
            Self::Dhs => "dhs",
            Self::Uk => "uk",
            Self::Custom => "custom",
        }
    }

    /// Interprets a raw label. Surrounding whitespace is ignored; the raw text
    /// is kept in [`Category::raw`].
    pub fn categorize(self, raw: &str) -> Result<Category, UnknownCategory> {
        let label = raw.trim();
        let unknown = || UnknownCategory {
            scheme: self,
            label: raw.to_string(),
        };
        let normalized = match self {
            Self::ProjectVicUs => match numeric(label).ok_or_else(unknown)? {
                0 => NormalizedCategory::NonPertinent,
                1 => NormalizedCategory::Csam,
                2 => NormalizedCategory::ExploitiveNonCsam,
                3 => NormalizedCategory::CgiAnimation,
                4 => NormalizedCategory::Comparison,
                _ => return Err(unknown()),
            },
            Self::Dhs => {
                let digits = label
                    .strip_prefix("CAT-")
                    .or_else(|| label.strip_prefix("cat-"))
                    .unwrap_or(label);
                match numeric(digits).ok_or_else(unknown)? {
                    0 => NormalizedCategory::Uncategorized,
                    1 => NormalizedCategory::Csam,
                    2 => NormalizedCategory::ExploitiveNonCsam,
                    3 => NormalizedCategory::CgiAnimation,
                    4 => NormalizedCategory::Comparison,
                    5 => NormalizedCategory::NonPertinent,
                    _ => return Err(unknown()),
                }
            }
            Self::Uk => {
                let key: String = label
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let key = key
                    .strip_prefix("category")
                    .or_else(|| key.strip_prefix("cat"))
                    .unwrap_or(&key);
                match key {
                    "a" => NormalizedCategory::CsamA,
                    "b" => NormalizedCategory::CsamB,
                    "c" => NormalizedCategory::CsamC,
                    "prohibited" | "nonphotographic" => NormalizedCategory::CgiAnimation,
                    "extreme" | "extremepornography" => NormalizedCategory::ExtremePornography,
                    "nonindecent" | "notindecent" | "noniioc" | "notiioc" | "nonpertinent" => {
                        NormalizedCategory::NonPertinent
                    }
                    "uncategorised" | "uncategorized" => NormalizedCategory::Uncategorized,
                    _ => return Err(unknown()),
                }
            }
            Self::Custom => {
                if label.is_empty() {
                    return Err(unknown());
                }
                NormalizedCategory::Custom(label.to_lowercase())
            }
        };
        Ok(Category {
            raw: raw.to_string(),
            normalized,
        })
    }

    /// Human-readable list of accepted labels, for error messages.
    pub fn known_labels(self) -> &'static str {
        match self {
            Self::ProjectVicUs => "0-4",
            Self::Dhs => "0-5 (or CAT-0..CAT-5)",
            Self::Uk => "A, B, C, Prohibited, Extreme, Non-indecent, Uncategorised",
            Self::Custom => "any non-empty label",
        }
    }
}

/// Integer labels as exporters write them: `1`, `"1"`, `1.0`.
fn numeric(label: &str) -> Option<u32> {
    if let Ok(n) = label.parse::<u32>() {
        return Some(n);
    }
    let f: f64 = label.parse().ok()?;
    (f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f)).then_some(f as u32)
}

impl fmt::Display for CategoryScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CategoryScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "project-vic-us" | "projectvic" | "vic" | "us" => Ok(Self::ProjectVicUs),
            "dhs" => Ok(Self::Dhs),
            "uk" | "caid" => Ok(Self::Uk),
            "custom" => Ok(Self::Custom),
            other => Err(format!(
                "unknown category scheme {other:?} (project-vic-us, dhs, uk, custom)"
            )),
        }
    }
}

/// A label that its scheme does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {label:?} for scheme {scheme}")]
pub struct UnknownCategory {
    pub scheme: CategoryScheme,
    pub label: String,
}

/// Scheme-independent meaning of a category.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NormalizedCategory {
    Uncategorized,
    NonPertinent,
    /// Child sexual abuse material, severity not graded.
    Csam,
    /// UK grade A (most severe).
    CsamA,
    CsamB,
    CsamC,
    /// Child exploitive but not CAM; age difficult.
    ExploitiveNonCsam,
    /// CGI, animation, drawings (UK: "prohibited images").
    CgiAnimation,
    /// Comparison / exemplar images kept for reference.
    Comparison,
    ExtremePornography,
    /// A label of a custom scheme, trimmed and lower-cased.
    Custom(String),
}

impl NormalizedCategory {
    /// Whether the category denotes child sexual abuse material.
    pub fn is_csam(&self) -> bool {
        matches!(self, Self::Csam | Self::CsamA | Self::CsamB | Self::CsamC)
    }
}

/// A category as found in a file, with its normalised meaning.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    /// Exactly as in the source (`"1"`, `"A"`, `"CAT-1"`); written back on export.
    pub raw: String,
    pub normalized: NormalizedCategory,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_vic_and_dhs_disagree_on_zero_and_five() {
        let vic = CategoryScheme::ProjectVicUs;
        let dhs = CategoryScheme::Dhs;
        assert_eq!(
            vic.categorize("0").unwrap().normalized,
            NormalizedCategory::NonPertinent
        );
        assert_eq!(
            dhs.categorize("0").unwrap().normalized,
            NormalizedCategory::Uncategorized
        );
        assert!(vic.categorize("5").is_err());
        assert_eq!(
            dhs.categorize("CAT-5").unwrap().normalized,
            NormalizedCategory::NonPertinent
        );
        assert!(vic.categorize("1.0").unwrap().normalized.is_csam());
        assert!(vic.categorize("x").is_err());
    }

    #[test]
    fn uk_labels() {
        let uk = CategoryScheme::Uk;
        assert_eq!(
            uk.categorize("Cat A").unwrap().normalized,
            NormalizedCategory::CsamA
        );
        assert_eq!(uk.categorize(" c ").unwrap().raw, " c ");
        assert_eq!(
            uk.categorize("Non-IIOC").unwrap().normalized,
            NormalizedCategory::NonPertinent
        );
        assert!(uk.categorize("D").is_err());
    }

    #[test]
    fn custom_accepts_any_label() {
        let c = CategoryScheme::Custom.categorize(" Series-X ").unwrap();
        assert_eq!(c.normalized, NormalizedCategory::Custom("series-x".into()));
        assert!(CategoryScheme::Custom.categorize("  ").is_err());
    }
}
