// Opens a BPMN file with bpmn-moddle, as bpmn.io's modelers (Camunda
// Modeler, bpmn-js) do, and fails on any warning: an unknown element, a
// dangling reference or a wrong attribute is a warning there, not an error.
// Prints a JSON summary on success so the Rust test can check the content.
import { readFileSync } from 'node:fs';
import { BpmnModdle } from 'bpmn-moddle';

const file = process.argv[2];
if (!file) {
  console.error('usage: node check-bpmn.mjs FILE.bpmn');
  process.exit(2);
}
const xml = readFileSync(file, 'utf8');
const moddle = new BpmnModdle();
try {
  const { rootElement, warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
  if (warnings.length > 0) {
    for (const w of warnings) console.error(`warning: ${w.message}`);
    process.exit(1);
  }
  const process_ = rootElement.rootElements.find((e) => e.$type === 'bpmn:Process');
  const count = (type) => process_.flowElements.filter((e) => e.$type === type).length;
  const plane = rootElement.diagrams[0].plane;
  const summary = {
    userTasks: count('bpmn:UserTask'),
    exclusiveGateways: count('bpmn:ExclusiveGateway'),
    startEvents: count('bpmn:StartEvent'),
    endEvents: count('bpmn:EndEvent'),
    sequenceFlows: count('bpmn:SequenceFlow'),
    lanes: process_.laneSets.flatMap((s) => s.lanes).map((l) => l.name),
    shapes: plane.planeElement.filter((e) => e.$type === 'bpmndi:BPMNShape').length,
    edges: plane.planeElement.filter((e) => e.$type === 'bpmndi:BPMNEdge').length,
    // Every flow node and flow must be drawn.
    undrawn: process_.flowElements
      .filter((e) => !plane.planeElement.some((p) => p.bpmnElement === e))
      .map((e) => e.id),
  };
  console.log(JSON.stringify(summary));
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
