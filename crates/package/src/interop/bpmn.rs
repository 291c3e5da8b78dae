//! BPMN 2.0 of a process package, with diagram interchange, so that
//! modelling tools (Camunda Modeler, bpmn.io, Signavio …) open and draw it.
//!
//! Our processes are state machines whose transitions are the work: each
//! transition becomes a user task in the lane of its role; a state with
//! several ways out becomes an exclusive gateway, whose flows are named
//! and conditioned by the transitions' labels, the first transition being
//! the default flow; start states get a start event, end states an end
//! event. A deadline becomes a non-interrupting timer boundary event with
//! its ISO 8601 duration: a state's on each task that leaves the state, a
//! transition's on its task. Forms, fees and notices go into the tasks'
//! documentation.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::json_schema::ExportError;
use crate::content::Content;
use crate::process::{Process, Transition};
use crate::Manifest;

const NS_MODEL: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
const NS_BPMNDI: &str = "http://www.omg.org/spec/BPMN/20100524/DI";
const NS_DC: &str = "http://www.omg.org/spec/DD/20100524/DC";
const NS_DI: &str = "http://www.omg.org/spec/DD/20100524/DI";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    End,
    Task,
    Gateway,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Start => "bpmn:startEvent",
            Kind::End => "bpmn:endEvent",
            Kind::Task => "bpmn:userTask",
            Kind::Gateway => "bpmn:exclusiveGateway",
        }
    }
    fn size(self) -> (i64, i64) {
        match self {
            Kind::Task => (100, 80),
            Kind::Gateway => (50, 50),
            Kind::Start | Kind::End => (36, 36),
        }
    }
}

struct Node {
    id: String,
    kind: Kind,
    name: String,
    lane: usize,
    docs: Vec<String>,
    incoming: Vec<usize>,
    outgoing: Vec<usize>,
    /// A gateway's default flow.
    default_flow: Option<usize>,
    // Layout.
    column: usize,
    x: i64,
    y: i64,
}

struct Flow {
    id: String,
    from: usize,
    to: usize,
    /// Out of a gateway: the transition's label.
    name: Option<String>,
    /// Out of a gateway, but for the default flow: the condition, in
    /// words (our transitions carry no expression).
    condition: Option<String>,
}

impl Flow {
    fn new(from: usize, to: usize) -> Flow {
        Flow {
            id: String::new(),
            from,
            to,
            name: None,
            condition: None,
        }
    }
}

/// A deadline on a task: a timer boundary event.
struct Timer {
    id: String,
    task: usize,
    name: String,
    /// ISO 8601, e.g. `P14D`.
    duration: String,
}

const LANE_LABEL: i64 = 30;
const COLUMN: i64 = 170;
const ROW: i64 = 120;
const LANE_PAD: i64 = 20;

/// The BPMN 2.0 XML of a process package.
pub fn bpmn(m: &Manifest, content: &Content) -> Result<String, ExportError> {
    let Content::Process(p) = content else {
        return Err(ExportError::NotAProcess {
            name: m.full_name(),
            kind: m.kind.as_str().into(),
        });
    };
    let (mut nodes, flows, lanes, timers) = graph(p);
    let (lane_y, lane_h, width) = layout(&mut nodes, &flows, lanes.len());
    let g = Graph {
        nodes: &nodes,
        flows: &flows,
        timers: &timers,
        lanes: &lanes,
    };
    Ok(write(m, p, &g, &lane_y, &lane_h, width))
}

/// What is written.
struct Graph<'a> {
    nodes: &'a [Node],
    flows: &'a [Flow],
    timers: &'a [Timer],
    lanes: &'a [(String, String)],
}

/// The deadlines of states and transitions, on the tasks they limit
/// (`tasks`: the node of each transition's task).
fn timers(p: &Process, tasks: &HashMap<&str, usize>) -> Vec<Timer> {
    let task = |t: &Transition| tasks.get(t.id.as_str()).copied();
    let mut out = Vec::new();
    for s in &p.states {
        let Some(d) = &s.deadline else { continue };
        let label = s.label.as_ref().map(|l| l.de.as_str()).unwrap_or(&s.id);
        for t in p.transitions.iter().filter(|t| t.from.get_ref() == &s.id) {
            if let Some(i) = task(t) {
                out.push(Timer {
                    id: format!("Timer_{}_{}", ncname(&s.id), ncname(&t.id)),
                    task: i,
                    name: format!("Frist „{label}“: {d}"),
                    duration: d.clone(),
                });
            }
        }
    }
    for t in &p.transitions {
        let (Some(d), Some(i)) = (&t.deadline, task(t)) else {
            continue;
        };
        out.push(Timer {
            id: format!("Timer_{}", ncname(&t.id)),
            task: i,
            name: format!("Frist: {d}"),
            duration: d.clone(),
        });
    }
    out
}

