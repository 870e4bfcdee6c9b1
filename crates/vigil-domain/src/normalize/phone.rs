//! Telephone numbers to E.164 (`+` and up to 15 digits), and the country a
//! number belongs to.
//!
//! Why a hand-written table and not libphonenumber: the domain crate carries no
//! heavy dependencies, and linking only needs (a) one canonical spelling per
//! number so the same number typed as `0171 234 5678`, `+49 171 2345678` and
//! `0049-171-2345678` meets itself, and (b) a country for dissemination. The
//! table below holds, per country, its calling code, its trunk prefix (the `0`
//! dialled before national numbers) and the range of national significant
//! number (NSN) lengths; it rejects numbers whose length no plan allows.
//! Calling codes that are not in the table are accepted in international form
//! with only the E.164 overall length check (country `None`).

/// One numbering plan: (ISO 3166-1 alpha-2, calling code, trunk prefix, NSN
/// min length, NSN max length). Where several countries share a code, the
/// first row is the one the code resolves to (`+44` → GB, not GG/JE/IM); the
/// other rows exist so they can be used as a default country.
const PLANS: &[(&str, &str, &str, u8, u8)] = &[
    ("US", "1", "1", 10, 10),
    ("CA", "1", "1", 10, 10),
    ("RU", "7", "8", 10, 10),
    ("KZ", "7", "8", 10, 10),
    ("EG", "20", "0", 8, 10),
    ("ZA", "27", "0", 9, 9),
    ("GR", "30", "", 10, 10),
    ("NL", "31", "0", 9, 9),
    ("BE", "32", "0", 8, 9),
    ("FR", "33", "0", 9, 9),
    ("ES", "34", "", 9, 9),
    ("HU", "36", "06", 8, 9),
    ("IT", "39", "", 6, 11),
    ("VA", "39", "", 6, 11),
    ("RO", "40", "0", 9, 9),
    ("CH", "41", "0", 9, 9),
    ("AT", "43", "0", 4, 13),
    ("GB", "44", "0", 9, 10),
    ("GG", "44", "0", 10, 10),
    ("JE", "44", "0", 10, 10),
    ("IM", "44", "0", 10, 10),
    ("DK", "45", "", 8, 8),
    ("SE", "46", "0", 7, 10),
    ("NO", "47", "", 8, 8),
    ("PL", "48", "", 9, 9),
    ("DE", "49", "0", 5, 13),
    ("PE", "51", "0", 8, 9),
    ("MX", "52", "", 10, 10),
    ("CU", "53", "0", 6, 8),
    ("AR", "54", "0", 10, 11),
    ("BR", "55", "0", 10, 11),
    ("CL", "56", "", 9, 9),
    ("CO", "57", "0", 8, 10),
    ("VE", "58", "0", 10, 10),
    ("MY", "60", "0", 8, 10),
    ("AU", "61", "0", 9, 9),
    ("ID", "62", "0", 8, 12),
    ("PH", "63", "0", 8, 10),
    ("NZ", "64", "0", 8, 10),
    ("SG", "65", "", 8, 8),
    ("TH", "66", "0", 8, 9),
    ("JP", "81", "0", 9, 10),
    ("KR", "82", "0", 8, 10),
    ("VN", "84", "0", 9, 10),
    ("CN", "86", "0", 9, 11),
    ("TR", "90", "0", 10, 10),
    ("IN", "91", "0", 10, 10),
    ("PK", "92", "0", 9, 10),
    ("AF", "93", "0", 9, 9),
    ("LK", "94", "0", 9, 9),
    ("MM", "95", "0", 7, 10),
    ("IR", "98", "0", 10, 10),
    ("MA", "212", "0", 9, 9),
    ("DZ", "213", "0", 8, 9),
    ("TN", "216", "", 8, 8),
    ("LY", "218", "0", 9, 9),
    ("SN", "221", "", 9, 9),
    ("GH", "233", "0", 9, 9),
    ("NG", "234", "0", 8, 10),
    ("ET", "251", "0", 9, 9),
    ("KE", "254", "0", 9, 9),
    ("TZ", "255", "0", 9, 9),
    ("UG", "256", "0", 9, 9),
    ("ZM", "260", "0", 9, 9),
    ("ZW", "263", "0", 9, 9),
    ("PT", "351", "", 9, 9),
    ("LU", "352", "", 4, 11),
    ("IE", "353", "0", 7, 9),
    ("IS", "354", "", 7, 9),
    ("AL", "355", "0", 8, 9),
    ("MT", "356", "", 8, 8),
    ("CY", "357", "", 8, 8),
    ("FI", "358", "0", 5, 12),
    ("BG", "359", "0", 8, 9),
    ("LT", "370", "8", 8, 8),
    ("LV", "371", "", 8, 8),
    ("EE", "372", "", 7, 8),
    ("MD", "373", "0", 8, 8),
    ("AM", "374", "0", 8, 8),
    ("BY", "375", "8", 9, 9),
    ("AD", "376", "", 6, 9),
    ("MC", "377", "0", 8, 9),
    ("SM", "378", "", 6, 10),
    ("UA", "380", "0", 9, 9),
    ("RS", "381", "0", 8, 9),
    ("ME", "382", "0", 8, 8),
    ("XK", "383", "0", 8, 9),
    ("HR", "385", "0", 8, 9),
    ("SI", "386", "0", 8, 8),
    ("BA", "387", "0", 8, 8),
    ("MK", "389", "0", 8, 8),
    ("CZ", "420", "", 9, 9),
    ("SK", "421", "0", 9, 9),
    ("LI", "423", "", 7, 9),
    ("HK", "852", "", 8, 8),
    ("MO", "853", "", 8, 8),
    ("KH", "855", "0", 8, 9),
    ("BD", "880", "0", 10, 10),
    ("TW", "886", "0", 8, 9),
    ("LB", "961", "0", 7, 8),
    ("JO", "962", "0", 8, 9),
    ("IQ", "964", "0", 8, 10),
    ("KW", "965", "", 8, 8),
    ("SA", "966", "0", 9, 9),
    ("OM", "968", "", 8, 8),
    ("AE", "971", "0", 8, 9),
    ("IL", "972", "0", 8, 9),
    ("BH", "973", "", 8, 8),
    ("QA", "974", "", 8, 8),
    ("NP", "977", "0", 8, 10),
    ("AZ", "994", "0", 9, 9),
    ("GE", "995", "0", 9, 9),
    ("KG", "996", "0", 9, 9),
    ("UZ", "998", "", 9, 9),
];

