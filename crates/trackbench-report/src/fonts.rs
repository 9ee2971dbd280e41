//! The fonts shipped in `assets/` (DejaVu, see `assets/LICENSE`): the full DejaVu Sans for
//! plotters (PNG text and SVG text measurement), and WOFF2 Latin subsets embedded in the HTML as
//! base64 `@font-face` rules, so a report reads the same on every machine without network.

use std::sync::Once;

/// DejaVu Sans 2.37, unchanged.
pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const SANS_WOFF2: &[u8] = include_bytes!("../assets/DejaVuSans-Latin.woff2");
const SANS_BOLD_WOFF2: &[u8] = include_bytes!("../assets/DejaVuSans-Bold-Latin.woff2");
const MONO_WOFF2: &[u8] = include_bytes!("../assets/DejaVuSansMono-Latin.woff2");

/// The family name chart text is drawn with; the HTML's `@font-face` rules use it too.
pub(crate) const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers DejaVu Sans with plotters for every style the charts use (idempotent).
pub(crate) fn register() {
    REGISTER.call_once(|| {
        use plotters::style::{FontStyle, register_font};
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The bytes are a valid TrueType font shipped with the crate; a failure here is a
            // packaging bug that the tests catch.
            register_font(FAMILY, style, DEJAVU_SANS)
                .unwrap_or_else(|_| panic!("assets/DejaVuSans.ttf does not parse"));
        }
    });
}

/// The `@font-face` rules for the HTML report (DejaVu Sans regular and bold as
/// "Trackbench Sans", DejaVu Sans Mono as "Trackbench Mono").
pub(crate) fn font_face_css() -> String {
    let face = |family: &str, weight: &str, bytes: &[u8]| {
        format!(
            "@font-face{{font-family:\"{family}\";font-style:normal;font-weight:{weight};\
             src:url(data:font/woff2;base64,{}) format(\"woff2\");}}\n",
            base64(bytes)
        )
    };
    let mut css = face("Trackbench Sans", "400", SANS_WOFF2);
    css.push_str(&face("Trackbench Sans", "700", SANS_BOLD_WOFF2));
    css.push_str(&face("Trackbench Mono", "400", MONO_WOFF2));
    css
}

/// Standard base64 (RFC 4648, with padding).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expect) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expect, "{input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn shipped_fonts_parse_and_are_woff2() {
        super::register();
        for f in [super::SANS_WOFF2, super::SANS_BOLD_WOFF2, super::MONO_WOFF2] {
            assert_eq!(&f[..4], b"wOF2");
        }
    }
}
