//! Debian's nginx, started with a config of its own: round robin in front
//! of `serve` nodes (the multi-node tests, the throughput benchmark), or
//! serving a folder of files (what the benchmark compares the nodes with).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestRegistry;

pub struct Nginx {
    child: Child,
    pub url: String,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("nginx is missing: scripts/setup-test-env installs Debian's nginx")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// Round robin over `nodes`, as docs/operations.md configures it.
    pub fn start(port: u16, nodes: &[&TestRegistry]) -> Nginx {
        let servers: String = nodes
            .iter()
            .map(|n| format!("        server {};\n", n.url.trim_start_matches("http://")))
            .collect();
        let nginx = Self::run(
            port,
            &format!("upstream gemeinwerk {{\n{servers}        keepalive 64;\n    }}\n"),
            "location / {\n\
                 proxy_pass http://gemeinwerk;\n\
                 proxy_http_version 1.1;\n\
                 proxy_set_header Connection \"\";\n\
                 proxy_set_header Host $host;\n\
                 proxy_read_timeout 60s;\n\
                 proxy_next_upstream error timeout http_503;\n\
             }\n",
        );
        let started = Instant::now();
        while ureq::get(&format!("{}/healthz", nginx.url)).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx does not reach the nodes: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        nginx
    }

    /// The files under `root` as they lie on disk: `/index/ns/name` is
    /// `root/index/ns/name`.
    pub fn serve_dir(port: u16, root: &Path) -> Nginx {
        Self::run(
            port,
            "",
            &format!(
                "root {};\nlocation / {{ default_type text/plain; etag on; }}\n",
                root.display()
            ),
        )
    }

    fn run(port: u16, upstream: &str, locations: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // Two workers for two cores; the nodes share them.
        let config = format!(
            "worker_processes 2;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
                 access_log off;\n\
                 client_body_temp_path {d}/body;\n\
                 proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n\
                 scgi_temp_path {d}/scgi;\n\
                 {upstream}\
                 server {{\n\
                     listen 127.0.0.1:{port};\n\
                     client_max_body_size 20m;\n\
                     {locations}\
                 }}\n\
             }}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
        let child = Command::new(nginx_binary())
            .args([
                "-p",
                &d.to_string(),
                "-c",
                &format!("{d}/nginx.conf"),
                "-e",
                &format!("{d}/error.log"),
            ])
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let nginx = Nginx { child, url, dir };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "nginx did not start: {}",
                nginx.error_log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        nginx
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}
