//! `--to FILE.parquet`: Apache Parquet through Arrow record batches, Snappy-compressed.
//!
//! Rows are gathered into batches of [`BATCH_ROWS`] and row groups close at
//! [`ROW_GROUP_ROWS`] or [`ROW_GROUP_BYTES`], so memory stays bounded however long the
//! log is.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::table::{Kind, Table, Value};

/// Rows per Arrow batch handed to the writer.
const BATCH_ROWS: usize = 8 * 1024;
/// Rows per Parquet row group, at most: the unit a reader skips or reads in parallel,
/// and what the writer holds in memory before writing it out.
const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Bytes of a row group, at most: events with large stored arguments reach it first.
const ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

/// The Arrow type of a column kind. Times are UTC milliseconds (Parquet's
/// `TIMESTAMP(MILLIS, isAdjustedToUTC=true)`), read as `TIMESTAMP` by BigQuery,
/// `TIMESTAMP WITH TIME ZONE` by DuckDB and `DateTime64(3, 'UTC')` by ClickHouse.
fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Json => DataType::Utf8,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Time => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        Kind::Bool => DataType::Boolean,
    }
}

/// The Arrow schema of `table`.
pub(crate) fn schema(table: &Table) -> SchemaRef {
    Arc::new(Schema::new(
        table
            .columns
            .iter()
            .map(|column| Field::new(column.name, data_type(column.kind), column.nullable))
            .collect::<Vec<_>>(),
    ))
}

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Time(TimestampMillisecondBuilder),
    Bool(BooleanBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text | Kind::Json => Builder::Text(StringBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Float => Builder::Float(Float64Builder::new()),
            Kind::Time => Builder::Time(TimestampMillisecondBuilder::new().with_timezone("UTC")),
            Kind::Bool => Builder::Bool(BooleanBuilder::new()),
        }
    }

    fn append(&mut self, value: &Value) {
        match (self, *value) {
            (Builder::Text(b), Value::Text(text) | Value::Json(text)) => b.append_value(text),
            (Builder::Text(b), _) => b.append_null(),
            (Builder::Int(b), Value::Int(n)) => b.append_value(n),
            (Builder::Int(b), _) => b.append_null(),
            (Builder::Float(b), Value::Float(x)) => b.append_value(x),
            (Builder::Float(b), _) => b.append_null(),
            (Builder::Time(b), Value::Time(ms)) => b.append_value(ms),
            (Builder::Time(b), _) => b.append_null(),
            (Builder::Bool(b), Value::Bool(x)) => b.append_value(x),
            (Builder::Bool(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// Writes the rows of one table as a Parquet file.
pub(crate) struct ParquetWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    pending: usize,
}

impl<W: Write + Send> ParquetWriter<W> {
    pub fn new(out: W, table: &Table) -> Result<Self, ParquetError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!("tracing-agent {}", env!("CARGO_PKG_VERSION")))
            .build();
        let schema = schema(table);
        Ok(ParquetWriter {
            writer: ArrowWriter::try_new(out, schema.clone(), Some(props))?,
            schema,
            builders: table
                .columns
                .iter()
                .map(|column| Builder::new(column.kind))
                .collect(),
            pending: 0,
        })
    }

    /// Adds one row, in the order of the table's columns.
    pub fn write(&mut self, row: &[Value]) -> Result<(), ParquetError> {
        for (builder, value) in self.builders.iter_mut().zip(row) {
            builder.append(value);
        }
        self.pending += 1;
        if self.pending == BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), ParquetError> {
        if self.pending == 0 {
            return Ok(());
        }
        let columns = self.builders.iter_mut().map(Builder::finish).collect();
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.pending = 0;
        self.writer.write(&batch)
    }

    /// Writes the last rows and the file's footer; returns the writer.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush_batch()?;
        self.writer.into_inner()
    }
}
