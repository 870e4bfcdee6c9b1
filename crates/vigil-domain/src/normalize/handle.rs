//! Handles (nicknames, user names): the similarity key, the token form and
//! the optional `@network` part.
//!
//! A handle is compared by its *key*: the nickname folded so that the ways
//! people disguise or restyle one name meet:
//!
//! 1. Unicode NFKC (fullwidth `Ｇ` → `G`, ligatures, circled and mathematical
//!    letters), then accents removed (NFKD without combining marks — this also
//!    strips "zalgo" stacks);
//! 2. confusable letters from Cyrillic and Greek mapped to their Latin
//!    look-alike (`Сон` written with Cyrillic С and о), plus a few Latin
//!    letters with strokes (`ł`, `ø`, `đ`) and ligatures (`æ`, `ß`);
//! 3. a decorative wrapper (`xX…Xx`, `xxx_…_xxx`) is removed;
//! 4. leetspeak: `0→o 1→i 3→e 4→a 5→s 7→t` when the digit sits *inside* a
//!    word (`g0d`, `h4x0r`), starts one (`0f`, `4dam`, `5733l` — a leading
//!    run is folded only if every digit has a letter reading), or is a single
//!    digit ending a word in a handle that uses leetspeak elsewhere (`c0lb1`).
//!    Otherwise digits are kept: a trailing number (`john1985`, `john1`) or a
//!    number on its own (`1337`) is how people make a taken name their own,
//!    and folding it would merge different people. `@` and `$` next to a
//!    letter are `a` and `s`; `!` and `|` between letters are `i`;
//! 5. case folded, and `l` folded into `i` — `1`, `l`, `I`, `|` are written for
//!    one another, so the key cannot tell them apart (the raw value can);
//! 6. everything that is not a letter or digit removed, so `G.O.D.`,
//!    `g_o_d` and `GOD` all have the key `god` — except that a number next to
//!    a word keeps one `_` beside it (`John-1985` → `john_1985`).
//!
//! The *token form* splits the same folded nickname into words at separators,
//! camelCase boundaries and edge digit runs (`Son_of_G0d`, `SonOfGod` →
//! `son of god`), merging runs of single letters (`G.O.D.` → `god`), so that
//! one name containing another (`sonofgod` ⊇ `god`) can be detected.
//!
//! A handle may carry its network or platform: `nick@irc.example.net`. The
//! network is recognised only when the part after the last `@` looks like a
//! host name (it has a dot); it is lowercased and kept in the *normalised
//! value* (`god@irc.example.net`), so exact links respect the network, but it
//! is not part of the key, because the same person re-uses names across
//! networks.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A handle split into its comparable forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleForms {
    /// What the store keeps and indexes: `key` or `key@network`.
    pub normalized: String,
    /// The similarity key: folded nickname without the network.
    pub key: String,
    /// Lowercased network or platform host, when the handle named one.
    pub network: Option<String>,
    /// Word tokens of the folded nickname (see the module docs).
    pub tokens: Vec<String>,
}

/// Splits `nick@host.example` into the nickname and the lowercased host. The
/// host must look like a host name (letters, digits, `-`, `.`, with at least
/// one inner dot) and the nickname must not be empty; otherwise the `@` is
/// part of the nickname (leetspeak `a`, or a stray sigil).
pub fn split_network(raw: &str) -> (&str, Option<String>) {
    let raw = raw.trim();
    if let Some((nick, host)) = raw.rsplit_once('@') {
        let hostlike = host.contains('.')
            && !host.starts_with('.')
            && !host.ends_with('.')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if hostlike && !nick.trim().is_empty() {
            return (nick.trim(), Some(host.to_ascii_lowercase()));
        }
    }
    (raw, None)
}

