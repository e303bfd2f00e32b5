// Parse an AsyncAPI document with the official parser (@asyncapi/parser) and print what it found, as JSON:
//   node validate.cjs <folder holding node_modules/@asyncapi/parser> <document>
// {"parsed": true when a document came out, "diagnostics": [{code, message, severity, path}]}; severity is
// Spectral's: 0 error, 1 warning, 2 information, 3 hint. Relative $refs resolve from the document's folder.
"use strict";
const path = require("node:path");
const { createRequire } = require("node:module");

async function main() {
  const [home, document] = process.argv.slice(2);
  const load = createRequire(path.join(path.resolve(home), "package.json"));
  const { Parser, fromFile } = load("@asyncapi/parser");
  const { document: parsed, diagnostics } = await fromFile(new Parser(), path.resolve(document)).parse();
  const found = diagnostics.map((d) => ({ code: d.code, message: d.message, severity: d.severity, path: d.path }));
  process.stdout.write(JSON.stringify({ parsed: parsed !== undefined, diagnostics: found }) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(2);
});
