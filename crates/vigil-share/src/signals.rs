//! Country attribution signals and their combination.
//!
//! Each signal is a small, pure judgement: *this* identifier points at *these*
//! countries, this strongly, for *this* human-readable reason. Combination
//! ranks countries but never drops disagreeing evidence: a lead package must
//! show the receiving country why the suspect was attributed to it, and an
//! officer must be able to see that the IP said GB while the declared address
//! said IE.
//!
//! Strength scale (deliberately coarse, so it can be defended in court):
//! * `Strong` — verified by an agency (subscriber records, arrest address).
//! * `Medium` — usually right but easy to defeat: a declared location, IP
//!   geolocation (VPNs, Tor, roaming), a phone number's country code.
//! * `Weak` — a hint: ccTLD of an e-mail domain or URL host, an IP database's
//!   *registered* country, a NANP number assumed US by elimination.
//!
//! Identical signals (same kind, evidence and countries) count once.
//! Ranking is lexicographic on (strong, medium, weak, ambiguous) counts: any
//! stronger kind of evidence outranks any number of weaker ones, because
//! "three weak hints beat one verified address" is not defensible.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::country::CountryCode;
use crate::geo::{GeoError, GeoLookup};

/// How much a signal should count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    Weak,
    Medium,
    Strong,
}

/// Where a signal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    AgencyInput,
    DeclaredLocation,
    IpGeolocation,
    PhoneNumber,
    EmailDomain,
    UrlHost,
}

/// One piece of evidence about a person's country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// One country, or several when the evidence cannot tell them apart
    /// (e.g. a toll-free +1 number). Never empty.
    pub countries: Vec<CountryCode>,
    pub strength: Strength,
    /// The value the signal was derived from (an IP, a number, a domain).
    pub evidence: String,
    /// Why this country, in words an officer can repeat.
    pub reason: String,
}

impl Signal {
    /// An agency's own determination (e.g. subscriber records): strong.
    pub fn agency_input(country: CountryCode, evidence: &str, reason: &str) -> Self {
        Self {
            kind: SignalKind::AgencyInput,
            countries: vec![country],
            strength: Strength::Strong,
            evidence: evidence.to_string(),
            reason: reason.to_string(),
        }
    }

    /// A location the person declared (profile, chat statement): medium.
    pub fn declared_location(country: CountryCode, evidence: &str) -> Self {
        Self {
            kind: SignalKind::DeclaredLocation,
            countries: vec![country],
            strength: Strength::Medium,
            evidence: evidence.to_string(),
            reason: format!("declared location {country}"),
        }
    }

    pub fn is_ambiguous(&self) -> bool {
        self.countries.len() > 1
    }
}

// ---------------------------------------------------------------- IP

/// IP geolocation: medium (VPNs, Tor exits and roaming defeat it); weak when
/// the database only knew the *registered* country of the network.
///
/// With several databases (an agency `.mmdb` and the embedded table), call
/// this once per database and pass all signals to [`attribute`]: databases
/// that agree count once (same kind, evidence and country), databases that
/// disagree show up as a conflict with each one's name and date.
pub fn ip_signal(geo: &dyn GeoLookup, ip: IpAddr) -> Result<Option<Signal>, GeoError> {
    ip_signal_at(geo, ip, None)
}

/// Days between the sighting and the database build beyond which the reason
/// warns that the address may have changed hands since.
pub const STALE_AFTER_DAYS: i64 = 365;

/// Like [`ip_signal`], for an address seen at `seen`. Addresses are
/// re-allocated over time, so when the database was built more than
/// [`STALE_AFTER_DAYS`] before or after the sighting the reason says so (the
/// strength is kept: the officer judges, the text explains).
pub fn ip_signal_at(
    geo: &dyn GeoLookup,
    ip: IpAddr,
    seen: Option<time::OffsetDateTime>,
) -> Result<Option<Signal>, GeoError> {
    let Some(hit) = geo.lookup(ip)? else {
        return Ok(None);
    };
    let registered = hit.field.starts_with("registered_country");
    let strength = if registered {
        Strength::Weak
    } else {
        Strength::Medium
    };
    let mut reason = format!(
        "IP {} is in {} per {} (built {})",
        ip,
        hit.country,
        hit.source.name,
        hit.source.built.date()
    );
    if let Some(net) = &hit.network {
        let _ = write!(reason, ", network {net}");
    }
    if registered {
        reason.push_str("; only the network's registered country is known");
    }
    if let Some(seen) = seen {
        let gap = (hit.source.built - seen).whole_days();
        if gap.abs() > STALE_AFTER_DAYS {
            let _ = write!(
                reason,
                "; caution: seen {}, {} days {} the database was built, the address may have moved",
                seen.date(),
                gap.abs(),
                if gap > 0 { "before" } else { "after" }
            );
        }
    }
    Ok(Some(Signal {
        kind: SignalKind::IpGeolocation,
        countries: vec![hit.country],
        strength,
        evidence: ip.to_string(),
        reason,
    }))
}

