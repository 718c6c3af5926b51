//! A small tmpfs of the test's own, to fill up: mounted on a fresh directory under the system's
//! temporary directory, unmounted (lazily if files are still open) and removed when dropped, even
//! after a failed assertion. Mounting needs root (CI runs as root); when it fails the test fails
//! and says why, it does not skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs.
pub struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it: `4m`) on a new directory named
    /// after `label`.
    pub fn mount(label: &str, size: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "hypnos-faults-{label}-{}-{}",
            std::process::id(),
            hypnos_crypto::random::random_hex_32().expect("the random generator works")[..12]
                .to_owned()
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()));
        let mounted = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&path)
            .output()
            .unwrap_or_else(|error| panic!("cannot run mount: {error}"));
        if !mounted.status.success() {
            let _ = std::fs::remove_dir(&path);
            panic!(
                "the fault tests need a small tmpfs of their own and could not mount one on {} \
                 (they must run as root, as CI does): {}",
                path.display(),
                String::from_utf8_lossy(&mounted.stderr).trim()
            );
        }
        Self { path }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the file system a new size (`64m`) without unmounting it: the space comes back
    /// under the feet of whatever has files open there.
    pub fn resize(&self, size: &str) {
        let resized = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .output()
            .unwrap_or_else(|error| panic!("cannot run mount: {error}"));
        assert!(
            resized.status.success(),
            "cannot resize the tmpfs: {}",
            String::from_utf8_lossy(&resized.stderr).trim()
        );
    }
}

/// `chown -R user:user path`, failing the test if it cannot.
pub fn chown(path: &Path, user: &str) {
    let owned = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:{user}"))
        .arg(path)
        .output()
        .unwrap_or_else(|error| panic!("cannot run chown: {error}"));
    assert!(
        owned.status.success(),
        "cannot chown {}: {}",
        path.display(),
        String::from_utf8_lossy(&owned.stderr).trim()
    );
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.path)
            .output()
            .is_ok_and(|output| output.status.success());
        // Still busy (a server that has not closed its files yet): detach it now, the kernel
        // frees it when the last file closes.
        let unmounted = unmounted
            || Command::new("umount")
                .arg("-l")
                .arg(&self.path)
                .status()
                .is_ok_and(|status| status.success());
        if unmounted {
            let _ = std::fs::remove_dir(&self.path);
        } else {
            eprintln!("could not unmount the test tmpfs {}", self.path.display());
        }
    }
}
