//! bulk-issue's CSV input, read with the `csv` crate as spreadsheets write it (RFC 4180): a
//! header row of claim names, then one record per citizen whose quoted fields may hold commas,
//! doubled quotes and line breaks; a UTF-8 byte order mark at the start (Excel's "CSV UTF-8")
//! is skipped. Every record is bounded in size: the reader is never handed more than the bound
//! (and its buffer) past the start of the record it parses, so a quote left open never pulls
//! the rest of the file into memory.
//!
//! Errors name the record (and the line it starts on), never a cell: cells are personal data.

use anyhow::{anyhow, bail, Result};
use qrid_credential::CitizenInput;
use std::io::Read;

/// The column names a header may hold: the claims JSON's field names.
pub const COLUMNS: [&str; 10] = [
    "id_number",
    "full_name",
    "date_of_birth",
    "sex",
    "nationality",
    "place_of_origin",
    "place_of_residence",
    "photo_sha256",
    "issue_date",
    "expiry_date",
];

/// The claim a column fills, by its header name; `None` for a name that is not a claim.
fn slot<'a>(input: &'a mut CitizenInput, name: &str) -> Option<&'a mut Option<String>> {
    // No `..`: a claim added to CitizenInput does not compile here until it has its column.
    let CitizenInput {
        id_number,
        full_name,
        date_of_birth,
        sex,
        nationality,
        place_of_origin,
        place_of_residence,
        photo_sha256,
        issue_date,
        expiry_date,
    } = input;
    Some(match name {
        "id_number" => id_number,
        "full_name" => full_name,
        "date_of_birth" => date_of_birth,
        "sex" => sex,
        "nationality" => nationality,
        "place_of_origin" => place_of_origin,
        "place_of_residence" => place_of_residence,
        "photo_sha256" => photo_sha256,
        "issue_date" => issue_date,
        "expiry_date" => expiry_date,
        _ => return None,
    })
}

/// What the csv reader reads ahead of the record it parses (its buffer).
const BUFFER: u64 = 1 << 16;

/// The input as the csv reader sees it: it ends, with an error, `until` bytes in, which the
/// reader moves to the start of each record plus the record bound and the buffer.
struct Bounded<R> {
    inner: R,
    read: u64,
    until: u64,
    hit: bool,
    /// The bytes handed out from offset `kept_from` on (the record being parsed and what the
    /// reader holds ahead of it, so within the bound): where the record's first line is found.
    kept: std::collections::VecDeque<u8>,
    kept_from: u64,
}

impl<R> Bounded<R> {
    fn new(inner: R, until: u64) -> Self {
        Bounded {
            inner,
            read: 0,
            until,
            hit: false,
            kept: std::collections::VecDeque::new(),
            kept_from: 0,
        }
    }

    /// Forgets the bytes before offset `at`, the start of the next record.
    fn forget_before(&mut self, at: u64) {
        let n = usize::try_from(at.saturating_sub(self.kept_from))
            .unwrap_or(usize::MAX)
            .min(self.kept.len());
        self.kept.drain(..n);
        self.kept_from += n as u64;
    }

