//! The index's single writer: documents in, commits with the change-feed
//! position they reflect.

use tantivy::{IndexWriter, TantivyDocument, Term};

use super::schema::{code_of, kinds, themenfelder, Fields};
use super::{CommitPayload, Hit, PackageDoc, Result, SCHEMA_VERSION, VERTRAUENSNIVEAUS};
use gemeinwerk_package::manifest::THEMENFELDER;

/// The index's single writer.
pub struct SearchWriter {
    writer: IndexWriter,
    fields: Fields,
}

impl SearchWriter {
    pub(super) fn new(writer: IndexWriter, fields: Fields) -> Self {
        SearchWriter { writer, fields }
    }

    /// Adds the package, replacing what the index had for it.
    pub fn upsert(&mut self, doc: &PackageDoc) -> Result<()> {
        self.delete(doc.id);
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.id, doc.id);
        d.add_text(f.namespace, &doc.namespace);
        d.add_text(f.full_name, format!("{}/{}", doc.namespace, doc.name));
        d.add_u64(f.kind, code_of(&kinds(), Some(&doc.kind)));
        d.add_u64(
            f.themenfeld,
            code_of(&themenfelder(), doc.themenfeld.as_deref()),
        );
        d.add_u64(
            f.vertrauensniveau,
            code_of(&VERTRAUENSNIVEAUS, doc.vertrauensniveau.as_deref()),
        );
        d.add_u64(f.deprecated, u64::from(doc.deprecated));
        d.add_u64(f.downloads, doc.downloads);
        d.add_u64(f.forks, doc.forks);
        d.add_i64(f.updated, doc.updated_at.and_utc().timestamp());
        for key in &doc.keys {
            d.add_text(f.keys, key.trim().to_lowercase());
        }
        // The name as words: "bewohnerparkausweis-kassel" → two words.
        let name_words = doc.name.replace('-', " ");
        let title = doc.title.clone().unwrap_or_default();
        let keywords = doc.keywords.join(", ");
        for text in [&name_words, &title, &keywords] {
            d.add_text(f.primary, text);
            d.add_text(f.parts, text);
            d.add_text(f.folded, text);
        }
        d.add_text(f.secondary, &doc.description);
        d.add_text(f.secondary, &doc.publisher);
        // The Themenfeld by its German name: "Mobilität" finds its packages.
        if let Some((_, label)) = THEMENFELDER
            .iter()
            .find(|(slug, _)| Some(*slug) == doc.themenfeld.as_deref())
        {
            d.add_text(f.secondary, label);
        }
        d.add_text(f.parts, &doc.description);
        for label in &doc.labels {
            d.add_text(f.content, label);
        }
        d.add_text(f.content, &doc.readme);
        let hit = Hit {
            namespace: doc.namespace.clone(),
            name: doc.name.clone(),
            version: doc.version.clone(),
            kind: doc.kind.clone(),
            title: doc.title.clone(),
            description: doc.description.clone(),
            themenfeld: doc.themenfeld.clone(),
            vertrauensniveau: doc.vertrauensniveau.clone(),
            downloads: doc.downloads,
            forks: doc.forks,
            deprecated: doc.deprecated,
            updated_at: doc.updated_at,
            snippet: String::new(),
            score: 0.0,
        };
        d.add_text(
            f.stored,
            serde_json::to_string(&hit).expect("a hit serialises"),
        );
        d.add_text(f.snippet_text, &doc.description);
        self.writer.add_document(d)?;
        Ok(())
    }

    pub fn delete(&mut self, id: u64) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.id, id));
    }

    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Commits what was added, with the change-feed position it reflects.
    pub fn commit(&mut self, cursor: i64) -> Result<()> {
        let payload = CommitPayload {
            schema: SCHEMA_VERSION,
            cursor,
        };
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
        prepared.commit()?;
        Ok(())
    }

    /// Merges every segment into one: after a rebuild, queries then visit
    /// one segment instead of dozens.
    pub fn merge_all(&mut self) -> Result<()> {
        self.writer
            .set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        // A background merge that was already running may take segments
        // away under us; then ask again for what is there now.
        for _ in 0..50 {
            let ids = self.writer.index().searchable_segment_ids()?;
            if ids.len() <= 1 {
                return Ok(());
            }
            match self.writer.merge(&ids).wait() {
                Ok(_) => return Ok(()),
                Err(tantivy::TantivyError::InvalidArgument(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(100))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Waits for background merges, before the process exits.
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}
