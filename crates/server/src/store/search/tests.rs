use super::*;

fn doc(id: u64, ns: &str, name: &str, title: &str) -> PackageDoc {
    PackageDoc {
        id,
        namespace: ns.into(),
        name: name.into(),
        version: "1.0.0".into(),
        kind: "form".into(),
        title: Some(title.into()),
        description: format!("{title} für die Verwaltung"),
        themenfeld: Some("steuern_zoll".into()),
        updated_at: chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        ..Default::default()
    }
}

fn index(docs: &[PackageDoc]) -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    for d in docs {
        w.upsert(d).unwrap();
    }
    w.commit(7).unwrap();
    index.reload().unwrap();
    index
}

fn names(index: &SearchIndex, params: &SearchParams) -> Vec<String> {
    index
        .search(params)
        .unwrap()
        .hits
        .iter()
        .map(Hit::full_name)
        .collect()
}

#[test]
fn adoption_breaks_ties_of_equal_text_and_sorts_sort() {
    let mut a = doc(1, "kassel", "hundesteuer", "Hundesteuer anmelden");
    let mut b = doc(2, "fulda", "hundesteuer", "Hundesteuer anmelden");
    let mut c = doc(3, "darmstadt", "hundesteuer", "Hundesteuer anmelden");
    a.downloads = 10;
    b.downloads = 5000;
    c.forks = 10;
    c.updated_at = chrono::Utc::now().naive_utc();
    let index = index(&[a, b, c]);
    let q = SearchParams::query("Hundesteuer");
    assert_eq!(
        names(&index, &q),
        [
            "fulda/hundesteuer",
            "darmstadt/hundesteuer",
            "kassel/hundesteuer"
        ]
    );
    let by = |sort| SearchParams { sort, ..q.clone() };
    assert_eq!(names(&index, &by(Sort::Downloads))[0], "fulda/hundesteuer");
    assert_eq!(
        names(&index, &by(Sort::Updated))[0],
        "darmstadt/hundesteuer"
    );
    assert_eq!(
        names(&index, &by(Sort::Name)),
        [
            "darmstadt/hundesteuer",
            "fulda/hundesteuer",
            "kassel/hundesteuer"
        ]
    );
    // Pages are slices of the same order.
    let page2 = SearchParams {
        page: 2,
        per_page: 2,
        ..by(Sort::Name)
    };
    let r = index.search(&page2).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].full_name(), "kassel/hundesteuer");
    assert_eq!(index.payload().unwrap().unwrap().cursor, 7);
}

#[test]
fn a_name_match_outranks_a_description_match() {
    let mut by_name = doc(1, "kassel", "wohngeld", "Wohngeld beantragen");
    by_name.description = "Zuschuss zur Miete.".into();
    let mut in_text = doc(2, "kassel", "miete", "Mietspiegel");
    in_text.description = "Auskunft, auch zum Wohngeld.".into();
    in_text.downloads = 1000;
    let index = index(&[in_text, by_name]);
    assert_eq!(
        names(&index, &SearchParams::query("Wohngeld"))[0],
        "kassel/wohngeld"
    );
    // The Themenfeld is text too.
    let in_themenfeld = index.search(&SearchParams::query("Steuern")).unwrap();
    assert_eq!(in_themenfeld.total, 2);
}

#[test]
fn filters_count_the_alternatives_and_deprecated_ones_hide() {
    let mut form = doc(1, "kassel", "a", "Antrag Hund");
    form.vertrauensniveau = Some("hoch".into());
    let mut process = doc(2, "kassel", "b", "Verfahren Hund");
    process.kind = "process".into();
    let mut other = doc(3, "fulda", "c", "Antrag Hund");
    other.themenfeld = Some("umwelt".into());
    let mut old = doc(4, "fulda", "d", "Antrag Hund alt");
    old.deprecated = true;
    let index = index(&[form, process, other, old]);
    let params = SearchParams {
        kind: Some("form".into()),
        ..SearchParams::query("Hund")
    };
    let r = index.search(&params).unwrap();
    assert_eq!(r.total, 2);
    // The kind facet ignores the kind filter: the process is offered.
    let kinds: Vec<_> = r
        .facets
        .kind
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    assert_eq!(kinds, [("form", 2), ("process", 1)]);
    let ns: Vec<_> = r
        .facets
        .namespace
        .iter()
        .map(|f| (f.value.as_str(), f.count))
        .collect();
    assert_eq!(ns, [("fulda", 1), ("kassel", 1)]);
    assert_eq!(r.facets.vertrauensniveau[0].value, "hoch");
    let tf: Vec<_> = r
        .facets
        .themenfeld
        .iter()
        .map(|f| f.label.clone().unwrap())
        .collect();
    assert_eq!(tf, ["Steuern & Zoll", "Umwelt"]);

    let with_ns = SearchParams {
        namespace: Some("fulda".into()),
        ..params.clone()
    };
    assert_eq!(names(&index, &with_ns), ["fulda/c"]);
    let unknown_ns = SearchParams {
        namespace: Some("nirgendwo".into()),
        ..params.clone()
    };
    assert_eq!(index.search(&unknown_ns).unwrap().total, 0);
    let deprecated = SearchParams {
        include_deprecated: true,
        ..params
    };
    assert_eq!(index.search(&deprecated).unwrap().total, 3);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let index = index(&[doc(1, "kassel", "a", "Hundesteuer")]);
    let mut w = index.writer().unwrap();
    w.upsert(&doc(1, "kassel", "a", "Wohngeld")).unwrap();
    w.commit(8).unwrap();
    index.reload().unwrap();
    assert_eq!(
        index
            .search(&SearchParams::query("Hundesteuer"))
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        index
            .search(&SearchParams::query("Wohngeld"))
            .unwrap()
            .total,
        1
    );
    w.delete(1);
    w.commit(9).unwrap();
    index.reload().unwrap();
    assert_eq!(index.num_docs(), 0);
}