/// Maps a confusable letter to its Latin look-alike, keeping its case.
fn confusable(c: char) -> Option<&'static str> {
    Some(match c {
        // Cyrillic capitals and small letters.
        'А' => "A",
        'В' => "B",
        'Е' => "E",
        'К' => "K",
        'М' => "M",
        'Н' => "H",
        'О' => "O",
        'Р' => "P",
        'С' => "C",
        'Т' => "T",
        'Х' => "X",
        'У' => "Y",
        'Ѕ' => "S",
        'І' => "I",
        'Ј' => "J",
        'Ԁ' => "D",
        'Ԛ' => "Q",
        'Ԝ' => "W",
        'а' => "a",
        'в' => "b",
        'е' => "e",
        'к' => "k",
        'м' => "m",
        'н' => "h",
        'о' => "o",
        'р' => "p",
        'с' => "c",
        'т' => "t",
        'у' => "y",
        'х' => "x",
        'ѕ' => "s",
        'і' => "i",
        'ј' => "j",
        'һ' => "h",
        'ԁ' => "d",
        'ԛ' => "q",
        'ԝ' => "w",
        'ӏ' => "l",
        'ɡ' => "g",
        // Greek.
        'Α' => "A",
        'Β' => "B",
        'Ε' => "E",
        'Ζ' => "Z",
        'Η' => "H",
        'Ι' => "I",
        'Κ' => "K",
        'Μ' => "M",
        'Ν' => "N",
        'Ο' => "O",
        'Ρ' => "P",
        'Τ' => "T",
        'Υ' => "Y",
        'Χ' => "X",
        'α' => "a",
        'β' => "b",
        'γ' => "y",
        'ε' => "e",
        'η' => "n",
        'ι' => "i",
        'κ' => "k",
        'ν' => "v",
        'ο' => "o",
        'ρ' => "p",
        'τ' => "t",
        'υ' => "u",
        'χ' => "x",
        'ω' => "w",
        'ϲ' => "c",
        // Latin letters that do not decompose.
        'ı' => "i",
        'ł' => "l",
        'Ł' => "L",
        'ø' => "o",
        'Ø' => "O",
        'đ' => "d",
        'Đ' => "D",
        'ð' => "d",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'ß' => "ss",
        _ => return None,
    })
}

/// Leetspeak digit → letter.
fn leet_digit(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        _ => return None,
    })
}

/// Steps 1–2 of the module docs: NFKC, accents off, confusables mapped.
fn fold_script(nick: &str) -> String {
    let nfkc: String = nick.nfkc().collect();
    let mut out = String::with_capacity(nfkc.len());
    for c in nfkc.nfkd().filter(|c| !is_combining_mark(*c)) {
        match confusable(c) {
            Some(s) => out.push_str(s),
            None => out.push(c),
        }
    }
    out
}

fn is_symbol(c: char) -> bool {
    matches!(c, '@' | '$' | '!' | '|')
}

