/**
 * `grpc-status-details-bin`: a serialized google.rpc.Status with typed details, as Google APIs send
 * on errors (the SDK decodes it into `err.statusDetails`, `err.reason`, `err.domain`). Hand-encoded
 * protobuf: only length-delimited strings/messages and varints are needed.
 */
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = Math.max(0, Math.floor(n));
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

const field = (no: number, value: Buffer | string): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
};
const intField = (no: number, n: number): Buffer => Buffer.concat([varint(no << 3), varint(n)]);

/** One `repeated Any details = 3` entry of a Status. */
const detail = (type: string, value: Buffer) =>
  field(3, Buffer.concat([field(1, `type.googleapis.com/${type}`), field(2, value)]));

/** google.rpc.ErrorInfo { reason = 1; domain = 2; map<string,string> metadata = 3 } */
export function errorInfo(reason: string, domain: string, metadata: Record<string, string> = {}): Buffer {
  const entries = Object.entries(metadata).map(([k, v]) =>
    field(3, Buffer.concat([field(1, k), field(2, v)])),
  );
  return detail('google.rpc.ErrorInfo', Buffer.concat([field(1, reason), field(2, domain), ...entries]));
}

/** google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1 } */
export function retryInfo(seconds: number): Buffer {
  return detail('google.rpc.RetryInfo', field(1, intField(1, Math.max(0, Math.round(seconds)))));
}

/** google.rpc.Status { code = 1; message = 2; repeated Any details = 3 } (details already wrapped). */
export function statusDetails(code: number, message: string, details: Buffer[]): Buffer {
  return Buffer.concat([intField(1, code), field(2, message), ...details]);
}
