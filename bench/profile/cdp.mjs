#!/usr/bin/env node
// node --experimental-websocket bench/profile/cdp.mjs <inspector port> <seconds> <out.cpuprofile>
// Profiles a running node process (started with --inspect=127.0.0.1:<port>) for <seconds> only, so a
// phase of a run (the hot key after the random keys) is profiled without what came before it.
import { writeFileSync } from 'node:fs';

const [port, seconds, out] = process.argv.slice(2);
const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});
let next = 0;
const pending = new Map();
ws.onmessage = (event) => {
  const message = JSON.parse(event.data);
  pending.get(message.id)?.(message.result);
};
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++next;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
await send('Profiler.enable');
await send('Profiler.setSamplingInterval', { interval: 1000 });
await send('Profiler.start');
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const { profile } = await send('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
ws.close();