    /// The line breaks the record kept from begins with before its first byte: the rest of
    /// the last record's CRLF and blank lines, which the csv reader skips as part of the record
    /// but counts in its line number only as it passes them.
    fn leading_newlines(&self) -> u64 {
        let leading = self.kept.iter().take_while(|&&b| b == b'\r' || b == b'\n');
        leading.filter(|&&b| b == b'\n').count() as u64
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = self.until.saturating_sub(self.read);
        if room == 0 {
            self.hit = true;
            return Err(std::io::Error::other("CSV record over its bound"));
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        self.kept.extend(&buf[..n]);
        Ok(n)
    }
}

/// One data record of the file.
pub struct Record {
    /// Its number: 1 for the first record after the header.
    pub number: u64,
    /// The line of the file it starts on (the header is line 1).
    pub line: u64,
    /// Its claims, or why it is refused (the reading goes on with the next record).
    pub input: Result<CitizenInput>,
}

impl Record {
    /// Where the record is, for messages: `record 3 (line 4)`.
    pub fn place(&self) -> String {
        format!("record {} (line {})", self.number, self.line)
    }
}

/// Citizens' claims from a CSV file, record by record.
pub struct CitizenCsv<R: Read> {
    reader: ::csv::Reader<Bounded<R>>,
    /// The header's claim names by column; empty for a column with no name.
    header: Vec<String>,
    max_record: u64,
    record: ::csv::ByteRecord,
    done: bool,
}

impl<R: Read> CitizenCsv<R> {
    /// Reads and checks the header: each column names a claim (or nothing, if every cell of
    /// the column is empty), none twice, and the row is at most `max_record` bytes.
    pub fn new(input: R, max_record: usize) -> Result<Self> {
        let max_record = max_record as u64;
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            // A record with another number of fields than the header is an error with its
            // position, not a shorter or longer record.
            .flexible(false)
            .buffer_capacity(BUFFER as usize)
            .from_reader(Bounded::new(input, max_record + BUFFER));
        let raw = match reader.byte_headers().cloned() {
            Ok(h) => h,
            Err(_) if reader.get_ref().hit => {
                bail!("CSV header: larger than {max_record} bytes (is a quote left open?)")
            }
            Err(e) => bail!("CSV header: {}", read_error(&e)),
        };
        if reader.position().byte() > max_record {
            bail!("CSV header: larger than {max_record} bytes");
        }
        let mut header: Vec<String> = Vec::with_capacity(raw.len());
        for (i, name) in raw.iter().enumerate() {
            let column = i + 1;
            let name = std::str::from_utf8(name)
                .map_err(|_| anyhow!("CSV header: column {column} is not UTF-8"))?;
            // The reader skips a byte order mark at the start of the file; this one is for an
            // input that handed over the mark in pieces.
            let name = if i == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                name
            };
            let name = name.trim();
            if !name.is_empty() {
                // A name that is not a claim is not echoed: a file without its header row
                // would show a citizen's data here.
                if slot(&mut CitizenInput::default(), name).is_none() {
                    bail!(
                        "CSV header: column {column} is not a claim name (is the header row \
                         missing?); the columns are named {}",
                        COLUMNS.join(", ")
                    );
                }
                if let Some(first) = header.iter().position(|h| h == name) {
                    bail!(
                        "CSV header: columns {} and {column} both name {name}",
                        first + 1
                    );
                }
            }
            header.push(name.to_owned());
        }
        Ok(CitizenCsv {
            reader,
            header,
            max_record,
            record: ::csv::ByteRecord::new(),
            done: false,
        })
    }

    /// Bytes of the input read so far, up to the end of the last record.
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next record, `None` at the end. An error is the end of the reading: the input
    /// could not be read, or a record ran on past its bound (after which no record can be
    /// found again); a record that is only refused comes back as one with its reason.
    pub fn read_record(&mut self) -> Result<Option<Record>> {
        if self.done {
            return Ok(None);
        }
        let start = self.reader.position().clone();
        let bounded = self.reader.get_mut();
        bounded.until = start.byte() + self.max_record + BUFFER;
        bounded.forget_before(start.byte());
        let read = self.reader.read_byte_record(&mut self.record);
        let number = start.record();
        let line = start.line() + self.reader.get_ref().leading_newlines();
        let input = match read {
            Ok(false) => {
                self.done = true;
                return Ok(None);
            }
            Ok(true) if self.reader.position().byte() - start.byte() > self.max_record => Err(
                anyhow!("the record is larger than {} bytes", self.max_record),
            ),
            Ok(true) => self.to_input(),
            Err(e) => match e.kind() {
                ::csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => Err(anyhow!("{len} fields where the header has {expected_len}")),
                _ => {
                    self.done = true;
                    if self.reader.get_ref().hit {
                        bail!(
                            "record {number} (line {line}) is larger than {} bytes (is a quote \
                             left open?); the file is not read past it",
                            self.max_record
                        );
                    }
                    bail!("record {number} (line {line}): {}", read_error(&e));
                }
            },
        };
        Ok(Some(Record {
            number,
            line,
            input,
        }))
    }

    /// The record just read as claims: empty cells are absent claims.
    fn to_input(&self) -> Result<CitizenInput> {
        let mut input = CitizenInput::default();
        for (i, (name, cell)) in self.header.iter().zip(self.record.iter()).enumerate() {
            let column = i + 1;
            let cell =
                std::str::from_utf8(cell).map_err(|_| anyhow!("column {column} is not UTF-8"))?;
            if cell.is_empty() {
                continue;
            }
            // The header was checked: a named column is a claim.
            match slot(&mut input, name) {
                Some(claim) => *claim = Some(cell.to_owned()),
                None => bail!("column {column} has a value but no name in the header"),
            }
        }
        Ok(input)
    }
}

