//! Names folded for search: what a clerk types without diacritics finds the name as enrolled.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The longest folded text kept: a query or a name past it is cut there (names are at most
/// [`crate::Text`]'s limit anyway; this bounds what a search sends to the database).
pub const MAX_FOLDED: usize = 200;

/// Folds a name or a search query: decomposed (NFD), combining marks dropped, `đ`/`Đ` made `d`,
/// lower case, every run of anything but ASCII letters and digits made one space, trimmed, at
/// most [`MAX_FOLDED`] bytes. The result holds only `[a-z0-9 ]`, so it can be put into a `LIKE`
/// pattern without escaping. "Nguyễn Văn  An" and "nguyen van an" fold alike.
pub fn fold_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_FOLDED));
    let mut space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            let gap = space && !out.is_empty();
            if out.len() + usize::from(gap) + 1 > MAX_FOLDED {
                break;
            }
            if gap {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vietnamese_names_fold_to_what_a_clerk_types() {
        assert_eq!(fold_name("Nguyễn Văn An"), "nguyen van an");
        assert_eq!(fold_name("  ĐẶNG   Thị\tHỒNG "), "dang thi hong");
        assert_eq!(fold_name("Trần Đức Ánh-Dương"), "tran duc anh duong");
        assert_eq!(fold_name("%_'\""), "");
    }

    proptest! {
        #[test]
        fn folded_text_is_plain_ascii_and_stable(s in "\\PC{0,300}") {
            let f = fold_name(&s);
            prop_assert!(f.len() <= MAX_FOLDED);
            prop_assert!(f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '));
            prop_assert!(!f.starts_with(' ') && !f.ends_with(' ') && !f.contains("  "));
            prop_assert_eq!(fold_name(&f), f.clone());
        }
    }
}