fn transition_docs(p: &Process, t: &Transition) -> Vec<String> {
    let mut docs = vec![format!("Aktion: {}", t.action)];
    if !t.forms.is_empty() {
        let forms: Vec<&str> = t.forms.iter().map(|f| f.get_ref().as_str()).collect();
        docs.push(format!("Formulare: {}", forms.join(", ")));
    }
    if let Some(d) = &t.deadline {
        docs.push(format!("Frist: {d}"));
    }
    for f in p
        .fees
        .iter()
        .filter(|f| f.on.as_ref().map(|o| o.get_ref()) == Some(&t.id))
    {
        let label = f.label.as_ref().map(|l| l.de.as_str()).unwrap_or(&f.id);
        let mut s = format!(
            "Gebühr: {label}, {} EUR",
            crate::write::amount(f.amount_cents)
        );
        if let Some(per) = &f.per {
            s.push_str(&format!(" je {per}"));
        }
        if let Some(lb) = &f.legal_basis {
            s.push_str(&format!(" ({lb})"));
        }
        docs.push(s);
    }
    for n in p.notices.iter().filter(|n| n.on.get_ref() == &t.id) {
        let label = n.label.as_ref().map(|l| l.de.as_str()).unwrap_or(&n.id);
        let mut s = format!("Bescheid: {label}");
        if let Some(lb) = &n.legal_basis {
            s.push_str(&format!(" ({lb})"));
        }
        docs.push(s);
    }
    docs
}

/// The lanes: role id and label.
type Lanes = Vec<(String, String)>;

/// Nodes, flows, lanes and timers of the process.
fn graph(p: &Process) -> (Vec<Node>, Vec<Flow>, Lanes, Vec<Timer>) {
    let lanes: Vec<(String, String)> = p
        .roles
        .iter()
        .map(|r| (r.id.clone(), r.label.clone()))
        .collect();
    let lane_of = |role: &str| lanes.iter().position(|(id, _)| id == role).unwrap_or(0);
    let mut nodes: Vec<Node> = Vec::new();
    let mut flows: Vec<Flow> = Vec::new();
    let add = |nodes: &mut Vec<Node>,
               id: String,
               kind: Kind,
               name: String,
               lane: usize,
               docs: Vec<String>| {
        nodes.push(Node {
            id,
            kind,
            name,
            lane,
            docs,
            incoming: Vec::new(),
            outgoing: Vec::new(),
            default_flow: None,
            column: 0,
            x: 0,
            y: 0,
        });
        nodes.len() - 1
    };
    let out_of = |state: &str| -> Vec<&Transition> {
        p.transitions
            .iter()
            .filter(|t| t.from.get_ref() == state)
            .collect()
    };

    let mut tasks: HashMap<&str, usize> = HashMap::new();
    for t in &p.transitions {
        let name = t
            .label
            .as_ref()
            .map(|l| l.de.clone())
            .unwrap_or_else(|| t.action.clone());
        let i = add(
            &mut nodes,
            format!("Task_{}", t.id),
            Kind::Task,
            name,
            lane_of(t.role.get_ref()),
            transition_docs(p, t),
        );
        tasks.insert(&t.id, i);
    }
    // What a flow into a state reaches: its end event, its gateway, or the
    // task of its only way out.
    let mut entry: HashMap<&str, usize> = HashMap::new();
    let mut starts = Vec::new();
    for s in &p.states {
        let label = s
            .label
            .as_ref()
            .map(|l| l.de.clone())
            .unwrap_or_else(|| s.id.clone());
        let mut docs = Vec::new();
        if let Some(d) = &s.deadline {
            docs.push(format!("Frist: {d}"));
        }
        let outs = out_of(&s.id);
        let incoming_lane = p
            .transitions
            .iter()
            .find(|t| t.to.get_ref() == &s.id)
            .map(|t| lane_of(t.role.get_ref()));
        let node = match outs.as_slice() {
            [] => {
                if let Some(o) = s.end {
                    docs.push(format!("Ergebnis: {}", o.as_str()));
                }
                add(
                    &mut nodes,
                    format!("End_{}", s.id),
                    Kind::End,
                    label.clone(),
                    incoming_lane.unwrap_or(0),
                    docs,
                )
            }
            [only] => tasks[only.id.as_str()],
            many => {
                let gw = add(
                    &mut nodes,
                    format!("Gateway_{}", s.id),
                    Kind::Gateway,
                    label.clone(),
                    lane_of(many[0].role.get_ref()),
                    docs,
                );
                // The first way out is the usual one: the default flow.
                for (k, t) in many.iter().enumerate() {
                    let name = t
                        .label
                        .as_ref()
                        .map(|l| l.de.clone())
                        .unwrap_or_else(|| t.action.clone());
                    if k == 0 {
                        nodes[gw].default_flow = Some(flows.len());
                    }
                    flows.push(Flow {
                        condition: (k > 0).then(|| name.clone()),
                        name: Some(name),
                        ..Flow::new(gw, tasks[t.id.as_str()])
                    });
                }
                gw
            }
        };
        entry.insert(&s.id, node);
        if s.start {
            let lane = nodes[node].lane;
            let start = add(
                &mut nodes,
                format!("Start_{}", s.id),
                Kind::Start,
                label,
                lane,
                Vec::new(),
            );
            starts.push((start, node));
        }
    }
    for (start, node) in starts {
        flows.push(Flow::new(start, node));
    }
    for t in &p.transitions {
        if let Some(&to) = entry.get(t.to.get_ref().as_str()) {
            flows.push(Flow::new(tasks[t.id.as_str()], to));
        }
    }
    for (i, f) in flows.iter_mut().enumerate() {
        f.id = format!("Flow_{}", i + 1);
        nodes[f.from].outgoing.push(i);
        nodes[f.to].incoming.push(i);
    }
    let lanes = if lanes.is_empty() {
        vec![("prozess".into(), "Prozess".into())]
    } else {
        lanes
    };
    let timers = timers(p, &tasks);
    (nodes, flows, lanes, timers)
}