// ---------------------------------------------------------------- phone

/// The text is not an international (E.164) number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("{0:?} is not an international number: expected +<country code><number>")]
    NotInternational(String),
    #[error("{0:?} has an invalid length (E.164: 7 to 15 digits; +1: exactly 10 after the 1)")]
    BadLength(String),
    #[error("{0:?} starts with an unassigned country calling code")]
    UnknownCallingCode(String),
}

/// ITU-T E.164 country calling codes → countries. Prefix-free, so a 1-, 2- or
/// 3-digit match is unique. Codes with several countries are refined by
/// national prefixes in [`refine`] where that is cheap and exact, otherwise
/// returned as ambiguous. `XK` (Kosovo, +383) is a user-assigned code in
/// common use, not ISO 3166-1.
const CALLING_CODES: &[(&str, &[&str])] = &[
    ("1", &["US", "CA"]),
    ("7", &["RU", "KZ"]),
    ("20", &["EG"]),
    ("27", &["ZA"]),
    ("30", &["GR"]),
    ("31", &["NL"]),
    ("32", &["BE"]),
    ("33", &["FR"]),
    ("34", &["ES"]),
    ("36", &["HU"]),
    ("39", &["IT", "VA"]),
    ("40", &["RO"]),
    ("41", &["CH"]),
    ("43", &["AT"]),
    ("44", &["GB", "GG", "JE", "IM"]),
    ("45", &["DK"]),
    ("46", &["SE"]),
    ("47", &["NO", "SJ"]),
    ("48", &["PL"]),
    ("49", &["DE"]),
    ("51", &["PE"]),
    ("52", &["MX"]),
    ("53", &["CU"]),
    ("54", &["AR"]),
    ("55", &["BR"]),
    ("56", &["CL"]),
    ("57", &["CO"]),
    ("58", &["VE"]),
    ("60", &["MY"]),
    ("61", &["AU", "CX", "CC"]),
    ("62", &["ID"]),
    ("63", &["PH"]),
    ("64", &["NZ", "PN"]),
    ("65", &["SG"]),
    ("66", &["TH"]),
    ("81", &["JP"]),
    ("82", &["KR"]),
    ("84", &["VN"]),
    ("86", &["CN"]),
    ("90", &["TR"]),
    ("91", &["IN"]),
    ("92", &["PK"]),
    ("93", &["AF"]),
    ("94", &["LK"]),
    ("95", &["MM"]),
    ("98", &["IR"]),
    ("211", &["SS"]),
    ("212", &["MA", "EH"]),
    ("213", &["DZ"]),
    ("216", &["TN"]),
    ("218", &["LY"]),
    ("220", &["GM"]),
    ("221", &["SN"]),
    ("222", &["MR"]),
    ("223", &["ML"]),
    ("224", &["GN"]),
    ("225", &["CI"]),
    ("226", &["BF"]),
    ("227", &["NE"]),
    ("228", &["TG"]),
    ("229", &["BJ"]),
    ("230", &["MU"]),
    ("231", &["LR"]),
    ("232", &["SL"]),
    ("233", &["GH"]),
    ("234", &["NG"]),
    ("235", &["TD"]),
    ("236", &["CF"]),
    ("237", &["CM"]),
    ("238", &["CV"]),
    ("239", &["ST"]),
    ("240", &["GQ"]),
    ("241", &["GA"]),
    ("242", &["CG"]),
    ("243", &["CD"]),
    ("244", &["AO"]),
    ("245", &["GW"]),
    ("246", &["IO"]),
    ("247", &["SH"]),
    ("248", &["SC"]),
    ("249", &["SD"]),
    ("250", &["RW"]),
    ("251", &["ET"]),
    ("252", &["SO"]),
    ("253", &["DJ"]),
    ("254", &["KE"]),
    ("255", &["TZ"]),
    ("256", &["UG"]),
    ("257", &["BI"]),
    ("258", &["MZ"]),
    ("260", &["ZM"]),
    ("261", &["MG"]),
    ("262", &["RE", "YT"]),
    ("263", &["ZW"]),
    ("264", &["NA"]),
    ("265", &["MW"]),
    ("266", &["LS"]),
    ("267", &["BW"]),
    ("268", &["SZ"]),
    ("269", &["KM"]),
    ("290", &["SH"]),
    ("291", &["ER"]),
    ("297", &["AW"]),
    ("298", &["FO"]),
    ("299", &["GL"]),
    ("350", &["GI"]),
    ("351", &["PT"]),
    ("352", &["LU"]),
    ("353", &["IE"]),
    ("354", &["IS"]),
    ("355", &["AL"]),
    ("356", &["MT"]),
    ("357", &["CY"]),
    ("358", &["FI", "AX"]),
    ("359", &["BG"]),
    ("370", &["LT"]),
    ("371", &["LV"]),
    ("372", &["EE"]),
    ("373", &["MD"]),
    ("374", &["AM"]),
    ("375", &["BY"]),
    ("376", &["AD"]),
    ("377", &["MC"]),
    ("378", &["SM"]),
    ("379", &["VA"]),
    ("380", &["UA"]),
    ("381", &["RS"]),
    ("382", &["ME"]),
    ("383", &["XK"]),
    ("385", &["HR"]),
    ("386", &["SI"]),
    ("387", &["BA"]),
    ("389", &["MK"]),
    ("420", &["CZ"]),
    ("421", &["SK"]),
    ("423", &["LI"]),
    ("500", &["FK"]),
    ("501", &["BZ"]),
    ("502", &["GT"]),
    ("503", &["SV"]),
    ("504", &["HN"]),
    ("505", &["NI"]),
    ("506", &["CR"]),
    ("507", &["PA"]),
    ("508", &["PM"]),
    ("509", &["HT"]),
    ("590", &["GP", "BL", "MF"]),
    ("591", &["BO"]),
    ("592", &["GY"]),
    ("593", &["EC"]),
    ("594", &["GF"]),
    ("595", &["PY"]),
    ("596", &["MQ"]),
    ("597", &["SR"]),
    ("598", &["UY"]),
    ("599", &["CW", "BQ"]),
    ("670", &["TL"]),
    ("672", &["NF", "AQ"]),
    ("673", &["BN"]),
    ("674", &["NR"]),
    ("675", &["PG"]),
    ("676", &["TO"]),
    ("677", &["SB"]),
    ("678", &["VU"]),
    ("679", &["FJ"]),
    ("680", &["PW"]),
    ("681", &["WF"]),
    ("682", &["CK"]),
    ("683", &["NU"]),
    ("685", &["WS"]),
    ("686", &["KI"]),
    ("687", &["NC"]),
    ("688", &["TV"]),
    ("689", &["PF"]),
    ("690", &["TK"]),
    ("691", &["FM"]),
    ("692", &["MH"]),
    ("850", &["KP"]),
    ("852", &["HK"]),
    ("853", &["MO"]),
    ("855", &["KH"]),
    ("856", &["LA"]),
    ("880", &["BD"]),
    ("886", &["TW"]),
    ("960", &["MV"]),
    ("961", &["LB"]),
    ("962", &["JO"]),
    ("963", &["SY"]),
    ("964", &["IQ"]),
    ("965", &["KW"]),
    ("966", &["SA"]),
    ("967", &["YE"]),
    ("968", &["OM"]),
    ("970", &["PS"]),
    ("971", &["AE"]),
    ("972", &["IL"]),
    ("973", &["BH"]),
    ("974", &["QA"]),
    ("975", &["BT"]),
    ("976", &["MN"]),
    ("977", &["NP"]),
    ("992", &["TJ"]),
    ("993", &["TM"]),
    ("994", &["AZ"]),
    ("995", &["GE"]),
    ("996", &["KG"]),
    ("998", &["UZ"]),
];