#[test]
fn generations_switch_atomically_and_old_ones_go() {
    let root = tempfile::tempdir().unwrap();
    let dir = SearchDir::new(root.path());
    assert_eq!(dir.current(), None);
    let (g1, p1) = dir.new_generation().unwrap();
    SearchIndex::create(&p1)
        .unwrap()
        .writer()
        .unwrap()
        .commit(1)
        .unwrap();
    dir.switch_to(&g1, None).unwrap();
    assert_eq!(dir.current().as_deref(), Some(g1.as_str()));
    assert_eq!(
        SearchIndex::open(&p1)
            .unwrap()
            .payload()
            .unwrap()
            .unwrap()
            .cursor,
        1
    );
    let (g2, _) = dir.new_generation().unwrap();
    let (g3, _) = dir.new_generation().unwrap();
    dir.switch_to(&g3, Some(&g2)).unwrap();
    assert!(!p1.exists(), "older generations go");
    assert!(dir.path_of(&g2).exists(), "the one a server may use stays");
    dir.remove_others(&g3);
    assert!(!dir.path_of(&g2).exists());
    // An index without a finished commit is not usable.
    assert!(matches!(
        SearchIndex::open(&dir.path_of(&g3)),
        Err(SearchError::Unusable { .. })
    ));
}

#[test]
fn typos_widen_a_search_only_when_the_words_match_few() {
    let typo = doc(1, "fulda", "vertippt", "Hundesteuer Anmelbung");
    let few: Vec<PackageDoc> = std::iter::once(typo.clone())
        .chain((2..5).map(|i| doc(i, "kassel", &format!("a{i}"), "Hundesteuer Anmeldung")))
        .collect();
    // A typo in the package finds it while few packages have the word.
    let r = index(&few)
        .search(&SearchParams::query("anmeldung "))
        .unwrap();
    assert_eq!(r.total, 4);
    assert!(r.hits.iter().any(|h| h.full_name() == "fulda/vertippt"));

    let n = query::EXACT_ENOUGH + 5;
    let many: Vec<PackageDoc> = std::iter::once(typo)
        .chain((2..n + 2).map(|i| doc(i, "kassel", &format!("a{i}"), "Hundesteuer Anmeldung")))
        .collect();
    let index = index(&many);
    let r = index.search(&SearchParams::query("anmeldung ")).unwrap();
    assert_eq!(
        r.total, n,
        "the word alone matches enough; the typo adds nothing"
    );
    // Ranking the many exactly matching ones still visits them all: the
    // facets count every match.
    assert_eq!(r.facets.namespace[0].count, n);
    // The misspelt word matches one package as it is, so typos count.
    let r = index.search(&SearchParams::query("anmelbung ")).unwrap();
    assert_eq!(r.total, n + 1);
}

#[test]
fn a_number_in_a_query_is_not_widened_to_its_neighbours() {
    let docs: Vec<PackageDoc> = [4711, 4712, 4701, 14711]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            doc(
                i as u64 + 1,
                "kassel",
                &format!("formular-{n}"),
                &format!("Formular {n}"),
            )
        })
        .collect();
    let index = index(&docs);
    // Typed to the end: only that form, not the forms one digit away.
    assert_eq!(
        names(&index, &SearchParams::query("formular-4711 ")),
        ["kassel/formular-4711"]
    );
    // Still being typed: the numbers that begin so.
    let typing = names(&index, &SearchParams::query("formular-471"));
    assert!(typing.contains(&"kassel/formular-4711".to_string()));
    assert!(typing.contains(&"kassel/formular-4712".to_string()));
    assert!(!typing.contains(&"kassel/formular-4701".to_string()));
    // Words keep their typo tolerance.
    assert_eq!(
        names(&index, &SearchParams::query("formulr 4711 ")),
        ["kassel/formular-4711"]
    );
}