/// What went wrong reading, without the csv crate's wording (which may grow to quote data).
fn read_error(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::Io(io) => format!("cannot read the input: {io}"),
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where {expected_len} were expected"),
        _ => "not readable as CSV".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads a whole CSV text: the refusals as `Err(message)`, keyed by record and line.
    fn read_all(text: &[u8], max: usize) -> Result<Vec<(u64, u64, Result<CitizenInput>)>> {
        let mut csv = CitizenCsv::new(text, max)?;
        let mut out = Vec::new();
        while let Some(r) = csv.read_record()? {
            out.push((r.number, r.line, r.input));
        }
        Ok(out)
    }

    fn write(rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.into_inner().unwrap()
    }

    const OK: &str = "001099012345,\"Nguyễn Văn A, Jr\",1990-01-02,\n";

    #[test]
    fn plain_records_map_columns_to_claims() {
        let text = format!("id_number, full_name ,date_of_birth,sex\r\n{OK}\n\n{OK}");
        let rows = read_all(text.as_bytes(), 8192).unwrap();
        assert_eq!(rows.len(), 2);
        let (n, line, i) = &rows[0];
        assert_eq!((*n, *line), (1, 2));
        let i = i.as_ref().unwrap();
        assert_eq!(i.id_number.as_deref(), Some("001099012345"));
        assert_eq!(i.full_name.as_deref(), Some("Nguyễn Văn A, Jr"));
        assert!(i.sex.is_none(), "an empty cell is an absent claim");
        assert!(i.to_citizen().is_ok());
        // Blank lines are skipped, and counted in the line the next record starts on.
        assert_eq!((rows[1].0, rows[1].1), (2, 5));
    }

    #[test]
    fn an_excel_byte_order_mark_is_skipped() {
        let text = format!("\u{feff}id_number,full_name,date_of_birth,sex\r\n{OK}");
        let rows = read_all(text.as_bytes(), 8192).unwrap();
        let i = rows[0].2.as_ref().unwrap();
        assert_eq!(i.id_number.as_deref(), Some("001099012345"));
        // Also when the input hands the mark over a byte at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut csv = CitizenCsv::new(Trickle(text.as_bytes()), 8192).unwrap();
        assert_eq!(csv.header[0], "id_number");
        let i = csv.read_record().unwrap().unwrap().input.unwrap();
        assert_eq!(i.full_name.as_deref(), Some("Nguyễn Văn A, Jr"));
    }

    #[test]
    fn quoted_line_breaks_are_read_and_round_trip() {
        let place = "Số 12 Phố Huế,\r\nHà Nội\nViệt Nam";
        let text = write(&[
            vec!["id_number".into(), "place_of_residence".into()],
            vec!["001099012345".into(), place.into()],
            vec!["001099054321".into(), "x".into()],
        ]);
        let rows = read_all(&text, 8192).unwrap();
        assert_eq!(
            rows[0].2.as_ref().unwrap().place_of_residence.as_deref(),
            Some(place)
        );
        // The next record starts after the three lines of the first.
        assert_eq!((rows[1].0, rows[1].1), (2, 5));
        assert_eq!(
            rows[1].2.as_ref().unwrap().id_number.as_deref(),
            Some("001099054321")
        );
    }

    #[test]
    fn doubled_quotes_are_one_quote() {
        let text = b"id_number,full_name\n1,\"say \"\"hi\"\"\"\n2,\"\"\"\"\n";
        let rows = read_all(text, 8192).unwrap();
        assert_eq!(
            rows[0].2.as_ref().unwrap().full_name.as_deref(),
            Some("say \"hi\"")
        );
        assert_eq!(rows[1].2.as_ref().unwrap().full_name.as_deref(), Some("\""));
    }

    #[test]
    fn a_wrong_field_count_is_refused_with_its_record_number_and_the_rest_read() {
        let text = format!(
            "id_number,full_name,date_of_birth,sex\n{OK}001099099999,Phạm Bí Mật\n{OK}\
             001099088888,Lê Văn Thừa,1990-01-01,M,extra\n{OK}"
        );
        // The same with Excel's CRLF line ends, and with blank lines (the first refusal moves
        // two lines down).
        let crlf = text.replace('\n', "\r\n");
        let blank = text.replacen(OK, &format!("{OK}\r\n\n"), 1);
        for (text, first) in [(&text, 3), (&crlf, 3), (&blank, 5)] {
            let rows = read_all(text.as_bytes(), 8192).unwrap();
            assert_eq!(rows.len(), 5);
            let refused: Vec<(u64, u64, String)> = rows
                .iter()
                .filter_map(|(n, l, i)| i.as_ref().err().map(|e| (*n, *l, format!("{e:#}"))))
                .collect();
            assert_eq!(
                refused,
                [
                    (2, first, "2 fields where the header has 4".to_owned()),
                    (4, first + 2, "5 fields where the header has 4".to_owned())
                ],
                "{text:?}"
            );
            assert!(rows[4].2.is_ok());
        }
    }

    #[test]
    fn unknown_repeated_and_unnamed_columns() {
        let e = read_all(b"id_number,nmae\n1,x\n", 8192).err().unwrap();
        let e = format!("{e:#}");
        assert!(e.contains("column 2") && e.contains("full_name"), "{e}");
        assert!(!e.contains("nmae"), "{e}");
        // A file without its header row: its first citizen is not echoed.
        let e = read_all(b"001099012345,Nguyen Van A\n", 8192)
            .err()
            .unwrap();
        let e = format!("{e:#}");
        assert!(e.contains("column 1") && !e.contains("001099012345"), "{e}");
        assert!(!e.contains("Nguyen"), "{e}");
        let e = read_all(b"id_number,full_name, id_number\n", 8192)
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("columns 1 and 3"), "{e:#}");
        // A column with no name may be there (a spreadsheet's trailing comma) if it is empty.
        let rows = read_all(b"id_number,\n1,\n2,x\n", 8192).unwrap();
        assert!(rows[0].2.is_ok());
        let e = format!("{:#}", rows[1].2.as_ref().err().unwrap());
        assert!(e.contains("column 2") && !e.contains('x'), "{e}");
    }

    #[test]
    fn an_oversize_record_is_refused_by_number() {
        let big = "a".repeat(300);
        // Over the bound but within the reader's buffer: refused, and the next one is read.
        let text = format!("id_number,full_name\n1,\"{big}\"\n2,b\n");
        let rows = read_all(text.as_bytes(), 100).unwrap();
        let e = format!("{:#}", rows[0].2.as_ref().err().unwrap());
        assert_eq!(e, "the record is larger than 100 bytes");
        assert_eq!(rows[1].2.as_ref().unwrap().id_number.as_deref(), Some("2"));
        // A quote left open: the reading stops at the bound, naming the record, and keeps no
        // more than the bound and the buffer of it.
        let open = "b".repeat(2 * BUFFER as usize);
        let text = format!("id_number,full_name\n1,a\n2,\"{open}\n3,c\n");
        let mut csv = CitizenCsv::new(text.as_bytes(), 100).unwrap();
        assert!(csv.read_record().unwrap().unwrap().input.is_ok());
        let e = format!("{:#}", csv.read_record().err().unwrap());
        assert!(
            e.starts_with("record 2 (line 3) is larger than 100 bytes"),
            "{e}"
        );
        assert!(!e.contains("bb"), "{e}");
        assert!(csv.reader.get_ref().read <= 24 + 100 + BUFFER);
        assert!(csv.reader.get_ref().kept.len() as u64 <= 100 + BUFFER);
        assert!(
            csv.read_record().unwrap().is_none(),
            "nothing after the stop"
        );
        // So is an oversize header.
        let e = read_all(format!("id_number,{big}\n").as_bytes(), 100)
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("larger than 100 bytes"), "{e:#}");
    }

    #[test]
    fn a_cell_that_is_not_utf8_is_refused_alone() {
        let rows = read_all(b"id_number,full_name\n1,\xff\xfe\n2,b\n", 8192).unwrap();
        let e = format!("{:#}", rows[0].2.as_ref().err().unwrap());
        assert_eq!(e, "column 2 is not UTF-8");
        assert!(rows[1].2.is_ok());
    }

    #[test]
    fn every_column_is_a_claim_and_every_claim_a_column() {
        let mut input = CitizenInput::default();
        for name in COLUMNS {
            *slot(&mut input, name).unwrap() = Some(String::new());
        }
        assert!(!format!("{input:?}").contains("None"), "{input:?}");
        assert!(slot(&mut input, "fullname").is_none());
    }

    fn claims(i: &CitizenInput) -> Vec<Option<String>> {
        let mut i = i.clone();
        COLUMNS
            .iter()
            .map(|c| slot(&mut i, c).unwrap().clone())
            .collect()
    }

    proptest! {
        /// Whatever the cells hold (commas, quotes, line breaks, a byte order mark), writing
        /// them and reading them back gives the same claims.
        #[test]
        fn written_records_read_back_the_same(
            rows in prop::collection::vec(
                prop::collection::vec("(\\PC|[,\"\r\n \u{feff}]){0,40}", COLUMNS.len()),
                1..5,
            ),
            bom in any::<bool>(),
        ) {
            let mut all = vec![COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
            all.extend(rows.iter().cloned());
            let mut text = if bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
            text.extend(write(&all));
            let read = read_all(&text, 8192).unwrap();
            prop_assert_eq!(read.len(), rows.len());
            // Each record starts a line below the last line of the one before.
            let mut line = 2;
            for ((n, l, input), row) in read.iter().zip(&rows) {
                let want: Vec<Option<String>> =
                    row.iter().map(|c| (!c.is_empty()).then(|| c.clone())).collect();
                prop_assert_eq!(claims(input.as_ref().unwrap()), want, "record {}", n);
                prop_assert_eq!(*l, line, "record {}", n);
                line += 1 + row.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>();
            }
        }
    }
}
