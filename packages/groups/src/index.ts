export * from './memory-store.ts';
export * from './roles.ts';
export * from './service.ts';
export * from './store.ts';
