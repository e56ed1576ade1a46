//! How PostgreSQL users name a server, read as libpq reads it: connection URIs
//! (`postgresql://user@host:5432/db?sslmode=require`) and key/value strings
//! (`host=db port=5432 dbname=bench`), the PG* environment, the service file
//! (`pg_service.conf`) and the password file (`~/.pgpass`).
//!
//! Error messages name keys, files and lines, never a value that could be a password.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawDatabase, Secret};
use super::Dur;
use crate::types::SslMode;

/// Connection settings from one source; `None` leaves the setting to a lower source.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ConnParams {
    pub(crate) host: Option<String>,
    pub(crate) port: Option<u16>,
    pub(crate) dbname: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) sslmode: Option<SslMode>,
    pub(crate) sslrootcert: Option<PathBuf>,
    pub(crate) sslcert: Option<PathBuf>,
    pub(crate) sslkey: Option<PathBuf>,
    pub(crate) application_name: Option<String>,
    pub(crate) connect_timeout: Option<Dur>,
    pub(crate) service: Option<String>,
    pub(crate) passfile: Option<PathBuf>,
}

/// The libpq keys stormbench understands, as they are spelled in URIs, key/value strings
/// and service files.
const KEYS: &str = "host, hostaddr, port, dbname, user, password, sslmode, sslrootcert, \
                    sslcert, sslkey, application_name, connect_timeout, service, passfile";

impl ConnParams {
    /// Parses a connection URI (`postgres://` or `postgresql://`) or a libpq key/value
    /// string.
    pub(crate) fn parse(s: &str) -> Result<ConnParams, String> {
        let s = s.trim();
        for scheme in ["postgresql://", "postgres://"] {
            if let Some(rest) = s.strip_prefix(scheme) {
                return parse_uri(rest);
            }
        }
        if s.contains("://") {
            return Err(
                "a connection URI starts with postgresql:// or postgres://; write it so, \
                 or give key=value pairs"
                    .into(),
            );
        }
        parse_key_values(s)
    }

    /// Sets `key` (a libpq name) to `value`.
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let path = || Some(PathBuf::from(value));
        match key {
            "host" | "hostaddr" => {
                if value.contains(',') {
                    return Err(format!(
                        "{key}: several hosts are not supported; give one host"
                    ));
                }
                self.host = Some(value.to_string())
            }
            "port" => self.port = Some(parse_port(value)?),
            "dbname" => self.dbname = Some(value.to_string()),
            "user" => self.user = Some(value.to_string()),
            "password" => self.password = Some(Secret::new(value.to_string())),
            "sslmode" => self.sslmode = Some(parse_sslmode(value)?),
            "sslrootcert" => self.sslrootcert = path(),
            "sslcert" => self.sslcert = path(),
            "sslkey" => self.sslkey = path(),
            "application_name" => self.application_name = Some(value.to_string()),
            "connect_timeout" => self.connect_timeout = Some(parse_timeout(value)?),
            "service" => self.service = Some(value.to_string()),
            "passfile" => self.passfile = path(),
            other => {
                return Err(format!(
                    "unknown connection parameter '{other}'; stormbench takes {KEYS}"
                ))
            }
        }
        Ok(())
    }

    /// Takes every setting this source leaves open from `lower`.
    pub(crate) fn fill_from(&mut self, lower: &ConnParams) {
        fn fill<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        fill(&mut self.host, &lower.host);
        fill(&mut self.port, &lower.port);
        fill(&mut self.dbname, &lower.dbname);
        fill(&mut self.user, &lower.user);
        fill(&mut self.password, &lower.password);
        fill(&mut self.sslmode, &lower.sslmode);
        fill(&mut self.sslrootcert, &lower.sslrootcert);
        fill(&mut self.sslcert, &lower.sslcert);
        fill(&mut self.sslkey, &lower.sslkey);
        fill(&mut self.application_name, &lower.application_name);
        fill(&mut self.connect_timeout, &lower.connect_timeout);
        fill(&mut self.service, &lower.service);
        fill(&mut self.passfile, &lower.passfile);
    }

    /// The libpq environment: `PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`,
    /// `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, `PGAPPNAME`,
    /// `PGCONNECT_TIMEOUT`, `PGSERVICE`, `PGPASSFILE`. An empty variable counts as unset,
    /// as in libpq.
    pub(crate) fn from_env(
        get: &dyn Fn(&str) -> Option<String>,
        errors: &mut Vec<String>,
    ) -> ConnParams {
        let mut p = ConnParams::default();
        for (var, key) in ENV {
            if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                if let Err(e) = p.set(key, &v) {
                    errors.push(format!("{var}: {e}"));
                }
            }
        }
        p
    }

    /// The settings the config's `database` keys give.
    pub(crate) fn from_raw(db: &RawDatabase) -> ConnParams {
        ConnParams {
            host: db.host.clone(),
            port: db.port,
            dbname: db.dbname.clone(),
            user: db.username.clone(),
            password: db.password.clone(),
            sslmode: db.sslmode,
            sslrootcert: db.sslrootcert.clone(),
            sslcert: db.sslcert.clone(),
            sslkey: db.sslkey.clone(),
            application_name: db.application_name.clone(),
            connect_timeout: db.connect_timeout,
            service: db.service.clone(),
            passfile: db.passfile.clone(),
        }
    }

    /// Writes the settings this source gives over the config's `database` keys.
    pub(crate) fn override_raw(self, db: &mut RawDatabase) {
        let mut p = self;
        p.fill_from(&ConnParams::from_raw(db));
        db.host = p.host;
        db.port = p.port;
        db.dbname = p.dbname;
        db.username = p.user;
        db.password = p.password;
        db.sslmode = p.sslmode;
        db.sslrootcert = p.sslrootcert;
        db.sslcert = p.sslcert;
        db.sslkey = p.sslkey;
        db.application_name = p.application_name;
        db.connect_timeout = p.connect_timeout;
        db.service = p.service;
        db.passfile = p.passfile;
    }
}

