//! One input file's bytes, read into memory. A JSON Lines file larger than a window is handed
//! out a window of whole lines at a time, so memory stays flat however large the file, and its
//! SHA-256 is taken as the windows go by. A gzip file is inflated as it is read: JSON Lines a
//! window at a time, like a plain file (its SHA-256 is of the bytes as stored); any other
//! document whole, which [`crate::sources::detect::decompress`] bounds.
//!
//! Files are read, not mapped: a mapped file that another process truncated while it was read
//! stopped the run with SIGBUS (no message, no output), and reading costs what mapping did
//! (the copy was 9% of `query` at 5 GB, as the mapping's page faults had been; see
//! docs/performance.md). A file that another process changes while it is read could still show
//! the parser other bytes than it ends with, so a regular file's size and modification time
//! are checked again once it has been read, and a file that changed (grew, shrank or was
//! rewritten) is an error naming it rather than evidence.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek};
use std::ops::Deref;
use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::thread::JoinHandle;
use std::time::SystemTime;

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::sources::detect;

/// Files up to this size are handled whole; larger JSON Lines files a window of about this
/// size at a time. A window of 2 MiB is still in the processor's caches when it is parsed
/// after its copy from the page cache (issue 26): with 16 MiB ones `query` over one 1.5 GB
/// file took 0.72 to 0.79 s and over 24 files 0.82 to 0.89 s, with 2 MiB ones 0.67 to 0.68
/// and 0.66 to 0.74 s (1 and 4 MiB were no better; docs/performance.md).
pub const WINDOW: usize = 2 << 20;

