//! Bounded reading of files and lines: nothing a user or an attacker hands us is read whole
//! without a limit.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, Read};
use std::path::Path;

/// Reads a whole file, refusing it if it is larger than `limit` bytes.
pub fn read_file(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {what} {}", path.display()))?;
    let mut buf = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if buf.len() as u64 > limit {
        bail!("{what} {} is larger than {limit} bytes", path.display());
    }
    Ok(buf)
}

/// One line of input.
pub enum Line {
    /// The line without its line end.
    Text(String),
    /// The line was longer than the limit (it has been skipped to its end) or not UTF-8.
    Refused(&'static str),
}

/// Reads the next line, at most `max` bytes; `None` at end of input.
pub fn next_line<R: BufRead>(reader: &mut R, max: usize) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let n = reader
        .by_ref()
        .take(max as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if buf.len() > max {
        // Skip the rest of the oversize line without keeping it.
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                }
            }
        }
        return Ok(Some(Line::Refused("line too long")));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(match String::from_utf8(buf) {
        Ok(s) => Line::Text(s),
        Err(_) => Line::Refused("line is not UTF-8"),
    }))
}

/// Maps every line of `input` through `map` on all cores and hands the results to `sink` in
/// input order. Reading, mapping and writing overlap (three stages joined by bounded channels),
/// so neither I/O stage leaves the cores idle, and memory holds at most a few batches.
pub fn par_lines<I, T>(
    input: I,
    max_line: usize,
    batch: usize,
    map: impl Fn(usize, Line) -> T + Sync,
    mut sink: impl FnMut(usize, T) -> Result<()> + Send,
) -> Result<()>
where
    I: Read + Send,
    T: Send,
{
    use rayon::prelude::*;
    use std::sync::mpsc::sync_channel;
    let (batch_tx, batch_rx) = sync_channel::<(usize, Vec<Line>)>(2);
    let (out_tx, out_rx) = sync_channel::<(usize, Vec<T>)>(2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<()> {
            let mut reader = std::io::BufReader::with_capacity(1 << 16, input);
            let mut first = 1;
            loop {
                let mut lines = Vec::with_capacity(batch);
                while lines.len() < batch {
                    match next_line(&mut reader, max_line).context("cannot read standard input")? {
                        Some(l) => lines.push(l),
                        None => break,
                    }
                }
                let n = lines.len();
                if n == 0 || batch_tx.send((first, lines)).is_err() {
                    return Ok(());
                }
                first += n;
                if n < batch {
                    return Ok(());
                }
            }
        });
        let writer = scope.spawn(move || -> Result<()> {
            for (first, results) in out_rx {
                for (i, r) in results.into_iter().enumerate() {
                    sink(first + i, r)?;
                }
            }
            Ok(())
        });
        for (first, lines) in batch_rx {
            let results: Vec<T> = lines
                .into_par_iter()
                .enumerate()
                .map(|(i, l)| map(first + i, l))
                .collect();
            if out_tx.send((first, results)).is_err() {
                break;
            }
        }
        drop(out_tx);
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("output thread panicked"))?;
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("input thread panicked"))?;
        written.and(read)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_lines_are_skipped_not_kept() {
        let data = format!("short\r\n{}\nnext\nlast", "x".repeat(100));
        let mut r = std::io::BufReader::with_capacity(16, data.as_bytes());
        let mut out = Vec::new();
        while let Some(l) = next_line(&mut r, 10).unwrap() {
            out.push(match l {
                Line::Text(s) => s,
                Line::Refused(why) => format!("<{why}>"),
            });
        }
        assert_eq!(out, ["short", "<line too long>", "next", "last"]);
    }
}