/// Resolves leet digits and symbols inside one segment (a run without
/// separators) and splits it into words: edge digit runs, camelCase.
fn segment_words(seg: &[char], leet_mode: bool, words: &mut Vec<String>) {
    let letterish = |c: char| c.is_alphabetic() || is_symbol(c);
    let n = seg.len();
    // Pass 1: fold leet where the rules say so; the folded letter takes the
    // case of the next letter (so `G0D` stays one capitalised word and
    // `SonOfG0d` still splits as Son|Of|God).
    let mut folded: Vec<char> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let c = seg[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < n && seg[i].is_ascii_digit() {
                i += 1;
            }
            let before = start > 0 && letterish(seg[start - 1]);
            let after = i < n && letterish(seg[i]);
            let run = &seg[start..i];
            let all_leet = run.iter().all(|d| leet_digit(*d).is_some());
            let leading = start == 0 && after && (run.len() == 1 || all_leet);
            let trailing = i == n && before && run.len() == 1 && leet_mode;
            // A run inside a word is leetspeak only if every digit has a
            // letter reading (`h4x0r`), not `john1985smith`.
            let fold = (before && after && all_leet) || leading || trailing;
            let upper = seg[i..]
                .iter()
                .find(|c| c.is_alphabetic())
                .or(seg[..start].iter().rev().find(|c| c.is_alphabetic()))
                .is_some_and(|c| c.is_uppercase());
            for &d in &seg[start..i] {
                match (fold, leet_digit(d)) {
                    (true, Some(l)) if upper => folded.push(l.to_ascii_uppercase()),
                    (true, Some(l)) => folded.push(l),
                    _ => folded.push(d),
                }
            }
            continue;
        }
        if is_symbol(c) {
            let prev = i > 0 && seg[i - 1].is_alphanumeric();
            let next = i + 1 < n && seg[i + 1].is_alphanumeric();
            let letter = match c {
                '@' if prev || next => Some('a'),
                '$' if prev || next => Some('s'),
                '!' | '|' if prev && next => Some('i'),
                _ => None,
            };
            if let Some(l) = letter {
                let upper = seg[i + 1..]
                    .iter()
                    .find(|c| c.is_alphabetic())
                    .is_some_and(|c| c.is_uppercase());
                folded.push(if upper { l.to_ascii_uppercase() } else { l });
            } else {
                // An unattached symbol separates words.
                folded.push(' ');
            }
            i += 1;
            continue;
        }
        folded.push(c);
        i += 1;
    }
    // Pass 2: split at remaining symbols-turned-spaces, letter/digit
    // boundaries and camelCase boundaries.
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    for (k, &c) in folded.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut cur, words);
            continue;
        }
        if let Some(&p) = k.checked_sub(1).and_then(|j| folded.get(j)) {
            let next = folded.get(k + 1).copied();
            let digit_edge = p.is_ascii_digit() != c.is_ascii_digit() && p.is_alphanumeric() && {
                // Unfolded digits inside a word (`gr8t`) stay in it;
                // only a digit run that reaches the segment's end or
                // start is a separate word.
                if c.is_ascii_digit() {
                    folded[k..]
                        .iter()
                        .take_while(|c| c.is_alphanumeric())
                        .all(|c| c.is_ascii_digit())
                } else {
                    folded[..k]
                        .iter()
                        .rev()
                        .take_while(|c| c.is_alphanumeric())
                        .all(|c| c.is_ascii_digit())
                }
            };
            let camel = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next.is_some_and(|n| n.is_lowercase()));
            if digit_edge || camel {
                flush(&mut cur, words);
            }
        }
        cur.push(c);
    }
    flush(&mut cur, words);
}

/// Removes a decorative wrapper: `xX…Xx`, `xxx_…_xxx` (two or three x on
/// *both* ends, with any separators next to them), when at least three
/// letters or digits remain. Decoration is no more part of a name than a
/// separator is; requiring both ends keeps names that merely start with
/// `xx`.
fn strip_wrapper(chars: &[char]) -> &[char] {
    let is_x = |c: &char| matches!(c, 'x' | 'X');
    let is_sep = |c: &char| !c.is_alphanumeric();
    let lead = chars.iter().take_while(|c| is_x(c)).count();
    let trail = chars.iter().rev().take_while(|c| is_x(c)).count();
    if !(2..=3).contains(&lead) || !(2..=3).contains(&trail) || lead + trail >= chars.len() {
        return chars;
    }
    let mut core = &chars[lead..chars.len() - trail];
    while core.first().is_some_and(is_sep) {
        core = &core[1..];
    }
    while core.last().is_some_and(is_sep) {
        core = &core[..core.len() - 1];
    }
    if core.iter().filter(|c| c.is_alphanumeric()).count() >= 3 {
        core
    } else {
        chars
    }
}

/// Lowercases one word and applies the `l`→`i` fold.
fn fold_case(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .map(|c| if c == 'l' { 'i' } else { c })
        .collect()
}