/// Whether a connection string carries a password.
pub(crate) fn url_has_password(s: &str) -> bool {
    ConnParams::parse(s).is_ok_and(|p| p.password.is_some())
}

/// PG* variables and the libpq keys they set.
const ENV: [(&str, &str); 13] = [
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGSERVICE", "service"),
    ("PGPASSFILE", "passfile"),
];

fn parse_port(v: &str) -> Result<u16, String> {
    match v.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("port: '{v}' is not a port number; give 1 to 65535")),
    }
}

fn parse_sslmode(v: &str) -> Result<SslMode, String> {
    serde_yaml::from_str::<SslMode>(v.trim()).map_err(|_| {
        format!(
            "sslmode: '{v}' is not one of disable, allow, prefer, require, verify-ca, verify-full"
        )
    })
}

/// libpq's `connect_timeout`: whole seconds; 0 (or nothing) waits without end, which
/// stormbench does not do, so it is refused.
fn parse_timeout(v: &str) -> Result<Dur, String> {
    match v.trim().parse::<u64>() {
        Ok(s) if s > 0 => Ok(Dur(Duration::from_secs(s))),
        _ => Err(format!(
            "connect_timeout: '{v}' is not a number of seconds above 0; give e.g. 10"
        )),
    }
}

/// Percent-decodes a URI component.
fn decode(part: &str, what: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("the URI's {what} is not valid UTF-8 once percent-decoded"))
}

/// `[user[:password]@][host][:port][/dbname][?key=value&...]`, after the scheme.
fn parse_uri(rest: &str) -> Result<ConnParams, String> {
    let mut p = ConnParams::default();
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match main.split_once('/') {
        Some((a, d)) => (a, Some(d)),
        None => (main, None),
    };
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, pw)) => (u, Some(pw)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                p.user = Some(decode(user, "user name")?);
            }
            if let Some(pw) = password {
                p.password = Some(Secret::new(decode(pw, "password")?));
            }
            hostport
        }
        None => authority,
    };
    if hostport.contains(',') {
        return Err("several hosts are not supported; give one host in the URI".into());
    }
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or("the URI's IPv6 address lacks its closing ']'")?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, port)) => (h, Some(port)),
            None => (hostport, None),
        }
    };
    if !host.is_empty() {
        p.host = Some(decode(host, "host")?);
    }
    if let Some(port) = port.filter(|s| !s.is_empty()) {
        // not echoed: in `user:secret/db`, a URI without its `@host`, the password
        // stands where the port would
        p.port = Some(parse_port(port).map_err(|_| {
            "the URI's port is not a port number from 1 to 65535; write \
             postgresql://user@host:port/dbname"
                .to_string()
        })?);
    }
    if let Some(db) = path.filter(|d| !d.is_empty()) {
        p.dbname = Some(decode(db, "database name")?);
    }
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            format!(
                "the URI's parameter '{}' has no value; write key=value",
                decode(pair, "parameter").unwrap_or_default()
            )
        })?;
        let key = decode(k, "parameter name")?;
        p.set(&key, &decode(v, "parameter value")?)?;
    }
    Ok(p)
}

/// `key=value` pairs separated by white space; a value may be single-quoted, and `\`
/// escapes the next character (as libpq's conninfo strings).
fn parse_key_values(s: &str) -> Result<ConnParams, String> {
    let mut p = ConnParams::default();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(p);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!(
                "'{key}' in the connection string has no value; write {key}=value"
            ));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(format!(
                            "the quoted value of '{key}' in the connection string is not closed; end it with '"
                        ))
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        p.set(&key, &value)?;
    }
}

