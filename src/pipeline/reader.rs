//! One input file's bytes, read into memory. A JSON Lines file larger than a window is handed
//! out a window of whole lines at a time, so memory stays flat however large the file, and its
//! SHA-256 is taken as the windows go by.
//!
//! Files are read, not mapped: a mapped file that another process truncated while it was read
//! stopped the run with SIGBUS (no message, no output), and reading costs what mapping did
//! (the copy was 9% of `query` at 5 GB, as the mapping's page faults had been; see
//! docs/performance.md). A file that another process changes while it is read could still show
//! the parser other bytes than it ends with, so a regular file's size and modification time
//! are checked again once it has been read, and a file that changed (grew, shrank or was
//! rewritten) is an error naming it rather than evidence.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;
use std::time::SystemTime;

use crate::sources::detect;

/// Files up to this size are handled whole; larger JSON Lines files a window of about this
/// size at a time.
pub const WINDOW: usize = 16 << 20;

/// Bytes of a file, read into memory.
pub struct Bytes(Vec<u8>);

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// An opened input file.
pub enum Opened {
    /// A JSON Lines file larger than one window: read it with [`Windows::next_window`].
    Lines(Windows),
    /// Any other file, whole.
    Whole(Bytes),
}

/// Opens `path` and decides how it is read. The stamp is for regular files only: a pipe's
/// modification time moves while its writer writes, and what is read from it is what it held.
pub fn open(path: &Path) -> io::Result<(Opened, Option<Stamp>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let stamp = meta.is_file().then(|| Stamp::of(&meta));
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    // The first window decides: a JSON Lines file that fills it is read a window at a time.
    let mut head = Vec::with_capacity(WINDOW.min(size).saturating_add(1));
    (&mut file).take(WINDOW as u64).read_to_end(&mut head)?;
    if head.len() == WINDOW && is_json_lines(&head) {
        return Ok((Opened::Lines(Windows::read(file, head)), stamp));
    }
    head.reserve(size.saturating_sub(head.len()).min(isize::MAX as usize / 2));
    file.read_to_end(&mut head)?;
    Ok((Opened::Whole(Bytes(head)), stamp))
}

fn is_json_lines(head: &[u8]) -> bool {
    !head.starts_with(&[0x1f, 0x8b]) && detect::is_json_lines(head)
}

/// What a file looked like when opened: compared again after reading, so a file that changed
/// underneath is not reported as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }

    /// An error when `path` no longer looks as it did when opened.
    pub fn check(&self, path: &Path) -> io::Result<()> {
        let now = Stamp::of(&std::fs::metadata(path)?);
        if now == *self {
            Ok(())
        } else {
            Err(io::Error::other(
                "the file changed while it was being read; read it again once it is complete",
            ))
        }
    }
}

/// A large JSON Lines file, a window of whole lines at a time.
pub struct Windows {
    file: File,
    how: How,
}

struct How {
    buf: Vec<u8>,
    eof: bool,
}

impl Windows {
    fn read(file: File, head: Vec<u8>) -> Windows {
        Windows {
            file,
            how: How {
                buf: head,
                eof: false,
            },
        }
    }

    /// The next window: whole lines (the last window ends where the file does), or None at
    /// the end. A line longer than a window makes the window as long as the line.
    pub fn next_window(&mut self) -> io::Result<Option<Bytes>> {
        let How { buf, eof } = &mut self.how;
        loop {
            if !*eof && buf.len() < WINDOW {
                let before = buf.len();
                // Room for the whole window at once: grown by doubling, each window was
                // copied several times over.
                buf.reserve(WINDOW - before);
                (&mut self.file)
                    .take((WINDOW - before) as u64)
                    .read_to_end(buf)?;
                *eof = buf.len() == before;
                continue;
            }
            if buf.is_empty() {
                return Ok(None);
            }
            let cut = if *eof {
                buf.len()
            } else {
                match memchr::memrchr(b'\n', buf) {
                    Some(i) => i + 1,
                    None => {
                        // One line longer than a window: read on until it ends.
                        let before = buf.len();
                        (&mut self.file).take(WINDOW as u64).read_to_end(buf)?;
                        *eof = buf.len() == before;
                        continue;
                    }
                }
            };
            let rest = buf.split_off(cut);
            return Ok(Some(Bytes(std::mem::replace(buf, rest))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(path: &Path) -> (Vec<u8>, usize) {
        let (opened, stamp) = open(path).unwrap();
        let stamp = stamp.unwrap();
        let Opened::Lines(mut w) = opened else {
            panic!("expected windows")
        };
        let mut all = Vec::new();
        let mut windows = 0;
        while let Some(b) = w.next_window().unwrap() {
            assert!(b.ends_with(b"\n") || all.len() + b.len() == stamp.len as usize);
            all.extend_from_slice(&b);
            windows += 1;
        }
        stamp.check(path).unwrap();
        (all, windows)
    }

    #[test]
    fn windows_cover_the_file_in_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        // Short lines, then one line a window and a half long, then a window and a bit of
        // short lines, the last without a final newline.
        let mut data = Vec::new();
        while data.len() < WINDOW - 100 {
            data.extend_from_slice(b"{\"a\":1}\n");
        }
        data.extend_from_slice(b"{\"b\":\"");
        data.resize(data.len() + WINDOW + WINDOW / 2, b'x');
        data.extend_from_slice(b"\"}\n");
        for _ in 0..(WINDOW + WINDOW / 4) / 8 {
            data.extend_from_slice(b"{\"c\":2}\n");
        }
        data.extend_from_slice(b"{\"d\":3}");
        std::fs::write(&path, &data).unwrap();
        let (read, n) = lines_of(&path);
        assert!(read == data, "windows lost or changed bytes");
        // Up to the long line; the long line and short ones after it (read on to its end);
        // the rest, which is shorter than a window.
        assert_eq!(n, 3);
    }

    /// Issue 30, item 4: a mapped file truncated while it was read stopped the run with SIGBUS.
    /// Read, the truncation is what the stamp catches: a clean error naming the change.
    #[test]
    fn a_file_truncated_while_read_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let mut data = Vec::new();
        while data.len() < 3 * WINDOW {
            data.extend_from_slice(b"{\"a\":1}\n");
        }
        std::fs::write(&path, &data).unwrap();
        let (Opened::Lines(mut w), Some(stamp)) = open(&path).unwrap() else {
            panic!("expected windows of a regular file")
        };
        let first = w.next_window().unwrap().unwrap();
        assert!(first.len() >= WINDOW / 2);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100)
            .unwrap();
        while w.next_window().unwrap().is_some() {}
        let e = stamp.check(&path).unwrap_err();
        assert!(
            e.to_string().contains("changed while it was being read"),
            "{e}"
        );
    }

    #[test]
    fn small_and_empty_files_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        for data in [&b""[..], b"{\"a\":1}\n"] {
            let path = dir.path().join("f.json");
            std::fs::write(&path, data).unwrap();
            let (Opened::Whole(b), _) = open(&path).unwrap() else {
                panic!("expected whole")
            };
            assert_eq!(&*b, data);
        }
    }

    #[test]
    fn a_file_that_changed_after_opening_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"{\"a\":1}\n").unwrap();
        let (_, stamp) = open(&path).unwrap();
        std::fs::write(&path, b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert!(stamp.unwrap().check(&path).is_err());
    }
}
