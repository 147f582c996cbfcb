//! A seccomp filter as the kernel takes it: the classic BPF program that
//! libseccomp generates from a profile ([`compile`], through
//! `seccomp_export_bpf`), kept as plain instructions so that it can be
//! compiled in the parent (or read from the cache, `crate::seccomp_cache`)
//! and loaded in the container's init with the bare `seccomp(2)` call.
//!
//! Loading is what `seccomp_load` does for the filters [`crate::seccomp`]
//! builds: `SECCOMP_SET_MODE_FILTER` with no flags (no TSYNC, LOG,
//! SPEC_ALLOW or listener attribute is ever set, and the no_new_privs
//! attribute is off: the spec decides).

use std::fs::File;
use std::io::{self, Read, Seek};
use std::os::fd::{FromRawFd, OwnedFd};

use crate::seccomp::{self, SeccompError};
use crate::spec::Seccomp;

/// Size of one `struct sock_filter`.
pub(crate) const INSN_SIZE: usize = 8;

/// The kernel's limit on a classic BPF program (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;

/// A loadable seccomp program.
#[derive(Clone)]
pub struct BpfProgram {
    insns: Vec<libc::sock_filter>,
}

impl std::fmt::Debug for BpfProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BpfProgram({} instructions)", self.insns.len())
    }
}