/// Global services with no country: freephone, shared cost, satellite,
/// international networks, premium.
const NON_GEOGRAPHIC: &[&str] = &[
    "800", "808", "870", "878", "881", "882", "883", "888", "979",
];

/// Canadian NANP area codes (geographic, plus 600 which is Canada-only),
/// as assigned by late 2025. An unlisted new Canadian code falls through to
/// the weak "assumed US" answer, whose reason says so.
const NANP_CA: &[u16] = &[
    204, 226, 236, 249, 250, 257, 263, 289, 306, 343, 354, 365, 367, 368, 382, 403, 416, 418, 428,
    431, 437, 438, 450, 468, 474, 506, 514, 519, 548, 579, 581, 584, 587, 600, 604, 613, 639, 647,
    672, 683, 705, 709, 742, 753, 778, 780, 782, 807, 819, 825, 867, 873, 879, 902, 905, 942,
];

/// NANP members other than US/CA, and US territories with their own ISO code.
const NANP_OTHER: &[(u16, &str)] = &[
    (242, "BS"),
    (246, "BB"),
    (264, "AI"),
    (268, "AG"),
    (284, "VG"),
    (340, "VI"),
    (345, "KY"),
    (441, "BM"),
    (473, "GD"),
    (649, "TC"),
    (658, "JM"),
    (664, "MS"),
    (670, "MP"),
    (671, "GU"),
    (684, "AS"),
    (721, "SX"),
    (758, "LC"),
    (767, "DM"),
    (784, "VC"),
    (787, "PR"),
    (809, "DO"),
    (829, "DO"),
    (849, "DO"),
    (868, "TT"),
    (869, "KN"),
    (876, "JM"),
    (939, "PR"),
];

