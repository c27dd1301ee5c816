/**
 * A multilayer perceptron for the bundled 8×8 digits: 64 pixels → 128 → 64 → 10 logits.
 *
 * A model file: one `nn.Module` subclass with a `forward`. `kiln compile` turns it into one
 * graph without running it (see src/frontend-script/README.md for what model code may use):
 *
 *   kiln compile examples/mlp/model.ts --input x:f32[32,64]
 *   kiln train examples/mlp/model.ts --data digits
 *
 * The same class also runs eagerly: `new MLP().call(x)`.
 */
import { nn, type Tensor } from '../../src/index.js';

export class MLP extends nn.Module {
  fc1: nn.Linear;
  fc2: nn.Linear;
  fc3: nn.Linear;

  // Hyperparameters are constructor arguments; the compiler uses their default values.
  constructor(inFeatures = 64, hidden = [128, 64], classes = 10) {
    super();
    const [h1, h2] = hidden as [number, number];
    this.fc1 = new nn.Linear(inFeatures, h1);
    this.fc2 = new nn.Linear(h1, h2);
    this.fc3 = new nn.Linear(h2, classes);
  }

  override forward(x: Tensor): Tensor {
    const h1 = this.fc1.forward(x).relu();
    const h2 = this.fc2.forward(h1).relu();
    return this.fc3.forward(h2);
  }
}
