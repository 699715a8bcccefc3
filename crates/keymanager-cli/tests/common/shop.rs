//! A seller with products that ship updates: the test plugin and theme of tests/wordpress as
//! release zips, a signing key in a file (so tests can forge and expire links), a public URL on
//! a known loopback port, and a license.

use super::server::Server;
use super::Env;
use keymanager::signing;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const WP_UA: &str = "WordPress/6.1.9; http://site.example";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wordpress")
}

/// The fixture folder `name` as a zip whose headers say `version` (and a changelog entry for it).
pub fn package(name: &str, version: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut files: Vec<_> = std::fs::read_dir(fixtures().join(name)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let text: String = text
                .lines()
                .map(|l| {
                    if l.contains("Version:") || l.contains("Stable tag:") {
                        format!("{}{version}", &l[..l.rfind(' ').unwrap() + 1])
                    } else if l == "== Changelog ==" {
                        format!("{l}\n\n= {version} =\n* Changes in {version}.")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            z.start_file(format!("{name}/{}", f.file_name().unwrap().to_string_lossy()), options).unwrap();
            z.write_all(text.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

/// The fixture `name` with `mb` MB of incompressible bytes beside it (`{name}/assets.bin`,
/// stored): a package larger than the sockets' buffers.
pub fn large_package(name: &str, version: &str, mb: usize) -> Vec<u8> {
    let small = package(name, version);
    let mut z = zip::ZipWriter::new_append(std::io::Cursor::new(small)).unwrap();
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file(format!("{name}/assets.bin"), stored).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let block: Vec<u8> = (0..1 << 17)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect();
    for _ in 0..mb {
        z.write_all(&block).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// A free port on loopback (the server's public URL must be known before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Shop {
    pub env: Env,
    pub _dir: tempfile::TempDir,
    pub key_file: PathBuf,
    pub port: u16,
    pub plugin: i64,
    pub theme: i64,
    pub key: String,
    pub license_id: i64,
}

impl Shop {
    pub fn new() -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("signing-key");
        let env = Env::new().with_var("KEYMANAGER_SIGNING_KEY_FILE", key_file.to_string_lossy().to_string());
        env.ok(&["keys", "init", "--file", &key_file.to_string_lossy()]);
        let port = free_port();
        env.ok(&["settings", "set", "public_url", &format!("http://127.0.0.1:{port}")]);
        let plugin = env.json(&["products", "add", "--name", "KM Updates Demo", "--json"])["id"].as_i64().unwrap();
        let theme = env.json(&["products", "add", "--name", "KM Updates Theme", "--json"])["id"].as_i64().unwrap();
        let key = env.ok(&["licenses", "issue", "--product", &plugin.to_string()]).trim().to_string();
        let license_id =
            env.licenses().iter().find(|l| l["license_key"] == key.as_str()).unwrap()["id"].as_i64().unwrap();
        Shop { env, _dir: dir, key_file, port, plugin, theme, key, license_id }
    }

    /// Adds (and with `publish` publishes) a release from the fixture; returns its id.
    pub fn release(&self, product: i64, name: &str, version: &str, extra: &[&str]) -> i64 {
        let file = self._dir.path().join(format!("{name}-{version}.zip"));
        std::fs::write(&file, package(name, version)).unwrap();
        let (product, file) = (product.to_string(), file.to_string_lossy().to_string());
        let args = [&["releases", "add", "--product", &product, &file, "--json"][..], extra].concat();
        self.env.json(&args)["release"]["id"].as_i64().unwrap()
    }

    /// Waits out the server's release cache: a publish, a yank or a rollout reaches metadata
    /// answers within a second (the contract's freshness; downloads check the database itself).
    pub fn settle(&self) {
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }

    pub fn serve(&self) -> Server {
        Server::spawn_at(&self.env, &format!("127.0.0.1:{}", self.port), &[], |_| {})
    }

    pub fn signer(&self) -> signing::Signer {
        signing::Signer::from_stored(&std::fs::read_to_string(&self.key_file).unwrap()).unwrap()
    }
}