/// The token form of a nickname (without `@network`): folded words in order,
/// runs of single letters merged (`G.O.D.` → `["god"]`,
/// `Son_of_G0d` → `["son", "of", "god"]`).
pub fn handle_tokens(nick: &str) -> Vec<String> {
    let nick = nick.trim().trim_start_matches(['@', '+', '~', '%', '&']);
    let folded: Vec<char> = fold_script(nick).chars().collect();
    let chars = strip_wrapper(&folded);
    let is_sep = |c: &char| !(c.is_alphanumeric() || is_symbol(*c));
    // Does this handle use leetspeak at all (a digit between letters)? Then
    // a single digit ending a word is leetspeak too (`c0lb1` → `colbi`),
    // while in `john1` it stays a number.
    let letterish = |c: char| c.is_alphabetic() || is_symbol(c);
    let leet_mode = chars.split(is_sep).any(|seg| {
        let interior = seg.windows(3).any(|w| {
            letterish(w[0])
                && leet_digit(w[1]).is_some()
                && (letterish(w[2]) || w[2].is_ascii_digit())
        });
        let digits = seg.iter().take_while(|c| c.is_ascii_digit()).count();
        let leading = digits > 0
            && seg[..digits].iter().all(|d| leet_digit(*d).is_some())
            && seg.get(digits).is_some_and(|c| letterish(*c));
        (interior || leading) && seg.iter().any(|c| c.is_alphabetic())
    });
    let mut raw_words = Vec::new();
    for seg in chars.split(is_sep) {
        if !seg.is_empty() {
            segment_words(seg, leet_mode, &mut raw_words);
        }
    }
    let mut tokens: Vec<String> = Vec::with_capacity(raw_words.len());
    let mut prev_single = false;
    for w in raw_words {
        let w = fold_case(&w);
        if w.is_empty() {
            continue;
        }
        let single = w.chars().count() == 1 && w.chars().all(char::is_alphabetic);
        match tokens.last_mut() {
            Some(last) if single && prev_single => last.push_str(&w),
            _ => tokens.push(w),
        }
        prev_single = single;
    }
    tokens
}

/// Joins tokens into a key: words run together (`son·of·god` → `sonofgod`),
/// but a number next to a word keeps a `_` between them (`john·1985` →
/// `john_1985`). Without it the number would sit inside a word and read as
/// leetspeak when the key is normalised again; with it the key is a fixed
/// point of normalisation.
pub fn join_tokens(tokens: &[String]) -> String {
    let mut out = String::new();
    let numeric = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 && (numeric(t) || numeric(&tokens[i - 1])) {
            out.push('_');
        }
        out.push_str(t);
    }
    out
}

/// The similarity key of a nickname (without `@network`): its tokens joined
/// by [`join_tokens`]. Empty when the nickname has no letters or digits.
pub fn handle_key(nick: &str) -> String {
    join_tokens(&handle_tokens(nick))
}

