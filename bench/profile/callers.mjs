#!/usr/bin/env node
// node bench/profile/callers.mjs <file.cpuprofile> <function name or url part> [depth]: where the
// self time of matching functions comes from (their callers, `depth` frames up), by share of samples.
import { readFileSync } from 'node:fs';

const [file, match, depth = '4'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
const label = (f) =>
  `${f.functionName || '(anonymous)'}@${f.url.replace(/^.*\/(node_modules|packages|apps)\//, '$1/')}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
const chains = new Map();
let busy = 0;
for (const id of profile.samples) {
  const node = byId.get(id);
  if (node.callFrame.functionName === '(idle)') continue;
  busy++;
  if (!label(node.callFrame).includes(match)) continue;
  const chain = [];
  for (let q = node; q && chain.length < Number(depth); q = parent.get(q.id)) chain.push(label(q.callFrame));
  const key = chain.join(' < ');
  chains.set(key, (chains.get(key) ?? 0) + 1);
}
for (const [key, count] of [...chains].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`${((100 * count) / busy).toFixed(1).padStart(5)}%  ${key}`);
}
