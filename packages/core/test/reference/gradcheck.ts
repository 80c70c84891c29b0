/**
 * Central finite differences on the float64 reference: d/dθ_i of a scalar loss, perturbing θ in
 * place. With h = 1e-5 the truncation error is O(h²·f''') ≈ 1e-10 and the rounding error
 * ≈ 1e-16/h = 1e-11, far below the float32 error of the tensors being checked.
 */
import { type NDArray, zeros } from './ndarray';

export function numericGrad(loss: () => number, theta: NDArray, h = 1e-5): NDArray {
  const g = zeros(theta.shape);
  for (let i = 0; i < theta.data.length; i++) {
    const v = theta.data[i];
    theta.data[i] = v + h;
    const lp = loss();
    theta.data[i] = v - h;
    const lm = loss();
    theta.data[i] = v;
    g.data[i] = (lp - lm) / (2 * h);
  }
  return g;
}
