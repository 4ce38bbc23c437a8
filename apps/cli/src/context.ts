import type { Command } from 'commander';
import { ApiClient } from './client.ts';
import { resolveConnection } from './config.ts';
import type { OutputFormat } from './output.ts';

export interface GlobalOptions {
  url?: string;
  output: OutputFormat;
  yes?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function client(cmd: Command): ApiClient {
  return new ApiClient(resolveConnection({ url: globals(cmd).url }));
}
