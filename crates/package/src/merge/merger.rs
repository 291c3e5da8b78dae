//! The merge itself: elements aligned by id, each property merged on its
//! own (the rules are in the parent module's documentation).

use toml_edit::{ArrayOfTables, InlineTable, Item, Table, Value};

use super::compare::{item_text, table_text, value_text, Canon};
use super::layout::{place, subtree_max, SPREAD};
use super::{Conflict, ConflictKind};

#[derive(Default)]
pub(super) struct Merger {
    /// Compares as the model compares, with the canonical texts of this
    /// merge's conditions.
    canon: std::rc::Rc<Canon>,
    pub(super) file: String,
    pub(super) conflicts: Vec<Conflict>,
    pub(super) taken: Vec<String>,
}

pub(super) fn sub<'a>(t: Option<&'a Table>, key: &str) -> Option<&'a Table> {
    t?.get(key)?.as_table()
}

pub(super) fn is_words(item: Option<&Item>) -> bool {
    match item {
        None => true,
        Some(i) => i
            .as_array()
            .is_some_and(|a| a.iter().all(|v| v.as_str().is_some())),
    }
}

pub(super) fn words(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Merger {
    fn conflict(
        &mut self,
        path: String,
        kind: ConflictKind,
        b: Option<String>,
        o: Option<String>,
        t: Option<String>,
    ) {
        self.conflicts.push(Conflict {
            path,
            file: self.file.clone(),
            kind,
            base: b,
            ours: o,
            theirs: t,
        });
    }

    pub(super) fn manifest(&mut self, b: &Table, o: &mut Table, t: &Table) {
        if let (Some(op), Some(tp)) = (
            o.get_mut("package").and_then(Item::as_table_mut),
            t.get("package").and_then(Item::as_table),
        ) {
            self.record(
                "manifest",
                sub(Some(b), "package"),
                op,
                tp,
                &["name", "version", "kind"],
            );
        }
        self.map("dependency:", b, o, t, "dependencies");
        // [forked-from] is ours; anything else at the top is merged whole.
        let keys = union_keys(Some(b), o, t);
        for k in keys {
            if !matches!(k.as_str(), "package" | "dependencies" | "forked-from") {
                self.value(format!("manifest/{k}"), &k, b.get(&k), o, t.get(&k));
            }
        }
    }

    pub(super) fn content(&mut self, b: &Table, o: &mut Table, t: &Table) {
        let keys = union_keys(Some(b), o, t);
        for k in &keys {
            match k.as_str() {
                "form" | "process" | "fieldgroup" => match (
                    o.get_mut(k).and_then(Item::as_table_mut),
                    t.get(k).and_then(Item::as_table),
                ) {
                    (Some(ot), Some(tt)) => self.record(k, sub(Some(b), k), ot, tt, &[]),
                    _ => self.value(k.clone(), k, b.get(k), o, t.get(k)),
                },
                "codelist" => self.map("codelist:", b, o, t, "codelist"),
                "roles" => self.map("role:", b, o, t, "roles"),
                "field" | "group" => {}
                "state" | "transition" | "fee" | "notice" => self.records(k, b, o, t),
                _ => self.value(k.clone(), k, b.get(k), o, t.get(k)),
            }
        }
        if keys.iter().any(|k| k == "field" || k == "group") {
            self.items("", Some(b), o, t);
        }
    }

    /// The properties of one element: each key merged on its own. Keys
    /// in `skip` are handled by the caller.
    fn record(&mut self, elem: &str, b: Option<&Table>, o: &mut Table, t: &Table, skip: &[&str]) {
        for k in union_keys(b, o, t) {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let bi = b.and_then(|b| b.get(&k));
            if k == "codes" && elem.starts_with("codelist:") {
                let list = elem.trim_start_matches("codelist:").to_string();
                if self.codes(&list, bi, o, t.get(&k)) {
                    continue;
                }
            }
            self.value(format!("{elem}/{k}"), &k, bi, o, t.get(&k));
        }
    }

    /// One key of `o`, three ways.
    fn value(
        &mut self,
        path: String,
        key: &str,
        b: Option<&Item>,
        o: &mut Table,
        t: Option<&Item>,
    ) {
        if self.canon.same(key, o.get(key), t) || self.canon.same(key, b, t) {
            return;
        }
        if self.canon.same(key, b, o.get(key)) {
            match t {
                Some(t) => {
                    let mut t = t.clone();
                    if let Some(tt) = t.as_table_mut() {
                        place(tt, o.position().unwrap_or(0));
                    }
                    o.insert(key, t);
                }
                None => {
                    o.remove(key);
                }
            }
            self.taken.push(path);
            return;
        }
        let oi = o.get(key);
        if is_words(b) && is_words(oi) && is_words(t) && (oi.is_some() && t.is_some()) {
            let (wb, wo, wt) = (words(b), words(oi), words(t));
            let mut merged: Vec<String> = wo
                .into_iter()
                .filter(|w| !wb.contains(w) || wt.contains(w))
                .collect();
            for w in wt {
                if !wb.contains(&w) && !merged.contains(&w) {
                    merged.push(w);
                }
            }
            let mut arr = toml_edit::Array::new();
            for w in merged {
                arr.push(w);
            }
            if let Some(Item::Value(v)) = o.get_mut(key) {
                let decor = v.decor().clone();
                *v = Value::Array(arr);
                *v.decor_mut() = decor;
            }
            self.taken.push(path);
            return;
        }
        let text = |i: Option<&Item>| i.filter(|i| !i.is_none()).map(item_text);
        self.conflict(path, ConflictKind::Value, text(b), text(oi), text(t));
    }

    /// A table of entries keyed by name: code lists, roles, dependencies.
    fn map(&mut self, prefix: &str, b: &Table, o: &mut Table, t: &Table, key: &str) {
        let bm = sub(Some(b), key);
        let Some(tm) = t.get(key) else {
            if let Some(bm) = bm {
                // Upstream dropped the whole table: drop what ours left as it was.
                let names: Vec<String> = bm.iter().map(|(k, _)| k.to_string()).collect();
                if let Some(om) = o.get_mut(key).and_then(Item::as_table_mut) {
                    let empty = Table::new();
                    for n in names {
                        self.entry(prefix, &n, Some(bm), om, &empty);
                    }
                }
            }
            return;
        };
        let Some(tm) = tm.as_table() else {
            self.value(format!("{prefix}*"), key, b.get(key), o, Some(tm));
            return;
        };
        if o.get(key).is_none() {
            let mut fresh = Table::new();
            fresh.set_implicit(true);
            o.insert(key, Item::Table(fresh));
        }
        let Some(om) = o.get_mut(key).and_then(Item::as_table_mut) else {
            self.value(
                format!("{prefix}*"),
                key,
                b.get(key),
                o,
                Some(&Item::Table(tm.clone())),
            );
            return;
        };
        for n in union_keys(bm, om, tm) {
            self.entry(prefix, &n, bm, om, tm);
        }
    }

    fn entry(&mut self, prefix: &str, n: &str, bm: Option<&Table>, om: &mut Table, tm: &Table) {
        let path = format!("{prefix}{n}");
        let (bi, ti) = (bm.and_then(|b| b.get(n)), tm.get(n));
        let both_tables = om.get(n).is_some_and(Item::is_table) && ti.is_some_and(Item::is_table);
        if !both_tables {
            let oi = om.get(n);
            let (ot_same, bt_same, bo_same) = (
                self.canon.same(n, oi, ti),
                self.canon.same(n, bi, ti),
                self.canon.same(n, bi, oi),
            );
            if !ot_same
                && !bt_same
                && !bo_same
                && (oi.is_none() || ti.is_none())
                && bi.is_some_and(Item::is_table)
            {
                let text = |i: Option<&Item>| i.map(item_text);
                self.conflict(path, ConflictKind::Element, text(bi), text(oi), text(ti));
                return;
            }
            if bo_same && !ot_same {
                if let Some(Item::Table(tt)) = ti {
                    // A new entry of upstream: after the one before it there.
                    let mut tt = tt.clone();
                    let before = tm
                        .iter()
                        .take_while(|(k, _)| *k != n)
                        .filter_map(|(k, _)| om.get(k).and_then(Item::as_table))
                        .map(subtree_max)
                        .max()
                        .unwrap_or_else(|| om.position().unwrap_or(0));
                    place(&mut tt, before);
                    om.insert(n, Item::Table(tt));
                    self.taken.push(path);
                    return;
                }
            }
            self.value(path, n, bi, om, ti);
            return;
        }
        let bt = bi.and_then(Item::as_table);
        let tt = ti.and_then(Item::as_table).expect("checked");
        let ot = om.get_mut(n).and_then(Item::as_table_mut).expect("checked");
        self.record(&path, bt, ot, tt, &[]);
    }

    /// `[[state]]`, `[[transition]]`, `[[fee]]`, `[[notice]]`, keyed by id.
    fn records(&mut self, key: &str, b: &Table, o: &mut Table, t: &Table) {
        let (bs, ts) = (record_seq(Some(b), key), record_seq(Some(t), key));
        let prefix = format!("{key}:");
        self.keyed(&prefix, false, &bs, o, &ts, &[key]);
    }

    /// The fields and groups of a container (the file or a group), keyed
    /// by id, in one sequence as they appear.
    fn items(&mut self, scope: &str, b: Option<&Table>, o: &mut Table, t: &Table) {
        let (bs, ts) = (item_seq(b), item_seq(Some(t)));
        self.keyed(scope, true, &bs, o, &ts, &["field", "group"]);
    }

    /// The shared part of [`Self::items`] and [`Self::records`]: elements of
    /// the array-of-tables keys `arrays` in `o`, aligned by id.
    fn keyed(
        &mut self,
        scope: &str,
        is_items: bool,
        bs: &[(String, &'static str, &Table)],
        o: &mut Table,
        ts: &[(String, &'static str, &Table)],
        arrays: &[&str],
    ) {
        let path_of = |id: &str, array: &str| -> String {
            if is_items {
                format!("{array}:{}", join(scope, id))
            } else {
                format!("{scope}{id}")
            }
        };
        // Each element of ours is changed only at its own step below, so
        // comparing it at that step compares it as it was.
        let os: Vec<(String, &'static str)> = {
            let seq = if is_items {
                item_seq(Some(o))
            } else {
                record_seq(Some(o), arrays[0])
            };
            seq.into_iter().map(|(id, k, _)| (id, k)).collect()
        };
        let first_pos = if is_items {
            item_seq(Some(o)).first().and_then(|x| x.2.position())
        } else {
            record_seq(Some(o), arrays[0])
                .first()
                .and_then(|x| x.2.position())
        };
        let array_of = |kind: &'static str| -> String {
            if is_items {
                kind.to_string()
            } else {
                arrays[0].to_string()
            }
        };
        let mut ids: Vec<&str> = os.iter().map(|x| x.0.as_str()).collect();
        let mut seen: std::collections::HashSet<&str> = ids.iter().copied().collect();
        for x in ts.iter().chain(bs) {
            if seen.insert(x.0.as_str()) {
                ids.push(x.0.as_str());
            }
        }
        let index =
            |s: &[(String, &'static str, &Table)]| -> std::collections::HashMap<String, usize> {
                s.iter()
                    .enumerate()
                    .map(|(i, x)| (x.0.clone(), i))
                    .collect()
            };
        let (bx, tx) = (index(bs), index(ts));
        let ox: std::collections::HashMap<&str, &'static str> =
            os.iter().map(|x| (x.0.as_str(), x.1)).collect();
        for id in ids {
            let bi = bx.get(id).map(|i| (bs[*i].1, bs[*i].2));
            let ti = tx.get(id).map(|i| (ts[*i].1, ts[*i].2));
            let okind = ox.get(id).copied();
            let kind = okind.or(ti.map(|x| x.0)).or(bi.map(|x| x.0)).unwrap_or("");
            let array = array_of(kind);
            let path = path_of(id, &array);
            let (bt, tt) = (bi.map(|x| x.1), ti.map(|x| x.1));
            let ot = okind.and_then(|k| find_ref(o, &array_of(k), id));
            if self.canon.same_t(ot, tt) || self.canon.same_t(bt, tt) {
                continue;
            }
            let bo_same = self.canon.same_t(bt, ot);
            let text = |x: Option<&Table>| x.map(table_text);
            match (okind, ti) {
                (Some(ok), Some((tk, tt))) if ok == tk => {
                    // Both have it: merge it property by property.
                    let Some(ot) = find_mut(o, &array, id) else {
                        continue;
                    };
                    let bt = bi.filter(|x| x.0 == ok).map(|x| x.1);
                    if is_items {
                        self.record(&path, bt, ot, tt, &["field", "group"]);
                        if kind == "group" {
                            self.items(&join(scope, id), bt, ot, tt);
                        }
                    } else {
                        self.record(&path, bt, ot, tt, &[]);
                    }
                }
                (None, Some((tk, tt))) if bo_same => {
                    // New upstream: after the element before it there.
                    let before = preceding(ts, id, first_pos, o, arrays);
                    let mut tt = tt.clone();
                    place(&mut tt, before);
                    push_table(o, &array_of(tk), tt);
                    self.taken.push(path);
                }
                (Some(_), None) if bo_same => {
                    remove_table(o, &array, id);
                    self.taken.push(path);
                }
                _ => {
                    let ours = text(ot);
                    self.conflict(path, ConflictKind::Element, text(bt), ours, text(tt));
                }
            }
        }
    }

    /// `codes = [{ code = …, label = … }, …]` of a code list, keyed by
    /// code. Returns false when the codes are not written that way.
    fn codes(&mut self, list: &str, b: Option<&Item>, o: &mut Table, t: Option<&Item>) -> bool {
        let inline = |i: Option<&Item>| -> Option<Vec<(String, InlineTable)>> {
            let a = i?.as_array()?;
            a.iter()
                .map(|v| {
                    let t = v.as_inline_table()?;
                    Some((t.get("code")?.as_str()?.to_string(), t.clone()))
                })
                .collect()
        };
        let (Some(bs), Some(os), Some(ts)) = (
            inline(b).or_else(|| b.is_none().then(Vec::new)),
            inline(o.get("codes")),
            inline(t),
        ) else {
            return false;
        };
        let Some(arr) = o.get_mut("codes").and_then(Item::as_array_mut) else {
            return false;
        };
        let mut ids: Vec<String> = os.iter().map(|x| x.0.clone()).collect();
        for x in ts.iter().chain(&bs) {
            if !ids.contains(&x.0) {
                ids.push(x.0.clone());
            }
        }
        // Shared, so that the closure does not hold `self` while conflicts
        // are recorded.
        let canon = self.canon.clone();
        let canon_i = |x: Option<&InlineTable>| {
            x.map(|t| {
                let mut s = String::new();
                canon.canon_value("", &Value::InlineTable(t.clone()), &mut s);
                s
            })
        };
        let index = |arr: &toml_edit::Array, code: &str| {
            arr.iter().position(|v| {
                v.as_inline_table()
                    .and_then(|t| t.get("code"))
                    .and_then(Value::as_str)
                    == Some(code)
            })
        };
        for id in ids {
            let find =
                |s: &[(String, InlineTable)]| s.iter().find(|x| x.0 == id).map(|x| x.1.clone());
            let (bi, oi, ti) = (find(&bs), find(&os), find(&ts));
            let (cb, co, ct) = (
                canon_i(bi.as_ref()),
                canon_i(oi.as_ref()),
                canon_i(ti.as_ref()),
            );
            let path = format!("code:{list}#{id}");
            if co == ct || cb == ct {
                continue;
            }
            let text = |x: &Option<InlineTable>| {
                x.as_ref()
                    .map(|t| value_text(&Value::InlineTable(t.clone())))
            };
            match (&oi, &ti) {
                (Some(ot), Some(tt)) => {
                    let mut otab = ot.clone().into_table();
                    let ttab = tt.clone().into_table();
                    let btab = bi.clone().map(InlineTable::into_table);
                    self.record(&path, btab.as_ref(), &mut otab, &ttab, &[]);
                    let mut merged = otab.into_inline_table();
                    *merged.decor_mut() = ot.decor().clone();
                    if let Some(i) = index(arr, &id) {
                        arr.replace_formatted(i, Value::InlineTable(merged));
                    }
                }
                (None, Some(tt)) if cb.is_none() || cb == co => {
                    // After the code before it upstream.
                    let before = ts
                        .iter()
                        .take_while(|x| x.0 != id)
                        .filter_map(|x| index(arr, &x.0))
                        .max();
                    let at = before.map(|i| i + 1).unwrap_or(0);
                    let mut v = Value::InlineTable(tt.clone());
                    if let Some(first) = arr.get(0) {
                        *v.decor_mut() = first.decor().clone();
                    }
                    arr.insert_formatted(at, v);
                    self.taken.push(path);
                }
                (Some(_), None) if cb == co => {
                    if let Some(i) = index(arr, &id) {
                        arr.remove(i);
                    }
                    self.taken.push(path);
                }
                _ => self.conflict(path, ConflictKind::Element, text(&bi), text(&oi), text(&ti)),
            }
        }
        true
    }
}

pub(super) fn id_of(t: &Table) -> String {
    id_ref(t).to_string()
}

pub(super) fn id_ref(t: &Table) -> &str {
    t.get("id").and_then(Item::as_str).unwrap_or("")
}

pub(super) fn item_seq(t: Option<&Table>) -> Vec<(String, &'static str, &Table)> {
    let mut v = Vec::new();
    if let Some(t) = t {
        for kind in ["field", "group"] {
            if let Some(a) = t.get(kind).and_then(Item::as_array_of_tables) {
                v.extend(a.iter().map(|x| (id_of(x), kind, x)));
            }
        }
    }
    v.sort_by_key(|(_, _, t)| t.position());
    v
}

pub(super) fn record_seq<'a>(
    t: Option<&'a Table>,
    key: &str,
) -> Vec<(String, &'static str, &'a Table)> {
    let mut v: Vec<(String, &'static str, &Table)> = t
        .and_then(|x| x.get(key))
        .and_then(Item::as_array_of_tables)
        .map(|a| a.iter().map(|t| (id_of(t), "", t)).collect())
        .unwrap_or_default();
    v.sort_by_key(|(_, _, t)| t.position());
    v
}

pub(super) fn join(scope: &str, id: &str) -> String {
    if scope.is_empty() {
        id.to_string()
    } else {
        format!("{scope}.{id}")
    }
}

pub(super) fn union_keys(b: Option<&Table>, o: &Table, t: &Table) -> Vec<String> {
    let mut keys: Vec<String> = o.iter().map(|(k, _)| k.to_string()).collect();
    for (k, _) in t.iter().chain(b.into_iter().flat_map(|b| b.iter())) {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    }
    keys
}

pub(super) fn find_ref<'a>(o: &'a Table, array: &str, id: &str) -> Option<&'a Table> {
    o.get(array)?
        .as_array_of_tables()?
        .iter()
        .find(|t| id_ref(t) == id)
}

pub(super) fn find_mut<'a>(o: &'a mut Table, array: &str, id: &str) -> Option<&'a mut Table> {
    o.get_mut(array)?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| id_ref(t) == id)
}