/// Non-geographic NANP codes: toll-free, personal communications, 700/900.
fn nanp_non_geographic(area: u16) -> bool {
    matches!(
        area,
        500 | 521..=529 | 533 | 544 | 566 | 577 | 588 | 700 | 900
    ) || matches!(area, 800 | 833 | 844 | 855 | 866 | 877 | 888)
}

fn cc(s: &str) -> CountryCode {
    CountryCode::from_table(s)
}

/// Phone number → country by calling code.
///
/// Accepts `+` or `00` followed by 7–15 digits (exactly 11 for `+1`); spaces, dots, dashes and
/// parentheses are ignored. Returns `Ok(None)` for non-geographic numbers
/// (international freephone, satellite, NANP toll-free with a single
/// country unknown is returned as ambiguous instead).
pub fn phone_signal(number: &str) -> Result<Option<Signal>, PhoneError> {
    let compact: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))
        .ok_or_else(|| PhoneError::NotInternational(number.to_string()))?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return Err(PhoneError::NotInternational(number.to_string()));
    }
    if !(7..=15).contains(&digits.len()) || (digits.starts_with('1') && digits.len() != 11) {
        return Err(PhoneError::BadLength(number.to_string()));
    }
    let e164 = format!("+{digits}");
    if NON_GEOGRAPHIC.iter().any(|p| digits.starts_with(p)) {
        return Ok(None);
    }
    let Some((code, countries)) = CALLING_CODES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
    else {
        return Err(PhoneError::UnknownCallingCode(number.to_string()));
    };
    let national = &digits[code.len()..];
    let (countries, strength, reason) = refine(code, countries, national);
    Ok(Some(Signal {
        kind: SignalKind::PhoneNumber,
        countries: countries.iter().map(|c| cc(c)).collect(),
        strength,
        evidence: e164,
        reason,
    }))
}

