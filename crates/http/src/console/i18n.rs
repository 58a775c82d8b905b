//! The console's languages: message catalogues compiled into the binary, picked
//! from a remembered choice (cookie) or `Accept-Language`.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English, the default.
    En,
    /// German.
    De,
}

impl Lang {
    /// Every language, in the order the switcher shows them.
    pub const ALL: [Self; 2] = [Self::En, Self::De];

    /// The BCP 47 tag, also the cookie value and the `lang` attribute.
    #[must_use]
    pub const fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// Parses a tag (`de`, `de-CH`, `EN`); `None` for other languages.
    #[must_use]
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else if primary.eq_ignore_ascii_case("de") {
            Some(Self::De)
        } else {
            None
        }
    }

    /// The best language for an `Accept-Language` header (RFC 9110 §12.5.4):
    /// the supported language with the highest weight, English when none is.
    #[must_use]
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else { return Self::En };
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::parse) else { continue };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::En, |(_, lang)| lang)
    }

    /// The catalogue of this language.
    #[must_use]
    pub fn catalog(self) -> &'static Catalog {
        match self {
            Self::En => &EN,
            Self::De => &DE,
        }
    }
}

/// The messages of one language.
#[derive(Debug)]
pub struct Catalog {
    lang: Lang,
    messages: HashMap<&'static str, &'static str>,
}

impl Catalog {
    /// Parses `key = value` lines; `#` starts a comment line.
    fn parse(lang: Lang, text: &'static str) -> Self {
        let messages = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        Self { lang, messages }
    }

    /// The language.
    #[must_use]
    pub const fn lang(&self) -> Lang {
        self.lang
    }

    /// The message for `key`; the key itself when it is missing (a unit test
    /// makes sure no template uses a missing key).
    #[must_use]
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).copied().unwrap_or(key)
    }

    /// The message for `key` with `{name}` replaced by `value`.
    #[must_use]
    pub fn fill(&self, key: &str, name: &str, value: &str) -> String {
        self.messages.get(key).copied().unwrap_or(key).replace(&format!("{{{name}}}"), value)
    }
}

static EN: LazyLock<Catalog> = LazyLock::new(|| Catalog::parse(Lang::En, include_str!("messages/en.txt")));
static DE: LazyLock<Catalog> = LazyLock::new(|| Catalog::parse(Lang::De, include_str!("messages/de.txt")));

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let en: BTreeSet<_> = EN.messages.keys().collect();
        let de: BTreeSet<_> = DE.messages.keys().collect();
        assert_eq!(en.difference(&de).collect::<Vec<_>>(), Vec::<&&&str>::new(), "missing in de.txt");
        assert_eq!(de.difference(&en).collect::<Vec<_>>(), Vec::<&&&str>::new(), "missing in en.txt");
    }

    #[test]
    fn german_labels_follow_the_seed() {
        assert_eq!(DE.get("nav.service_users"), "Service Benutzer");
        assert_eq!(DE.get("common.new"), "Neu");
        assert_eq!(DE.get("common.add"), "Hinzufügen");
        assert_eq!(DE.get("common.close"), "Schliessen");
    }

    /// Every `t.get("…")` in a template names a message that exists, so no page
    /// ever shows a raw key.
    #[test]
    fn templates_use_only_known_keys() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/console");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split(".get(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(EN.messages.contains_key(key), "unknown message key {key}");
                checked += 1;
            }
        }
        assert!(checked > 50, "the scan found only {checked} keys");
    }

    #[test]
    fn negotiates_accept_language() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("de-CH,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr,en;q=0.5,de;q=0.7")), Lang::De);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::En);
        assert_eq!(Lang::negotiate(Some("de;q=0")), Lang::En);
    }
}
