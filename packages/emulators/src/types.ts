import type { FaultInjector } from './faults.ts';

/** What every `start<Name>Emulator()` returns. */
export interface EmulatorHandle {
  /** Base URL (or `host:port` for gRPC) a client connects to. */
  url: string;
  /** Inject latency, throttling, 5xx and dropped connections. */
  faults: FaultInjector;
  /** What the bin prints as one JSON line once ready: `url` plus whatever a client needs. */
  info: Record<string, unknown>;
  stop: () => Promise<void>;
}

/** Flags from the bin: `--name value` pairs and bare `--flag` booleans. */
export type CliFlags = Record<string, string | boolean>;

/** What each emulator module exports for the bin. */
export interface EmulatorModule {
  startFromFlags: (flags: CliFlags) => Promise<EmulatorHandle>;
}