/// Narrows shared calling codes by national prefix where the rule is exact.
fn refine(
    code: &str,
    countries: &[&'static str],
    national: &str,
) -> (Vec<&'static str>, Strength, String) {
    let one = |c: &'static str, why: String| (vec![c], Strength::Medium, why);
    let ambiguous = |why: String| (countries.to_vec(), Strength::Weak, why);
    match code {
        "1" => {
            let area: Option<u16> = national.get(..3).and_then(|a| a.parse().ok());
            match area {
                Some(a) if national.len() == 10 && (200..=999).contains(&a) => {
                    if NANP_CA.contains(&a) {
                        one("CA", format!("+1 area code {a} is Canadian"))
                    } else if let Some((_, c)) = NANP_OTHER.iter().find(|(x, _)| *x == a) {
                        one(c, format!("+1 area code {a} belongs to {c}"))
                    } else if a % 100 / 10 == 9 || a % 100 == 11 {
                        ambiguous(format!(
                            "+1 area code {a} is reserved or a service code (N9X/N11), not a place"
                        ))
                    } else if nanp_non_geographic(a) {
                        ambiguous(format!(
                            "+1 area code {a} is non-geographic (toll-free/personal): any NANP country"
                        ))
                    } else {
                        (
                            vec!["US"],
                            Strength::Weak,
                            format!(
                                "+1 area code {a} is not in Vigil's Canadian or Caribbean tables; \
                                 assumed United States"
                            ),
                        )
                    }
                }
                _ => ambiguous(
                    "+1 number with no valid NANP area code: US, CA or another NANP country".into(),
                ),
            }
        }
        "7" => match national.as_bytes().first() {
            Some(b'6' | b'7') => one("KZ", "+7 6xx/7xx numbers are Kazakh".into()),
            Some(b'3' | b'4' | b'8' | b'9') => {
                one("RU", "+7 3xx/4xx/8xx/9xx numbers are Russian".into())
            }
            _ => ambiguous("+7 is shared by Russia and Kazakhstan".into()),
        },
        "44" => {
            for (p, c) in [
                ("1481", "GG"),
                ("1534", "JE"),
                ("1624", "IM"),
                ("7624", "IM"),
            ] {
                if national.starts_with(p) {
                    return one(c, format!("+44 {p} is a {c} number"));
                }
            }
            one(
                "GB",
                "+44 is the United Kingdom (Crown Dependency mobile ranges other than +44 7624 are not told apart)".into(),
            )
        }
        "358" if national.starts_with("18") => one("AX", "+358 18 is Åland".into()),
        "47" if national.starts_with("79") => one("SJ", "+47 79 is Svalbard".into()),
        "39" if national.starts_with("06698") => one("VA", "+39 06 698 is Vatican City".into()),
        "262" if national.starts_with("269") || national.starts_with("639") => {
            one("YT", "+262 269/639 is Mayotte".into())
        }
        "262"
            if ["262", "692", "693"]
                .iter()
                .any(|p| national.starts_with(p)) =>
        {
            one("RE", "+262 262/692/693 is Réunion".into())
        }
        "599" if national.starts_with('9') => one("CW", "+599 9 is Curaçao".into()),
        "599" if ["3", "4", "7"].iter().any(|p| national.starts_with(p)) => {
            one("BQ", "+599 3/4/7 is the Caribbean Netherlands".into())
        }
        "672" if national.starts_with('3') => one("NF", "+672 3 is Norfolk Island".into()),
        "672" if national.starts_with('1') => {
            one("AQ", "+672 1 is Australian Antarctic bases".into())
        }
        "39" => one("IT", "+39 is Italy".into()),
        "47" => one("NO", "+47 is Norway".into()),
        "358" => one("FI", "+358 is Finland".into()),
        "61" => one(
            "AU",
            "+61 is Australia (Christmas and Cocos Islands share it)".into(),
        ),
        "64" => one("NZ", "+64 is New Zealand (Pitcairn shares it)".into()),
        "212" => one("MA", "+212 is Morocco (also used in Western Sahara)".into()),
        _ if countries.len() == 1 => one(countries[0], format!("+{code} is {}", countries[0])),
        _ => ambiguous(format!("+{code} is shared by {}", countries.join(", "))),
    }
}

// ---------------------------------------------------------------- domains

/// All ISO 3166-1 alpha-2 codes, for recognising ccTLDs.
const ISO_3166: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ \
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// ccTLDs marketed and used worldwide as generic names: no country signal.
const VANITY_CCTLDS: &[&str] = &[
    "ai", "am", "bz", "cc", "cf", "co", "cx", "fm", "ga", "gg", "gq", "io", "la", "ly", "me", "ml",
    "ms", "nu", "pw", "sh", "st", "tk", "to", "tv", "vc", "ws",
];

/// Country of a host name's ccTLD, or `None` for generic and vanity TLDs.
fn host_country(host: &str) -> Option<(CountryCode, String)> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let tld = host.rsplit('.').next()?;
    if tld.len() != 2 || tld == host || VANITY_CCTLDS.contains(&tld) {
        return None;
    }
    let code = if tld == "uk" {
        "GB".to_string()
    } else {
        tld.to_ascii_uppercase()
    };
    if !ISO_3166.split(' ').any(|c| c == code) {
        return None; // .eu, .su, .ac and other non-country two-letter TLDs
    }
    Some((cc(&code), tld.to_string()))
}

