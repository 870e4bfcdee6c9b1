//! URLs, messenger accounts, chat rooms, media hashes, payment accounts and
//! device serials.

use super::phone;

/// Canonical URL text: scheme and host lowercased, a missing scheme read as
/// `http`, user information and default ports (`:80`, `:443`, `:21`) dropped,
/// fragment dropped (it never reaches the server), one trailing slash dropped
/// (`/path/` and `/path` and the bare host are served alike by nearly every
/// site), percent-escapes upper-cased. Path and query are kept verbatim
/// otherwise: they are case-sensitive on most servers.
pub(crate) fn canonical_url(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim();
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("spaces or control characters inside");
    }
    let (scheme, rest) = match t.split_once("://") {
        Some((s, r))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_ascii_lowercase(), r)
        }
        Some(_) => return Err("malformed scheme"),
        None => ("http".to_string(), t),
    };
    let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => (&hostport[..=end], hostport[end + 1..].strip_prefix(':')),
            None => return Err("unclosed [ in host"),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = host.trim_end_matches('.').to_lowercase();
    if host.is_empty() {
        return Err("no host");
    }
    let default_port = match scheme.as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    };
    let port = match port {
        Some("") | None => None,
        Some(p) if !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 5 => {
            return Err("port is not a number");
        }
        Some(p) if Some(p) == default_port => None,
        Some(p) => Some(p),
    };
    let mut tail = tail.to_string();
    if let Some(q) = tail.find('?') {
        if tail[..q].ends_with('/') {
            tail.remove(q - 1);
        }
    } else if tail.ends_with('/') {
        tail.pop();
    }
    let mut out = format!("{scheme}://{host}");
    if let Some(p) = port {
        out.push(':');
        out.push_str(p);
    }
    // Upper-case the hex of percent-escapes (%2f and %2F are the same byte).
    let bytes = tail.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            out.push('%');
            out.push(char::from(bytes[i + 1].to_ascii_uppercase()));
            out.push(char::from(bytes[i + 2].to_ascii_uppercase()));
            i += 3;
        } else {
            let ch_len = tail[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&tail[i..i + ch_len]);
            i += ch_len;
        }
    }
    Ok(out)
}

/// `platform:id` with the platform lowercased and the id by platform rules:
/// * `icq`: digits only (separators removed) — ICQ numbers are numbers;
/// * `whatsapp`, `signal`: the account is a phone number, in E.164 (it must be
///   written internationally);
/// * `threema`: 8 characters, uppercased (Threema IDs are shown uppercase);
/// * `telegram`, `kik`, `skype`, `discord`, `wickr`, `snapchat` and any other
///   platform: a leading `@` removed and lowercased — these user names are
///   case-insensitive, and an unknown platform is safer compared
///   case-insensitively than not at all.
pub(crate) fn canonical_messenger(raw: &str) -> Result<String, String> {
    let (platform, id) = raw.trim().split_once(':').ok_or("expected platform:id")?;
    let platform = platform.trim().to_lowercase();
    let id = id.trim();
    if platform.is_empty()
        || !platform
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err("platform must be a single word".into());
    }
    if id.is_empty() {
        return Err("empty id".into());
    }
    let id = match platform.as_str() {
        "icq" => {
            let d: String = id.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            if d.len() < 5 || !d.chars().all(|c| c.is_ascii_digit()) {
                return Err("ICQ numbers are 5 or more digits".into());
            }
            d
        }
        "whatsapp" | "signal" => phone::to_e164(id, None).map_err(|p| p.to_string())?,
        "threema" => {
            let u = id.to_ascii_uppercase();
            if u.len() != 8 || !u.chars().all(|c| c.is_ascii_alphanumeric() || c == '*') {
                return Err("Threema IDs are 8 letters or digits".into());
            }
            u
        }
        _ => {
            let id = id.strip_prefix('@').unwrap_or(id).to_lowercase();
            if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err("ids have no spaces".into());
            }
            id
        }
    };
    Ok(format!("{platform}:{id}"))
}

