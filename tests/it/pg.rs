//! A throwaway PostgreSQL for the tests: Debian's `postgresql` server (the README's test
//! command installs it), a cluster made in a temporary directory and listening on a free
//! loopback port, shared by the tests that run at the same time and stopped when the last of
//! them lets it go. Each test takes a database of its own; text sorts as in Swedish. Also
//! [`free_port`], which the other tests and the benchmark share.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A running cluster; stopped when dropped.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// The newest server installed (`/usr/lib/postgresql/<version>/bin`).
fn server_bin() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("no PostgreSQL server: install Debian's postgresql (scripts/test does)")
}

/// Runs a server program as the cluster's owner: PostgreSQL refuses to run as root, so as
/// root it runs as the `postgres` user Debian's package makes.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

/// A loopback port free when asked (the tests' servers and the benchmark's nodes bind it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A certificate authority and a server certificate it signed for `127.0.0.1` (with
/// `openssl`, which Debian's postgresql brings), in `dir`; returns the server's TLS settings.
fn tls_files(dir: &Path) -> String {
    let openssl = |args: &[String]| {
        let mut c = Command::new("openssl");
        c.current_dir(dir).args(args);
        run(c, "openssl");
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    let args = |line: String| line.split(' ').map(str::to_string).collect::<Vec<_>>();
    openssl(&args(format!(
        "req -x509 {ec} -keyout ca.key -out ca.pem -subj /CN=samla-test-CA"
    )));
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("san.ext");
    openssl(&args(format!(
        "req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1"
    )));
    openssl(&args(
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem".into(),
    ));
    if is_root() {
        let mut c = Command::new("chown");
        c.arg("postgres:")
            .arg(dir.join("server.key"))
            .arg(dir.join("server.pem"));
        run(c, "chown the server's key");
    }
    let mut c = Command::new("chmod");
    c.arg("600").arg(dir.join("server.key"));
    run(c, "chmod the server's key");
    format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    )
}

fn run(mut command: Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    /// A cluster of its own, durable as a deployment's would be but for waiting on each
    /// commit's flush (as SQLite's `synchronous = NORMAL`): the benchmark's. Tests share
    /// [`Cluster::shared`].
    #[allow(dead_code)] // the benchmark's
    pub fn start() -> Self {
        Self::start_with("-c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB")
    }

    /// A cluster for tests: nothing is flushed to disk.
    fn start_for_tests() -> Self {
        Self::start_with("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    }

    fn start_with(settings: &str) -> Self {
        let bin = server_bin();
        let dir = tempfile::Builder::new()
            .prefix("samla-pg-")
            .tempdir()
            .expect("tempdir");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:").arg(dir.path());
                    c
                },
                "chown the cluster's directory",
            );
        }
        let data = dir.path().join("data");
        let mut initdb = as_owner(&bin.join("initdb"));
        initdb
            .args([
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ])
            // A Swedish collation, as a Swedish deployment would have: the store must not
            // depend on the database's order of text.
            .args([
                "--locale=C.UTF-8",
                "--locale-provider=icu",
                "--icu-locale=sv-SE",
            ])
            .arg("-D")
            .arg(&data);
        run(initdb, "initdb");
        let ssl = tls_files(dir.path());
        // The role `samla_tls` may only come over TLS: a test that connects as it knows its
        // connection is encrypted.
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).expect("pg_hba.conf");
        std::fs::write(
            &hba,
            format!("hostnossl all samla_tls 127.0.0.1/32 reject\n{rules}"),
        )
        .expect("pg_hba.conf");
        // The port is free when asked; a server that lost it to another process tries again.
        for attempt in 0.. {
            let port = free_port();
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 {ssl} {settings}",
                dir.path().display()
            );
            let mut start = as_owner(&bin.join("pg_ctl"));
            start
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]);
            if start.output().map(|o| o.status.success()).unwrap_or(false) {
                let cluster = Self { dir, bin, port };
                let mut psql = cluster.psql();
                psql.arg("CREATE ROLE samla_tls LOGIN SUPERUSER");
                run(psql, "create the TLS-only role");
                return cluster;
            }
            let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
            assert!(attempt < 3, "the PostgreSQL server did not start:\n{log}");
        }
        unreachable!()
    }

    /// The shared cluster, started if no test holds it.
    pub fn shared() -> Arc<Self> {
        static SHARED: Mutex<Weak<Cluster>> = Mutex::new(Weak::new());
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cluster) = shared.upgrade() {
            return cluster;
        }
        let cluster = Arc::new(Self::start_for_tests());
        *shared = Arc::downgrade(&cluster);
        cluster
    }

    /// The address of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The file of the certificate authority that signed the server's certificate (made
    /// for `127.0.0.1` only).
    #[allow(dead_code)] // the tests'
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The size on disk of the database at `url` (of this cluster), in bytes.
    #[allow(dead_code)] // the benchmark's
    pub fn database_size(&self, url: &str) -> u64 {
        let name = url.rsplit('/').next().unwrap_or_default();
        let out = self
            .psql()
            .arg(format!("SELECT pg_database_size('{name}')"))
            .args(["-t", "-A"])
            .output()
            .expect("psql");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// Runs `command` in the database at `url` (one of this cluster's).
    pub fn execute(&self, url: &str, command: &str) {
        let mut psql = self.psql_on(url.rsplit('/').next().unwrap_or_default());
        psql.arg(command);
        run(psql, command);
    }

    /// `psql` on this cluster's `postgres` database, to be given `-c` and the command.
    fn psql(&self) -> Command {
        self.psql_on("postgres")
    }

    /// `psql` on the database `name`, to be given the command.
    fn psql_on(&self, name: &str) -> Command {
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .args(["-p", &self.port.to_string(), "-d", name, "-c"]);
        psql
    }

    /// A new empty database; returns its address.
    pub fn database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "samla_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut psql = self.psql();
        psql.arg(format!("CREATE DATABASE {name}"));
        run(psql, "create a database");
        self.url(&name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = as_owner(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = stop.output();
    }
}