/// E-mail address → country of its domain's ccTLD (weak: anyone can register
/// a foreign ccTLD, and webmail providers are global).
pub fn email_signal(address: &str) -> Option<Signal> {
    let domain = address.rsplit_once('@')?.1;
    let (country, tld) = host_country(domain)?;
    Some(Signal {
        kind: SignalKind::EmailDomain,
        countries: vec![country],
        strength: Strength::Weak,
        evidence: address.trim().to_string(),
        reason: format!("e-mail domain {domain} has the country-code TLD .{tld} ({country})"),
    })
}

/// URL or bare host name → country of the host's ccTLD (weak). IP-literal
/// hosts give nothing here; look them up with [`ip_signal`].
pub fn url_signal(url: &str) -> Option<Signal> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return None;
    }
    let host = host_port.split(':').next()?;
    if host.parse::<IpAddr>().is_ok() {
        return None;
    }
    let (country, tld) = host_country(host)?;
    Some(Signal {
        kind: SignalKind::UrlHost,
        countries: vec![country],
        strength: Strength::Weak,
        evidence: url.trim().to_string(),
        reason: format!("host {host} has the country-code TLD .{tld} ({country})"),
    })
}

// ---------------------------------------------------------------- combine

/// One candidate country with the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryEvidence {
    pub country: CountryCode,
    pub strong: usize,
    pub medium: usize,
    pub weak: usize,
    /// Signals that name this country among others (ambiguous).
    pub ambiguous: usize,
    /// Indices into the input signals that support this country.
    pub signals: Vec<usize>,
}

impl CountryEvidence {
    fn key(&self) -> (usize, usize, usize, usize) {
        (self.strong, self.medium, self.weak, self.ambiguous)
    }

    /// Strongest unambiguous support, if any.
    pub fn best(&self) -> Option<Strength> {
        if self.strong > 0 {
            Some(Strength::Strong)
        } else if self.medium > 0 {
            Some(Strength::Medium)
        } else if self.weak > 0 {
            Some(Strength::Weak)
        } else {
            None
        }
    }
}

/// The combined picture for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The country to send the lead to, or `None` if there is no evidence or
    /// the best candidates tie.
    pub top: Option<CountryCode>,
    /// Every candidate, best first.
    pub ranking: Vec<CountryEvidence>,
    /// Countries other than `top` with unambiguous evidence of their own.
    /// Non-empty means the evidence disagrees: show it, do not hide it.
    pub conflicts: Vec<CountryCode>,
    /// The explanation: choice, counts, and each conflicting signal's reason.
    pub why: String,
    /// The input signals, so indices in `ranking` resolve.
    pub signals: Vec<Signal>,
}

/// Ranks countries by their evidence and explains the choice.
pub fn attribute(signals: Vec<Signal>) -> Attribution {
    let mut ranking: Vec<CountryEvidence> = Vec::new();
    for (i, s) in signals.iter().enumerate() {
        // The same evidence reported twice (one IP in fifty log lines) is
        // one observation, not fifty.
        let repeat = signals[..i]
            .iter()
            .any(|p| p.kind == s.kind && p.evidence == s.evidence && p.countries == s.countries);
        if repeat {
            continue;
        }
        let amb = s.is_ambiguous();
        for c in &s.countries {
            let pos = match ranking.iter().position(|e| e.country == *c) {
                Some(p) => p,
                None => {
                    ranking.push(CountryEvidence {
                        country: *c,
                        strong: 0,
                        medium: 0,
                        weak: 0,
                        ambiguous: 0,
                        signals: vec![],
                    });
                    ranking.len() - 1
                }
            };
            let e = &mut ranking[pos];
            if !e.signals.contains(&i) {
                e.signals.push(i);
                match (amb, s.strength) {
                    (true, _) => e.ambiguous += 1,
                    (false, Strength::Strong) => e.strong += 1,
                    (false, Strength::Medium) => e.medium += 1,
                    (false, Strength::Weak) => e.weak += 1,
                }
            }
        }
    }
    ranking.sort_by(|a, b| b.key().cmp(&a.key()).then(a.country.cmp(&b.country)));

    let mut why = String::new();
    let top = match ranking.as_slice() {
        [] => {
            why.push_str("no country evidence");
            None
        }
        [first, rest @ ..] => {
            if rest
                .first()
                .is_some_and(|second| second.key() == first.key())
            {
                let tied: Vec<String> = ranking
                    .iter()
                    .take_while(|e| e.key() == first.key())
                    .map(|e| e.country.to_string())
                    .collect();
                let _ = write!(why, "undecided: equal evidence for {}", tied.join(", "));
                None
            } else if first.best().is_none() {
                let _ = write!(
                    why,
                    "undecided: only ambiguous evidence (best candidate {})",
                    first.country
                );
                None
            } else {
                let _ = write!(why, "{}: {}", first.country, counts(first));
                Some(first.country)
            }
        }
    };
    let conflicts: Vec<CountryCode> = ranking
        .iter()
        .filter(|e| Some(e.country) != top && e.best().is_some())
        .map(|e| e.country)
        .collect();
    if let Some(t) = top
        && let Some(e) = ranking.iter().find(|e| e.country == t)
    {
        for &i in &e.signals {
            let _ = write!(why, "\n  + {}", signals[i].reason);
        }
    }
    for c in &conflicts {
        if let Some(e) = ranking.iter().find(|e| e.country == *c) {
            let _ = write!(why, "\nconflict: {c}: {}", counts(e));
            for &i in &e.signals {
                let _ = write!(why, "\n  - {}", signals[i].reason);
            }
        }
    }
    Attribution {
        top,
        ranking,
        conflicts,
        why,
        signals,
    }
}

