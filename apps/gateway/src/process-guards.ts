import { errorLogFields } from '@secret-gateway/core';
import type { Logger } from 'pino';

let installed = false;
let current: () => Logger;

/**
 * The last line of defence: a promise rejection nobody handled (a bug in an SDK or adapter path)
 * is logged, without its message (it can quote data), and the gateway keeps serving. Every call
 * path is meant to settle on its own; this only keeps one bug from ending the process for everyone.
 * `logger` is read at the time of the event, so the gateway's own logger takes over once it exists.
 */
export function installProcessGuards(logger: () => Logger): void {
  current = logger;
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => {
    current().error({ error: errorLogFields(reason) }, 'unhandled promise rejection (a bug): kept serving');
  });
}
