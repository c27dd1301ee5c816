/**
 * The digits classifier: an MLP over the 64 pixels of an 8×8 image.
 * A model file: one `Module` subclass with a `forward`, compiled as is by `kiln compile`.
 */
import { nn, type Tensor } from '../../src/index.js';

export class DigitsMLP extends nn.Module {
  fc1 = new nn.Linear(64, 128);
  fc2 = new nn.Linear(128, 64);
  fc3 = new nn.Linear(64, 10);

  override forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x).relu();
    const h2 = this.fc2.forward(h).relu();
    return this.fc3.forward(h2);
  }
}