/// All forms of a handle value (`nick` or `nick@network`). A nickname with no
/// letters or digits (`^_^`) keeps its trimmed, lowercased text as key so it
/// still meets itself exactly; `None` only for an empty nickname.
pub fn handle_forms(raw: &str) -> Option<HandleForms> {
    let (nick, network) = split_network(raw);
    if nick.trim().is_empty() {
        return None;
    }
    let mut tokens = handle_tokens(nick);
    if tokens.is_empty() {
        let fallback: String = nick
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        tokens = vec![fallback];
    }
    let key = join_tokens(&tokens);
    let normalized = match &network {
        Some(n) => format!("{key}@{n}"),
        None => key.clone(),
    };
    Some(HandleForms {
        normalized,
        key,
        network,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> String {
        handle_key(s)
    }

    #[test]
    fn separators_and_case_meet() {
        assert_eq!(key("G.O.D."), "god");
        assert_eq!(key("g_o_d"), "god");
        assert_eq!(key("GOD"), "god");
        assert_eq!(key("g-o-d"), "god");
        assert_eq!(key("  G O D "), "god");
    }

    #[test]
    fn leetspeak_folds_inside_words_only() {
        assert_eq!(key("G0D"), "god");
        assert_eq!(key("g0d"), "god");
        assert_eq!(key("h4x0r"), "haxor");
        assert_eq!(key("d@rk_w0lf"), "darkwoif");
        assert_eq!(key("$ilent"), "siient");
        assert_eq!(key("s0n_0f_g0d"), "sonofgod");
        assert_eq!(key("4dam"), "adam");
        // Trailing numbers and plain numbers are not leetspeak.
        assert_eq!(key("john1985"), "john_1985");
        assert_eq!(key("John-1985"), "john_1985");
        assert_eq!(key("john1985smith"), "john1985smith");
        assert_eq!(key("john1"), "john_1");
        assert_eq!(key("1337"), "1337");
        // Digits without a letter reading stay (gr8).
        assert_eq!(key("gr8t"), "gr8t");
        // A trailing single digit is leetspeak when the handle uses it
        // elsewhere, a number otherwise.
        assert_eq!(key("c0lb1"), key("colbi"));
        assert_eq!(key("uncl3__51r4"), key("unclesira"));
        assert_eq!(key("5733LTARY"), key("steeltary"));
        assert_eq!(key("d4rkwolf77"), "darkwoif_77");
        // l, 1, I and | are one letter in keys.
        assert_eq!(key("Bill"), key("B1ll"));
        assert_eq!(key("Bill"), key("B|ll"));
        assert_eq!(key("BILL"), key("bill"));
    }

    #[test]
    fn confusables_and_fullwidth_fold_to_latin() {
        // Cyrillic ѕ (dze) and Greek Ο; Cyrillic С is a C.
        assert_eq!(key("\u{0455}\u{043e}n_of_G\u{039f}d"), "sonofgod");
        assert_eq!(key("\u{0421}\u{043e}\u{0440}"), "cop");
        assert_eq!(key("ＧＯＤ"), "god");
        assert_eq!(key("Ｊ0ｈｎ_ＳＭＩＴＨ"), key("john_smith"));
        assert_eq!(key("Dé\u{301}mon"), "demon");
        assert_eq!(key("Łukasz"), "iukasz");
        assert_eq!(key("Straße"), "strasse");
    }

    #[test]
    fn decorative_wrappers_are_removed() {
        assert_eq!(key("xXd3sv0Xx"), "desvo");
        assert_eq!(key("xXx_DarK_xXx"), "dark");
        assert_eq!(key("XX-Son-Of-God-XX"), "sonofgod");
        // One-sided or too short: kept.
        assert_eq!(key("xxjinx"), "xxjinx");
        assert_eq!(key("xxxx"), "xxxx");
        assert_eq!(key("xXyXx"), "xxyxx");
    }

    #[test]
    fn token_form_splits_words() {
        assert_eq!(handle_tokens("Son_of_G0d"), ["son", "of", "god"]);
        assert_eq!(handle_tokens("SonOfGod"), ["son", "of", "god"]);
        assert_eq!(handle_tokens("son of god"), ["son", "of", "god"]);
        assert_eq!(handle_tokens("G.O.D."), ["god"]);
        assert_eq!(handle_tokens("darkAngel1985"), ["dark", "angei", "1985"]);
        assert_eq!(handle_tokens("XMLParser"), ["xmi", "parser"]);
        assert_eq!(handle_tokens("@op_nick"), ["op", "nick"]);
        assert!(handle_tokens("^_^").is_empty());
    }

    #[test]
    fn network_is_kept_out_of_the_key() {
        let f = handle_forms("G.O.D.@IRC.Example.NET").unwrap();
        assert_eq!(f.key, "god");
        assert_eq!(f.network.as_deref(), Some("irc.example.net"));
        assert_eq!(f.normalized, "god@irc.example.net");
        // `@` without a host is leetspeak.
        let f = handle_forms("g@te").unwrap();
        assert_eq!((f.key.as_str(), f.network), ("gate", None));
        assert_eq!(handle_forms("^_^").unwrap().normalized, "^_^");
        assert!(handle_forms("  ").is_none());
    }

    #[test]
    fn keys_are_idempotent() {
        for s in [
            "G.O.D.",
            "Son_of_G0d",
            "h4x0r",
            "john1985",
            "Łukasz",
            "4dam",
            "^_^",
        ] {
            let once = handle_forms(s).unwrap().normalized;
            assert_eq!(handle_forms(&once).unwrap().normalized, once, "{s}");
        }
    }
}