pub(super) fn push_table(o: &mut Table, array: &str, t: Table) {
    if o.get(array).and_then(Item::as_array_of_tables).is_none() {
        o.insert(array, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    if let Some(a) = o.get_mut(array).and_then(Item::as_array_of_tables_mut) {
        a.push(t);
    }
}

pub(super) fn remove_table(o: &mut Table, array: &str, id: &str) {
    if let Some(a) = o.get_mut(array).and_then(Item::as_array_of_tables_mut) {
        let found = a.iter().position(|t| id_ref(t) == id);
        if let Some(i) = found {
            a.remove(i);
        }
        if a.is_empty() {
            o.remove(array);
        }
    }
}

/// Where a new element goes: after the subtree of the element before it
/// upstream that ours has too, else at the start of the container.
pub(super) fn preceding(
    ts: &[(String, &'static str, &Table)],
    id: &str,
    first_pos: Option<isize>,
    o: &Table,
    arrays: &[&str],
) -> isize {
    let before: Vec<&String> = ts.iter().take_while(|x| x.0 != id).map(|x| &x.0).collect();
    for prev in before.iter().rev() {
        for array in arrays {
            if let Some(t) = o
                .get(array)
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.iter().find(|t| id_ref(t) == prev.as_str()))
            {
                return subtree_max(t);
            }
        }
    }
    // The start of the container: right after its own header, or before
    // its first element.
    match o.position() {
        Some(p) if p > 0 => p,
        _ => first_pos.map(|p| (p - SPREAD / 2).max(0)).unwrap_or(0),
    }
}