/// Window buffers of files already read, for the next file's windows. A file's reading thread
/// reuses its buffers (see [`Bytes`]'s drop), but each new file of a few dozen took fresh ones,
/// zeroed and faulted in page by page again, and freed at its end.
static SPARE_WINDOWS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A window buffer from [`SPARE_WINDOWS`], or a new one, empty (room for a window and the
/// byte `read_to_end` reads to see the end, so a file's first window fits without growing).
fn spare_window() -> Vec<u8> {
    let mut spare = SPARE_WINDOWS.lock().unwrap_or_else(|e| e.into_inner());
    spare
        .pop()
        .unwrap_or_else(|| Vec::with_capacity(WINDOW + 1))
}

/// Keeps `buf` for another file's windows, up to two a core (as many as are read at once).
fn keep_window(buf: Vec<u8>) {
    if buf.capacity() < WINDOW {
        return;
    }
    let mut spare = SPARE_WINDOWS.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < 2 * rayon::current_num_threads() {
        spare.push(buf);
    }
}

/// Frees the window buffers kept for other files, once no file is left to read.
pub fn free_spare_windows() {
    let mut spare = SPARE_WINDOWS.lock().unwrap_or_else(|e| e.into_inner());
    *spare = Vec::new();
}

/// Bytes of a file, read into memory: a whole file, or a window whose buffer goes back to the
/// reading thread once parsed.
pub struct Bytes {
    data: Vec<u8>,
    len: usize,
    back: Option<Sender<Vec<u8>>>,
}

impl Bytes {
    fn whole(data: Vec<u8>) -> Bytes {
        let len = data.len();
        Bytes {
            data,
            len,
            back: None,
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Drop for Bytes {
    /// A window's buffer is read into again: a new one for each window cost its zeroing (by
    /// the standard library's `read_to_end`) and its pages' first faults, 8% of `query`'s time
    /// on a large file, on the thread that also hashes.
    fn drop(&mut self) {
        if let Some(back) = self.back.take()
            && let Err(gone) = back.send(std::mem::take(&mut self.data))
        {
            // The file's reading thread is done: another file's may use it.
            keep_window(gone.0);
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
///
/// `hash` asks for the SHA-256 of a file read in windows (a whole file is hashed by its reader);
/// `ahead` is how many windows the reading thread may read before they are taken (one per
/// thread that parses them).
pub fn open(path: &Path, hash: bool, ahead: usize) -> io::Result<(Opened, Option<Stamp>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let stamp = meta.is_file().then(|| Stamp::of(&meta));
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    // A regular gzip file whose content is JSON Lines is inflated a window at a time; its hash
    // is of the compressed bytes, taken as the inflater reads them.
    if meta.is_file() && is_gzip(&mut file)? {
        let mut inflated = MultiGzDecoder::new(Tee::new(file, hash));
        let mut head = Vec::with_capacity(WINDOW + 1);
        let full = (&mut inflated).take(WINDOW as u64).read_to_end(&mut head);
        if full.is_ok() && head.len() == WINDOW && detect::is_json_lines(&head) {
            let source = Source::Gzip(Box::new(inflated));
            return Ok((Opened::Lines(Windows::new(source, head, ahead)), stamp));
        }
        // Anything else is read as stored, and inflated (within a bound) by its parser.
        file = inflated.into_inner().inner;
        file.rewind()?;
    }
    // The first window decides: a JSON Lines file that fills it is read a window at a time.
    let mut head = if size >= WINDOW {
        let mut buf = spare_window();
        buf.clear();
        buf
    } else {
        Vec::new()
    };
    head.reserve(WINDOW.min(size).saturating_add(1));
    (&mut file).take(WINDOW as u64).read_to_end(&mut head)?;
    if head.len() == WINDOW && is_json_lines(&head) {
        let mut tee = Tee::new(file, false);
        if hash {
            let mut hasher = Sha256::new();
            hasher.update(&head);
            tee.hasher = Some(hasher);
        }
        tee.bytes = head.len() as u64;
        let source = Source::Plain(tee);
        return Ok((Opened::Lines(Windows::new(source, head, ahead)), stamp));
    }
    head.reserve(size.saturating_sub(head.len()).min(isize::MAX as usize / 2));
    file.read_to_end(&mut head)?;
    Ok((Opened::Whole(Bytes::whole(head)), stamp))
}

fn is_json_lines(head: &[u8]) -> bool {
    !head.starts_with(&[0x1f, 0x8b]) && detect::is_json_lines(head)
}

/// Whether the file starts as gzip does; it is left at its start.
fn is_gzip(file: &mut File) -> io::Result<bool> {
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic)?;
    file.rewind()?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

/// A reader that hashes and counts the bytes read through it: the file as stored.
struct Tee {
    inner: File,
    hasher: Option<Sha256>,
    bytes: u64,
}

impl Tee {
    fn new(inner: File, hash: bool) -> Tee {
        Tee {
            inner,
            hasher: hash.then(Sha256::new),
            bytes: 0,
        }
    }
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Where a file read in windows comes from.
enum Source {
    Plain(Tee),
    Gzip(Box<MultiGzDecoder<Tee>>),
}

impl Source {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            Source::Plain(tee) => tee,
            Source::Gzip(inflated) => inflated.as_mut(),
        }
    }

    fn tee(self) -> Tee {
        match self {
            Source::Plain(tee) => tee,
            Source::Gzip(inflated) => inflated.into_inner(),
        }
    }
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

/// A large JSON Lines file, a window of whole lines at a time. The file is read (inflated and
/// hashed) on a thread of its own, a window ahead of the one being parsed: read on the parsing
/// thread, one big file spent a fifth longer than when it was mapped.
pub struct Windows {
    windows: Option<Receiver<io::Result<Option<Bytes>>>>,
    reader: Option<JoinHandle<Source>>,
}

impl Windows {
    fn new(source: Source, head: Vec<u8>, ahead: usize) -> Windows {
        let (send, windows) = sync_channel(ahead.max(1));
        let reader = std::thread::spawn(move || {
            let (back, spare) = channel();
            let filled = head.len();
            let mut cutter = Cutter {
                source,
                buf: head,
                filled,
                eof: false,
                spare,
                back,
            };
            loop {
                let next = cutter.next_window();
                let last = !matches!(next, Ok(Some(_)));
                // The parser stopped reading: so does the reader.
                if send.send(next).is_err() || last {
                    break;
                }
            }
            keep_window(std::mem::take(&mut cutter.buf));
            while let Ok(buf) = cutter.spare.try_recv() {
                keep_window(buf);
            }
            cutter.source
        });
        Windows {
            windows: Some(windows),
            reader: Some(reader),
        }
    }

    /// The next window: whole lines (the last window ends where the file does), or None at
    /// the end. A line longer than a window makes the window as long as the line.
    pub fn next_window(&mut self) -> io::Result<Option<Bytes>> {
        match self.windows.as_ref().map(Receiver::recv) {
            Some(Ok(next)) => next,
            _ => Ok(None),
        }
    }

    /// Once every window is read: the file's SHA-256 as stored (empty when not asked for) and
    /// its size as stored.
    pub fn finish(mut self) -> (String, u64) {
        self.windows = None;
        let tee = self
            .reader
            .take()
            .map(|r| r.join().expect("the reading thread does not panic").tee());
        let sha = tee
            .as_ref()
            .and_then(|t| t.hasher.clone())
            .map(|h| hex::encode(h.finalize()));
        (sha.unwrap_or_default(), tee.map_or(0, |t| t.bytes))
    }
}

impl Drop for Windows {
    /// A file left half read: the reader is told to stop, and waited for.
    fn drop(&mut self) {
        self.windows = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Cuts a file into windows of whole lines, on the reading thread.
struct Cutter {
    source: Source,
    /// Every byte of it initialized (read into without zeroing again); the first `filled` are
    /// the file's, not yet handed out.
    buf: Vec<u8>,
    filled: usize,
    eof: bool,
    /// Buffers of parsed windows, to read into again, and where windows send them.
    spare: Receiver<Vec<u8>>,
    back: Sender<Vec<u8>>,
}

impl Cutter {
    /// Reads until `filled` reaches `to` or the file ends.
    fn fill(&mut self, to: usize) -> io::Result<()> {
        if self.buf.len() < to {
            self.buf.resize(to, 0);
        }
        while self.filled < to {
            match self.source.reader().read(&mut self.buf[self.filled..to]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn next_window(&mut self) -> io::Result<Option<Bytes>> {
        if !self.eof {
            self.fill(WINDOW.max(self.filled))?;
        }
        if self.filled == 0 {
            return Ok(None);
        }
        let cut = loop {
            if self.eof {
                break self.filled;
            }
            match memchr::memrchr(b'\n', &self.buf[..self.filled]) {
                Some(i) => break i + 1,
                // One line longer than a window: read on until it ends.
                None => self.fill(self.filled + WINDOW)?,
            }
        };
        let rest = self.filled - cut;
        let mut next = self.spare.try_recv().unwrap_or_else(|_| spare_window());
        if next.len() < WINDOW.max(rest) {
            next.resize(WINDOW.max(rest), 0);
        }
        next[..rest].copy_from_slice(&self.buf[cut..self.filled]);
        self.filled = rest;
        Ok(Some(Bytes {
            data: std::mem::replace(&mut self.buf, next),
            len: cut,
            back: Some(self.back.clone()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(path: &Path) -> (Vec<u8>, usize) {
        let (opened, stamp) = open(path, true, 1).unwrap();
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
        let (Opened::Lines(mut w), Some(stamp)) = open(&path, true, 1).unwrap() else {
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

    /// Issue 30, item 3: gzip was inflated whole in memory. Compressed JSON Lines is read a
    /// window at a time like plain, and its hash and size are of the file as stored.
    #[test]
    fn gzip_json_lines_are_read_in_windows_and_hashed_as_stored() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json.gz");
        let mut data = Vec::new();
        let mut i = 0u64;
        while data.len() < 2 * WINDOW + WINDOW / 3 {
            data.extend_from_slice(format!("{{\"n\":{i}}}\n").as_bytes());
            i += 1;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let stored = gz.finish().unwrap();
        std::fs::write(&path, &stored).unwrap();
        let (Opened::Lines(mut w), Some(stamp)) = open(&path, true, 1).unwrap() else {
            panic!("expected windows")
        };
        let mut read = Vec::new();
        let mut windows = 0;
        while let Some(b) = w.next_window().unwrap() {
            assert!(b.len() <= 2 * WINDOW, "a window of {} bytes", b.len());
            read.extend_from_slice(&b);
            windows += 1;
        }
        assert!(read == data, "windows lost or changed bytes");
        assert!(windows >= 3);
        let (sha, bytes) = w.finish();
        assert_eq!(sha, hex::encode(Sha256::digest(&stored)));
        assert_eq!(bytes, stored.len() as u64);
        stamp.check(&path).unwrap();
        // Without the hash asked for, none is taken.
        let (Opened::Lines(w), _) = open(&path, false, 1).unwrap() else {
            panic!("expected windows")
        };
        assert_eq!(w.finish().0, "");
    }

    #[test]
    fn small_and_empty_files_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        for data in [&b""[..], b"{\"a\":1}\n"] {
            let path = dir.path().join("f.json");
            std::fs::write(&path, data).unwrap();
            let (Opened::Whole(b), _) = open(&path, true, 1).unwrap() else {
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
        let (_, stamp) = open(&path, true, 1).unwrap();
        std::fs::write(&path, b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert!(stamp.unwrap().check(&path).is_err());
    }
}
