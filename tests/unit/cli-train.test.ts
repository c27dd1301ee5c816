/**
 * `kiln train` through the built CLI, as the README's main job runs it: train a model file on
 * the bundled digits, export the trained graph, run it. Also CSV data, Ctrl-C, and errors.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFile, parseSafetensorsHeader } from '../../src/stdlib-nn/safetensors.js';
import { expectError, MAIN, type Result, ROOT, runKiln } from './cli-helpers.js';

const MODEL = join(ROOT, 'examples/digits/model.ts');
const DIGITS_PARAMS = ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'];

function kiln(args: readonly string[]): Result {
  return runKiln(args, dir);
}

let dir: string;

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'kiln-train-'));
  // A two-feature, two-class model and a linearly separable CSV with a header.
  writeFileSync(
    join(dir, 'tiny.ts'),
    `import { nn, type Tensor } from ${JSON.stringify(join(ROOT, 'src/index.js'))};

export class Tiny extends nn.Module {
  fc1 = new nn.Linear(2, 16);
  fc2 = new nn.Linear(16, 2);

  override forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}
`,
  );
  let seed = 7;
  const rand = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const rows = ['a,b,label'];
  for (let i = 0; i < 200; i++) {
    const a = rand() * 2 - 1;
    const b = rand() * 2 - 1;
    rows.push(`${a.toFixed(4)},${b.toFixed(4)},${a + b > 0 ? 1 : 0}`);
  }
  writeFileSync(join(dir, 'sep.csv'), `${rows.join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln train', () => {
  it('trains a model file on the digits, then the checkpoint exports and runs', () => {
    const r = kiln(['train', MODEL, '--data', 'digits', '--epochs', '2', '--lr', '0.01', '--out', 'digits.safetensors']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^kiln train: DigitsMLP \(17,226 parameters\) on digits: 1438 training \/ 359 held-out samples, adam lr 0\.01, batch 64, 22 steps per epoch\n/);
    // One summary line per epoch (the bar redraws in place only on a terminal).
    expect(r.stderr).toMatch(/^epoch 1\/2 \[#{24}\] 22\/22 \d+\.\ds {2}loss \d\.\d{4} {2}held-out acc \d+\.\d%$/m);
    expect(r.stderr).toMatch(/^epoch 2\/2 /m);
    const m = /^trained DigitsMLP for 2 epochs in \d+\.\ds: final loss (\d\.\d{4}), held-out accuracy (\d+\.\d)% \((\d+)\/359\); checkpoint saved to digits\.safetensors\n$/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1);
    expect(Number(m![2])).toBeGreaterThan(80);
    const ckpt = loadFile(join(dir, 'digits.safetensors'));
    expect(Object.keys(ckpt).sort()).toEqual([...DIGITS_PARAMS].sort());
    expect(parseSafetensorsHeader(readFileSync(join(dir, 'digits.safetensors'))).metadata).toMatchObject({ model: 'DigitsMLP', epoch: '2' });

    // The README's next step: export the trained model, run it on one image.
    const ex = kiln(['export', MODEL, '--input', 'x:f32[1,64]', '--weights', 'digits.safetensors', '-o', 'digits.kiln']);
    expect(ex.stderr).toMatch(/^exported @DigitsMLP \(\d+ nodes, 6 tensors \/ 17226 parameters\) to digits\.kiln \(kiln\)/);
    const csv = readFileSync(join(ROOT, 'data/digits.csv'), 'utf8').split('\n');
    const first = csv[1]!.split(',').map(Number);
    writeFileSync(join(dir, 'digit.json'), JSON.stringify([first.slice(0, 64).map((v) => v / 16)]));
    const run = kiln(['run', 'digits.kiln', '--input', 'x=digit.json', '-o', 'logits.json']);
    expect(run.status).toBe(0);
    const logits = (JSON.parse(readFileSync(join(dir, 'logits.json'), 'utf8')) as { out0: number[][] }).out0[0]!;
    expect(logits.indexOf(Math.max(...logits))).toBe(first[64]);
  });

  it('trains on a CSV file: features, then the label in the last column', () => {
    const r = kiln(['train', 'tiny.ts', '--data', 'sep.csv', '--epochs', '15', '--batch-size', '16', '--lr', '0.05', '--optimizer', 'sgd']);
    expect(r.stderr).toContain('kiln train: Tiny (82 parameters) on sep.csv: 160 training / 40 held-out samples, sgd lr 0.05, batch 16, 10 steps per epoch');
    expect(r.status).toBe(0);
    const acc = Number(/held-out accuracy (\d+\.\d)%/.exec(r.stdout)![1]);
    expect(acc).toBeGreaterThanOrEqual(85);
    expect(r.stdout).toContain('checkpoint saved to tiny.safetensors'); // named after the model file
    expect(Object.keys(loadFile(join(dir, 'tiny.safetensors'))).sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  });

  it('saves a checkpoint when interrupted with Ctrl-C (SIGINT)', async () => {
    const child = spawn(process.execPath, [MAIN, 'train', MODEL, '--data', 'digits', '--epochs', '1000', '--out', 'interrupted.safetensors'], {
      cwd: dir,
      env: { ...process.env, KILN_DEBUG: '' },
    });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/^epoch +1\/1000 /m.test(stderr)) res(); // the first epoch's progress line
      });
      child.on('exit', () => rej(new Error(`train exited early: ${stderr}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/\ninterrupted in epoch \d+ at step \d+\/22: checkpoint saved to interrupted\.safetensors\n$/);
    expect(stdout).toBe('');
    expect(Object.keys(loadFile(join(dir, 'interrupted.safetensors'))).sort()).toEqual([...DIGITS_PARAMS].sort());
    expect(parseSafetensorsHeader(readFileSync(join(dir, 'interrupted.safetensors'))).metadata).toMatchObject({ interrupted: 'true' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // written atomically
  });

  it('says what is wrong with the data and the flags', () => {
    writeFileSync(join(dir, 'badlabel.csv'), '0.1,0.2,1\n0.3,0.4,0.5\n');
    expectError(kiln(['train', 'tiny.ts', '--data', 'badlabel.csv']), 2, 'kiln train: --data badlabel.csv: row 2: label 0.5 is not a class index; the last column must hold integers 0..C-1');
    expectError(kiln(['train', 'tiny.ts', '--data', 'nothing.csv']), 2, 'kiln train: --data nothing.csv: cannot read: no such file');
    expectError(kiln(['train', 'tiny.ts', '--data', 'mnist']), 2, "kiln train: --data expects 'digits' or a .csv file, got 'mnist'");
    expectError(kiln(['train', 'tiny.ts', '--data', 'sep.csv', '--optimizer', 'lbfgs']), 2, "kiln train: --optimizer expects one of sgd, adam, adamw, got 'lbfgs'");
    expectError(kiln(['train', 'tiny.ts', '--data', 'sep.csv', '--epochs', 'many']), 2, "kiln train: --epochs expects a positive integer, got 'many'");
    expectError(kiln(['train', 'tiny.ts', '--data', 'sep.csv', '--input-shape', '3']), 2, 'kiln train: --input-shape 3 holds 3 values but sep.csv has 2 features per sample');
    expectError(kiln(['train', 'tiny.ts', '--data', 'sep.csv', '--batch-size', '1000']), 2, 'kiln train: --batch-size 1000 is larger than the training split (160 samples)');
    expectError(kiln(['train', 'tiny.ts']), 2, "error: required option '--data <source>' not specified");
    // The model does not fit the data: the script compiler's error, at the model's line.
    expectError(kiln(['train', 'tiny.ts', '--data', 'digits']), 1, /^tiny\.ts:\d+:\d+: error: linear: input f32\[64,64\] .* does not match weight f32\[16,2\]/);
  });
});