/// Columns by distance from the start; rows by lane, stacked where two
/// nodes of a lane share a column. Returns each lane's y and height and
/// the width of the pool.
fn layout(nodes: &mut [Node], flows: &[Flow], lanes: usize) -> (Vec<i64>, Vec<i64>, i64) {
    let mut column: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == Kind::Start {
            column[i] = Some(0);
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        for &f in &nodes[i].outgoing {
            let to = flows[f].to;
            if column[to].is_none() {
                column[to] = Some(column[i].unwrap_or(0) + 1);
                queue.push_back(to);
            }
        }
    }
    let last = column.iter().flatten().max().copied().unwrap_or(0);
    // Nodes no start reaches go after the rest.
    for c in column.iter_mut() {
        if c.is_none() {
            *c = Some(last + 1);
        }
    }
    let mut stack: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut sub = vec![0usize; nodes.len()];
    for (i, n) in nodes.iter_mut().enumerate() {
        n.column = column[i].unwrap_or(0);
        let slot = stack.entry((n.lane, n.column)).or_insert(0);
        sub[i] = *slot;
        *slot += 1;
    }
    let mut lane_h = vec![ROW + 2 * LANE_PAD; lanes];
    for ((lane, _), count) in &stack {
        lane_h[*lane] = lane_h[*lane].max(*count as i64 * ROW + 2 * LANE_PAD);
    }
    let mut lane_y = Vec::with_capacity(lanes);
    let mut y = 0;
    for h in &lane_h {
        lane_y.push(y);
        y += h;
    }
    let columns = nodes.iter().map(|n| n.column).max().unwrap_or(0) as i64 + 1;
    for (i, n) in nodes.iter_mut().enumerate() {
        let (w, h) = n.kind.size();
        let cx = LANE_LABEL + 80 + n.column as i64 * COLUMN;
        let cy = lane_y[n.lane] + LANE_PAD + sub[i] as i64 * ROW + ROW / 2;
        n.x = cx - w / 2;
        n.y = cy - h / 2;
    }
    (lane_y, lane_h, LANE_LABEL + 80 + columns * COLUMN)
}

