/**
 * nn.Module: PyTorch's dotted names, state dicts (and their strict-load errors), modes,
 * hooks, and the printed module tree.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, IndexError, ones, ShapeError, type Tensor, tensor, zeros } from '../../src/index.js';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  ModuleList,
  nn,
  ReLU,
  Sequential,
  Tanh,
} from '../../src/stdlib-nn/index.js';

class Encoder extends Module {
  fc1 = new Linear(4, 3);
  act = new ReLU();
  fc2 = this.registerModule('fc2', new Linear(3, 2, false));
  override forward(x: Tensor): Tensor {
    return this.fc2.call(this.act.call(this.fc1.call(x)));
  }
}

class Net extends Module {
  scale = this.registerParameter('scale', ones([2]));
  encoder = this.registerModule('encoder', new Encoder());
  bn = new BatchNorm2d(2);
  override forward(x: Tensor): Tensor {
    return this.encoder.call(x).mul(this.scale);
  }
}

const mlp = (): Sequential => new Sequential(new Linear(64, 32), new ReLU(), new Linear(32, 10));

describe('names', () => {
  it('names Sequential parameters as PyTorch does', () => {
    expect(mlp().namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['0.weight', [32, 64]],
      ['0.bias', [32]],
      ['2.weight', [10, 32]],
      ['2.bias', [10]],
    ]);
    expect(mlp().parameters().reduce((s, p) => s + p.numel(), 0)).toBe(64 * 32 + 32 + 32 * 10 + 10);
    expect(mlp().parameters().every((p) => p.requiresGrad && p.isLeaf)).toBe(true);
  });

  it('names nested modules with dots, fields auto-registered in order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['scale', 'encoder.fc1.weight', 'encoder.fc1.bias', 'encoder.fc2.weight', 'bn.weight', 'bn.bias']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'encoder', 'encoder.fc1', 'encoder.act', 'encoder.fc2', 'bn']);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['encoder', 'bn']);
    expect(net.children()).toEqual([net.encoder, net.bn]);
    expect(net.parameters(false)).toEqual([net.scale]);
    expect(net.namedParameters({ prefix: 'model', recurse: false }).map(([n]) => n)).toEqual(['model.scale']);
    expect(net.getSubmodule('encoder.fc1')).toBe(net.encoder.fc1);
    expect(net.getParameter('encoder.fc1.bias')).toBe(net.encoder.fc1.bias);
    expect(net.getBuffer('bn.running_var')).toBe(net.bn.runningVar);
    expect(() => net.getBuffer('bn.weight')).toThrow('getBuffer: BatchNorm2d has no buffer "weight" (looking up "bn.weight")');
    expect(() => net.getSubmodule('encoder.fc9')).toThrow('getSubmodule: Encoder has no submodule "fc9" (looking up "encoder.fc9")');
  });

  it('reports a shared module or parameter once', () => {
    const shared = new Linear(2, 2);
    const seq = new Sequential(shared, new ReLU(), shared);
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    expect(seq.namedParameters({ removeDuplicate: false }).map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.length).toBe(3);
  });

  it('rejects bad member names and non-leaf parameters', () => {
    const m = new Module();
    expect(() => m.registerParameter('a.b', zeros([1]))).toThrow(`registerParameter: name can't contain ".", got "a.b"`);
    m.registerBuffer('x', zeros([1]));
    expect(() => m.registerParameter('x', zeros([1]))).toThrow('registerParameter: attribute "x" already exists in Module');
    const w = tensor([1, 2], { requiresGrad: true });
    expect(() => m.registerParameter('w', w.mul(2))).toThrow(/registerParameter: cannot register "w": parameters must be leaf tensors/);
    expect(() => m.forward()).toThrow('Module: module is missing the required "forward" function');
  });
});

describe('exports', () => {
  it('offers the nn and nn.init namespaces', () => {
    expect(nn.Linear).toBe(Linear);
    expect(nn.init.kaimingUniform_).toBeTypeOf('function');
    const model = new nn.Sequential(new nn.Linear(4, 2), new nn.ReLU());
    nn.init.zeros_(model.getParameter('0.bias'));
    expect(model.getParameter('0.bias').toArray()).toEqual([0, 0]);
  });
});

describe('containers', () => {
  it('indexes Sequential children, negative indices included', () => {
    const s = mlp();
    expect(s.at(0)).toBeInstanceOf(Linear);
    expect(s.at(-1)).toBe(s.at(2));
    expect(() => s.at(3)).toThrow(IndexError);
    expect(() => s.at(3)).toThrow('Sequential: index 3 is out of range for 3 modules');
    expect([...s].map((m) => m.moduleName())).toEqual(['Linear', 'ReLU', 'Linear']);
    s.append(new Tanh());
    expect(s.namedChildren().map(([n]) => n)).toEqual(['0', '1', '2', '3']);
  });

  it('builds a Sequential from named children', () => {
    const s = new Sequential({ fc: new Linear(2, 3), act: new Tanh() });
    expect(s.namedParameters().map(([n]) => n)).toEqual(['fc.weight', 'fc.bias']);
    expect(s.call(zeros([1, 2])).shape).toEqual([1, 3]);
  });

  it('registers ModuleList items and has no forward', () => {
    const l = new ModuleList([new Linear(2, 2), new Linear(2, 2)]);
    l.extend([new ReLU()]);
    expect(l.length).toBe(3);
    expect(l.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect(() => l.callWith([zeros([1])])).toThrow('ModuleList: module is missing the required "forward" function');
  });
});

describe('state dict', () => {
  it('holds parameters and persistent buffers, detached, in PyTorch order', () => {
    const net = new Net();
    net.registerBuffer('cache', zeros([3]), false);
    const sd = net.stateDict();
    expect(Object.keys(sd)).toEqual([
      'scale',
      'encoder.fc1.weight',
      'encoder.fc1.bias',
      'encoder.fc2.weight',
      'bn.weight',
      'bn.bias',
      'bn.running_mean',
      'bn.running_var',
      'bn.num_batches_tracked',
    ]);
    expect(Object.values(sd).every((t) => !t.requiresGrad && t.isLeaf)).toBe(true);
    expect(sd['bn.num_batches_tracked']!.dtype).toBe('i32');
  });

  it('loads in place: references held elsewhere see the new values', () => {
    const a = mlp();
    const b = mlp();
    const w = b.getParameter('0.weight');
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.getParameter('0.weight')).toBe(w);
    expect(w.toArray()).toEqual(a.getParameter('0.weight').toArray());
    expect(w.requiresGrad && w.isLeaf).toBe(true);
  });

  it('names missing and unexpected keys (strict), and changes nothing on error', () => {
    const m = mlp();
    const before = m.getParameter('2.bias').toArray();
    const sd = mlp().stateDict();
    delete sd['0.bias'];
    delete sd['2.bias'];
    sd['3.weight'] = zeros([1]);
    let err: unknown;
    try {
      m.loadStateDict(sd, { source: 'ckpt.safetensors' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toBe(
      'loadStateDict: error(s) in loading state_dict for Sequential from ckpt.safetensors:\n' +
        '\tMissing key(s) in state_dict: "0.bias", "2.bias".\n' +
        '\tUnexpected key(s) in state_dict: "3.weight".',
    );
    expect(m.getParameter('2.bias').toArray()).toEqual(before);
  });

  it('returns the key differences when not strict', () => {
    const m = mlp();
    const sd = mlp().stateDict();
    delete sd['2.bias'];
    sd['extra'] = zeros([1]);
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: ['extra'] });
    expect(m.getParameter('0.weight').toArray()).toEqual(sd['0.weight']!.toArray());
  });

  it('names the key and both shapes on a size mismatch, strict or not', () => {
    const m = mlp();
    const sd = new Sequential(new Linear(65, 32), new ReLU(), new Linear(32, 10)).stateDict();
    const msg =
      'loadStateDict: error(s) in loading state_dict for Sequential:\n' +
      '\tsize mismatch for 0.weight: copying a param with shape f32[32,65] from checkpoint, the shape in current model is f32[32,64].';
    expect(() => m.loadStateDict(sd)).toThrow(ShapeError);
    expect(() => m.loadStateDict(sd)).toThrow(msg);
    expect(() => m.loadStateDict(sd, { strict: false })).toThrow(msg);
  });

  it('accepts a Map', () => {
    const m = new Linear(2, 1);
    m.loadStateDict(new Map([['weight', tensor([[1, 2]])], ['bias', tensor([3])]]));
    expect(m.call(tensor([[1, 1]])).toArray()).toEqual([[6]]);
  });
});

describe('modes and bulk operations', () => {
  it('train() and eval() reach every descendant', () => {
    const net = new Net();
    expect(net.training && net.encoder.fc1.training).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.train(false);
    expect(net.bn.training).toBe(false);
  });

  it('apply() visits children before the parent', () => {
    const order: string[] = [];
    new Sequential(new Linear(1, 1), new Sequential(new ReLU())).apply((m) => order.push(m.moduleName()));
    expect(order).toEqual(['Linear', 'ReLU', 'Sequential', 'Sequential']);
  });

  it('zeroGrad() clears (or zeroes) the gradients', () => {
    const m = new Linear(3, 2);
    m.call(ones([1, 3])).sum().backward();
    expect(m.weight.grad!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    m.zeroGrad(false);
    expect(m.weight.grad!.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    m.zeroGrad();
    expect(m.weight.grad).toBeNull();
    m.requiresGrad_(false);
    expect(m.parameters().some((p) => p.requiresGrad)).toBe(false);
  });
});

describe('hooks', () => {
  it('runs pre-hooks and hooks around forward in call(), not in forward()', () => {
    const m = new Linear(2, 2);
    const seen: string[] = [];
    const pre = m.registerForwardPreHook((mod, args) => {
      seen.push(`pre ${mod.moduleName()} ${(args[0] as Tensor).shape}`);
      return [zeros([1, 2])];
    });
    const post = m.registerForwardHook((_mod, args, out) => {
      seen.push(`post ${(args[0] as Tensor).shape} -> ${(out as Tensor).shape}`);
      return ones([7]);
    });
    expect(m.call(ones([3, 2])).shape).toEqual([7]);
    expect(seen).toEqual(['pre Linear 3,2', 'post 1,2 -> 1,2']);
    expect(m.forward(ones([3, 2])).shape).toEqual([3, 2]);
    pre.remove();
    post.remove();
    post.remove();
    expect(m.call(ones([3, 2])).shape).toEqual([3, 2]);
    expect(seen.length).toBe(2);
  });

  it('hooks children when a Sequential runs them', () => {
    const s = mlp();
    const shapes: number[][] = [];
    s.at(1).registerForwardHook((_m, _a, out) => void shapes.push((out as Tensor).shape));
    s.call(zeros([5, 64]));
    expect(shapes).toEqual([[5, 32]]);
  });
});

describe('repr', () => {
  it('prints like PyTorch', () => {
    expect(String(mlp())).toBe(
      [
        'Sequential(',
        '  (0): Linear(in_features=64, out_features=32, bias=True)',
        '  (1): ReLU()',
        '  (2): Linear(in_features=32, out_features=10, bias=True)',
        ')',
      ].join('\n'),
    );
    const cnn = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new MaxPool2d(2), new Flatten(), new Dropout(0.25));
    expect(String(cnn)).toBe(
      [
        'Sequential(',
        '  (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))',
        '  (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
        '  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)',
        '  (3): Flatten(start_dim=1, end_dim=-1)',
        '  (4): Dropout(p=0.25, inplace=False)',
        ')',
      ].join('\n'),
    );
  });

  it('indents nested modules and groups repeats in a ModuleList', () => {
    const net = new Net();
    expect(String(net)).toBe(
      [
        'Net(',
        '  (encoder): Encoder(',
        '    (fc1): Linear(in_features=4, out_features=3, bias=True)',
        '    (act): ReLU()',
        '    (fc2): Linear(in_features=3, out_features=2, bias=False)',
        '  )',
        '  (bn): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
        ')',
      ].join('\n'),
    );
    const list = new ModuleList([new Linear(2, 2), new Linear(2, 2), new Linear(2, 2), new ReLU()]);
    expect(String(list)).toBe(['ModuleList(', '  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)', '  (3): ReLU()', ')'].join('\n'));
  });

  it('prints the other layers with their PyTorch settings', () => {
    const cases: [Module, string][] = [
      [new nn.Conv1d(2, 4, 3, { stride: 2, dilation: 2, groups: 2, bias: false }), 'Conv1d(2, 4, kernel_size=(3,), stride=(2,), dilation=(2,), groups=2, bias=False)'],
      [new nn.Conv2d(1, 1, [1, 3], { padding: 'same' }), 'Conv2d(1, 1, kernel_size=(1, 3), stride=(1, 1), padding=same)'],
      [new nn.AvgPool2d(3, { stride: 1 }), 'AvgPool2d(kernel_size=3, stride=1, padding=0)'],
      [new nn.AdaptiveAvgPool2d([null, 2]), 'AdaptiveAvgPool2d(output_size=(None, 2))'],
      [new nn.BatchNorm1d(8, { momentum: null, affine: false }), 'BatchNorm1d(8, eps=1e-05, momentum=None, affine=False, track_running_stats=True)'],
      [new nn.LayerNorm([4, 8], { eps: 1e-6 }), 'LayerNorm((4, 8), eps=1e-06, elementwise_affine=True)'],
      [new nn.Embedding(10, 3), 'Embedding(10, 3)'],
      [new nn.Unflatten(1, [1, 8, 8]), 'Unflatten(dim=1, unflattened_size=(1, 8, 8))'],
      [new nn.GELU({ approximate: 'tanh' }), "GELU(approximate='tanh')"],
      [new nn.LeakyReLU(), 'LeakyReLU(negative_slope=0.01)'],
      [new nn.ELU(), 'ELU(alpha=1.0)'],
      [new nn.Softplus(), 'Softplus(beta=1.0, threshold=20.0)'],
      [new nn.Softmax(-1), 'Softmax(dim=-1)'],
      [new nn.LogSoftmax(1), 'LogSoftmax(dim=1)'],
      [new nn.Identity(), 'Identity()'],
      [new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }), 'CrossEntropyLoss()'],
    ];
    for (const [m, want] of cases) expect(String(m)).toBe(want);
  });
});
