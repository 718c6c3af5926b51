//! Branch names, as the apps allow them (insomnia-wire.md §4; insomnia-wire-newer.md §6.2).
//!
//! The 10.x app allows `^[a-zA-Z0-9][a-zA-Z0-9-_.]{2,}$`; newer apps also allow `/`, with git's
//! rules around it. One server serves both, so a name is good if either app could have made it:
//! without a `/` the old rule decides (it is the looser of the two there: it lets `v1.` and
//! `a..b` through, which a 10.x app may already have pushed); with a `/` the new one does.

/// The longest branch name we store; neither app sets a limit, this bounds what one request
/// can make us keep.
pub const MAX_BRANCH_NAME: usize = 100;

/// Whether `name` is a branch name some version of the app could have made.
pub fn is_branch_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if !(3..=MAX_BRANCH_NAME).contains(&bytes.len()) || !bytes[0].is_ascii_alphanumeric() {
        return false;
    }
    let allowed = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/');
    if !bytes.iter().all(allowed) {
        return false;
    }
    if !name.contains('/') {
        return true;
    }
    // Git's rules, as the newer apps apply them to names with a slash.
    !name.ends_with('.')
        && !name.contains("..")
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_either_app_makes_are_good() {
        for good in [
            "master",
            "feature-1",
            "v1.2",
            "a_b",
            "abc.",
            "a..b",
            "feature/login",
            "team/alice/fix-1",
            "v2/release.1",
        ] {
            assert!(is_branch_name(good), "{good}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        for bad in [
            "",
            "ab",
            "-abc",
            ".abc",
            "/abc",
            "has space",
            "ümlaut",
            "feature/",
            "feature//x",
            "feature/.hidden",
            "feature/x.lock",
            "feature/x.",
            "feature/a..b",
            "a~b",
            "a:b",
            &"a".repeat(MAX_BRANCH_NAME + 1),
        ] {
            assert!(!is_branch_name(bad), "{bad}");
        }
    }
}
