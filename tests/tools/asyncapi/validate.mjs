// Validates an AsyncAPI document with the official parser; prints each diagnostic as JSON, one a
// line, and exits 1 if any is an error (severity 0), 2 if the file cannot be read.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
let text;
try {
  text = await readFile(path, "utf8");
} catch (error) {
  console.error(`cannot read ${path}: ${error.message}`);
  process.exit(2);
}
const { document, diagnostics } = await new Parser().parse(text);
for (const { code, message, path: where, severity } of diagnostics) {
  console.log(JSON.stringify({ severity, code, message, path: where.join("/") }));
}
const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
console.error(`${path}: ${errors.length} errors, ${diagnostics.length - errors.length} other diagnostics`);
process.exit(document === undefined || errors.length > 0 ? 1 : 0);
