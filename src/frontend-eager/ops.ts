import { F } from './tensor.js';

/**
 * The op vocabulary as free functions over eager tensors (`torch.softmax`, `F.cross_entropy`
 * in PyTorch): `softmax(x, -1)`, `crossEntropy(logits, target, { labelSmoothing: 0.1 })`.
 * The same functions are `Tensor` methods where PyTorch has them.
 */
export const {
  neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, sin, cos, tanh, sigmoid, erf, floor, square,
  relu, silu, gelu, softplus, elu, leakyRelu, clamp,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, logicalNot, logicalAnd, logicalOr,
  sum, mean, amax, amin, logsumexp, prod, max, min, argmax, argmin, std, cumsum, norm,
  reshape, view, flatten, squeeze, unsqueeze, transpose, permute, expand, broadcastTo, narrow, slice, flip,
  cat, stack, pad, tril, triu, indexSelect, gather, contiguous, clone,
  matmul, mm, bmm, outer, linear,
  softmax, logSoftmax, crossEntropy, nllLoss, mseLoss, l1Loss, smoothL1Loss, binaryCrossEntropy, binaryCrossEntropyWithLogits,
  layerNorm, batchNorm, conv1d, conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, embedding, dropout, oneHot, cast,
} = F;

const variance = F.var;
export { variance as var };
