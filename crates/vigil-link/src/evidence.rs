//! The output: candidate links and the evidence behind each.

use serde::{Deserialize, Serialize};

/// What kind of agreement a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// One handle changed into the other in one session: certain.
    NickChange,
    /// A nick change whose nicks are held by several persons: strong, not
    /// certain.
    NickChangeShared,
    /// One person stated an identifier the other holds.
    Announced,
    EmailExact,
    /// Same phone, messenger id, payment account or device serial.
    SameIdentifier,
    HandleExact,
    HandleContained,
    HandleSimilar,
    EmailLocalHandle,
    IpOverlap,
    /// A shared IP that is deliberately *not* evidence (CGNAT, proxy, local
    /// address, or different times); weight 0, kept so the officer sees it
    /// was considered.
    IpNotEvidence,
    /// At overlapping times the two were on different public lines
    /// (negative weight).
    IpConflict,
    RoomCoPresence,
    MediaShared,
    /// Both persons are candidates of one third person: collective
    /// evidence (COPLINK's later work: identities resolve better together).
    LinkedVia,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NickChange => "nick-change",
            Self::NickChangeShared => "nick-change-shared",
            Self::Announced => "announced",
            Self::EmailExact => "email-exact",
            Self::SameIdentifier => "same-identifier",
            Self::HandleExact => "handle-exact",
            Self::HandleContained => "handle-contained",
            Self::HandleSimilar => "handle-similar",
            Self::EmailLocalHandle => "email-local-handle",
            Self::IpOverlap => "ip-overlap",
            Self::IpNotEvidence => "ip-not-evidence",
            Self::IpConflict => "ip-conflict",
            Self::RoomCoPresence => "room-co-presence",
            Self::MediaShared => "media-shared",
            Self::LinkedVia => "linked-via",
        }
    }

    /// Evidence that links on its own, whatever the score.
    pub fn is_certain(self) -> bool {
        self == Self::NickChange
    }
}

/// One reason two persons may be one: its weight in bits, a sentence naming
/// the values compared, and the source references it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub weight: f64,
    pub detail: String,
    pub sources: Vec<String>,
}

/// A suggested link between two persons (`a < b`). Never applied by this
/// crate: an officer accepts or rejects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub a: i64,
    pub b: i64,
    /// Sum of the evidence weights (bits).
    pub score: f64,
    /// True when certain evidence (a nick change) is among the evidence.
    pub certain: bool,
    pub evidence: Vec<Evidence>,
}

impl Candidate {
    /// A plain-text explanation, one line per piece of evidence.
    pub fn explain(&self) -> String {
        let mut s = format!(
            "persons {} and {}: score {:.1} bits{}\n",
            self.a,
            self.b,
            self.score,
            if self.certain { " (certain)" } else { "" }
        );
        for e in &self.evidence {
            s.push_str(&format!(
                "  {:+5.1}  {}: {} [{}]\n",
                e.weight,
                e.kind.as_str(),
                e.detail,
                e.sources.join("; ")
            ));
        }
        s
    }
}

/// Counts about candidate generation, to show the blocking did its job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockStats {
    pub persons: usize,
    pub blocks: usize,
    /// Blocks skipped because they were larger than the cap.
    pub oversized_blocks: usize,
    /// Distinct pairs compared.
    pub pairs_compared: usize,
}

/// The result of a run: candidates sorted by certainty then score, and notes
/// on what was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkReport {
    pub candidates: Vec<Candidate>,
    pub stats: BlockStats,
    /// Oversized blocks (largest first), values that could not be
    /// normalised, nick changes that could not be attributed.
    pub notes: Vec<String>,
}
