export * from './faults.ts';
export * from './http.ts';
export * from './types.ts';
