//! A report's list of every dataset, kept on disk: a corpus of a million datasets lists a
//! million rows, gigabytes of JSON, which a report must not hold in memory.

use crate::ReportError;
use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq};
use std::io::Write;

/// Rows written to a file of their own as they are made (JSON, LZ4-compressed each), then read
/// back one at a time in the order of a key: memory holds 16 bytes a row (its key and place).
pub struct Listing {
    file: Option<std::fs::File>,
    out: Option<std::io::BufWriter<std::fs::File>>,
    /// Per row: its key, its compressed length and where it starts.
    places: Vec<(i32, u32, u64)>,
    at: u64,
}

impl Listing {
    /// A list in a new file in `dir` (removed when the list is dropped).
    pub(crate) fn new(dir: &std::path::Path) -> Result<Self, ReportError> {
        let failed = |e: std::io::Error| ReportError::Facts(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let file = tempfile::tempfile_in(dir).map_err(failed)?;
        let out = std::io::BufWriter::with_capacity(1 << 16, file.try_clone().map_err(failed)?);
        Ok(Self {
            file: Some(file),
            out: Some(out),
            places: Vec::new(),
            at: 0,
        })
    }

    /// A list of no rows, and no file.
    pub(crate) fn none() -> Self {
        Self {
            file: None,
            out: None,
            places: Vec::new(),
            at: 0,
        }
    }

    /// Adds a row; rows come back in the order of their keys, and of their adding where keys
    /// are equal.
    pub(crate) fn push(&mut self, key: i32, row: &impl Serialize) -> Result<(), ReportError> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| ReportError::Facts("a list without a file".into()))?;
        let json = serde_json::to_vec(row).map_err(ReportError::render)?;
        let bytes = lz4_flex::compress_prepend_size(&json);
        let len = u32::try_from(bytes.len()).map_err(ReportError::render)?;
        out.write_all(&bytes)
            .map_err(|e| ReportError::Facts(e.to_string()))?;
        self.places.push((key, len, self.at));
        self.at += u64::from(len);
        Ok(())
    }

    /// The rows written and put in order, ready to read.
    pub(crate) fn finish(mut self) -> Result<Self, ReportError> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| ReportError::Facts(e.to_string()))?;
        }
        // Stable: rows of equal keys keep the order they were added in.
        self.places.sort_by_key(|(key, _, _)| *key);
        Ok(self)
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Each row's JSON text, in order.
    pub fn rows(&self) -> impl Iterator<Item = Result<String, ReportError>> + '_ {
        use std::os::unix::fs::FileExt;
        let failed = |e: std::io::Error| ReportError::Facts(e.to_string());
        let mut buf = Vec::new();
        self.places.iter().map(move |&(_, len, at)| {
            let file = self
                .file
                .as_ref()
                .ok_or_else(|| ReportError::Facts("a list without a file".into()))?;
            buf.resize(len as usize, 0);
            file.read_exact_at(&mut buf, at).map_err(failed)?;
            let json = lz4_flex::decompress_size_prepended(&buf)
                .map_err(|e| ReportError::Facts(e.to_string()))?;
            String::from_utf8(json).map_err(|e| ReportError::Facts(e.to_string()))
        })
    }

    /// Each row as JSON, in order (one at a time: for the CSV tables).
    pub fn values(&self) -> impl Iterator<Item = Result<serde_json::Value, ReportError>> + '_ {
        self.rows()
            .map(|row| serde_json::from_str(&row?).map_err(ReportError::render))
    }
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listing({} rows)", self.len())
    }
}

/// A JSON array of the rows, read from the file as it is written out.
impl Serialize for Listing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for row in self.rows() {
            let row = row.map_err(S::Error::custom)?;
            let raw = serde_json::value::RawValue::from_string(row).map_err(S::Error::custom)?;
            seq.serialize_element(&raw)?;
        }
        seq.end()
    }
}
