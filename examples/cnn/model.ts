/**
 * A small convolutional network for the bundled 8×8 digits, input [N, 1, 8, 8]:
 *
 *   conv 3×3 (1 → 8) → relu → maxpool 2   [N, 8, 4, 4]
 *   conv 3×3 (8 → 16) → relu → maxpool 2  [N, 16, 2, 2]
 *   flatten → linear (64 → 10)            [N, 10]
 *
 *   kiln compile examples/cnn/model.ts --input x:f32[32,1,8,8]
 */
import { nn, type Tensor } from '../../src/index.js';

export class DigitsCNN extends nn.Module {
  conv1 = new nn.Conv2d(1, 8, 3, { padding: 1 });
  conv2 = new nn.Conv2d(8, 16, 3, { padding: 1 });
  pool = new nn.MaxPool2d(2);
  head = new nn.Linear(16 * 2 * 2, 10);

  override forward(x: Tensor): Tensor {
    // Inputs may come flat ([N, 64], as the digits CSV stores them): the shape is known
    // when compiling, so this `if` costs nothing in the graph.
    if (x.ndim === 2) x = x.reshape(x.shape[0]!, 1, 8, 8);
    let h = this.pool.forward(this.conv1.forward(x).relu());
    h = this.pool.forward(this.conv2.forward(h).relu());
    return this.head.forward(h.flatten(1));
  }
}
