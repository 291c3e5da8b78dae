//! Changes of a process: its roles, states, transitions, fees and
//! notices, each kind of record matched by id.

use super::records::Verdict;
use super::{Area, ChangeKind, Level, Out};
use crate::process::{Fee, Notice, Process, Role, State, Transition};

pub(super) fn diff_process(a: &Process, b: &Process, out: &mut Out) {
    out.text(Area::Form, "process", "title", &a.title, &b.title);
    out.records(
        Area::Role,
        (&a.roles, &b.roles),
        |r| &r.id,
        Verdict {
            level: Level::Major,
            reason: "whoever acted in this role has no place any more",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new role",
        },
        diff_role,
    );
    out.records(
        Area::State,
        (&a.states, &b.states),
        |s| &s.id,
        Verdict {
            level: Level::Major,
            reason: "procedures in this state have nowhere to be",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new state",
        },
        diff_state,
    );
    out.records(
        Area::Transition,
        (&a.transitions, &b.transitions),
        |t| &t.id,
        Verdict {
            level: Level::Major,
            reason: "a step that could be taken is gone",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new step",
        },
        diff_transition,
    );
    out.records(
        Area::Fee,
        (&a.fees, &b.fees),
        |f| &f.id,
        Verdict {
            level: Level::Minor,
            reason: "a fee is no longer charged",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new fee",
        },
        diff_fee,
    );
    out.records(
        Area::Notice,
        (&a.notices, &b.notices),
        |n| &n.id,
        Verdict {
            level: Level::Major,
            reason: "a notice that was produced is gone",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new notice",
        },
        diff_notice,
    );
}

fn diff_role(out: &mut Out, id: &str, a: &Role, b: &Role) {
    out.prop(
        Area::Role,
        id,
        "label",
        &a.label,
        &b.label,
        |v| Some(v.clone()),
        Level::Patch,
        "wording only",
    );
}

fn diff_state(out: &mut Out, id: &str, a: &State, b: &State) {
    let s = Area::State;
    out.prop(
        s,
        id,
        "start",
        &a.start,
        &b.start,
        |v| Some(v.to_string()),
        Level::Major,
        "procedures start elsewhere",
    );
    out.prop(
        s,
        id,
        "end",
        &a.end,
        &b.end,
        |v| v.map(|o| o.as_str().to_string()),
        Level::Major,
        "the outcome of the procedure changes",
    );
    out.prop(
        s,
        id,
        "deadline",
        &a.deadline,
        &b.deadline,
        |v| v.clone(),
        Level::Minor,
        "another deadline",
    );
    out.text(s, id, "label", &a.label, &b.label);
}

fn diff_transition(out: &mut Out, id: &str, a: &Transition, b: &Transition) {
    let t = Area::Transition;
    let g = |s: &toml::Spanned<String>| s.get_ref().clone();
    out.prop(
        t,
        id,
        "from",
        &g(&a.from),
        &g(&b.from),
        |v| Some(v.clone()),
        Level::Major,
        "the step starts from another state",
    );
    out.prop(
        t,
        id,
        "to",
        &g(&a.to),
        &g(&b.to),
        |v| Some(v.clone()),
        Level::Major,
        "the step leads to another state",
    );
    out.prop(
        t,
        id,
        "role",
        &g(&a.role),
        &g(&b.role),
        |v| Some(v.clone()),
        Level::Major,
        "another role takes the step",
    );
    out.prop(
        t,
        id,
        "action",
        &a.action,
        &b.action,
        |v| Some(v.clone()),
        Level::Minor,
        "the step is described as another action",
    );
    out.prop(
        t,
        id,
        "deadline",
        &a.deadline,
        &b.deadline,
        |v| v.clone(),
        Level::Minor,
        "another deadline",
    );
    out.text(t, id, "label", &a.label, &b.label);
    let fa: Vec<String> = a.forms.iter().map(g).collect();
    let fb: Vec<String> = b.forms.iter().map(g).collect();
    for f in fa.iter().filter(|f| !fb.contains(f)) {
        out.push(
            t,
            id,
            ChangeKind::Removed,
            Some("forms"),
            Some(f.clone()),
            None,
            Level::Major,
            "a form is no longer used at this step",
        );
    }
    for f in fb.iter().filter(|f| !fa.contains(f)) {
        out.push(
            t,
            id,
            ChangeKind::Added,
            Some("forms"),
            None,
            Some(f.clone()),
            Level::Minor,
            "a form is used at this step",
        );
    }
}

fn diff_fee(out: &mut Out, id: &str, a: &Fee, b: &Fee) {
    let f = Area::Fee;
    let eur = |c: &i64| Some(format!("{},{:02} €", c / 100, c % 100));
    out.prop(
        f,
        id,
        "amount",
        &a.amount_cents,
        &b.amount_cents,
        eur,
        Level::Minor,
        "another amount is charged",
    );
    out.prop(
        f,
        id,
        "per",
        &a.per,
        &b.per,
        |v| v.clone(),
        Level::Minor,
        "charged for another period",
    );
    out.prop(
        f,
        id,
        "legal-basis",
        &a.legal_basis,
        &b.legal_basis,
        |v| v.clone(),
        Level::Patch,
        "citation only",
    );
    let on = |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
    out.prop(
        f,
        id,
        "on",
        &on(&a.on),
        &on(&b.on),
        |v| v.clone(),
        Level::Minor,
        "charged at another step",
    );
    out.text(f, id, "label", &a.label, &b.label);
}

fn diff_notice(out: &mut Out, id: &str, a: &Notice, b: &Notice) {
    let n = Area::Notice;
    out.prop(
        n,
        id,
        "on",
        a.on.get_ref(),
        b.on.get_ref(),
        |v| Some(v.clone()),
        Level::Minor,
        "produced at another step",
    );
    out.prop(
        n,
        id,
        "legal-basis",
        &a.legal_basis,
        &b.legal_basis,
        |v| v.clone(),
        Level::Patch,
        "citation only",
    );
    out.text(n, id, "label", &a.label, &b.label);
}
