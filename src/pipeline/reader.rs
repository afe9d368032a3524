//! One input file's bytes. A regular file is mapped from the page cache rather than copied
//! through the kernel into a buffer (on gigabytes of Activity Log that copy was a tenth of the
//! run); anything that cannot be mapped (a pipe, a special file) is read. A JSON Lines file
//! larger than a window is handed out a window of whole lines at a time, so memory stays flat
//! however large the file, and its SHA-256 is taken as the windows go by.
//!
//! A mapped file that another process truncates while it is read stops the run with SIGBUS,
//! and one written in place could show the parser other bytes than the hash saw; so a mapped
//! file's size and modification time are checked again once it has been read, and a file that
//! changed is an error rather than evidence.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;
use std::time::SystemTime;

use memmap2::{Mmap, MmapOptions};

use crate::sources::detect;

/// Files up to this size are handled whole; larger JSON Lines files a window of about this
/// size at a time.
pub const WINDOW: usize = 16 << 20;

/// Bytes of a file: mapped, or read into memory.
pub enum Bytes {
    Mapped(Mmap, usize),
    Read(Vec<u8>),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map, len) => &map[..*len],
            Bytes::Read(v) => v,
        }
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
    let size = meta.len();
    if meta.is_file() && size > 0 && usize::try_from(size).is_ok() {
        if size as usize > WINDOW {
            let head = map(&file, 0, WINDOW)?;
            if is_json_lines(&head) {
                return Ok((Opened::Lines(Windows::mapped(file, size)), stamp));
            }
        }
        let all = map(&file, 0, size as usize)?;
        return Ok((Opened::Whole(Bytes::Mapped(all, size as usize)), stamp));
    }
    // Not mappable: read the first window to decide.
    let mut head = Vec::with_capacity(WINDOW.min(size as usize) + 1);
    (&mut file).take(WINDOW as u64).read_to_end(&mut head)?;
    if head.len() == WINDOW && is_json_lines(&head) {
        return Ok((Opened::Lines(Windows::read(file, head)), stamp));
    }
    file.read_to_end(&mut head)?;
    Ok((Opened::Whole(Bytes::Read(head)), stamp))
}

fn is_json_lines(head: &[u8]) -> bool {
    !head.starts_with(&[0x1f, 0x8b]) && detect::is_json_lines(head)
}

fn map(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: the mapping is read-only and private to this function's caller. A file changed
    // by another process while mapped is caught by [`Stamp`]; one truncated stops the run
    // (SIGBUS) rather than yielding wrong bytes.
    unsafe {
        MmapOptions::new()
            .offset(offset)
            .len(len)
            .populate()
            .map(file)
    }
}

/// What a file looked like when opened: compared again after reading, so a mapped file that
/// changed underneath is not reported as read.
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

enum How {
    Mapped { size: u64, pos: u64 },
    Read { buf: Vec<u8>, eof: bool },
}

impl Windows {
    fn mapped(file: File, size: u64) -> Windows {
        Windows {
            file,
            how: How::Mapped { size, pos: 0 },
        }
    }

    fn read(file: File, head: Vec<u8>) -> Windows {
        Windows {
            file,
            how: How::Read {
                buf: head,
                eof: false,
            },
        }
    }

    /// The next window: whole lines (the last window ends where the file does), or None at
    /// the end. A line longer than a window makes the window as long as the line.
    pub fn next_window(&mut self) -> io::Result<Option<Bytes>> {
        match &mut self.how {
            How::Mapped { size, pos } => {
                if *pos >= *size {
                    return Ok(None);
                }
                let mut want = WINDOW as u64;
                loop {
                    let len = want.min(*size - *pos) as usize;
                    let m = map(&self.file, *pos, len)?;
                    let at_end = *pos + len as u64 == *size;
                    let cut = if at_end {
                        Some(len)
                    } else {
                        memchr::memrchr(b'\n', &m).map(|i| i + 1)
                    };
                    match cut {
                        Some(cut) => {
                            *pos += cut as u64;
                            return Ok(Some(Bytes::Mapped(m, cut)));
                        }
                        None => want *= 2,
                    }
                }
            }
            How::Read { buf, eof } => loop {
                if !*eof && buf.len() < WINDOW {
                    let before = buf.len();
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
                return Ok(Some(Bytes::Read(std::mem::replace(buf, rest))));
            },
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
    fn windows_cover_the_file_in_whole_lines_mapped_and_read() {
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
        let (mapped, n) = lines_of(&path);
        assert!(mapped == data, "mapped windows lost or changed bytes");
        // Up to the long line; the long line and short ones after it (a doubled window); the
        // rest, which is shorter than a window.
        assert_eq!(n, 3);

        let file = File::open(&path).unwrap();
        let mut head = Vec::new();
        (&file).take(WINDOW as u64).read_to_end(&mut head).unwrap();
        let mut w = Windows::read(file, head);
        let mut read = Vec::new();
        while let Some(b) = w.next_window().unwrap() {
            read.extend_from_slice(&b);
        }
        assert!(read == data, "read windows lost or changed bytes");
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
