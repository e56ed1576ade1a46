//! Running the server programs: as the `postgres` OS user when stormbench runs as root.

use super::*;

/// How server programs are run: as ourselves, or switched to `postgres` when root.
#[derive(Debug, Clone)]
pub(super) enum Switch {
    /// Run programs directly.
    None,
    /// `runuser -u postgres -- program args...`.
    Runuser(PathBuf),
    /// `su postgres -s /bin/sh -c 'program args...'`.
    Su(PathBuf),
}

/// Builds commands for server programs, switching user when running as root.
#[derive(Debug, Clone)]
pub(super) struct Runner {
    switch: Switch,
    /// uid/gid of the `postgres` user when running as root.
    pub(super) owner: Option<(u32, u32)>,
}

impl Runner {
    /// Decides how to run server programs for the current effective user.
    pub(super) fn detect() -> Result<Self, EmbeddedError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Self {
                switch: Switch::None,
                owner: None,
            });
        }
        let owner = lookup_user(OS_USER).ok_or(EmbeddedError::NoPostgresUser)?;
        let switch = if let Some(runuser) = find_program("runuser") {
            Switch::Runuser(runuser)
        } else if let Some(su) = find_program("su") {
            Switch::Su(su)
        } else {
            return Err(EmbeddedError::NoRunAs);
        };
        Ok(Self {
            switch,
            owner: Some(owner),
        })
    }

    /// A command running `program args` (as `postgres` when root) in `cwd`.
    pub(super) fn command(&self, program: &Path, args: &[&OsStr], cwd: &Path) -> Command {
        let mut cmd = match &self.switch {
            Switch::None => {
                let mut c = Command::new(program);
                c.args(args);
                c
            }
            Switch::Runuser(runuser) => {
                let mut c = Command::new(runuser);
                c.args(["-u", OS_USER, "--"]).arg(program).args(args);
                c
            }
            Switch::Su(su) => {
                let mut c = Command::new(su);
                c.args([OS_USER, "-s", "/bin/sh", "-c"])
                    .arg(shell_join(program.as_os_str(), args));
                c
            }
        };
        cmd.current_dir(cwd).stdin(Stdio::null());
        cmd
    }

    /// `program args` (as `postgres` when root) as one `/bin/sh` command line.
    pub(super) fn command_line(&self, program: &Path, args: &[&OsStr]) -> OsString {
        let inner = shell_join(program.as_os_str(), args);
        match &self.switch {
            Switch::None => inner,
            Switch::Runuser(runuser) => {
                let mut a: Vec<&OsStr> = vec!["-u".as_ref(), OS_USER.as_ref(), "--".as_ref()];
                a.push(program.as_os_str());
                a.extend_from_slice(args);
                shell_join(runuser.as_os_str(), &a)
            }
            Switch::Su(su) => {
                let a: [&OsStr; 5] = [
                    OS_USER.as_ref(),
                    "-s".as_ref(),
                    "/bin/sh".as_ref(),
                    "-c".as_ref(),
                    inner.as_os_str(),
                ];
                shell_join(su.as_os_str(), &a)
            }
        }
    }

    /// Hands `path` to the `postgres` user when running as root.
    pub(super) fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        let Some((uid, gid)) = self.owner else {
            return Ok(());
        };
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|source| EmbeddedError::Io {
            action: format!("hand {} to the postgres user", path.display()),
            source,
        })
    }
}

/// `program args...` quoted for `/bin/sh -c`.
pub(super) fn shell_join(program: &OsStr, args: &[&OsStr]) -> OsString {
    let mut out = shell_quote(program);
    for arg in args {
        out.push(b' ');
        out.extend(shell_quote(arg));
    }
    OsString::from_vec(out)
}

/// Single-quotes `s` for the shell (`'` becomes `'\''`).
pub(super) fn shell_quote(s: &OsStr) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in s.as_bytes() {
        if b == b'\'' {
            out.extend_from_slice(b"'\\''");
        } else {
            out.push(b);
        }
    }
    out.push(b'\'');
    out
}

/// First directory on PATH or in the system bin dirs holding executable `name`.
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SYSTEM_BIN_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// uid/gid of OS user `name` (thread-safe `getpwnam_r`).
pub(super) fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = CString::new(name).ok()?;
    // SAFETY: passwd is plain data; all-zero is a valid (empty) value.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives its use and
    // only the integer fields of pwd are read afterwards.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return None;
    }
    Some((pwd.pw_uid, pwd.pw_gid))
}
