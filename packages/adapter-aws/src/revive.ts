import { createHash } from 'node:crypto';
import { RestoreSecretCommand, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { base32 } from '@secret-gateway/core';
import { type AwsCalls, sleep } from './calls.ts';
import { isMarkedForDeletion, isNotFound } from './errors.ts';
import { GENERATION_TAG, type SecretState } from './versions.ts';

/**
 * A write to a secret scheduled for deletion (recovery window): RestoreSecret, then version 1 of the
 * generation the delete-all started, so the restored history stays hidden. Undefined when AWS will
 * not restore it (a force delete still in progress): the caller waits for the name to be free.
 */
export async function restoreGeneration(
  aws: AwsCalls,
  name: string,
  state: SecretState,
  deletedDate: Date | undefined,
  value: string,
  signal: AbortSignal,
): Promise<{ generation: string; version: number } | undefined> {
  try {
    await aws.send('restore', new RestoreSecretCommand({ SecretId: name }), signal);
  } catch (error) {
    if (isMarkedForDeletion(error) || isNotFound(error)) return undefined;
    throw error;
  }
  let generation = state.generation;
  const adopt = !generation || state.current !== undefined;
  // Deleted outside the gateway, so no new generation was started: start one now. It is derived
  // from the deletion, so writers racing here pick the same one and collide on its version 1.
  if (adopt) generation = derivedGeneration(state.generation, deletedDate);
  // The restore reaches AWS's writers eventually: until then they still answer "marked for
  // deletion". Retry within the deadline (the sleep ends with the operation's signal).
  for (let attempt = 0; ; attempt++) {
    try {
      if (adopt) {
        const tag = new TagResourceCommand({
          SecretId: name,
          Tags: [{ Key: GENERATION_TAG, Value: generation }],
        });
        await aws.send('tag', tag, signal);
      }
      return { generation, version: await aws.put(name, generation, 1, value, signal) };
    } catch (error) {
      if (!isMarkedForDeletion(error)) throw error;
    }
    await sleep(Math.min(500, 25 * 2 ** attempt), signal);
  }
}

export function derivedGeneration(previous: string, deletedDate: Date | undefined): string {
  const seed = `${previous}:${deletedDate?.getTime() ?? 0}`;
  return base32(createHash('sha256').update(seed).digest()).slice(0, 10);
}