/// NANP area codes outside the United States (Canada and the Caribbean
/// members of `+1`). Any other geographic `+1` area code is the US or one of
/// its territories listed here; non-geographic codes (toll-free, premium) have
/// no country.
const NANP_AREAS: &[(&str, &str)] = &[
    ("204", "CA"),
    ("226", "CA"),
    ("236", "CA"),
    ("249", "CA"),
    ("250", "CA"),
    ("263", "CA"),
    ("289", "CA"),
    ("306", "CA"),
    ("343", "CA"),
    ("354", "CA"),
    ("365", "CA"),
    ("367", "CA"),
    ("368", "CA"),
    ("382", "CA"),
    ("387", "CA"),
    ("403", "CA"),
    ("416", "CA"),
    ("418", "CA"),
    ("428", "CA"),
    ("431", "CA"),
    ("437", "CA"),
    ("438", "CA"),
    ("450", "CA"),
    ("468", "CA"),
    ("474", "CA"),
    ("506", "CA"),
    ("514", "CA"),
    ("519", "CA"),
    ("548", "CA"),
    ("579", "CA"),
    ("581", "CA"),
    ("584", "CA"),
    ("587", "CA"),
    ("604", "CA"),
    ("613", "CA"),
    ("639", "CA"),
    ("647", "CA"),
    ("672", "CA"),
    ("683", "CA"),
    ("705", "CA"),
    ("709", "CA"),
    ("742", "CA"),
    ("753", "CA"),
    ("778", "CA"),
    ("780", "CA"),
    ("782", "CA"),
    ("807", "CA"),
    ("819", "CA"),
    ("825", "CA"),
    ("867", "CA"),
    ("873", "CA"),
    ("879", "CA"),
    ("902", "CA"),
    ("905", "CA"),
    ("242", "BS"),
    ("246", "BB"),
    ("264", "AI"),
    ("268", "AG"),
    ("284", "VG"),
    ("340", "VI"),
    ("345", "KY"),
    ("441", "BM"),
    ("473", "GD"),
    ("649", "TC"),
    ("658", "JM"),
    ("664", "MS"),
    ("670", "MP"),
    ("671", "GU"),
    ("684", "AS"),
    ("721", "SX"),
    ("758", "LC"),
    ("767", "DM"),
    ("784", "VC"),
    ("787", "PR"),
    ("809", "DO"),
    ("829", "DO"),
    ("849", "DO"),
    ("868", "TT"),
    ("869", "KN"),
    ("876", "JM"),
    ("939", "PR"),
];

/// NANP codes that are not tied to a place.
const NANP_NON_GEOGRAPHIC: &[&str] = &[
    "500", "521", "522", "533", "544", "566", "577", "588", "600", "700", "710", "800", "822",
    "833", "844", "855", "866", "877", "880", "881", "882", "888", "900",
];