fn counts(e: &CountryEvidence) -> String {
    let mut parts = vec![];
    for (n, label) in [
        (e.strong, "strong"),
        (e.medium, "medium"),
        (e.weak, "weak"),
        (e.ambiguous, "ambiguous"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    fn phone(n: &str) -> Signal {
        phone_signal(n).unwrap().unwrap()
    }

    #[test]
    fn calling_code_table_is_prefix_free_and_valid() {
        for (a, ca) in CALLING_CODES {
            for code in *ca {
                assert!(CountryCode::parse(code).is_ok());
            }
            for (b, _) in CALLING_CODES {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
        assert_eq!(ISO_3166.split(' ').count(), 249);
    }

    #[test]
    fn plain_calling_codes() {
        let s = phone("+44 20 7946 0000");
        assert_eq!(s.countries, vec![c("GB")]);
        assert_eq!(s.strength, Strength::Medium);
        assert_eq!(s.evidence, "+442079460000");
        assert_eq!(phone("+353 1 555 0100").countries, vec![c("IE")]);
        assert_eq!(phone("0049 30 1234567").countries, vec![c("DE")]);
        assert_eq!(phone("+1-416-555-0199").countries, vec![c("CA")]);
        assert_eq!(phone("+1 876 555 0100").countries, vec![c("JM")]);
        assert_eq!(phone("+1 787 555 0100").countries, vec![c("PR")]);
        assert_eq!(phone("+44 1534 555555").countries, vec![c("JE")]);
        assert_eq!(phone("+358 18 12345").countries, vec![c("AX")]);
    }

    #[test]
    fn shared_codes_are_refined_or_left_ambiguous() {
        let us = phone("+1 212 555 0100");
        assert_eq!(us.countries, vec![c("US")]);
        assert_eq!(us.strength, Strength::Weak, "US is only by elimination");
        let tollfree = phone("+1 800 555 0100");
        assert!(tollfree.is_ambiguous());
        assert!(tollfree.countries.contains(&c("US")) && tollfree.countries.contains(&c("CA")));
        assert_eq!(phone("+7 701 555 0000").countries, vec![c("KZ")]);
        assert_eq!(phone("+7 495 555 0000").countries, vec![c("RU")]);
        assert!(phone("+590 590 123456").is_ambiguous());
    }

    #[test]
    fn bad_and_non_geographic_numbers() {
        assert!(matches!(
            phone_signal("020 7946 0000"),
            Err(PhoneError::NotInternational(_))
        ));
        assert!(matches!(
            phone_signal("+44 12"),
            Err(PhoneError::BadLength(_))
        ));
        assert!(matches!(
            phone_signal("+44 abc 1234567"),
            Err(PhoneError::NotInternational(_))
        ));
        assert!(matches!(
            phone_signal("+999 1234 5678"),
            Err(PhoneError::UnknownCallingCode(_))
        ));
        assert_eq!(phone_signal("+800 1234 5678").unwrap(), None);
        assert_eq!(phone_signal("+882 1234 5678").unwrap(), None);
    }

    #[test]
    fn cctld_signals() {
        let s = email_signal("someone@mail.example.co.uk").unwrap();
        assert_eq!(s.countries, vec![c("GB")]);
        assert_eq!(s.strength, Strength::Weak);
        assert_eq!(
            email_signal("x@example.ie").unwrap().countries,
            vec![c("IE")]
        );
        assert_eq!(email_signal("x@example.com"), None);
        assert_eq!(email_signal("x@example.io"), None, "vanity ccTLD");
        assert_eq!(email_signal("x@example.eu"), None, "not a country");
        assert_eq!(email_signal("no-at-sign.de"), None);
        let u = url_signal("https://user@files.example.de:8443/path?q=1").unwrap();
        assert_eq!(u.countries, vec![c("DE")]);
        assert_eq!(
            url_signal("files.example.fr").unwrap().countries,
            vec![c("FR")]
        );
        assert_eq!(url_signal("http://203.0.113.5/x"), None);
        assert_eq!(url_signal("http://[2001:db8::1]/x"), None);
        assert_eq!(url_signal("https://example.org/"), None);
    }

    #[test]
    fn conflicts_are_listed_with_reasons() {
        let ip = Signal {
            kind: SignalKind::IpGeolocation,
            countries: vec![c("GB")],
            strength: Strength::Medium,
            evidence: "81.2.69.160".into(),
            reason: "IP 81.2.69.160 is in GB per test db".into(),
        };
        let declared = Signal::declared_location(c("IE"), "profile: Dublin");
        let email = email_signal("x@example.co.uk").unwrap();
        let a = attribute(vec![ip, declared, email]);
        assert_eq!(a.top, Some(c("GB")), "{}", a.why);
        assert_eq!(a.conflicts, vec![c("IE")]);
        assert!(a.why.contains("conflict: IE"), "{}", a.why);
        assert!(a.why.contains("declared location IE"), "{}", a.why);
        assert!(a.why.contains("per test db"), "{}", a.why);
        assert_eq!(a.ranking[0].medium, 1);
        assert_eq!(a.ranking[0].weak, 1);
    }

    #[test]
    fn strong_beats_many_weaker_and_ties_are_undecided() {
        let mut v = vec![Signal::agency_input(
            c("CA"),
            "subscriber record",
            "ISP subscriber address in CA",
        )];
        for d in ["a@example.fr", "b@example.fr", "c@example.fr"] {
            v.push(email_signal(d).unwrap());
        }
        v.push(Signal::declared_location(c("FR"), "chat"));
        let a = attribute(v);
        assert_eq!(a.top, Some(c("CA")));
        assert_eq!(a.conflicts, vec![c("FR")]);

        let tie = attribute(vec![
            Signal::declared_location(c("GB"), "x"),
            Signal::declared_location(c("IE"), "y"),
        ]);
        assert_eq!(tie.top, None);
        assert!(tie.why.starts_with("undecided"), "{}", tie.why);
        assert_eq!(tie.conflicts.len(), 2);

        let amb = attribute(vec![phone("+1 800 555 0100")]);
        assert_eq!(amb.top, None, "{}", amb.why);
        assert!(attribute(vec![]).top.is_none());
    }

    #[test]
    fn repeated_identical_evidence_counts_once() {
        let ip = |e: &str, cc: &str| Signal {
            kind: SignalKind::IpGeolocation,
            countries: vec![c(cc)],
            strength: Strength::Medium,
            evidence: e.into(),
            reason: format!("IP {e} in {cc}"),
        };
        let a = attribute(vec![
            ip("81.2.69.160", "GB"),
            ip("81.2.69.160", "GB"),
            ip("81.2.69.160", "GB"),
            Signal::declared_location(c("IE"), "profile"),
            Signal::declared_location(c("IE"), "second chat statement"),
        ]);
        assert_eq!(a.top, Some(c("IE")), "{}", a.why);
        assert_eq!(a.ranking[1].medium, 1);
        assert_eq!(a.signals.len(), 5, "input kept whole");
    }

    #[test]
    fn ambiguous_evidence_breaks_a_tie() {
        let a = attribute(vec![
            Signal::declared_location(c("US"), "x"),
            Signal::declared_location(c("FR"), "y"),
            phone("+1 800 555 0100"),
        ]);
        assert_eq!(a.top, Some(c("US")), "{}", a.why);
    }
}
