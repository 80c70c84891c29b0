/**
 * The query of `GET /generate` checked before any work starts: every bad request gets a 400 that says
 * which parameter was wrong, what was expected and what came.
 */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

export interface GenerateRequest {
  classId: number;
  seed: number;
  steps: number;
}

export interface RequestLimits {
  /** Classes are 0 … numClasses - 1. */
  numClasses: number;
  /** Steps are 1 … maxSteps: the cost of a request grows with them. */
  maxSteps: number;
  /** Steps when the query names none. */
  defaultSteps: number;
}

const KNOWN = ['class', 'seed', 'steps'];
const MAX_SEED = 2 ** 32 - 1;

function integer(query: URLSearchParams, name: string, min: number, max: number, fallback?: number): number {
  const values = query.getAll(name);
  if (values.length > 1) throw new BadRequest(`"${name}" was given ${values.length} times; expected it once`);
  if (values.length === 0) {
    if (fallback === undefined) throw new BadRequest(`"${name}" is required: an integer from ${min} to ${max}`);
    return fallback;
  }
  const text = values[0]!;
  const value = /^-?\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadRequest(`"${name}" must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** Reads `class` (required), `seed` (default: a random one) and `steps` from a request URL's query. */
export function parseGenerateRequest(query: URLSearchParams, limits: RequestLimits): GenerateRequest {
  const unknown = [...new Set(query.keys())].filter((k) => !KNOWN.includes(k));
  if (unknown.length) throw new BadRequest(`unknown parameter ${unknown.map((k) => `"${k}"`).join(', ')}; expected ${KNOWN.join(', ')}`);
  return {
    classId: integer(query, 'class', 0, limits.numClasses - 1),
    seed: integer(query, 'seed', 0, MAX_SEED, Math.floor(Math.random() * MAX_SEED)),
    steps: integer(query, 'steps', 1, limits.maxSteps, limits.defaultSteps),
  };
}
