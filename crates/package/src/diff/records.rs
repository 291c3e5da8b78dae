//! Records matched by id across two versions: the one way the diff pairs
//! code lists, codes, roles, states, transitions, fees and notices.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::{Area, Level, Out};

/// A record of either version, paired with its namesake in the other.
pub(super) enum Paired<'a, T> {
    /// Only in the old version.
    Removed(&'a T),
    /// In both: the old record, then the new one.
    Kept(&'a T, &'a T),
    /// Only in the new version.
    Added(&'a T),
}

/// Pairs the records of two versions by id. The old version's records come
/// first, in their order (kept or removed), then the new version's records
/// that the old one lacks, in their order: the order in which the changes
/// are listed. Of records in the new version that share an id, the first
/// is the one a record of the old version is paired with.
pub(super) fn by_id<'a, T, K: Eq + Hash + ?Sized + 'a>(
    old: &'a [T],
    new: &'a [T],
    id: impl Fn(&'a T) -> &'a K,
) -> Vec<Paired<'a, T>> {
    let mut in_new: HashMap<&K, &T> = HashMap::with_capacity(new.len());
    for y in new {
        in_new.entry(id(y)).or_insert(y);
    }
    let in_old: HashSet<&K> = old.iter().map(&id).collect();
    let mut paired: Vec<Paired<'a, T>> = old
        .iter()
        .map(|x| match in_new.get(id(x)) {
            Some(y) => Paired::Kept(x, y),
            None => Paired::Removed(x),
        })
        .collect();
    paired.extend(
        new.iter()
            .filter(|y| !in_old.contains(id(y)))
            .map(Paired::Added),
    );
    paired
}

/// What a record that is only in one version means.
pub(super) struct Verdict<'r> {
    pub(super) level: Level,
    pub(super) reason: &'r str,
}

impl Out {
    /// The changes between two lists of records of one area, matched by
    /// their ids: a record only in one version is one change, removed or
    /// added; a record in both is compared by `kept`, which gets its id.
    pub(super) fn records<T>(
        &mut self,
        area: Area,
        (old, new): (&[T], &[T]),
        id: impl Fn(&T) -> &str,
        removed: Verdict<'_>,
        added: Verdict<'_>,
        mut kept: impl FnMut(&mut Out, &str, &T, &T),
    ) {
        for pair in by_id(old, new, &id) {
            match pair {
                Paired::Removed(x) => self.removed(area, id(x), removed.level, removed.reason),
                Paired::Kept(x, y) => kept(self, id(x), x, y),
                Paired::Added(y) => self.added(area, id(y), added.level, added.reason),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(pairs: Vec<Paired<'_, (&str, u8)>>) -> Vec<String> {
        pairs
            .into_iter()
            .map(|p| match p {
                Paired::Removed(x) => format!("-{}", x.0),
                Paired::Kept(x, y) => format!("{}:{}>{}", x.0, x.1, y.1),
                Paired::Added(y) => format!("+{}", y.0),
            })
            .collect()
    }

    #[test]
    fn old_order_first_then_the_new_records_in_their_order() {
        let old = [("a", 1), ("b", 1), ("c", 1)];
        let new = [("d", 2), ("c", 2), ("a", 2), ("e", 2)];
        assert_eq!(
            shown(by_id(&old, &new, |r| r.0)),
            ["a:1>2", "-b", "c:1>2", "+d", "+e"]
        );
    }

    #[test]
    fn of_records_that_share_an_id_the_first_counts() {
        let old = [("a", 1), ("a", 3)];
        let new = [("a", 2), ("a", 4)];
        assert_eq!(shown(by_id(&old, &new, |r| r.0)), ["a:1>2", "a:3>2"]);
    }
}
