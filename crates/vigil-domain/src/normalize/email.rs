//! E-mail addresses.
//!
//! Rules, each because the provider delivers both spellings to one mailbox:
//! * the whole address is lowercased (no large provider has case-sensitive
//!   local parts, and people type them in every case);
//! * a `+tag` is removed from the local part (`god+forum@…` → `god@…`):
//!   sub-addressing is supported by Gmail, Outlook, iCloud, Fastmail, Proton
//!   and most others, and is exactly what a suspect uses to register many
//!   accounts to one mailbox;
//! * dots in the local part are removed only where the provider ignores them:
//!   `gmail.com` and its old alias `googlemail.com` (which becomes
//!   `gmail.com`). Elsewhere `j.doe` and `jdoe` are different mailboxes.
//!
//! A `mailto:` prefix and angle brackets are accepted and dropped.

/// Domains whose local part ignores dots, and the domain they canonicalise
/// to.
const DOTLESS: &[(&str, &str)] = &[("gmail.com", "gmail.com"), ("googlemail.com", "gmail.com")];

/// Normalises an e-mail address, or says why it is not one.
pub(crate) fn canonical_email(raw: &str) -> Result<String, &'static str> {
    let mut t = raw.trim();
    if let Some(rest) = t.strip_prefix("mailto:") {
        t = rest.trim();
    }
    if let Some(inner) = t.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        t = inner.trim();
    }
    let (local, domain) = t.rsplit_once('@').ok_or("no @")?;
    let domain = domain.trim_end_matches('.').to_lowercase();
    let local = local.to_lowercase();
    if local.is_empty() {
        return Err("empty local part");
    }
    if local
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    {
        return Err("spaces, controls or a second @ in the local part");
    }
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err("domain is not a host name with a dot");
    }
    let base = match local.split_once('+') {
        Some((b, _)) if !b.is_empty() => b,
        _ => local.as_str(),
    };
    match DOTLESS.iter().find(|(d, _)| *d == domain) {
        Some((_, canonical)) => {
            let undotted: String = base.chars().filter(|c| *c != '.').collect();
            if undotted.is_empty() {
                return Err("empty local part");
            }
            Ok(format!("{undotted}@{canonical}"))
        }
        None => Ok(format!("{base}@{domain}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_rules() {
        let c = |s| canonical_email(s).unwrap();
        assert_eq!(c("Son.Of.God+forum@GoogleMail.com"), "sonofgod@gmail.com");
        assert_eq!(c("s.o.n.of.god@gmail.com"), "sonofgod@gmail.com");
        assert_eq!(c("mailto:<G.O.D@Example.ORG>"), "g.o.d@example.org");
        assert_eq!(c("god+a+b@example.net"), "god@example.net");
        assert_eq!(c("j.doe@example.com."), "j.doe@example.com");
        // A leading + is the whole local part, not a tag.
        assert_eq!(c("+god@example.com"), "+god@example.com");
    }

    #[test]
    fn invalid_addresses() {
        for bad in [
            "god",
            "@example.com",
            "god@example",
            "god@.example.com",
            "go d@example.com",
            "god@exa mple.com",
            "god@-x.example.com",
            "...@gmail.com",
        ] {
            assert!(canonical_email(bad).is_err(), "{bad}");
        }
    }
}