impl BpfProgram {
    /// Decodes a program in the kernel's layout (host byte order, as
    /// `seccomp_export_bpf` writes it); `None` unless it is a whole,
    /// non-empty number of instructions within the kernel's limit.
    pub fn from_bytes(bytes: &[u8]) -> Option<BpfProgram> {
        if bytes.is_empty()
            || !bytes.len().is_multiple_of(INSN_SIZE)
            || bytes.len() / INSN_SIZE > MAX_INSNS
        {
            return None;
        }
        let insns = bytes
            .chunks_exact(INSN_SIZE)
            .map(|c| libc::sock_filter {
                code: u16::from_ne_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        Some(BpfProgram { insns })
    }

    /// The program in the kernel's layout (what [`Self::from_bytes`] reads).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.insns.len() * INSN_SIZE);
        for i in &self.insns {
            out.extend_from_slice(&i.code.to_ne_bytes());
            out.push(i.jt);
            out.push(i.jf);
            out.extend_from_slice(&i.k.to_ne_bytes());
        }
        out
    }

    pub fn len(&self) -> usize {
        self.insns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Installs the filter on the calling thread, as `seccomp_load` does.
    /// Needs no_new_privs or CAP_SYS_ADMIN.
    pub fn load(&self) -> io::Result<()> {
        let prog = libc::sock_fprog {
            len: self.insns.len() as libc::c_ushort,
            filter: self.insns.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: prog points at `len` valid instructions that outlive the
        // call (the kernel copies them); no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// Builds the profile with libseccomp and exports its BPF program.
pub fn compile(profile: &Seccomp) -> Result<BpfProgram, SeccompError> {
    let ctx = seccomp::build(profile)?;
    let mut file = memfd().map_err(SeccompError::Export)?;
    ctx.export_bpf(&file)
        .map_err(|source| SeccompError::Libseccomp {
            step: "export filter".into(),
            source,
        })?;
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(SeccompError::Export)?;
    BpfProgram::from_bytes(&bytes).ok_or(SeccompError::BadProgram(bytes.len()))
}

/// An anonymous file for libseccomp to export into.
fn memfd() -> io::Result<File> {
    // SAFETY: a NUL-terminated name and a valid flag.
    let fd = unsafe { libc::memfd_create(c"berth-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create returned a new descriptor that we own.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::{Syscall, SyscallArg};

    /// Allow everything but `unshare` (EPERM) and `personality(PER_BSD)`
    /// (EPERM, an argument comparison), a small stand-in for the rules of
    /// Docker's profile.
    pub(crate) fn small_profile() -> Seccomp {
        Seccomp {
            default_action: "SCMP_ACT_ALLOW".into(),
            default_errno_ret: None,
            architectures: vec!["SCMP_ARCH_X86_64".into()],
            syscalls: vec![
                Syscall {
                    names: vec!["unshare".into()],
                    action: "SCMP_ACT_ERRNO".into(),
                    errno_ret: Some(libc::EPERM as u32),
                    args: vec![],
                },
                Syscall {
                    names: vec!["personality".into()],
                    action: "SCMP_ACT_ERRNO".into(),
                    errno_ret: Some(libc::EPERM as u32),
                    args: vec![SyscallArg {
                        index: 0,
                        value: 0x0006,
                        value_two: 0,
                        op: "SCMP_CMP_EQ".into(),
                    }],
                },
            ],
        }
    }

    #[test]
    fn bytes_round_trip_and_bad_lengths_are_refused() {
        let p = compile(&small_profile()).unwrap();
        assert!(!p.is_empty());
        let bytes = p.to_bytes();
        assert_eq!(bytes.len(), p.len() * INSN_SIZE);
        assert_eq!(BpfProgram::from_bytes(&bytes).unwrap().to_bytes(), bytes);
        assert!(BpfProgram::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        assert!(BpfProgram::from_bytes(&[]).is_none());
        assert!(BpfProgram::from_bytes(&vec![0; (MAX_INSNS + 1) * INSN_SIZE]).is_none());
    }

    #[test]
    fn compiling_is_deterministic() {
        // A cache keyed by the profile needs the same profile to give the
        // same instructions.
        let a = compile(&small_profile()).unwrap().to_bytes();
        let b = compile(&small_profile()).unwrap().to_bytes();
        assert_eq!(a, b);
    }

    /// A profile with what Docker's has: errno default, two architectures,
    /// argument comparisons (masked, several on one index), actions.
    fn docker_like_profile() -> Seccomp {
        let arg = |index, value, value_two, op: &str| SyscallArg {
            index,
            value,
            value_two,
            op: op.into(),
        };
        let rule = |names: &[&str], action: &str, args: Vec<SyscallArg>| Syscall {
            names: names.iter().map(|n| n.to_string()).collect(),
            action: action.into(),
            errno_ret: None,
            args,
        };
        Seccomp {
            default_action: "SCMP_ACT_ERRNO".into(),
            default_errno_ret: Some(libc::EPERM as u32),
            architectures: vec!["SCMP_ARCH_X86_64".into(), "SCMP_ARCH_X86".into()],
            syscalls: vec![
                rule(
                    &[
                        "read",
                        "write",
                        "exit_group",
                        "getpid",
                        "gettid",
                        "tgkill",
                        "rt_sigprocmask",
                        "prctl",
                    ],
                    "SCMP_ACT_ALLOW",
                    vec![],
                ),
                rule(
                    &["personality"],
                    "SCMP_ACT_ALLOW",
                    vec![arg(0, 0, 0, "SCMP_CMP_EQ"), arg(0, 8, 0, "SCMP_CMP_EQ")],
                ),
                rule(
                    &["clone"],
                    "SCMP_ACT_ALLOW",
                    vec![arg(0, 2114060288, 0, "SCMP_CMP_MASKED_EQ")],
                ),
                rule(&["ptrace"], "SCMP_ACT_KILL_PROCESS", vec![]),
            ],
        }
    }

    /// The filter the kernel holds for a forked child after `load`, read
    /// back with `PTRACE_SECCOMP_GET_FILTER` while the child is stopped.
    fn installed(load: impl FnOnce() -> bool) -> Vec<u8> {
        const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
        // SAFETY: the child loads a filter and stops; fork (glibc's) keeps
        // malloc usable in the child of this multi-threaded test process.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: plain calls in the child, which then _exits.
            unsafe {
                libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if !load() {
                    libc::_exit(3);
                }
                libc::raise(libc::SIGSTOP);
                libc::_exit(4);
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own (traced) child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        let stopped = libc::WIFSTOPPED(status);
        let mut prog = Vec::new();
        if stopped {
            // SAFETY: the child is ptrace-stopped; filter 0 is the newest;
            // the first call returns its length, the second fills `buf`.
            let n = unsafe {
                libc::ptrace(
                    PTRACE_SECCOMP_GET_FILTER,
                    pid,
                    0,
                    std::ptr::null_mut::<u8>(),
                )
            };
            if n > 0 {
                let mut buf = vec![0u8; n as usize * INSN_SIZE];
                // SAFETY: buf holds n instructions.
                let m =
                    unsafe { libc::ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, buf.as_mut_ptr()) };
                if m == n {
                    prog = buf;
                }
            }
        }
        // SAFETY: ending and reaping our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, &mut status, 0);
        }
        assert!(stopped, "the child did not stop (status {status:#x})");
        prog
    }

    /// What `seccomp(2)` installs from the exported program is what
    /// libseccomp's own `seccomp_load` installs, instruction for instruction.
    #[test]
    fn raw_load_installs_what_libseccomp_loads() {
        for profile in [small_profile(), docker_like_profile()] {
            let ctx = crate::seccomp::build(&profile).unwrap();
            let program = compile(&profile).unwrap();
            let by_libseccomp = installed(|| ctx.load().is_ok());
            let by_us = installed(|| program.load().is_ok());
            assert!(!by_us.is_empty());
            assert_eq!(by_us, by_libseccomp);
            assert_eq!(by_us, program.to_bytes());
        }
    }

    /// Loads the program in a forked child (a filter cannot be removed) and
    /// checks what the kernel then refuses.
    #[test]
    fn loaded_program_refuses_what_the_profile_denies() {
        let p = compile(&small_profile()).unwrap();
        // SAFETY: the child only makes raw syscalls and _exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let code = (|| {
                // SAFETY: prctl with integer arguments.
                if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                    return 10;
                }
                if p.load().is_err() {
                    return 11;
                }
                // SAFETY: unshare with a flag; must fail with EPERM.
                let r = unsafe { libc::unshare(libc::CLONE_NEWUTS) };
                if r != -1 || io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
                    return 12;
                }
                // SAFETY: PER_LINUX (0) matches no rule: allowed.
                if unsafe { libc::personality(0) } < 0 {
                    return 13;
                }
                // SAFETY: PER_BSD (6) matches the rule: refused with EPERM.
                let r = unsafe { libc::personality(0x0006) };
                if r != -1 || io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
                    return 14;
                }
                0
            })();
            // SAFETY: leaving the forked child without running destructors.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 0);
    }
}
