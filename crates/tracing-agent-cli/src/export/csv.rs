//! `--to FILE.csv`: RFC 4180 with a header line.
//!
//! Written by hand rather than with the `csv` crate because that crate cannot tell NULL
//! from an empty string: it writes both as an empty field. Here NULL is an empty field
//! and an empty string is `""`, which is what PostgreSQL's `COPY ... (FORMAT csv)`,
//! DuckDB and ClickHouse read back as NULL and as an empty string; the rest of the
//! format is a dozen lines.

use std::io::{self, Write};

use super::table::{Table, Value};
use super::time::rfc3339_ms;

/// Writes the rows of one table as CSV.
pub(crate) struct CsvWriter<W: Write> {
    out: W,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header line: the column names of `table`.
    pub fn new(mut out: W, table: &Table) -> io::Result<Self> {
        let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
        out.write_all(names.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
        Ok(CsvWriter { out })
    }

    /// Writes one row.
    pub fn write(&mut self, row: &[Value]) -> io::Result<()> {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            match *value {
                Value::Null => {}
                Value::Text(text) | Value::Json(text) => self.text(text)?,
                Value::Int(n) => write!(self.out, "{n}")?,
                // Rust writes the shortest text that reads back as the same double.
                Value::Float(x) => write!(self.out, "{x}")?,
                Value::Time(ms) => self.out.write_all(rfc3339_ms(ms).as_bytes())?,
                Value::Bool(b) => self.out.write_all(if b { b"true" } else { b"false" })?,
            }
        }
        self.out.write_all(b"\r\n")
    }

    fn text(&mut self, text: &str) -> io::Result<()> {
        let quote = text.is_empty() || text.contains([',', '"', '\n', '\r']);
        if !quote {
            return self.out.write_all(text.as_bytes());
        }
        self.out.write_all(b"\"")?;
        self.out.write_all(text.replace('"', "\"\"").as_bytes())?;
        self.out.write_all(b"\"")
    }

    /// The writer, with everything written to it.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::table::RUNS;

    fn line(row: &[Value]) -> String {
        let mut writer = CsvWriter::new(Vec::new(), &RUNS).unwrap();
        writer.write(row).unwrap();
        let text = String::from_utf8(writer.into_inner()).unwrap();
        text.split_once("\r\n").unwrap().1.to_owned()
    }

    #[test]
    fn null_and_empty_text_differ_and_quotes_are_doubled() {
        assert_eq!(
            line(&[
                Value::Null,
                Value::Text(""),
                Value::Text("a,\"b\"\nc"),
                Value::Int(-3)
            ]),
            ",\"\",\"a,\"\"b\"\"\nc\",-3\r\n"
        );
        assert_eq!(
            line(&[Value::Float(0.1), Value::Time(1_500), Value::Bool(false)]),
            "0.1,1970-01-01T00:00:01.500Z,false\r\n"
        );
    }
}
