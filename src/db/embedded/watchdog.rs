//! The watchdog that stops a cluster whose parent died, and the removal of stale clusters.

use super::*;

/// Starts the watchdog of the cluster in `root`: a shell that waits for a line on its
/// stdin (a pipe only this process writes) and, unless the line is "done", stops the server
/// (killing its processes, as [`kill_server`] does, when three immediate stops of 10 s
/// could not: a frozen server) and removes `root`. It runs in its own process group, so a
/// terminal's Ctrl-C reaches only stormbench.
pub(super) fn spawn_watchdog(
    runner: &Runner,
    bindir: &Path,
    root: &Path,
) -> Option<std::process::Child> {
    let data = root
        .canonicalize()
        .unwrap_or_else(|_| root.to_path_buf())
        .join("data");
    let stop_args: [&OsStr; 8] = [
        "-D".as_ref(),
        data.as_os_str(),
        "-m".as_ref(),
        "immediate".as_ref(),
        "-w".as_ref(),
        "-t".as_ref(),
        "10".as_ref(),
        "stop".as_ref(),
    ];
    let stop = runner.command_line(&bindir.join("pg_ctl"), &stop_args);
    let pid_file = shell_quote(data.join("postmaster.pid").as_os_str());
    let mut script: Vec<u8> =
        b"read line\n[ \"$line\" = done ] && exit 0\nfor i in 1 2 3; do\n  ".to_vec();
    script.extend(stop.as_bytes());
    script.extend(b" >/dev/null 2>&1\n  [ -f ");
    script.extend(&pid_file);
    script.extend(b" ] || break\n  sleep 1\ndone\nif [ -f ");
    script.extend(&pid_file);
    script.extend(b" ]; then\n  for p in /proc/[0-9]*; do\n    [ \"$(readlink \"$p/cwd\")\" = ");
    script.extend(shell_quote(data.as_os_str()));
    script.extend(b" ] && kill -9 \"${p#/proc/}\"\n  done\n  sleep 1\nfi\nrm -rf ");
    script.extend(shell_quote(root.as_os_str()));
    script.push(b'\n');
    Command::new("/bin/sh")
        .arg("-c")
        .arg(OsString::from_vec(script))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

/// Kills (SIGKILL) every process running in the data directory `data`: the postmaster
/// and its children work there (it is their working directory), which proves they are this
/// cluster's and no other process's, whatever pid a stale `postmaster.pid` names. Waits up
/// to 2 s for them to go; returns how many were signalled.
pub(super) fn kill_server(data: &Path) -> usize {
    let Ok(data) = data.canonicalize() else {
        return 0;
    };
    let in_data = || -> Vec<i32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == data))
            .collect()
    };
    let pids = in_data();
    for &pid in &pids {
        // SAFETY: kill(2) with a valid signal; the pid's working directory is the cluster's
        // data directory, which only its server processes use.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let t0 = std::time::Instant::now();
    while !in_data().is_empty() && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.len()
}

/// Start time of process `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
pub(super) fn process_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name (field 2) may hold spaces: count from its closing parenthesis
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Records this process as the cluster's owner.
pub(super) fn write_owner(root: &Path, watchdog: Option<u32>) {
    let pid = std::process::id();
    let start = process_start_time(pid).unwrap_or(0);
    let _ = fs::write(
        root.join(OWNER_FILE),
        format!("{pid} {start} {}\n", watchdog.unwrap_or(0)),
    );
}

/// Whether the process that wrote an owner file is gone (a reused pid has another start
/// time).
pub(super) fn owner_is_gone(owner: &str) -> bool {
    let mut parts = owner.split_whitespace();
    let (Some(pid), Some(start)) = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|s| s.parse::<u64>().ok()),
    ) else {
        return false;
    };
    match process_start_time(pid) {
        None => true,
        Some(now) => start != 0 && now != start,
    }
}

/// Stops and removes the clusters of stormbench processes that died without cleaning up
/// (and whose watchdog died too). Only directories with an owner file whose owner is gone
/// are touched.
pub(super) fn remove_stale(runner: &Runner, bindir: &Path) {
    let Ok(entries) = fs::read_dir(tempdir_base(runner)) else {
        return;
    };
    for e in entries.flatten() {
        let dir = e.path();
        let is_ours = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(DIR_PREFIX));
        let Ok(owner) = fs::read_to_string(dir.join(OWNER_FILE)) else {
            continue;
        };
        if !is_ours || !owner_is_gone(&owner) {
            continue;
        }
        let data = dir.join("data");
        if data.join("postmaster.pid").exists() {
            let args: [&OsStr; 6] = [
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ];
            let _ = output_of(
                runner.command(&bindir.join("pg_ctl"), &args, Path::new("/")),
                "pg_ctl",
            );
            if data.join("postmaster.pid").exists() {
                kill_server(&data);
            }
        }
        match fs::remove_dir_all(&dir) {
            Ok(()) => log::warn!(
                "removed the embedded cluster {} left by a stormbench that was killed",
                dir.display()
            ),
            Err(err) => log::warn!(
                "could not remove the stale cluster {}: {err}",
                dir.display()
            ),
        }
    }
}
