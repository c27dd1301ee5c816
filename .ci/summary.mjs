// Prints vitest's JSON results as the closing line CI reads: `N passed, N failed`.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let r;
try {
  r = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`ci: no test results in ${file}: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const failedSuites = r.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
const failed = r.numFailedTests + failedSuites;
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && r.numPassedTests > 0 ? 0 : 1);