#[test]
fn kept_segment_results_answer_as_a_fresh_search_and_follow_changes() {
    let index = SearchIndex::in_memory().unwrap();
    index.keep_segment_results_from(1);
    let mut w = index.writer().unwrap();
    let mut docs: Vec<PackageDoc> = (1..=40)
        .map(|i| {
            let mut d = doc(
                i,
                ["kassel", "fulda", "giessen"][i as usize % 3],
                &format!("antrag-{i}"),
                "Antrag auf Parkausweis",
            );
            d.downloads = i * 7 % 13;
            d
        })
        .collect();
    // Two commits: two segments.
    for (n, d) in docs.iter().enumerate() {
        w.upsert(d).unwrap();
        if n == 19 {
            w.commit(1).unwrap();
        }
    }
    w.commit(2).unwrap();
    index.reload().unwrap();
    assert_eq!(index.segments(), 2);
    let mut q = SearchParams::query("antrag");
    q.per_page = 7;
    q.page = 2;
    let first = index.search(&q).unwrap();
    assert_eq!(first.total, 40);
    // Both segments, of the exact search and of the tolerant one that a
    // word with fewer than 1,000 matches asks for as well.
    assert_eq!(index.kept_segment_results(), 4);
    assert_eq!(index.search(&q).unwrap(), first, "kept");
    index.keep_segment_results_from(u64::MAX);
    assert_eq!(index.search(&q).unwrap(), first, "the same afresh");
    index.keep_segment_results_from(1);

    // A package of the first segment changes: its old document is deleted
    // there, and what was kept for that segment no longer applies.
    docs[3].deprecated = true;
    docs[5].namespace = "marburg".into();
    w.upsert(&docs[3]).unwrap();
    w.upsert(&docs[5]).unwrap();
    w.commit(3).unwrap();
    index.reload().unwrap();
    let changed = index.search(&q).unwrap();
    assert_eq!(changed.total, 39);
    assert!(changed
        .facets
        .namespace
        .iter()
        .any(|f| f.value == "marburg"));
    index.keep_segment_results_from(u64::MAX);
    assert_eq!(index.search(&q).unwrap(), changed, "the same afresh");
}

#[test]
fn the_namespace_facet_names_the_most_frequent_and_the_chosen_one() {
    // ns00 has one package, 39 others two each.
    let docs: Vec<PackageDoc> = (0..79u64)
        .map(|i| {
            let k = i.div_ceil(2);
            doc(i + 1, &format!("ns{k:02}"), &format!("p{i}"), "Antrag")
        })
        .collect();
    let index = index(&docs);
    let all = index.search(&SearchParams::query("antrag")).unwrap();
    assert_eq!(all.facets.namespace.len(), 25);
    assert!(all.facets.namespace.iter().all(|f| f.value != "ns00"));
    assert!(all
        .facets
        .namespace
        .windows(2)
        .all(|w| w[0].count >= w[1].count));
    let mut q = SearchParams::query("antrag");
    q.namespace = Some("ns00".into());
    let chosen = index.search(&q).unwrap();
    assert_eq!(chosen.facets.namespace.len(), 25);
    assert!(chosen
        .facets
        .namespace
        .iter()
        .any(|f| f.value == "ns00" && f.count == 1));
}

#[test]
fn a_word_common_on_its_own_is_not_widened_within_a_rare_query() {
    let n = query::EXACT_ENOUGH + 5;
    let docs: Vec<PackageDoc> = (1..=n)
        .map(|i| doc(i, "kassel", &format!("a{i}"), "Anmeldung Formular"))
        .chain([
            doc(n + 1, "fulda", "hund-vertippt", "Hund Anmelbung"),
            doc(n + 2, "fulda", "hund", "Hund Anmeldung"),
        ])
        .collect();
    let index = index(&docs);
    // "hund anmeldung" matches one package exactly, so the tolerant
    // search follows; "Anmeldung" alone matches more than enough and is
    // not widened to "Anmelbung".
    assert_eq!(
        names(&index, &SearchParams::query("hund anmeldung ")),
        ["fulda/hund"]
    );
    // A rare word still is: "Anmelbung" finds "Anmeldung" too.
    let r = index
        .search(&SearchParams::query("hund anmelbung "))
        .unwrap();
    assert_eq!(r.total, 2);
}

#[test]
fn the_namespace_facet_adds_up_a_namespace_over_every_segment() {
    // 60 namespaces over three segments, each segment with its own mix:
    // some namespaces in one segment only, most in two or three.
    let docs: Vec<PackageDoc> = (0..300u64)
        .map(|i| {
            let ns = format!("ns{:02}", (i * i + 3 * i) % 60);
            doc(i + 1, &ns, &format!("p{i}"), "Antrag")
        })
        .collect();
    let index = SearchIndex::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    for (n, d) in docs.iter().enumerate() {
        w.upsert(d).unwrap();
        if n % 100 == 99 {
            w.commit(n as i64).unwrap();
        }
    }
    index.reload().unwrap();
    assert_eq!(index.segments(), 3);
    let mut expected: Vec<(String, u64)> = Vec::new();
    for d in &docs {
        match expected.iter_mut().find(|(ns, _)| *ns == d.namespace) {
            Some((_, n)) => *n += 1,
            None => expected.push((d.namespace.clone(), 1)),
        }
    }
    expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    expected.truncate(25);
    let found: Vec<(String, u64)> = index
        .search(&SearchParams::query("antrag"))
        .unwrap()
        .facets
        .namespace
        .into_iter()
        .map(|f| (f.value, f.count))
        .collect();
    assert_eq!(found, expected);
}
