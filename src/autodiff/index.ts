export { jvp, type JvpResult } from './jvp.js';
export { vjpRule, vjpRules, type NoGradient, type VjpRule } from './rules.js';
export { vjp, type VjpOptions, type VjpResult } from './vjp.js';
export { hvp } from './hvp.js';
