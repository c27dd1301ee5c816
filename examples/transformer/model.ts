/**
 * A small pre-norm transformer block on [N, T, D] sequences (e.g. [2, 8, 32], 4 heads):
 *
 *   x = x + proj(attention(split_heads(qkv(ln1(x)))))   multi-head causal self-attention
 *   x = x + mlp(ln2(x))                                   Linear → GELU → Linear
 *
 * Attention is written out with matmul / softmax / reshape / transpose, heads by reshaping
 * D into [heads, D / heads]. Shapes are known when compiling, so `x.shape`, the `if` on
 * `causal` and the division by sqrt(d) are resolved at compile time.
 *
 *   kiln compile examples/transformer/model.ts --input x:f32[2,8,32]
 */
import { nn, ones, type Tensor } from '../../src/index.js';

/** Scaled dot-product attention of [N, H, T, d] queries, keys and values; `causal` hides the future. */
export function attention(q: Tensor, k: Tensor, v: Tensor, causal: boolean): Tensor {
  const [T, d] = q.shape.slice(-2) as [number, number];
  let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(d));
  if (causal) {
    const visible = ones([T, T]).tril().gt(0); // a compile-time constant mask
    scores = scores.where(visible, -Infinity);
  }
  return scores.softmax(-1).matmul(v);
}

export class MultiHeadAttention extends nn.Module {
  readonly qkv: nn.Linear;
  readonly proj: nn.Linear;

  constructor(
    readonly dim: number,
    readonly heads: number,
    readonly causal: boolean,
  ) {
    super();
    if (dim % heads !== 0) throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by heads ${heads}`);
    this.qkv = new nn.Linear(dim, 3 * dim);
    this.proj = new nn.Linear(dim, dim);
  }

  override forward(x: Tensor): Tensor {
    const [N, T, D] = x.shape as [number, number, number];
    const d = D / this.heads;
    // [N, T, 3D] → [N, T, 3, H, d] → [3, N, H, T, d]: one q, k, v per head.
    const qkv = this.qkv.forward(x).reshape(N, T, 3, this.heads, d).permute(2, 0, 3, 1, 4);
    const [q, k, v] = [0, 1, 2].map((i) => qkv.narrow(0, i, 1).squeeze(0)) as [Tensor, Tensor, Tensor];
    const y = attention(q, k, v, this.causal); // [N, H, T, d]
    return this.proj.forward(y.transpose(1, 2).reshape(N, T, D));
  }
}

export class TransformerBlock extends nn.Module {
  readonly ln1: nn.LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: nn.LayerNorm;
  readonly mlp: nn.Sequential;

  constructor(dim = 32, heads = 4, mlpRatio = 4, causal = true) {
    super();
    this.ln1 = new nn.LayerNorm(dim);
    this.attn = new MultiHeadAttention(dim, heads, causal);
    this.ln2 = new nn.LayerNorm(dim);
    this.mlp = new nn.Sequential(new nn.Linear(dim, mlpRatio * dim), new nn.GELU(), new nn.Linear(mlpRatio * dim, dim));
  }

  override forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.ln1.forward(x)));
    return h.add(this.mlp.forward(this.ln2.forward(h)));
  }
}
