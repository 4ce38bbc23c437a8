export {
  ISO_UTC_MS,
  type MetadataStoreConformanceOptions,
  type Runner,
  runMetadataStoreConformance,
  sampleGroup,
} from './conformance.ts';
export * from './memory-store.ts';
export { checkPage, newId } from './records.ts';
export * from './roles.ts';
export * from './service.ts';
export { SCHEMA_VERSION } from './sqlite-schema.ts';
export { SqliteMetadataStore, type SqliteMetadataStoreOptions } from './sqlite-store.ts';
export * from './store.ts';
