import { canonicalize } from './canonicalize.js';
import { cse } from './cse.js';
import { dcePass } from './dce.js';
import { foldConstants } from './fold.js';
import type { Pass } from './manager.js';

export { canonicalize, canonicalizeWith, canonicalRules, constValue, type RewriteRule } from './canonicalize.js';
export { cse } from './cse.js';
export { dce, dcePass } from './dce.js';
export { foldConstants } from './fold.js';
export { fuse, isLastTwoSwap } from './fuse.js';
export { type Pass, type PipelineOptions, runPasses } from './manager.js';
export { type BufferPlan, planMemory, type Slot } from './plan-memory.js';

/** The graph-to-graph stages before fusion and memory planning, by optimization level. */
export const pipelines: Record<'O0' | 'O1' | 'O2', readonly Pass[]> = {
  O0: [dcePass],
  O1: [canonicalize, foldConstants, dcePass],
  O2: [canonicalize, foldConstants, cse, canonicalize, dcePass],
};
