export * from './gateway-process.ts';
export * from './seed-sequence.ts';
