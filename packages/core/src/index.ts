export * from './adapter.ts';
export * from './cache.ts';
export * from './deadline.ts';
export * from './errors.ts';
export * from './names.ts';
export * from './paths.ts';
export * from './service.ts';
export * from './versions.ts';