/// The points an edge is drawn through.
fn waypoints(a: &Node, b: &Node) -> Vec<(i64, i64)> {
    let (aw, ah) = a.kind.size();
    let (bw, bh) = b.kind.size();
    let (a_cy, b_cy) = (a.y + ah / 2, b.y + bh / 2);
    if b.column > a.column {
        let (sx, tx) = (a.x + aw, b.x);
        if a_cy == b_cy {
            return vec![(sx, a_cy), (tx, b_cy)];
        }
        let mid = tx - 20;
        return vec![(sx, a_cy), (mid, a_cy), (mid, b_cy), (tx, b_cy)];
    }
    // Back to an earlier column: around below both.
    let below = (a.y + ah).max(b.y + bh) + 20;
    vec![
        (a.x + aw / 2, a.y + ah),
        (a.x + aw / 2, below),
        (b.x + bw / 2, below),
        (b.x + bw / 2, b.y + bh),
    ]
}

fn ncname(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write(
    m: &Manifest,
    p: &Process,
    g: &Graph,
    lane_y: &[i64],
    lane_h: &[i64],
    width: i64,
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let process_id = format!("Process_{}_{}", ncname(&m.namespace), ncname(&m.name));
    let title = p
        .title
        .as_ref()
        .map(|t| t.de.clone())
        .or(m.title.clone())
        .unwrap_or_else(|| m.full_name());
    let target = format!("urn:gemeinwerk:{}:{}:{}", m.namespace, m.name, m.version);
    let version = env!("CARGO_PKG_VERSION");
    let result: io::Result<()> = (|| {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("bpmn:definitions")
            .with_attributes([
                ("xmlns:bpmn", NS_MODEL),
                ("xmlns:bpmndi", NS_BPMNDI),
                ("xmlns:dc", NS_DC),
                ("xmlns:di", NS_DI),
                ("xmlns:xsi", NS_XSI),
                ("id", "Definitions_1"),
                ("targetNamespace", target.as_str()),
                ("exporter", "gemeinwerk"),
                ("exporterVersion", version),
            ])
            .write_inner_content(|w| {
                w.create_element("bpmn:collaboration")
                    .with_attribute(("id", "Collaboration_1"))
                    .write_inner_content(|w| {
                        w.create_element("bpmn:participant")
                            .with_attributes([
                                ("id", "Participant_1"),
                                ("name", title.as_str()),
                                ("processRef", process_id.as_str()),
                            ])
                            .write_empty()?;
                        Ok(())
                    })?;
                write_process(w, m, &process_id, &title, g)?;
                write_diagram(w, g, lane_y, lane_h, width)?;
                Ok(())
            })?;
        Ok(())
    })();
    result.expect("writing XML into memory does not fail");
    let mut out = String::from_utf8(w.into_inner()).expect("the writer writes UTF-8");
    out.push('\n');
    out
}

/// The process: its lanes, nodes and sequence flows.
fn write_process<W: io::Write>(
    w: &mut Writer<W>,
    m: &Manifest,
    process_id: &str,
    title: &str,
    g: &Graph,
) -> io::Result<()> {
    let (nodes, flows, lanes) = (g.nodes, g.flows, g.lanes);
    w.create_element("bpmn:process")
        .with_attributes([
            ("id", process_id),
            ("name", title),
            ("isExecutable", "false"),
        ])
        .write_inner_content(|w| {
            w.create_element("bpmn:documentation")
                .write_text_content(BytesText::new(&format!(
                    "{} {} ({})",
                    m.full_name(),
                    m.version,
                    m.description
                )))?;
            w.create_element("bpmn:laneSet")
                .with_attribute(("id", "LaneSet_1"))
                .write_inner_content(|w| {
                    for (li, (role, label)) in lanes.iter().enumerate() {
                        w.create_element("bpmn:lane")
                            .with_attributes([
                                ("id", format!("Lane_{role}").as_str()),
                                ("name", label.as_str()),
                            ])
                            .write_inner_content(|w| {
                                for n in nodes.iter().filter(|n| n.lane == li) {
                                    w.create_element("bpmn:flowNodeRef")
                                        .write_text_content(BytesText::new(&n.id))?;
                                }
                                for t in g.timers.iter().filter(|t| nodes[t.task].lane == li) {
                                    w.create_element("bpmn:flowNodeRef")
                                        .write_text_content(BytesText::new(&t.id))?;
                                }
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            for n in nodes {
                let default = n.default_flow.map(|f| flows[f].id.as_str());
                w.create_element(n.kind.tag())
                    .with_attributes([("id", n.id.as_str()), ("name", n.name.as_str())])
                    .with_attributes(default.map(|d| ("default", d)))
                    .write_inner_content(|w| {
                        if !n.docs.is_empty() {
                            w.create_element("bpmn:documentation")
                                .write_text_content(BytesText::new(&n.docs.join("\n")))?;
                        }
                        for &f in &n.incoming {
                            w.create_element("bpmn:incoming")
                                .write_text_content(BytesText::new(&flows[f].id))?;
                        }
                        for &f in &n.outgoing {
                            w.create_element("bpmn:outgoing")
                                .write_text_content(BytesText::new(&flows[f].id))?;
                        }
                        Ok(())
                    })?;
            }
            for t in g.timers {
                w.create_element("bpmn:boundaryEvent")
                    .with_attributes([
                        ("id", t.id.as_str()),
                        ("name", t.name.as_str()),
                        ("cancelActivity", "false"),
                        ("attachedToRef", nodes[t.task].id.as_str()),
                    ])
                    .write_inner_content(|w| {
                        w.create_element("bpmn:timerEventDefinition")
                            .with_attribute(("id", format!("{}_definition", t.id).as_str()))
                            .write_inner_content(|w| {
                                w.create_element("bpmn:timeDuration")
                                    .with_attribute(("xsi:type", "bpmn:tFormalExpression"))
                                    .write_text_content(BytesText::new(&t.duration))?;
                                Ok(())
                            })?;
                        Ok(())
                    })?;
            }
            for f in flows {
                let e = w
                    .create_element("bpmn:sequenceFlow")
                    .with_attributes([
                        ("id", f.id.as_str()),
                        ("sourceRef", nodes[f.from].id.as_str()),
                        ("targetRef", nodes[f.to].id.as_str()),
                    ])
                    .with_attributes(f.name.as_deref().map(|n| ("name", n)));
                match &f.condition {
                    None => {
                        e.write_empty()?;
                    }
                    Some(c) => {
                        e.write_inner_content(|w| {
                            w.create_element("bpmn:conditionExpression")
                                .with_attribute(("xsi:type", "bpmn:tFormalExpression"))
                                .write_text_content(BytesText::new(c))?;
                            Ok(())
                        })?;
                    }
                }
            }
            Ok(())
        })
        .map(|_| ())
}

/// The diagram: where the pool, the lanes, the nodes and the edges are
/// drawn.
fn write_diagram<W: io::Write>(
    w: &mut Writer<W>,
    g: &Graph,
    lane_y: &[i64],
    lane_h: &[i64],
    width: i64,
) -> io::Result<()> {
    let (nodes, flows, lanes) = (g.nodes, g.flows, g.lanes);
    let total_h: i64 = lane_h.iter().sum();
    w.create_element("bpmndi:BPMNDiagram")
        .with_attribute(("id", "BPMNDiagram_1"))
        .write_inner_content(|w| {
            w.create_element("bpmndi:BPMNPlane")
                .with_attributes([("id", "BPMNPlane_1"), ("bpmnElement", "Collaboration_1")])
                .write_inner_content(|w| {
                    shape(w, "Participant_1", true, (0, 0, width, total_h))?;
                    for (li, (role, _)) in lanes.iter().enumerate() {
                        shape(
                            w,
                            &format!("Lane_{role}"),
                            true,
                            (LANE_LABEL, lane_y[li], width - LANE_LABEL, lane_h[li]),
                        )?;
                    }
                    for n in nodes {
                        let (nw, nh) = n.kind.size();
                        shape(w, &n.id, false, (n.x, n.y, nw, nh))?;
                    }
                    // On the lower edge of their task, from the right.
                    let mut on_task: HashMap<usize, i64> = HashMap::new();
                    for t in g.timers {
                        let k = on_task.entry(t.task).or_default();
                        let n = &nodes[t.task];
                        let (nw, nh) = n.kind.size();
                        shape(
                            w,
                            &t.id,
                            false,
                            (n.x + nw - 44 - 40 * *k, n.y + nh - 18, 36, 36),
                        )?;
                        *k += 1;
                    }
                    for f in flows {
                        w.create_element("bpmndi:BPMNEdge")
                            .with_attributes([
                                ("id", format!("{}_di", f.id).as_str()),
                                ("bpmnElement", f.id.as_str()),
                            ])
                            .write_inner_content(|w| {
                                for (x, y) in waypoints(&nodes[f.from], &nodes[f.to]) {
                                    w.create_element("di:waypoint")
                                        .with_attributes([
                                            ("x", x.to_string().as_str()),
                                            ("y", y.to_string().as_str()),
                                        ])
                                        .write_empty()?;
                                }
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })
        .map(|_| ())
}

fn shape<W: io::Write>(
    w: &mut Writer<W>,
    element: &str,
    horizontal: bool,
    (x, y, width, height): (i64, i64, i64, i64),
) -> io::Result<()> {
    let id = format!("{element}_di");
    let mut e = w
        .create_element("bpmndi:BPMNShape")
        .with_attributes([("id", id.as_str()), ("bpmnElement", element)]);
    if horizontal {
        e = e.with_attribute(("isHorizontal", "true"));
    }
    e.write_inner_content(|w| {
        w.create_element("dc:Bounds")
            .with_attributes([
                ("x", x.to_string().as_str()),
                ("y", y.to_string().as_str()),
                ("width", width.to_string().as_str()),
                ("height", height.to_string().as_str()),
            ])
            .write_empty()?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::parse_content;
    use crate::manifest::parse_manifest;
    use crate::PackageKind;

    fn demo() -> (Manifest, Content) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../demo/kassel-bewohnerparken-verfahren");
        let (m, _) =
            parse_manifest(&std::fs::read_to_string(dir.join("gemeinwerk.toml")).unwrap()).unwrap();
        let c = parse_content(
            PackageKind::Process,
            &std::fs::read_to_string(dir.join("process.toml")).unwrap(),
        )
        .unwrap();
        (m, c)
    }

    #[test]
    fn the_demo_process_becomes_lanes_tasks_gateways_and_events() {
        let (m, c) = demo();
        let xml = bpmn(&m, &c).unwrap();
        let count = |tag: &str| xml.matches(&format!("<{tag} ")).count();
        assert_eq!(count("bpmn:lane"), 3);
        assert_eq!(count("bpmn:userTask"), 12);
        assert_eq!(count("bpmn:startEvent"), 1);
        assert_eq!(count("bpmn:endEvent"), 3);
        // eingang, formelle_pruefung, nachforderung, melderegisterabgleich, zahlung_offen.
        assert_eq!(count("bpmn:exclusiveGateway"), 5);
        assert_eq!(count("bpmn:sequenceFlow"), count("bpmndi:BPMNEdge"));
        // Deadlines: 4 states with a deadline, on each task that leaves
        // them, and 2 transitions with their own.
        let timers = count("bpmn:boundaryEvent");
        assert_eq!(timers, 9);
        assert_eq!(count("bpmndi:BPMNShape"), 1 + 3 + 12 + 1 + 3 + 5 + timers);
        assert_eq!(
            xml.matches("<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P")
                .count(),
            timers
        );
        assert!(xml.contains("cancelActivity=\"false\" attachedToRef=\"Task_"));
        // Every gateway has a default flow; its other flows a condition.
        assert_eq!(xml.matches(" default=\"Flow_").count(), 5);
        let conditions = xml.matches("<bpmn:conditionExpression ").count();
        let out_of_gateways = xml.matches("sourceRef=\"Gateway_").count();
        assert_eq!(conditions, out_of_gateways - 5);
        assert!(xml.contains("Gebühr: Gebühr für den Bewohnerparkausweis, 30.70 EUR je P1Y"));
        assert!(xml.contains("name=\"Sachbearbeitung Straßenverkehrsbehörde\""));
        // The same process gives the same XML.
        assert_eq!(xml, bpmn(&m, &c).unwrap());
    }

    #[test]
    fn a_form_has_no_bpmn() {
        let (mut m, _) = demo();
        m.kind = PackageKind::Form;
        let c = Content::Fieldgroup(crate::fieldgroup::Fieldgroup {
            label: None,
            help: None,
            legal_basis: Vec::new(),
            fim: None,
            body: Default::default(),
        });
        assert!(bpmn(&m, &c)
            .unwrap_err()
            .to_string()
            .contains("BPMN describes a process"));
    }
}
