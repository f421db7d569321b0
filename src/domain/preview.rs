//! The short preview that stands in for a value once it is stored.

use std::fmt;

/// `…` followed by the value's last min(4, ⌊n/4⌋) characters, n counted in
/// characters. It never shows more than a quarter of a value, and nothing of
/// a value shorter than four characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview(String);

impl Preview {
    /// The preview of `value`.
    pub fn of(value: &str) -> Self {
        let chars = value.chars().count();
        let shown = (chars / 4).min(4);
        let tail_start = value
            .char_indices()
            .nth(chars - shown)
            .map_or(value.len(), |(at, _)| at);
        Self(format!("…{}", &value[tail_start..]))
    }

    /// A preview read back from storage.
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    /// The preview text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The preview text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_at_most_a_quarter_and_at_most_four_characters() {
        assert_eq!(Preview::of("abc").as_str(), "…");
        assert_eq!(Preview::of("abcd").as_str(), "…d");
        assert_eq!(Preview::of("abcdefghijk").as_str(), "…jk");
        assert_eq!(Preview::of("sk-proj-0123456789abcdef").as_str(), "…cdef");
    }

    #[test]
    fn counts_characters_not_bytes() {
        // Ten characters, twenty-four bytes: two characters are shown.
        assert_eq!(Preview::of("ключ🔑ключ🔑").as_str(), "…ч🔑");
        assert_eq!(Preview::of("日本語の鍵です").as_str(), "…す");
    }

    #[test]
    fn a_value_ending_in_a_newline_shows_it() {
        assert_eq!(Preview::of("{\n  \"k\": 1\n}\n").as_str(), "…\n}\n");
    }
}
