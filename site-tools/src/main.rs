//! `strip-wasm DIR`: drops the `producers` and `target_features` custom sections from every
//! `.wasm` file in DIR, in place.
//!
//! The code splitter writes both into each of the site's ~350 WebAssembly files (about 200
//! bytes that brotli can hardly shrink in a small file). A browser uses neither: a first visit
//! to Home downloads 113 of the files, and the two sections were 14 KB of its brotli bytes.
//! Every other section, the `name` section included, is kept byte for byte.

use std::path::Path;
use std::process::ExitCode;

/// The custom sections dropped.
const DROPPED: [&str; 2] = ["producers", "target_features"];

/// An unsigned LEB128 number at `at`: its value and where it ends.
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(at)?;
        at += 1;
        value |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// `module` without the dropped custom sections; `None` when it is not a WebAssembly module
/// this reads to the end (then it is left as it is).
fn strip(module: &[u8]) -> Option<Vec<u8>> {
    if module.get(..4)? != b"\0asm" {
        return None;
    }
    let mut out = Vec::with_capacity(module.len());
    out.extend_from_slice(module.get(..8)?);
    let mut at = 8;
    while at < module.len() {
        let id = module[at];
        let (size, body) = leb128(module, at + 1)?;
        let end = body.checked_add(size).filter(|e| *e <= module.len())?;
        let dropped = id == 0 && {
            let (len, name) = leb128(module, body)?;
            let name = module.get(name..name.checked_add(len)?)?;
            DROPPED.iter().any(|d| d.as_bytes() == name)
        };
        if !dropped {
            out.extend_from_slice(&module[at..end]);
        }
        at = end;
    }
    Some(out)
}

fn run(dir: &Path) -> std::io::Result<(usize, usize)> {
    let (mut files, mut saved) = (0, 0);
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        let module = std::fs::read(&path)?;
        match strip(&module) {
            Some(out) if out.len() < module.len() => {
                saved += module.len() - out.len();
                files += 1;
                std::fs::write(&path, out)?;
            }
            Some(_) => {}
            None => eprintln!(
                "strip-wasm: {} is not a module it can read; left as it is",
                path.display()
            ),
        }
    }
    Ok((files, saved))
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: strip-wasm DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(&dir)) {
        Ok((files, saved)) => {
            println!("strip-wasm: {saved} bytes of producers/target_features sections dropped from {files} files");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("strip-wasm: {}: {e}", Path::new(&dir).display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        let mut s = vec![0, body.len() as u8];
        s.extend(body);
        s
    }

    fn module(sections: &[Vec<u8>]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        sections.iter().for_each(|s| m.extend_from_slice(s));
        m
    }

    #[test]
    fn drops_the_two_sections_and_keeps_every_other_byte_for_byte() {
        let types = vec![1, 4, 1, 0x60, 0, 0];
        let name = custom("name", b"\x01\x02ab");
        let input = module(&[
            types.clone(),
            custom("producers", b"\x01\x0cprocessed-by"),
            name.clone(),
            custom("target_features", b"\x01+\x0bbulk-memory"),
        ]);
        assert_eq!(strip(&input).unwrap(), module(&[types, name]));
    }

    #[test]
    fn a_module_without_them_is_unchanged_and_garbage_is_refused() {
        let plain = module(&[vec![1, 4, 1, 0x60, 0, 0], custom("name", b"")]);
        assert_eq!(strip(&plain).unwrap(), plain);
        assert!(strip(b"not wasm").is_none());
        // a section claiming more bytes than the file has
        assert!(strip(&module(&[vec![1, 90, 1]])).is_none());
        // a size that never ends
        assert!(strip(&module(&[vec![1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]])).is_none());
    }

    #[test]
    fn multi_byte_sizes_are_read() {
        let big = custom("producers", &[7; 300]);
        // 300+10 bytes of body: the size takes two LEB128 bytes
        let mut s = vec![0];
        let body = &big[2..];
        let n = body.len();
        s.extend_from_slice(&[(n & 0x7f) as u8 | 0x80, (n >> 7) as u8]);
        s.extend_from_slice(body);
        let input = module(&[s, custom("name", b"")]);
        assert_eq!(strip(&input).unwrap(), module(&[custom("name", b"")]));
    }
}
