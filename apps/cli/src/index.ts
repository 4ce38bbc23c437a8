export { runDoctor } from './doctor.ts';
export { EXIT } from './errors.ts';
export { mask } from './mask.ts';
export { buildProgram, main } from './program.ts';
