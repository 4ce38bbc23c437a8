import { createHash } from 'node:crypto';
import {
  type DescribeSecretResponse,
  RestoreSecretCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { base32 } from '@secret-gateway/core';
import type { AwsCalls } from './calls.ts';
import { isMarkedForDeletion, isNotFound } from './errors.ts';
import { GENERATION_TAG, secretState } from './versions.ts';

/**
 * A write to a secret scheduled for deletion (recovery window): RestoreSecret, then version 1 of the
 * generation the delete-all started, so the restored history stays hidden. Undefined when AWS will
 * not restore it (a force delete still in progress): the caller waits for the name to be free.
 */
export async function restoreGeneration(
  aws: AwsCalls,
  name: string,
  raw: DescribeSecretResponse,
  value: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  try {
    await aws.send('restore', new RestoreSecretCommand({ SecretId: name }), signal);
  } catch (error) {
    if (isMarkedForDeletion(error) || isNotFound(error)) return undefined;
    throw error;
  }
  const state = secretState(raw);
  let generation = state.generation;
  if (!generation || state.current !== undefined) {
    // Deleted outside the gateway, so no new generation was started: start one now. It is derived
    // from the deletion, so writers racing here pick the same one and collide on its version 1.
    generation = derivedGeneration(state.generation, raw.DeletedDate);
    const tag = new TagResourceCommand({
      SecretId: name,
      Tags: [{ Key: GENERATION_TAG, Value: generation }],
    });
    await aws.send('tag', tag, signal);
  }
  return aws.put(name, generation, 1, value, signal);
}

export function derivedGeneration(previous: string, deletedDate: Date | undefined): string {
  const seed = `${previous}:${deletedDate?.getTime() ?? 0}`;
  return base32(createHash('sha256').update(seed).digest()).slice(0, 10);
}
