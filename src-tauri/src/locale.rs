//! The UI formats numbers with `Intl.NumberFormat(navigator.language)`; WebKitGTK derives
//! `navigator.language` from the locale variables, and under `C`/`POSIX` (Debian's default
//! `C.UTF-8` included) it reports `"C"`, which `Intl` rejects, blanking the UI. Replace such a
//! locale with `en_US.UTF-8` before GTK starts.

/// Whether a locale value names the C/POSIX locale (or nothing).
fn is_c_locale(value: Option<&str>) -> bool {
    match value {
        None | Some("") => true,
        Some(v) => {
            let lang = v.split(['.', '@']).next().unwrap_or(v);
            lang == "C" || lang == "POSIX"
        }
    }
}

/// Sets `LANG` (and clears a C `LC_ALL`/`LC_MESSAGES`) so WebKit sees a real language tag.
/// Call first in `main`, before any thread starts.
pub fn fix_c_locale() {
    let get = |k: &str| std::env::var(k).ok();
    if is_c_locale(get("LC_ALL").as_deref())
        && is_c_locale(get("LC_MESSAGES").as_deref())
        && is_c_locale(get("LANG").as_deref())
    {
        // SAFETY: called at the top of `main`, before any other thread exists.
        unsafe {
            std::env::remove_var("LC_ALL");
            std::env::remove_var("LC_MESSAGES");
            std::env::set_var("LANG", "en_US.UTF-8");
        }
    } else if get("LC_ALL").is_some() && is_c_locale(get("LC_ALL").as_deref()) {
        // A C LC_ALL overrides a good LANG: drop it.
        // SAFETY: as above.
        unsafe { std::env::remove_var("LC_ALL") };
    }
}

#[cfg(test)]
mod tests {
    use super::is_c_locale;

    #[test]
    fn c_locales_are_recognised() {
        for (v, c) in [
            (None, true),
            (Some(""), true),
            (Some("C"), true),
            (Some("C.UTF-8"), true),
            (Some("POSIX"), true),
            (Some("en_US.UTF-8"), false),
            (Some("de_DE@euro"), false),
        ] {
            assert_eq!(is_c_locale(v), c, "{v:?}");
        }
    }
}
