//! What `export` writes and the formats it writes it in: the tables (`table`), and one
//! writer per format (`csv`, `parquet`, `postgres`), files made whole before they take
//! their name (`output_file`), timestamps as text (`time`).

pub(crate) mod csv;
pub(crate) mod output_file;
pub(crate) mod parquet;
pub(crate) mod postgres;
pub(crate) mod table;
pub(crate) mod time;
