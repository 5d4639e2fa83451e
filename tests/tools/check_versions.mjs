// Exit 0 when every tool of package.json is installed here at its exact
// version (scripts/test installs them otherwise); print what is missing.
import { readFileSync, existsSync } from "node:fs";
const here = new URL(".", import.meta.url).pathname;
const wanted = JSON.parse(readFileSync(here + "package.json", "utf8")).dependencies;
let missing = [];
for (const [name, spec] of Object.entries(wanted)) {
  const file = `${here}node_modules/${name}/package.json`;
  const version = spec.startsWith("npm:") ? spec.slice(spec.lastIndexOf("@") + 1) : spec;
  if (!existsSync(file) || JSON.parse(readFileSync(file, "utf8")).version !== version) missing.push(`${name}@${version}`);
}
if (missing.length) { console.log(`missing: ${missing.join(", ")}`); process.exit(1); }