/// IRC case mapping (RFC 1459): `[]\~` are the upper case of `{}|^`.
fn irc_lower(c: char) -> char {
    match c {
        '[' => '{',
        ']' => '}',
        '\\' => '|',
        '~' => '^',
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// `#room@network`: the room name lowercased with the IRC case mapping (room
/// names are case-insensitive on IRC and on the platforms that copied it), the
/// network lowercased. A missing `#`/`&` sigil is added as `#`, because logs
/// and officers write the same room both ways.
pub(crate) fn canonical_room(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim();
    let (room, network) = match t.rsplit_once('@') {
        Some((r, n)) if n.contains('.') && !n.contains(' ') => (r.trim(), Some(n.trim())),
        _ => (t, None),
    };
    let name = room.trim_start_matches(['#', '&']);
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c.is_control())
    {
        return Err("room names have no spaces or commas");
    }
    let sigil = if room.starts_with('&') { '&' } else { '#' };
    let mut out = String::with_capacity(t.len() + 1);
    out.push(sigil);
    out.extend(name.chars().map(irc_lower));
    if let Some(n) = network {
        out.push('@');
        out.push_str(&n.to_lowercase());
    }
    Ok(out)
}

/// Lowercase hex of an MD5 (32), SHA-1 (40) or SHA-256 / PDQ (64) digest; an
/// `md5:`-style prefix is dropped.
pub(crate) fn canonical_media_hash(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim();
    let hex = t.split_once(':').map_or(t, |(_, h)| h).trim();
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("not hexadecimal");
    }
    match hex.len() {
        32 | 40 | 64 => Ok(hex.to_ascii_lowercase()),
        _ => Err("expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256/PDQ) hex digits"),
    }
}

/// Payment accounts: spaces and dashes removed (card numbers and IBANs are
/// printed in groups); IBAN-shaped values uppercased. Other values keep their
/// case: cryptocurrency addresses (base58) are case-sensitive.
pub(crate) fn canonical_payment(raw: &str) -> String {
    let v: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let b = v.as_bytes();
    let iban = b.len() >= 15
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b.iter().all(u8::is_ascii_alphanumeric);
    if iban { v.to_ascii_uppercase() } else { v }
}

/// Device serials and IMEIs: whitespace removed, uppercased (serials are
/// printed in upper case and read back in any case).
pub(crate) fn canonical_serial(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = |s| canonical_url(s).unwrap();
        assert_eq!(
            c("HTTP://Forum.Example.COM:80/Board/?t=1#post5"),
            "http://forum.example.com/Board?t=1"
        );
        assert_eq!(c("https://example.org:443/"), "https://example.org");
        assert_eq!(
            c("https://example.org:8443/a/"),
            "https://example.org:8443/a"
        );
        assert_eq!(c("example.net/x%2fy"), "http://example.net/x%2Fy");
        assert_eq!(c("http://user:pw@example.com./p"), "http://example.com/p");
        assert_eq!(c("http://[2001:DB8::1]:80/"), "http://[2001:db8::1]");
        assert!(canonical_url("http://exa mple.com").is_err());
        assert!(canonical_url("http://example.com:http/").is_err());
        assert!(canonical_url("http:///path").is_err());
    }

    #[test]
    fn messengers() {
        let c = |s| canonical_messenger(s).unwrap();
        assert_eq!(c("Telegram:@Son_Of_God"), "telegram:son_of_god");
        assert_eq!(c("ICQ: 123-456-789"), "icq:123456789");
        assert_eq!(c("WhatsApp:+49 171 1234567"), "whatsapp:+491711234567");
        assert_eq!(c("threema:abcd1234"), "threema:ABCD1234");
        assert!(canonical_messenger("son_of_god").is_err());
        assert!(canonical_messenger("icq:12ab").is_err());
        assert!(canonical_messenger("signal:0171 1234567").is_err());
        assert!(canonical_messenger("my platform:x").is_err());
    }

    #[test]
    fn rooms() {
        let c = |s| canonical_room(s).unwrap();
        assert_eq!(
            c("#Lolita_Club@IRC.Example.NET"),
            "#lolita_club@irc.example.net"
        );
        assert_eq!(c("Room[1]"), "#room{1}");
        assert_eq!(c("&Local"), "&local");
        assert!(canonical_room("#").is_err());
        assert!(canonical_room("#a b").is_err());
    }

    #[test]
    fn media_hashes() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(canonical_media_hash(md5).unwrap(), md5.to_ascii_lowercase());
        assert_eq!(
            canonical_media_hash(&format!("md5:{md5}")).unwrap(),
            md5.to_ascii_lowercase()
        );
        assert!(canonical_media_hash("d41d8cd98f00b204e9800998ecf8427").is_err());
        assert!(canonical_media_hash("z41d8cd98f00b204e9800998ecf8427e").is_err());
    }

    #[test]
    fn payment_and_serials() {
        assert_eq!(
            canonical_payment("de89 3704 0044 0532 0130 00"),
            "DE89370400440532013000"
        );
        assert_eq!(
            canonical_payment("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
            "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
        );
        assert_eq!(canonical_serial(" f2lx 1234 "), "F2LX1234");
    }
}
