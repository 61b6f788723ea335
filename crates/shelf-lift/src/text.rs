//! Segmenting product text and queries into index terms, for Latin and Chinese scripts alike.
//!
//! Both sides (catalog and query) go through [`Segmenter::terms`], so they agree by
//! construction. Steps: NFKC (folds full-width `ＡＢＣ１２` to `ABC12`), lowercase, then runs:
//!
//! - letters and digits form words; a `.` or `,` between digits stays (`2.5`, `1,000`), so
//!   sizes survive; everything else separates;
//! - runs of Han (and kana, hangul) are split by [`Chinese`]: overlapping character bigrams,
//!   or jieba word segmentation. A lone CJK character is a term of its own.
//!
//! English stemming is left to the index's analyzer so it applies to words only.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// How runs of Chinese characters become terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chinese {
    /// Overlapping character bigrams (`蓝牙耳机` → `蓝牙 牙耳 耳机`): no dictionary, robust to
    /// brand names and new words, a larger index.
    #[default]
    Bigrams,
    /// jieba's dictionary segmentation with its HMM for unknown words (`蓝牙 耳机`).
    Words,
}

impl Chinese {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bigrams" => Some(Self::Bigrams),
            "words" | "jieba" => Some(Self::Words),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bigrams => "bigrams",
            Self::Words => "words",
        }
    }
}

/// Text → index terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segmenter {
    pub chinese: Chinese,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // hiragana, katakana
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // hangul syllables
        | 0xF900..=0xFAFF   // compatibility ideographs
        | 0x20000..=0x2FFFF) // extensions B and later
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Word,
    Cjk,
    Other,
}

fn class(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Other
    }
}

fn jieba() -> &'static jieba_rs::Jieba {
    static J: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    J.get_or_init(jieba_rs::Jieba::new)
}

impl Segmenter {
    /// The terms of `text`, in order (repeats kept: they are term frequencies).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let norm: Vec<char> = text.nfkc().flat_map(char::to_lowercase).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < norm.len() {
            let c = class(norm[i]);
            let start = i;
            while i < norm.len() {
                let here = class(norm[i]);
                // A `.` or `,` between two digits belongs to the number.
                let joins_number = c == Class::Word
                    && matches!(norm[i], '.' | ',')
                    && i > start
                    && norm[i - 1].is_ascii_digit()
                    && norm.get(i + 1).is_some_and(char::is_ascii_digit);
                if here != c && !joins_number {
                    break;
                }
                i += 1;
            }
            let run = &norm[start..i];
            match c {
                Class::Word => out.push(run.iter().collect()),
                Class::Cjk => self.cjk(run, &mut out),
                Class::Other => {}
            }
        }
        out
    }

    fn cjk(&self, run: &[char], out: &mut Vec<String>) {
        if run.len() == 1 {
            out.push(run[0].to_string());
            return;
        }
        match self.chinese {
            Chinese::Bigrams => out.extend(run.windows(2).map(|w| w.iter().collect::<String>())),
            Chinese::Words => {
                let s: String = run.iter().collect();
                out.extend(
                    jieba()
                        .cut(&s, true)
                        .into_iter()
                        .map(|t| t.word.to_string()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(s: &str) -> Vec<String> {
        Segmenter::default().terms(s)
    }

    #[test]
    fn latin_words_and_numbers() {
        assert_eq!(
            terms("Husky 1/2 in. Drive 2.5-Inch Socket, 1,000 pcs!"),
            ["husky", "1", "2", "in", "drive", "2.5", "inch", "socket", "1,000", "pcs"]
        );
    }

    #[test]
    fn full_width_folds_to_ascii() {
        assert_eq!(terms("ＡＢＣ１２３"), ["abc123"]);
    }

    #[test]
    fn chinese_runs_become_bigrams_and_latin_stays_words() {
        assert_eq!(
            terms("苹果 iPhone 15 Pro 黑色手机"),
            ["苹果", "iphone", "15", "pro", "黑色", "色手", "手机"]
        );
        assert_eq!(terms("猫"), ["猫"]);
    }

    #[test]
    fn jieba_segments_words() {
        let s = Segmenter {
            chinese: Chinese::Words,
        };
        assert_eq!(s.terms("蓝牙耳机 sony"), ["蓝牙", "耳机", "sony"]);
    }

    #[test]
    fn nothing_to_index() {
        assert!(terms("  --- !!! ").is_empty());
        assert!(terms("").is_empty());
    }
}