/// Why a phone number was rejected (the caller wraps it in a `NormalizeError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhoneProblem {
    Characters,
    NoCountry,
    UnknownDefault(String),
    Length {
        code: String,
        nsn: usize,
        min: u8,
        max: u8,
    },
    TooLong,
    TooShort,
}

impl std::fmt::Display for PhoneProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Characters => f.write_str("only digits, spaces, + - . / ( ) are allowed"),
            Self::NoCountry => f.write_str(
                "national number without a country: write it as +<code>… or give a default country",
            ),
            Self::UnknownDefault(c) => write!(f, "no numbering plan known for country {c:?}"),
            Self::Length {
                code,
                nsn,
                min,
                max,
            } if min == max => {
                write!(
                    f,
                    "+{code} numbers have {min} digits after the code, not {nsn}"
                )
            }
            Self::Length {
                code,
                nsn,
                min,
                max,
            } => write!(
                f,
                "+{code} numbers have {min} to {max} digits after the code, not {nsn}"
            ),
            Self::TooLong => f.write_str("longer than the 15 digits E.164 allows"),
            Self::TooShort => f.write_str("too short to be a telephone number"),
        }
    }
}

/// The plan whose calling code prefixes `digits` (calling codes are
/// prefix-free, so at most one code length matches).
fn plan_for_digits(digits: &str) -> Option<(&'static str, &'static str, u8, u8)> {
    (1..=3).find_map(|n| {
        let code = digits.get(..n)?;
        PLANS
            .iter()
            .find(|p| p.1 == code)
            .map(|p| (p.0, p.1, p.3, p.4))
    })
}

/// Normalises `raw` to E.164 (`+4917123456789`).
///
/// International forms (`+…`, `00…`, and `011…` when the default country is in
/// `+1`) are read as such; anything else is a national number of
/// `default_country` (ISO alpha-2), whose trunk prefix is removed. Extensions
/// and letters are rejected rather than guessed.
pub(crate) fn to_e164(raw: &str, default_country: Option<&str>) -> Result<String, PhoneProblem> {
    // "+49 (0)171 …" is a common way of printing a number: the bracketed 0 is
    // the trunk prefix, dialled only from inside the country.
    let t = raw.trim();
    let owned;
    let t = if t.starts_with('+') && t.contains("(0)") {
        owned = t.replacen("(0)", "", 1);
        owned.as_str()
    } else {
        t
    };
    let mut digits = String::with_capacity(t.len());
    let mut plus = false;
    for (i, c) in t.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => return Err(PhoneProblem::Characters),
        }
    }
    let default = match default_country {
        Some(c) => {
            let c = c.trim().to_ascii_uppercase();
            Some(
                *PLANS
                    .iter()
                    .find(|p| p.0 == c)
                    .ok_or(PhoneProblem::UnknownDefault(c))?,
            )
        }
        None => None,
    };
    let international = if plus {
        Some(digits.as_str())
    } else if let Some(rest) = digits.strip_prefix("00") {
        Some(rest)
    } else if let (Some(rest), Some(("US" | "CA", ..))) = (digits.strip_prefix("011"), default) {
        Some(rest)
    } else {
        None
    };
    let full = match international {
        Some(rest) => rest.to_string(),
        None => {
            let (_, code, trunk, _, _) = default.ok_or(PhoneProblem::NoCountry)?;
            let nsn = if !trunk.is_empty() {
                digits.strip_prefix(trunk).unwrap_or(&digits)
            } else {
                &digits
            };
            format!("{code}{nsn}")
        }
    };
    if full.len() > 15 {
        return Err(PhoneProblem::TooLong);
    }
    if full.len() < 7 || full.starts_with('0') {
        return Err(PhoneProblem::TooShort);
    }
    if let Some((_, code, min, max)) = plan_for_digits(&full) {
        let nsn = full.len() - code.len();
        if nsn < usize::from(min) || nsn > usize::from(max) {
            return Err(PhoneProblem::Length {
                code: code.to_string(),
                nsn,
                min,
                max,
            });
        }
    }
    Ok(format!("+{full}"))
}

