import { z } from 'zod';

/**
 * Request and response shapes of the Generic Secret Store API. The routes validate with these and
 * /openapi.json is generated from them, so the documentation cannot drift from the server.
 * Path rules themselves live in core (parseSecretPath), which names the rule a bad path broke.
 */
const pathField = z
  .string({ error: 'path must be a string' })
  .describe('Secret path, e.g. tfy-secret/acme/prod/db-password');
const versionText = z
  .string({ error: 'version must be given once, as a decimal string' })
  .describe('Version number, a decimal string ^[1-9][0-9]{0,15}$');

export const putBody = z.object(
  {
    path: pathField,
    value: z.string({ error: 'value must be a string' }).describe('The secret value (UTF-8, may be empty)'),
  },
  { error: 'body must be a JSON object with "path" and "value"' },
);

export const getQuery = z.object({
  path: z
    .string({ error: 'path must be given once, as a query parameter' })
    .describe('Secret path, or the root for the connectivity check'),
  version: versionText.optional(),
});

export const deleteBody = z.object(
  {
    path: pathField,
    version: z
      .union([z.number(), z.string()], { error: 'version must be a number or a decimal string' })
      .optional()
      .describe('Delete only this version'),
  },
  { error: 'body must be a JSON object with "path"' },
);

export const putResponse = z.object({ path: z.string(), version: z.number().int().positive() });
export const getResponse = z.object({
  path: z.string(),
  version: z.number().int().positive(),
  value: z.string(),
});
export const deleteResponse = z.object({
  path: z.string(),
  version: z.number().int().positive().optional().describe('Present when one version was deleted'),
  deleted: z.literal(true),
});
export const rootResponse = z.object({ path: z.string(), value: z.literal('') });
export const errorResponse = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  message: z.string(),
});

/** The first issue of a failed parse, as one message ("path must be a string"). */
export function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'invalid request';
}
