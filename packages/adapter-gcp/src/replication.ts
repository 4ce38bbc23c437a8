/**
 * Where Secret Manager keeps a new secret's payloads. Automatic replication is a *global* resource,
 * which organisations enforcing `constraints/gcp.resourceLocations` refuse (FAILED_PRECONDITION
 * "... attempting to create a secret in [global]": GoogleCloudPlatform/scion#1531,
 * firebase-tools#6454); user-managed replication names its regions.
 */
export interface ReplicationSettings {
  /** User-managed replica regions (SGW_GCP_REPLICATION_LOCATIONS); empty = automatic (global). */
  locations: string[];
  /** Cloud KMS keys (SGW_GCP_KMS_KEY): none, one, or one per location, in the same order. */
  kmsKeys: string[];
}

// A region id such as europe-west1, us-central1, northamerica-northeast2 (not `global`).
const LOCATION = /^[a-z]+(-[a-z]+)+[0-9]+$/;
const KMS_KEY = /^projects\/[^/\s]+\/locations\/([^/\s]+)\/keyRings\/[^/\s]+\/cryptoKeys\/[^/\s]+$/;

const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Reads and checks the two settings; throws an Error naming the variable at fault. */
export function replicationFromEnv(env: Record<string, string | undefined>): ReplicationSettings {
  const locations = list(env.SGW_GCP_REPLICATION_LOCATIONS);
  const kmsKeys = list(env.SGW_GCP_KMS_KEY);
  for (const l of locations) {
    if (!LOCATION.test(l)) {
      throw new Error(
        `SGW_GCP_REPLICATION_LOCATIONS: ${JSON.stringify(l)} is not a GCP region (e.g. europe-west1)`,
      );
    }
  }
  if (new Set(locations).size !== locations.length) {
    throw new Error('SGW_GCP_REPLICATION_LOCATIONS names a region twice');
  }
  const keyLocations = kmsKeys.map((k) => {
    const m = KMS_KEY.exec(k);
    if (!m) {
      throw new Error(
        `SGW_GCP_KMS_KEY: ${JSON.stringify(k)} is not projects/P/locations/L/keyRings/R/cryptoKeys/K`,
      );
    }
    return m[1] as string;
  });
  if (kmsKeys.length > 0) {
    // A replica's key must live in the replica's region; automatic replication needs a global key.
    const wanted = locations.length === 0 ? ['global'] : locations;
    if (kmsKeys.length !== wanted.length) {
      throw new Error(
        `SGW_GCP_KMS_KEY: give one key per location of SGW_GCP_REPLICATION_LOCATIONS (${wanted.length}), in the same order`,
      );
    }
    keyLocations.forEach((at, i) => {
      if (at !== wanted[i]) {
        throw new Error(
          `SGW_GCP_KMS_KEY: the key for ${wanted[i]} is in location ${at}; Secret Manager needs a key in the replica's own location`,
        );
      }
    });
  }
  return { locations, kmsKeys };
}

/** The Secret.replication message for CreateSecret. */
export function replicationPolicy(settings: ReplicationSettings | undefined): object {
  const keys = settings?.kmsKeys ?? [];
  const cmek = (i: number) => (keys[i] ? { customerManagedEncryption: { kmsKeyName: keys[i] } } : {});
  if (!settings || settings.locations.length === 0) return { automatic: cmek(0) };
  return { userManaged: { replicas: settings.locations.map((location, i) => ({ location, ...cmek(i) })) } };
}

/** For `config check`. */
export function describeReplication(settings: ReplicationSettings | undefined): string {
  const cmek = settings?.kmsKeys.length ? ' with CMEK' : '';
  if (!settings || settings.locations.length === 0) return `automatic (global) replication${cmek}`;
  return `user-managed replication in ${settings.locations.join(', ')}${cmek}`;
}
