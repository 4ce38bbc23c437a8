#!/usr/bin/env node
// node bench/profile/top.mjs <file.cpuprofile> [N]: the N functions with the most self time, and the
// share of samples in GC, idle and the program. Reads V8's .cpuprofile (what `node --cpu-prof` writes).
import { readFileSync } from 'node:fs';

const [file, n = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const self = new Map();
let total = 0;
for (const [id, count] of counts) {
  const { callFrame: f } = byId.get(id);
  const where = f.url
    ? `${f.url.replace(/^.*\/(node_modules|packages|apps)\//, '$1/')}:${f.lineNumber + 1}`
    : '';
  const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
  self.set(name, (self.get(name) ?? 0) + count);
  total += count;
}
const idle = self.get('(idle)') ?? 0;
console.log(
  `${file}: ${total} samples, ${((100 * idle) / total).toFixed(1)}% idle; self time of the busy samples:`,
);
for (const [name, count] of [...self]
  .filter(([k]) => k !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, Number(n))) {
  console.log(`${((100 * count) / (total - idle)).toFixed(1).padStart(5)}%  ${name}`);
}
