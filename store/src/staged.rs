//! A run's records on their way to the store: held in memory up to a limit, then staged in a
//! file on disk, so that a run holds a bounded number of records however large its source.
//!
//! A staged record is kept as the store keeps it (its graph, identity and provenance, not its
//! view): once applied, the index reads it back from the store, as a search node does.

use crate::StoreError;
use samla_model::{DatasetId, DatasetRecord};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The records of a run, each with its rank among its dataset's sources.
#[derive(Debug, Default)]
pub struct Records {
    held: Vec<(DatasetRecord, i64)>,
    staging: Option<Staging>,
    /// Where records go past `limit` (none: all are held).
    dir: Option<PathBuf>,
    limit: usize,
    staged: usize,
}

/// The file staged records are written to: unnamed, so it goes with the process.
#[derive(Debug)]
struct Staging {
    writer: BufWriter<std::fs::File>,
}

/// A staged record: what the store writes of it.
#[derive(Serialize, Deserialize)]
struct Staged<'a> {
    id: std::borrow::Cow<'a, str>,
    iri: std::borrow::Cow<'a, str>,
    original_subject: std::borrow::Cow<'a, str>,
    source_url: std::borrow::Cow<'a, str>,
    municipality_code: Option<std::borrow::Cow<'a, str>>,
    ntriples: std::borrow::Cow<'a, str>,
    hash: std::borrow::Cow<'a, str>,
    rank: i64,
}

/// A record as the apply reads it: whether it came back from the staging file (its view is
/// then empty, and the index must read it from the store).
pub(crate) struct Next {
    pub record: DatasetRecord,
    pub rank: i64,
    pub from_disk: bool,
}

impl Records {
    /// Records held in memory up to `limit`; past it, they are all staged in a file in `dir`.
    pub fn staged_in(dir: &Path, limit: usize) -> Self {
        Self {
            dir: Some(dir.to_path_buf()),
            limit,
            ..Self::default()
        }
    }

    /// Adds a record. Fails only when the staging file cannot be written.
    pub fn push(&mut self, record: DatasetRecord, rank: i64) -> std::io::Result<()> {
        if let Some(staging) = &mut self.staging {
            return staging.write(&record, rank).map(|()| self.staged += 1);
        }
        self.held.push((record, rank));
        if let Some(dir) = &self.dir
            && self.held.len() > self.limit
        {
            std::fs::create_dir_all(dir)?;
            let file = tempfile::tempfile_in(dir)?;
            let mut staging = Staging {
                writer: BufWriter::new(file),
            };
            for (record, rank) in self.held.drain(..) {
                staging.write(&record, rank)?;
                self.staged += 1;
            }
            self.staging = Some(staging);
        }
        Ok(())
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.held.len() + self.staged
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some are staged on disk.
    pub fn is_staged(&self) -> bool {
        self.staging.is_some()
    }

    /// Lets every record go (the staging file with them).
    pub fn clear(&mut self) {
        self.held.clear();
        self.staging = None;
        self.staged = 0;
    }

    /// The records, in the order they were added.
    pub(crate) fn drain(self) -> Result<Drain, StoreError> {
        let reader = match self.staging {
            None => None,
            Some(staging) => {
                let mut file = staging
                    .writer
                    .into_inner()
                    .map_err(|e| StoreError::Staging(e.into_error()))?;
                file.rewind().map_err(StoreError::Staging)?;
                Some(BufReader::new(file))
            }
        };
        Ok(Drain {
            held: self.held.into_iter(),
            reader,
            left: self.staged,
        })
    }
}

impl From<Vec<(DatasetRecord, i64)>> for Records {
    fn from(held: Vec<(DatasetRecord, i64)>) -> Self {
        Self {
            held,
            ..Self::default()
        }
    }
}

impl Staging {
    fn write(&mut self, r: &DatasetRecord, rank: i64) -> std::io::Result<()> {
        let staged = Staged {
            id: r.id.0.as_str().into(),
            iri: r.iri.as_str().into(),
            original_subject: r.original_subject.as_str().into(),
            source_url: r.source_url.as_str().into(),
            municipality_code: r.municipality_code.as_deref().map(Into::into),
            ntriples: r.ntriples.as_str().into(),
            hash: r.hash.as_str().into(),
            rank,
        };
        let json = serde_json::to_vec(&staged).map_err(std::io::Error::other)?;
        // Graphs repeat their IRIs: LZ4 makes the file a fraction of their size.
        let bytes = lz4_flex::compress_prepend_size(&json);
        let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
        self.writer.write_all(&len.to_le_bytes())?;
        self.writer.write_all(&bytes)
    }
}

/// The records of a [`Records`], held ones first (a staged run holds none).
pub(crate) struct Drain {
    held: std::vec::IntoIter<(DatasetRecord, i64)>,
    reader: Option<BufReader<std::fs::File>>,
    left: usize,
}

impl Drain {
    fn read(&mut self) -> std::io::Result<Option<Next>> {
        let Some(reader) = &mut self.reader else {
            return Ok(None);
        };
        if self.left == 0 {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        reader.read_exact(&mut len)?;
        let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
        reader.read_exact(&mut bytes)?;
        let json = lz4_flex::decompress_size_prepended(&bytes).map_err(std::io::Error::other)?;
        let s: Staged<'_> = serde_json::from_slice(&json).map_err(std::io::Error::other)?;
        self.left -= 1;
        Ok(Some(Next {
            record: DatasetRecord {
                id: DatasetId(s.id.into_owned()),
                iri: s.iri.into_owned(),
                original_subject: s.original_subject.into_owned(),
                source_url: s.source_url.into_owned(),
                municipality_code: s.municipality_code.map(|c| c.into_owned()),
                ntriples: s.ntriples.into_owned(),
                hash: s.hash.into_owned(),
                view: Default::default(),
            },
            rank: s.rank,
            from_disk: true,
        }))
    }
}

impl Iterator for Drain {
    type Item = Result<Next, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((record, rank)) = self.held.next() {
            return Some(Ok(Next {
                record,
                rank,
                from_disk: false,
            }));
        }
        self.read().map_err(StoreError::Staging).transpose()
    }
}
