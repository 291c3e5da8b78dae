//! Positions of tables in the merged TOML files: ours keep their places,
//! and a table carried over from upstream goes after the one it follows
//! there.

use toml_edit::{Item, Table};

/// Positions of tables are spread out so that new tables fit in between.
pub(super) const SPREAD: isize = 1 << 20;

pub(super) fn visit_tables(t: &mut Table, f: &mut dyn FnMut(&mut Table)) {
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(t) => {
                f(t);
                visit_tables(t, f);
            }
            Item::ArrayOfTables(a) => {
                for t in a.iter_mut() {
                    f(t);
                    visit_tables(t, f);
                }
            }
            _ => {}
        }
    }
}

pub(super) fn spread(root: &mut Table) {
    visit_tables(root, &mut |t| {
        if let Some(p) = t.position() {
            t.set_position((p + 1) * SPREAD);
        }
    });
}

pub(super) fn subtree_max(t: &Table) -> isize {
    fn walk(t: &Table, max: &mut isize) {
        *max = (*max).max(t.position().unwrap_or(0));
        for (_, item) in t.iter() {
            match item {
                Item::Table(t) => walk(t, max),
                Item::ArrayOfTables(a) => a.iter().for_each(|t| walk(t, max)),
                _ => {}
            }
        }
    }
    let mut max = 0;
    walk(t, &mut max);
    max
}

/// Gives a table taken from the other side, and the tables in it, the
/// positions right after `after`, in their order there.
pub(super) fn place(t: &mut Table, after: isize) {
    let mut old = Vec::new();
    visit_tables(t, &mut |n| old.push(n.position().unwrap_or(0)));
    old.sort_unstable();
    t.set_position(after + 1);
    visit_tables(t, &mut |n| {
        let p = n.position().unwrap_or(0);
        let rank = old.partition_point(|x| *x < p);
        n.set_position(after + 2 + rank as isize);
    });
}
