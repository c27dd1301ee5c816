/**
 * End to end, like a tutorial: load the digits, train a small MLP with eager autograd and
 * plain SGD, and check it learned (loss falls, held-out accuracy is high).
 */
import { expect, it } from 'vitest';
import { main } from '../../examples/digits-eager.js';

it('trains an MLP on the bundled digits with eager autograd', () => {
  const lines: string[] = [];
  const { testAccuracy, losses } = main(8, (l) => lines.push(l));
  expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.3);
  expect(testAccuracy).toBeGreaterThan(0.85);
  expect(lines.at(-1)).toMatch(/^test accuracy \d+\.\d% on 360 held-out digits$/);
});

it('trains the digits MLP example to high held-out accuracy with the compiled step', async () => {
  const { train } = await import('../../examples/digits/train.js');
  const { testAccuracy, losses } = train({ epochs: 6, quiet: true });
  expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.2);
  expect(testAccuracy).toBeGreaterThan(0.93);
});
