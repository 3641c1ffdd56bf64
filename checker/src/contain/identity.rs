//! Who a contained program is on the machine: the identity the root of its user namespace
//! is mapped to, one of a grading's own for a root checker, the user's own otherwise.

use std::fs;

use nix::unistd::{Gid, Uid};

use crate::contain::Purpose;

/// The identity a grading's processes have on the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
}

/// The first of the uids a root checker gives its gradings: one per checker process, far
/// above any account's, so that two gradings at once never share one.
const GRADING_UIDS: u32 = 0x6C00_0000;

/// The uid of every build of a root checker: the warm target directory is this uid's,
/// and a build's private layer over it can copy up only what its own uid owns. Builds
/// still never meet: each has its namespaces, its world and its layer.
const BUILD_UID: u32 = GRADING_UIDS - 1;

/// Who a contained program is on the machine: for root, a uid of this grading's own for a
/// server (no account has it: it owns no file and can signal no one), the builds' uid for
/// a build; for a plain user, that user.
pub fn identity(purpose: &Purpose) -> Identity {
    if Uid::effective().is_root() {
        let uid = match purpose {
            Purpose::Server => GRADING_UIDS + std::process::id(),
            Purpose::Build(_) => BUILD_UID,
        };
        Identity { uid, gid: uid }
    } else {
        Identity {
            uid: Uid::effective().as_raw(),
            gid: Gid::effective().as_raw(),
        }
    }
}

/// Maps the root of the shim's new user namespace to `identity`.
pub(super) fn map_identity(shim: u32, Identity { uid, gid }: Identity) -> Result<(), String> {
    let write = |file: &str, text: String| {
        fs::write(format!("/proc/{shim}/{file}"), text)
            .map_err(|e| format!("writing /proc/<shim>/{file}: {e}"))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("0 {uid} 1"))?;
    write("gid_map", format!("0 {gid} 1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_checker_grades_as_a_uid_of_its_own() {
        let Identity { uid, gid } = identity(&Purpose::Server);
        if Uid::effective().is_root() {
            assert_eq!(uid, GRADING_UIDS + std::process::id());
            assert_eq!(gid, uid);
        } else {
            assert_eq!(uid, Uid::effective().as_raw());
        }
    }
}
