// Reads an XDatenfelder 3.0.0 message with xdatenfelder-xml, an
// independent parser (npm, EUPL-1.2), and fails on anything it refuses:
// an element it does not know, one missing that the standard requires (an
// element's Freigabestatus, Schemaelementart, letzte Änderung; a field's
// Feldart, Datentyp, Vorbefüllung; a rule's Typ), a structure without
// anzahl. Prints a JSON summary so that the Rust test can compare counts.
//
// xdatenfelder-xml 0.1.4 reads Datenfeldgruppe messages; its reader for
// Stammdatenschema messages is not written yet (`SchemaMessage3.fromString`
// returns a fixed sample). A Stammdatenschema is therefore read by the
// same Datenfeldgruppe reader: the message and payload element are renamed,
// the schema's `bezeichnung` is read as a group's `bezeichnungEingabe`
// with the Schemaelementart a group must have, and the one child only a
// schema has (ableitungsmodifikationenStruktur) is set aside; every group,
// field and rule inside goes through the parser's own readers unchanged.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package's "main" names a TypeScript file it does not ship.
const { DataGroupMessage3 } = require('xdatenfelder-xml/dist/index.js');

const file = process.argv[2];
if (!file) {
  console.error('usage: node check-xdatenfelder.mjs FILE.xml');
  process.exit(2);
}
let xml = readFileSync(file, 'utf8');
const schema = xml.includes('<xdf:xdatenfelder.stammdatenschema.0102');
if (schema) {
  xml = xml
    .replaceAll('xdf:xdatenfelder.stammdatenschema.0102', 'xdf:xdatenfelder.datenfeldgruppe.0103')
    .replace(/<(\/?)xdf:stammdatenschema>/g, '<$1xdf:datenfeldgruppe>')
    .replace(
      /<xdf:bezeichnung>([\s\S]*?)<\/xdf:bezeichnung>/,
      '<xdf:bezeichnungEingabe>$1</xdf:bezeichnungEingabe><xdf:schemaelementart><code>RNG</code></xdf:schemaelementart>',
    )
    .replace(
      /<xdf:ableitungsmodifikationenStruktur>[\s\S]*?<\/xdf:ableitungsmodifikationenStruktur>/,
      '',
    );
}
try {
  const message = DataGroupMessage3.fromString(xml);
  const root = message.dataGroups.get(message.rootDataGroup);
  console.log(
    JSON.stringify({
      kind: schema ? 'stammdatenschema' : 'datenfeldgruppe',
      root: message.rootDataGroup,
      label: root.inputLabel,
      groups: message.dataGroups.count() - (schema ? 1 : 0),
      fields: message.dataFields.count(),
      rules: message.rules.count(),
    }),
  );
} catch (e) {
  console.error(`error: ${e.constructor.name}: ${e.message}`);
  process.exit(1);
}
