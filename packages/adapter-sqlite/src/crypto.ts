// The sealing moved to core (sealing.ts) so the Postgres store encrypts exactly the same way.
export { associatedData, Keyring, keyIdOf, type Sealed } from '@secret-gateway/core';
