/** How messages show shapes; its own module so that errors.ts can use it without an import cycle. */

const MAX_SHOWN_DIMS = 8;

/**
 * A shape as messages show it: `[2, 32, 32, 3]`; axis names are fine (`[B, 32]`). Shapes of more than 8
 * dimensions (only ever in untrusted input) are cut: `[1, 2, 3, 4, 5, 6, 7, 8, ... (12 dims)]`.
 */
export function formatShape(shape: readonly unknown[]): string {
  if (shape.length > MAX_SHOWN_DIMS) return `[${shape.slice(0, MAX_SHOWN_DIMS).join(', ')}, ... (${shape.length} dims)]`;
  return `[${shape.join(', ')}]`;
}
