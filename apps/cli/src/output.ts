import Table from 'cli-table3';
import { mask } from './mask.ts';

export type OutputFormat = 'table' | 'json';

/** A table for people (no colours, so captured output and logs stay plain). */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

/** Replaces every `value` field with its mask: JSON output shows what a table shows, no more. */
export function redact(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(redact);
  if (data && typeof data === 'object') {
    return Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, k === 'value' ? mask(v as string | null) : redact(v)]),
    );
  }
  return data;
}

export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(redact(data), null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Plans, warnings and progress go to stderr, so stdout carries only the data a script reads. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
