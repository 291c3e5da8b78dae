//! A process as an SVG diagram, laid out in layers (Sugiyama style, kept
//! simple): edges that close a cycle are set aside, every state goes to the
//! layer after its longest chain of predecessors, states in a layer are
//! ordered by the mean position of their predecessors, and the set-aside
//! edges are drawn as arcs at the side. The transition table beside it
//! carries the same numbers, for screen readers and for print.

use std::collections::HashMap;
use std::fmt::Write;

use gemeinwerk_package::process::Process;

const BOX_W: f64 = 190.0;
const BOX_H: f64 = 50.0;
const GAP_X: f64 = 40.0;
const LAYER_H: f64 = 100.0;
const MARGIN: f64 = 20.0;
/// Space between two edges that run side by side in a gutter.
const LANE: f64 = 14.0;

/// Escapes text for SVG (XML) content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Layers and order of the states: `(layer, position)` per state index.
pub fn layout(p: &Process) -> Vec<(usize, usize)> {
    let n = p.states.len();
    let index: HashMap<&str, usize> = p
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let edges: Vec<(usize, usize)> = p
        .transitions
        .iter()
        .filter_map(|t| {
            Some((
                *index.get(t.from.get_ref().as_str())?,
                *index.get(t.to.get_ref().as_str())?,
            ))
        })
        .collect();
    let mut out_edges = vec![Vec::new(); n];
    for (i, &(a, b)) in edges.iter().enumerate() {
        out_edges[a].push((b, i));
    }
    // Depth-first from the start states (then from any unvisited state):
    // an edge to a state still on the stack closes a cycle.
    let mut back = vec![false; edges.len()];
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let starts: Vec<usize> = (0..n).filter(|&i| p.states[i].start).chain(0..n).collect();
    for s in starts {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some((v, next)) = stack.pop() {
            if let Some(&(w, ei)) = out_edges[v].get(next) {
                stack.push((v, next + 1));
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[ei] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
            }
        }
    }
    // Longest path layering over the forward edges (a DAG now).
    let mut layer = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for (i, &(a, b)) in edges.iter().enumerate() {
            if !back[i] && a != b && layer[b] < layer[a] + 1 {
                layer[b] = layer[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let depth = layer.iter().copied().max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, &l) in layer.iter().enumerate() {
        layers[l].push(i);
    }
    // Two barycentre sweeps downwards.
    let mut pos = vec![0f64; n];
    for row in &layers {
        for (k, &v) in row.iter().enumerate() {
            pos[v] = k as f64;
        }
    }
    for _ in 0..2 {
        // `l` is compared with the layers of predecessors too.
        #[allow(clippy::needless_range_loop)]
        for l in 1..depth {
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&v| {
                    let preds: Vec<f64> = edges
                        .iter()
                        .enumerate()
                        .filter(|(i, &(a, b))| !back[*i] && b == v && layer[a] < l)
                        .map(|(_, &(a, _))| pos[a])
                        .collect();
                    let key = if preds.is_empty() {
                        pos[v]
                    } else {
                        preds.iter().sum::<f64>() / preds.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (k, &v) in layers[l].iter().enumerate() {
                pos[v] = k as f64;
            }
        }
    }
    (0..n).map(|i| (layer[i], pos[i] as usize)).collect()
}

/// Splits a label into at most two lines of about `width` characters.
fn lines(label: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = vec![String::new()];
    for word in label.split_whitespace() {
        let cur = out.last_mut().expect("one line");
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            if out.len() == 2 {
                let last = out.last_mut().expect("two lines");
                last.push('…');
                return out;
            }
            out.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    out
}

pub fn state_label(p: &Process, id: &str) -> String {
    p.state(id)
        .and_then(|s| s.label.as_ref())
        .map(|t| t.de.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The SVG of a process. Transitions are numbered from 1 in file order,
/// as in the transition table.
pub fn svg(p: &Process, title: &str) -> String {
    let g = Geometry::of(p);
    let total_w = g.inner_w + 2.0 * MARGIN + g.left_room + g.right_room;
    let total_h = g.depth as f64 * LAYER_H - (LAYER_H - BOX_H) + 2.0 * MARGIN;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="prozess" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w:.0} {total_h:.0}" width="{total_w:.0}" height="{total_h:.0}" role="img" aria-labelledby="prozess-titel prozess-beschreibung"><title id="prozess-titel">Ablauf: {}</title><desc id="prozess-beschreibung">{} Zustände und {} Übergänge; die Tabelle darunter nennt sie alle.</desc>"#,
        esc(title),
        p.states.len(),
        p.transitions.len()
    );
    s.push_str(r#"<defs><marker id="pfeil" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="pfeilspitze"/></marker></defs>"#);
    for (num, t) in p.transitions.iter().enumerate() {
        let (Some((a, b)), Some(route)) = (g.ends(t), g.routes[num]) else {
            continue;
        };
        let label = t.label.as_ref().map(|l| l.de.as_str()).unwrap_or(&t.id);
        let (path, lx, ly) = g.edge(route, a, b);
        let _ = write!(
            s,
            r#"<g class="uebergang"><title>{n}: {} ({} → {})</title><path d="{path}" marker-end="url(#pfeil)"/><circle cx="{lx:.1}" cy="{ly:.1}" r="10"/><text x="{lx:.1}" y="{ty:.1}" text-anchor="middle">{n}</text></g>"#,
            esc(label),
            esc(&state_label(p, t.from.get_ref())),
            esc(&state_label(p, t.to.get_ref())),
            n = num + 1,
            ty = ly + 4.0,
        );
    }
    for (i, st) in p.states.iter().enumerate() {
        write_state(&mut s, st, g.centre(i));
    }
    s.push_str("</svg>");
    s
}

/// One state: its box, and its label in at most two lines.
fn write_state(s: &mut String, st: &gemeinwerk_package::process::State, (cx, cy): (f64, f64)) {
    let class = match (st.start, st.end) {
        (true, _) => "zustand start".to_string(),
        (_, Some(o)) => format!("zustand ende ende-{}", o.as_str().replace('ü', "ue")),
        _ => "zustand".to_string(),
    };
    let label = st.label.as_ref().map(|t| t.de.as_str()).unwrap_or(&st.id);
    let text_lines = lines(label, 24);
    let _ = write!(
        s,
        r#"<g class="{class}"><rect x="{:.1}" y="{:.1}" width="{BOX_W}" height="{BOX_H}" rx="8"/>"#,
        cx - BOX_W / 2.0,
        cy - BOX_H / 2.0
    );
    let first_y = cy + 5.0 - (text_lines.len() as f64 - 1.0) * 8.0;
    for (k, line) in text_lines.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            first_y + k as f64 * 16.0,
            esc(line)
        );
    }
    s.push_str("</g>");
}

/// Where an edge runs: straight down, or through a gutter at the side
/// (the lane counts from the states outwards).
#[derive(Clone, Copy, PartialEq)]
enum Route {
    Down,
    Left(usize),
    Right(usize),
}

/// Where the states sit and where the edges run.
struct Geometry<'p> {
    /// `(layer, position)` per state index.
    places: Vec<(usize, usize)>,
    depth: usize,
    /// The width of the widest layer.
    inner_w: f64,
    index: HashMap<&'p str, usize>,
    /// Per transition, in file order; `None` when a state is unknown.
    routes: Vec<Option<Route>>,
    /// The gutters beside the states, as wide as their lanes need.
    left_room: f64,
    right_room: f64,
}

impl<'p> Geometry<'p> {
    fn of(p: &'p Process) -> Self {
        let places = layout(p);
        let depth = places.iter().map(|(l, _)| l + 1).max().unwrap_or(1);
        let width_count = (0..depth)
            .map(|l| places.iter().filter(|(x, _)| *x == l).count())
            .max()
            .unwrap_or(1);
        let inner_w = width_count as f64 * BOX_W + (width_count as f64 - 1.0).max(0.0) * GAP_X;
        let index = p
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut g = Geometry {
            places,
            depth,
            inner_w,
            index,
            routes: Vec::new(),
            left_room: 0.0,
            right_room: 0.0,
        };
        g.route(p);
        g
    }

    /// Picks each edge's route: an edge up (or within a layer) runs on the
    /// right, one down that would cross a state between on the left.
    fn route(&mut self, p: &Process) {
        let (mut lefts, mut rights) = (0, 0);
        let places = &self.places;
        let routes = p
            .transitions
            .iter()
            .map(|t| {
                let (a, b) = self.ends(t)?;
                if places[b].0 <= places[a].0 {
                    rights += 1;
                    return Some(Route::Right(rights - 1));
                }
                let (ax, ay) = self.inner_centre(a);
                let (bx, by) = self.inner_centre(b);
                // Would a straight run from a to b go through a state between?
                let crosses = (places[a].0 + 1..places[b].0).any(|l| {
                    let y = MARGIN + l as f64 * LAYER_H + BOX_H / 2.0;
                    let x = ax + (bx - ax) * (y - ay) / (by - ay);
                    (0..places.len()).any(|i| {
                        places[i].0 == l && (x - self.inner_centre(i).0).abs() < BOX_W / 2.0 + 6.0
                    })
                });
                if crosses {
                    lefts += 1;
                    Some(Route::Left(lefts - 1))
                } else {
                    Some(Route::Down)
                }
            })
            .collect();
        self.routes = routes;
        let room = |lanes: usize| {
            if lanes > 0 {
                10.0 + lanes as f64 * LANE
            } else {
                0.0
            }
        };
        self.left_room = room(lefts);
        self.right_room = room(rights);
    }

    fn ends(&self, t: &gemeinwerk_package::process::Transition) -> Option<(usize, usize)> {
        Some((
            *self.index.get(t.from.get_ref().as_str())?,
            *self.index.get(t.to.get_ref().as_str())?,
        ))
    }

    fn row_width(&self, l: usize) -> f64 {
        let k = self.places.iter().filter(|(x, _)| *x == l).count() as f64;
        k * BOX_W + (k - 1.0).max(0.0) * GAP_X
    }

    /// The position of a state before the gutters are known, relative to
    /// the left gutter's end.
    fn inner_centre(&self, i: usize) -> (f64, f64) {
        let (l, k) = self.places[i];
        let left = MARGIN + (self.inner_w - self.row_width(l)) / 2.0;
        (
            left + k as f64 * (BOX_W + GAP_X) + BOX_W / 2.0,
            MARGIN + l as f64 * LAYER_H + BOX_H / 2.0,
        )
    }

    fn centre(&self, i: usize) -> (f64, f64) {
        let (x, y) = self.inner_centre(i);
        (x + self.left_room, y)
    }

    /// The path of an edge from state `a` to state `b`, and where its
    /// number goes. Side routes run in the gaps between layers and in a
    /// gutter, where no state is; they leave and enter a state off its
    /// centre, so as not to run on top of the straight edges.
    fn edge(&self, route: Route, a: usize, b: usize) -> (String, f64, f64) {
        let (ax, ay) = self.centre(a);
        let (bx, by) = self.centre(b);
        let places = &self.places;
        match route {
            Route::Down => {
                let (y1, y2) = (ay + BOX_H / 2.0, by - BOX_H / 2.0);
                let mid = (y1 + y2) / 2.0;
                (
                    format!("M{ax:.1},{y1:.1} C{ax:.1},{mid:.1} {bx:.1},{mid:.1} {bx:.1},{y2:.1}"),
                    (ax + bx) / 2.0,
                    mid,
                )
            }
            Route::Left(lane) => {
                let gx = self.left_room - 10.0 - lane as f64 * LANE + MARGIN / 2.0;
                let (x1, x2) = (ax - BOX_W / 4.0, bx - BOX_W / 4.0);
                let (g1, g2) = (gap_above(places[a].0 + 1), gap_above(places[b].0));
                (
                    format!(
                        "M{x1:.1},{:.1} V{g1:.1} H{gx:.1} V{g2:.1} H{x2:.1} V{:.1}",
                        ay + BOX_H / 2.0,
                        by - BOX_H / 2.0
                    ),
                    gx,
                    (g1 + g2) / 2.0,
                )
            }
            Route::Right(lane) => {
                let gx = self.left_room + MARGIN + self.inner_w + 10.0 + lane as f64 * LANE;
                let (x1, x2) = (ax + BOX_W / 4.0, bx + BOX_W / 4.0);
                let (g1, g2) = (gap_above(places[a].0), gap_above(places[b].0));
                (
                    format!(
                        "M{x1:.1},{:.1} V{g1:.1} H{gx:.1} V{g2:.1} H{x2:.1} V{:.1}",
                        ay - BOX_H / 2.0,
                        by - BOX_H / 2.0
                    ),
                    gx,
                    (g1 + g2) / 2.0,
                )
            }
        }
    }
}

/// The middle of the gap above a layer (or below, with `+ 1`).
fn gap_above(layer: usize) -> f64 {
    (MARGIN + layer as f64 * LAYER_H - (LAYER_H - BOX_H) / 2.0).max(MARGIN / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gemeinwerk_package::content::{parse_content, Content};
    use gemeinwerk_package::manifest::PackageKind;

    fn process(src: &str) -> Process {
        match parse_content(PackageKind::Process, src).unwrap() {
            Content::Process(p) => p,
            _ => unreachable!(),
        }
    }

    const SRC: &str = r#"
[process]
title = "P"
[roles]
sb = "Sachbearbeitung"
[[state]]
id = "eingang"
label = "Eingang <b>"
start = true
[[state]]
id = "pruefung"
label = "Prüfung"
[[state]]
id = "nachforderung"
label = "Nachforderung"
[[state]]
id = "fertig"
label = "Fertig"
end = "bewilligt"
[[transition]]
id = "a"
from = "eingang"
to = "pruefung"
role = "sb"
action = "pruefen"
[[transition]]
id = "b"
from = "pruefung"
to = "nachforderung"
role = "sb"
action = "nachfordern"
[[transition]]
id = "c"
from = "nachforderung"
to = "pruefung"
role = "sb"
action = "nachreichen"
[[transition]]
id = "d"
from = "pruefung"
to = "fertig"
role = "sb"
action = "bescheiden"
"#;

    #[test]
    fn layers_follow_the_flow_and_cycles_do_not_loop() {
        let p = process(SRC);
        let places = layout(&p);
        assert_eq!(places[0].0, 0, "the start state is on top");
        assert_eq!(places[1].0, 1);
        assert_eq!(places[2].0, 2, "the detour goes below");
        assert_eq!(places[3].0, 2);
        assert_ne!(places[2].1, places[3].1, "two states never share a place");
    }

    #[test]
    fn the_svg_escapes_labels_and_numbers_transitions() {
        let svg = svg(&process(SRC), "Titel <script>");
        assert!(svg.contains("Eingang &lt;b&gt;"), "{svg}");
        assert!(!svg.contains("<script>"));
        assert!(svg.contains(">4</text>"));
        assert!(svg.starts_with("<svg"));
        // The way back (transition 3) runs around the states, at right
        // angles through the gaps, not through a box.
        let back = svg.split("<title>3: ").nth(1).unwrap();
        let d = back
            .split("d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            d.contains(" V") && d.contains(" H") && !d.contains('C'),
            "{d}"
        );
    }
}
