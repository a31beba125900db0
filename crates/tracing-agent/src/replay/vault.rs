//! The snapshots on disk: names, paths, atomic writes, sealing. Shared by the store
//! and the recorder thread, which holds it without a handle back to the store (so that
//! dropping the last store handle ends the thread).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use sha2::{Digest, Sha256};

use super::error::ReplayError;

/// The first bytes of an encrypted snapshot; a plain one is JSON, which never starts so.
pub(super) const SEALED: &[u8; 4] = b"TAS1";
const NONCE_LEN: usize = 24;

/// What the recorder thread needs to write: the directory and the key. No `Arc` back to
/// the store, so dropping the last store handle ends the thread.
pub(super) struct Vault {
    pub(super) root: PathBuf,
    pub(super) key: Option<[u8; 32]>,
}

impl Vault {
    pub(super) fn key_of(&self, content: &[u8]) -> String {
        let digest: [u8; 32] = match &self.key {
            None => Sha256::digest(content).into(),
            Some(key) => {
                use hmac::{Hmac, Mac};
                match <Hmac<Sha256> as Mac>::new_from_slice(key) {
                    Ok(mut mac) => {
                        mac.update(content);
                        mac.finalize().into_bytes().into()
                    }
                    // HMAC takes keys of any length; kept free of panics all the same.
                    Err(_) => Sha256::digest(content).into(),
                }
            }
        };
        hex(&digest)
    }

    /// The path of `key`, after checking it is a key: nothing else becomes a path.
    pub(super) fn path_of(&self, key: &str) -> Result<PathBuf, ReplayError> {
        if !valid_key(key) {
            return Err(ReplayError::BadKey(key.to_owned()));
        }
        Ok(self.root.join("v1/sha256").join(&key[..2]).join(key))
    }

    /// Writes `content` under `key` unless it is there already (then refreshes its time).
    pub(super) fn write(&self, key: &str, content: &[u8]) -> Result<(), ReplayError> {
        let path = self.path_of(key)?;
        if path.is_file() {
            // Retention counts from the last run that recorded it; a failure to touch
            // only makes it expire sooner, so it is not an error.
            let _ = File::options()
                .append(true)
                .open(&path)
                .and_then(|f| f.set_modified(SystemTime::now()));
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let bytes = match &self.key {
            None => content.to_vec(),
            Some(secret) => seal(secret, key, content),
        };
        write_atomically(&path, &bytes)
    }

    pub(super) fn read(&self, key: &str) -> Result<Vec<u8>, ReplayError> {
        let path = self.path_of(key)?;
        let bytes = fs::read(&path).map_err(|e| not_found_or(e, key, "reading snapshot", &path))?;
        let content = if bytes.starts_with(SEALED) {
            let Some(secret) = &self.key else {
                return Err(ReplayError::Undecryptable {
                    key: key.to_owned(),
                    step: None,
                    why: "it is encrypted and the store was opened without a key".into(),
                });
            };
            open_sealed(secret, key, &bytes[SEALED.len()..]).ok_or_else(|| {
                ReplayError::Undecryptable {
                    key: key.to_owned(),
                    step: None,
                    why: "wrong key, or the file was altered".into(),
                }
            })?
        } else {
            bytes
        };
        if self.key_of(&content) != key {
            return Err(ReplayError::Corrupt {
                key: key.to_owned(),
                step: None,
                path,
            });
        }
        Ok(content)
    }
}

pub(super) fn not_found_or(error: io::Error, key: &str, doing: &str, path: &Path) -> ReplayError {
    if error.kind() == io::ErrorKind::NotFound {
        ReplayError::Missing {
            key: key.to_owned(),
            step: None,
        }
    } else {
        ReplayError::io(doing, path, error)
    }
}

/// `SEALED`, a random nonce, then the ciphertext; the snapshot's name is the associated
/// data, so a sealed file moved under another name does not decrypt.
fn seal(secret: &[u8; 32], name: &str, content: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(secret.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let payload = Payload {
        msg: content,
        aad: name.as_bytes(),
    };
    // Encryption fails only for messages beyond 256 GiB.
    let sealed = cipher.encrypt(&nonce, payload).unwrap_or_default();
    let mut out = Vec::with_capacity(SEALED.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(SEALED);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open_sealed(secret: &[u8; 32], name: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(secret.into());
    let payload = Payload {
        msg: sealed,
        aad: name.as_bytes(),
    };
    cipher
        .decrypt(chacha20poly1305::XNonce::from_slice(nonce), payload)
        .ok()
}

/// To a temporary file beside `path` (0600), fsynced, renamed over `path`, and the
/// directory fsynced so the rename itself survives a crash.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReplayError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| ReplayError::io("creating a temporary file in", dir, e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| ReplayError::io("writing", file.path().to_path_buf(), e))?;
    file.persist(path)
        .map_err(|e| ReplayError::io("renaming into", path, e.error))?;
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

pub(super) fn create_private_dir(dir: &Path) -> Result<(), ReplayError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| ReplayError::io("creating directory", dir, e))
}

/// 64 lowercase hex digits.
pub(super) fn valid_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(super) fn parse_key(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(key)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}
