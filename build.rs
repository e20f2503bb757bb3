//! Fingerprints what decides how a listed name is indexed (the data tables, the normalizer, the
//! index and the token distance), so that an index file built by a redflag whose normalization
//! differs, even at the same version number, is refused rather than read with stale tokens.

use std::path::Path;

const SOURCES: &[&str] = &[
    "data",
    "src/text",
    "src/geo.rs",
    "src/index.rs",
    "src/score/distance.rs",
];

fn files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            files(&e, out);
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
}

fn main() {
    let mut paths = Vec::new();
    for s in SOURCES {
        println!("cargo:rerun-if-changed={s}");
        files(Path::new(s), &mut paths);
    }
    // FNV-1a over names and contents: stable across platforms and needs no dependency.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in &paths {
        let name = p.to_string_lossy().replace('\\', "/");
        for b in name.bytes().chain(std::fs::read(p).unwrap_or_default()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=REDFLAG_NORMALIZATION_HASH={h:016x}");
}