/// Where libpq looks for a user's files: `$HOME`.
fn home(get: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// The settings of service `name`: the first of the user's service file (`PGSERVICEFILE`,
/// else `~/.pg_service.conf`) and the system's (`$PGSYSCONFDIR/pg_service.conf`, else
/// Debian's `/etc/postgresql-common/pg_service.conf`) that defines it.
pub(crate) fn service(
    name: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnParams, String> {
    let mut files = Vec::new();
    match get("PGSERVICEFILE").filter(|v| !v.is_empty()) {
        Some(f) => files.push(PathBuf::from(f)),
        None => files.extend(home(get).map(|h| h.join(".pg_service.conf"))),
    }
    files.push(match get("PGSYSCONFDIR").filter(|v| !v.is_empty()) {
        Some(d) => Path::new(&d).join("pg_service.conf"),
        None => PathBuf::from("/etc/postgresql-common/pg_service.conf"),
    });
    for f in &files {
        let text = match read_small(f) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => return Err(e),
        };
        if let Some(p) = service_in(&text, name, f)? {
            return Ok(p);
        }
    }
    let looked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(format!(
        "service '{name}' is not defined in {}; add a [{name}] section or set PGSERVICEFILE",
        looked.join(" or ")
    ))
}

/// Service and password files larger than this are refused.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads a small regular file; `None` when it does not exist.
fn read_small(f: &Path) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(f) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", f.display())),
    };
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", f.display()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{} is larger than 1 MiB", f.display()));
    }
    std::fs::read_to_string(f)
        .map(Some)
        .map_err(|e| format!("cannot read {}: {e}", f.display()))
}

/// Service `name` in one service file's text (an INI file: `[name]` then `key=value`
/// lines; `#` starts a comment line).
fn service_in(text: &str, name: &str, file: &Path) -> Result<Option<ConnParams>, String> {
    let mut found: Option<ConnParams> = None;
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            if found.is_some() {
                break;
            }
            inside = section.strip_suffix(']').map(str::trim) == Some(name);
            if inside {
                found = Some(ConnParams::default());
            }
            continue;
        }
        if !inside {
            continue;
        }
        let at = || format!("{} line {}", file.display(), i + 1);
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("{}: expected key=value", at()))?;
        let p = found.as_mut().expect("inside a section");
        if k.trim() == "service" {
            return Err(format!("{}: a service cannot name another service", at()));
        }
        p.set(k.trim(), v.trim())
            .map_err(|e| format!("{}: {e}", at()))?;
    }
    Ok(found)
}

/// The password file's answer for a connection, as libpq looks it up: the first line
/// whose host, port, database and user match (`*` matches anything; `\:` and `\\` are a
/// literal colon and backslash). A Unix-socket connection matches the host `localhost`.
/// `Err` is a warning: the file was not used (its permissions let others read it, or it
/// cannot be read).
pub(crate) fn pgpass_lookup(
    file: &Path,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Result<Option<Secret>, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("password file {} not used: {e}", file.display())),
    };
    if !meta.is_file() {
        return Err(format!(
            "password file {} not used: it is not a regular file",
            file.display()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "password file {} not used: it has group or world access; \
             permissions should be u=rw (0600) or less (chmod 600 {})",
            file.display(),
            file.display()
        ));
    }
    let text = read_small(file)
        .map_err(|e| format!("password file not used: {e}"))?
        .unwrap_or_default();
    let host = if host.is_empty() || host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    let wanted = [host, port.as_str(), dbname, user];
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = pgpass_fields(line);
        if fields.len() < 5 {
            continue;
        }
        if fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f == "*" || f == w)
        {
            return Ok(Some(Secret::new(fields[4].clone())));
        }
    }
    Ok(None)
}

/// Splits a password-file line on unescaped colons into at most five fields; the fifth
/// (the password) takes the rest of the line.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// The password file to use: `passfile` (the setting or `PGPASSFILE`), else `~/.pgpass`.
pub(crate) fn pgpass_path(
    passfile: Option<&Path>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    passfile
        .map(|p| expand_home(p, get))
        .or_else(|| home(get).map(|h| h.join(".pgpass")))
}

/// `~/x` as `$HOME/x` (a config file's paths are written so).
pub(crate) fn expand_home(p: &Path, get: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match (p.strip_prefix("~"), home(get)) {
        (Ok(rest), Some(h)) => h.join(rest),
        _ => p.to_path_buf(),
    }
}

#[cfg(test)]
#[path = "conninfo_tests.rs"]
mod tests;
