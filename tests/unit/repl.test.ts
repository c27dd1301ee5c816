/**
 * `kiln repl`, driven as a user would through a pipe: kiln is in scope, tensors print as
 * PyTorch prints them, and `.ir` / `ir()` show the graph a lazy tensor would run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/cli/main.js');

/** Feeds `lines` to `kiln repl`; returns what it printed, split at the prompts. */
function session(lines: readonly string[]): { status: number | null; outputs: string[]; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'repl'], { cwd: ROOT, input: `${lines.join('\n')}\n`, encoding: 'utf8', env: { ...process.env, KILN_DEBUG: '' } });
  // Each input line gets a prompt; what follows it (up to the next prompt) is its output.
  const outputs = r.stdout.split('kiln> ').slice(1);
  return { status: r.status, outputs, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
});

describe('kiln repl', () => {
  it('has kiln in scope and prints tensors PyTorch-style', () => {
    const { status, outputs, stderr } = session([
      'const x = tensor([[1, 2], [3, 4]], { requiresGrad: true })',
      'x',
      'x.mul(x).sum()',
      'zeros([3]).int()',
      '[ones([2]), 7]',
      'typeof kiln.nn.Linear',
      'kiln.Function === Function',
      'typeof nn.Sequential + typeof optim.Adam + typeof F.softmax',
      'typeof ir + typeof ir.printGraph',
    ]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(outputs[0]).toBe(''); // a declaration prints nothing
    expect(outputs[1]).toBe('tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)\n');
    expect(outputs[2]).toBe('tensor(30., grad_fn=<SumBackward>)\n');
    expect(outputs[3]).toBe('tensor([0, 0, 0])\n'); // i32 stands for PyTorch's default int64
    expect(outputs[4]).toBe('[ tensor([1., 1.]), 7 ]\n');
    expect(outputs[5]).toBe("'function'\n");
    // kiln's autograd Function does not hide JavaScript's Function; it is on `kiln`.
    expect(outputs[6]).toBe('false\n');
    expect(outputs[7]).toBe("'functionfunctionfunction'\n");
    // `ir` is the pending-IR function and still kiln's ir namespace.
    expect(outputs[8]).toBe("'functionfunction'\n");
  });

  it('shows the pending IR of a lazy tensor with .ir and ir()', () => {
    const { outputs } = session([
      'const a = tensor([[1, 2], [3, 4]])',
      'const b = a.matmul(a).relu()',
      '.ir b',
      'console.log(String(ir(a.exp().sum())))',
      'b',
      '.ir b',
    ]);
    expect(outputs[2]).toBe(
      [
        '// 4 pending ops, computed on the next read (item, toArray, print)',
        'func @pending(%in0: f32[2,2]) -> (f32[2,2]) {',
        '  %0 = matmul %in0, %in0 : f32[2,2]',
        '  %1 = const {dtype="f32", shape=[], value=0} : f32[]',
        '  %2 = gt %0, %1 : bool[2,2]',
        '  %3 = where %2, %0, %1 : f32[2,2]',
        '  return %3',
        '}',
        '',
      ].join('\n'),
    );
    expect(outputs[3]).toBe(
      [
        '// 3 pending ops, computed on the next read (item, toArray, print)',
        'func @pending(%in0: f32[2,2]) -> (f32[]) {',
        '  %0 = exp %in0 : f32[2,2]',
        '  %1 = sum %0 {axes=[0,1]} : f32[1,1]',
        '  %2 = reshape %1 {shape=[]} : f32[]',
        '  return %2',
        '}',
        '',
        '',
      ].join('\n'),
    );
    expect(outputs[4]).toBe('tensor([[ 7., 10.],\n        [15., 22.]])\n');
    // Printing computed it: nothing is pending any more.
    expect(outputs[5]).toBe('// already computed: nothing pending\nfunc @pending(%in0: f32[2,2]) -> (f32[2,2]) {\n  return %in0\n}\n');
  });

  it('reports a bad .ir argument and keeps going', () => {
    const { status, outputs } = session(['.ir 6 * 7', '.ir', '.ir nothingHere', '1 + 1']);
    expect(outputs[0]).toBe('kiln repl: .ir expects a Tensor, got number\n');
    expect(outputs[1]).toBe('usage: .ir <expression>, e.g. .ir x.matmul(w).relu()\n');
    expect(outputs[2]).toMatch(/ReferenceError: nothingHere is not defined/);
    expect(outputs[3]).toBe('2\n');
    expect(status).toBe(0);
  });
});