/// The ISO 3166-1 alpha-2 country of an E.164 number, or `None` when the
/// calling code is unknown to the table or the number is non-geographic.
///
/// `+1` is resolved by area code (Canada and the Caribbean from a table; other
/// geographic area codes are the US); `+7` by the first NSN digit (6 and 7 are
/// Kazakhstan, the rest Russia). Codes shared by several territories resolve to
/// the main one (`+44` → GB), because the dissemination crate needs a
/// competent country, and that country can forward.
pub fn phone_country(e164: &str) -> Option<&'static str> {
    let digits = e164.trim().strip_prefix('+')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (iso, code, ..) = plan_for_digits(digits)?;
    let nsn = &digits[code.len()..];
    match code {
        "1" => {
            let area = nsn.get(..3)?;
            if nsn.len() != 10 {
                return None;
            }
            if let Some((_, c)) = NANP_AREAS.iter().find(|(a, _)| *a == area) {
                return Some(c);
            }
            let b = area.as_bytes();
            // Geographic NANP area codes are [2-9][0-8][0-9], never N11.
            let geographic = b[0] >= b'2' && b[1] != b'9' && !(b[1] == b'1' && b[2] == b'1');
            (geographic && !NANP_NON_GEOGRAPHIC.contains(&area)).then_some("US")
        }
        "7" => match nsn.as_bytes().first()? {
            b'6' | b'7' => Some("KZ"),
            _ => Some("RU"),
        },
        _ => Some(iso),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_meet() {
        let want = "+491711234567";
        assert_eq!(to_e164("0171 1234567", Some("DE")).unwrap(), want);
        assert_eq!(to_e164("0171 1234567", Some("de")).unwrap(), want);
        assert_eq!(to_e164("+49 (0)171 123-4567", None).unwrap(), want);
        assert_eq!(to_e164("0049-171-1234567", None).unwrap(), want);
        assert_eq!(to_e164("+49.171.1234567", Some("FR")).unwrap(), want);
        assert_eq!(
            to_e164("(202) 555-0143", Some("US")).unwrap(),
            "+12025550143"
        );
        assert_eq!(
            to_e164("1 202 555 0143", Some("US")).unwrap(),
            "+12025550143"
        );
        assert_eq!(
            to_e164("011 44 20 7946 0958", Some("US")).unwrap(),
            "+442079460958"
        );
        assert_eq!(
            to_e164("020 7946 0958", Some("GB")).unwrap(),
            "+442079460958"
        );
        assert_eq!(
            to_e164("8 912 345 67 89", Some("RU")).unwrap(),
            "+79123456789"
        );
        // Italy keeps the leading 0 of landlines in the international form.
        assert_eq!(
            to_e164("06 6982 1234", Some("IT")).unwrap(),
            "+390669821234"
        );
    }

    #[test]
    fn impossible_numbers_are_rejected() {
        assert_eq!(to_e164("0171 1234567", None), Err(PhoneProblem::NoCountry));
        assert!(matches!(
            to_e164("+33 6 12 34 56", None),
            Err(PhoneProblem::Length { nsn: 7, .. })
        ));
        assert!(matches!(
            to_e164("+1 202 555 01431", None),
            Err(PhoneProblem::Length { .. })
        ));
        assert_eq!(
            to_e164("+12345678901234567", None),
            Err(PhoneProblem::TooLong)
        );
        assert_eq!(to_e164("+12", None), Err(PhoneProblem::TooShort));
        assert_eq!(
            to_e164("0171 CALL ME", Some("DE")),
            Err(PhoneProblem::Characters)
        );
        assert_eq!(
            to_e164("+49 171 1234567 ext 5", None),
            Err(PhoneProblem::Characters)
        );
        assert!(matches!(
            to_e164("0171", Some("XX")),
            Err(PhoneProblem::UnknownDefault(_))
        ));
        let msg = PhoneProblem::Length {
            code: "33".into(),
            nsn: 7,
            min: 9,
            max: 9,
        }
        .to_string();
        assert!(
            msg.contains("+33") && msg.contains('9') && msg.contains('7'),
            "{msg}"
        );
    }

    #[test]
    fn unknown_calling_codes_pass_the_overall_length_check_only() {
        assert_eq!(to_e164("+888 1234 5678", None).unwrap(), "+88812345678");
        assert_eq!(phone_country("+88812345678"), None);
    }

    #[test]
    fn countries_of_numbers() {
        assert_eq!(phone_country("+491711234567"), Some("DE"));
        assert_eq!(phone_country("+442079460958"), Some("GB"));
        assert_eq!(phone_country("+390669821234"), Some("IT"));
        assert_eq!(phone_country("+12025550143"), Some("US"));
        assert_eq!(phone_country("+14165550143"), Some("CA"));
        assert_eq!(phone_country("+18765550143"), Some("JM"));
        assert_eq!(
            phone_country("+18005550143"),
            None,
            "toll-free has no country"
        );
        assert_eq!(phone_country("+1202555"), None, "wrong length");
        assert_eq!(phone_country("+79123456789"), Some("RU"));
        assert_eq!(phone_country("+77011234567"), Some("KZ"));
        assert_eq!(phone_country("+353861234567"), Some("IE"));
        assert_eq!(phone_country("491711234567"), None, "not E.164");
        assert_eq!(phone_country("+49a"), None);
        assert_eq!(phone_country(""), None);
    }
}
