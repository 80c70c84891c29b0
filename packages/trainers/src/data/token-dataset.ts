/**
 * Pre-tokenised datasets, stored through core's I/O layer like a model: `config.json` (what tokenizer made the
 * tokens, its codebook size and token shape, how many examples) and `model.safetensors` (`tokens` int32 [N, L],
 * `labels` int32 [N] when there are labels), saved atomically; loaded from any ModelSource (folder, URL, `hf:`
 * id, map of files) into memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  type ModelSource,
  type OpenModelOptions,
  type SavedModelFiles,
  ShapeError,
  StateDictError,
  ValueError,
  assertTensor,
  formatShape,
  openModel,
  saveModel,
} from '@vtok/core';
import { assertIndex, assertLabel, type Dataset, type TokenExample } from './dataset';

/** What the tokens are: enough to pair them with the tokenizer that decodes them and a generator's token space. */
export interface TokenDatasetMetadata {
  /** The tokenizer that made them (a preset name, hub id or path). */
  tokenizer: string;
  /** Its vocabulary size: every token id is in [0, codebookSize). */
  codebookSize: number;
  /** Its token shape without the batch axis (`[32]`, `[16, 16]`); L is its product. */
  tokenShape: readonly number[];
}

export interface TokenDatasetContent {
  /** int32 [N, L] (an Int32Array of N·L ids, or a tensor [N, L] or [N, ...tokenShape]). */
  tokens: Int32Array | tf.Tensor;
  /** One class per example (integers >= 0). */
  labels?: ArrayLike<number> | tf.Tensor;
  metadata: TokenDatasetMetadata;
}

export interface TokenDataset extends Dataset<TokenExample> {
  readonly metadata: TokenDatasetMetadata;
  /** Every example's tokens, [N, L] row-major. */
  readonly tokens: Int32Array;
  readonly labels?: Int32Array;
}

/** The `format` field of the config, so a model folder is not mistaken for a token dataset. */
export const TOKEN_DATASET_FORMAT = 'vtok-token-dataset';
const VERSION = 1;

interface StoredConfig {
  format: typeof TOKEN_DATASET_FORMAT;
  version: number;
  tokenizer: string;
  codebookSize: number;
  tokenShape: number[];
  count: number;
  labels: boolean;
}

function checkMetadata(metadata: unknown, who: string): { tokenizer: string; codebookSize: number; tokenShape: number[] } {
  const m = (metadata ?? {}) as Partial<TokenDatasetMetadata>;
  const problems: string[] = [];
  if (typeof m.tokenizer !== 'string' || !m.tokenizer) problems.push(`tokenizer must be a non-empty string, got ${JSON.stringify(m.tokenizer)}`);
  if (!Number.isInteger(m.codebookSize) || (m.codebookSize as number) < 1) problems.push(`codebookSize must be a positive integer, got ${JSON.stringify(m.codebookSize)}`);
  if (!Array.isArray(m.tokenShape) || m.tokenShape.length === 0 || !m.tokenShape.every((d) => Number.isInteger(d) && d >= 1)) {
    problems.push(`tokenShape must be a non-empty list of positive integers, got ${JSON.stringify(m.tokenShape)}`);
  }
  if (problems.length) throw new ValueError(`${who}: metadata: ${problems.join('; ')}`);
  return { tokenizer: m.tokenizer!, codebookSize: m.codebookSize!, tokenShape: [...m.tokenShape!] };
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function tokensOf(tokens: unknown, tokenShape: number[], who: string): Promise<Int32Array> {
  const L = product(tokenShape);
  if (tokens instanceof tf.Tensor) {
    assertTensor(tokens, who, 'tokens');
    if (tokens.dtype !== 'int32') throw new ValueError(`${who}: tokens must be int32 ids, got ${tokens.dtype} (shape ${formatShape(tokens.shape)})`);
    const grid = tokens.rank === tokenShape.length + 1 && tokenShape.every((d, i) => tokens.shape[i + 1] === d);
    const flat = tokens.rank === 2 && tokens.shape[1] === L;
    if (!grid && !flat) throw new ShapeError(`${who}: expected tokens ${formatShape(['N', L])} or ${formatShape(['N', ...tokenShape])}, got ${formatShape(tokens.shape)}`);
    return (await tokens.data()) as Int32Array;
  }
  if (!(tokens instanceof Int32Array)) throw new ValueError(`${who}: tokens must be an Int32Array or an int32 tensor, got ${(tokens as object)?.constructor?.name ?? typeof tokens}`);
  if (tokens.length % L !== 0) throw new ShapeError(`${who}: ${tokens.length} token ids are not a whole number of examples of ${L} (token shape ${formatShape(tokenShape)})`);
  return tokens;
}

async function labelsOf(labels: unknown, n: number, who: string): Promise<Int32Array | undefined> {
  if (labels === undefined) return undefined;
  if (labels instanceof tf.Tensor) {
    assertTensor(labels, who, 'labels');
    if (labels.rank !== 1) throw new ShapeError(`${who}: expected labels [N], got ${formatShape(labels.shape)}`);
  }
  const values = labels instanceof tf.Tensor ? await labels.data() : (labels as ArrayLike<number>);
  if (typeof values?.length !== 'number' || values.length !== n) throw new ShapeError(`${who}: expected ${n} labels (one per example), got ${values?.length ?? typeof values}`);
  for (let i = 0; i < n; i++) assertLabel(values[i], who, `example ${i}`);
  return Int32Array.from(values);
}

function checkIds(tokens: Int32Array, codebookSize: number, who: string): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= codebookSize) throw new ValueError(`${who}: token ids must be in [0, ${codebookSize - 1}] (codebook size ${codebookSize}), got ${tokens[i]} at position ${i}`);
  }
}

/**
 * Saves a token dataset as a folder (Node; atomic, parents created), or returns its two files when `target`
 * is undefined (browsers). Tensors passed in stay the caller's.
 */
export async function writeTokenDataset(target: string | URL | undefined, content: TokenDatasetContent): Promise<SavedModelFiles | undefined> {
  const who = 'writeTokenDataset';
  const metadata = checkMetadata(content?.metadata, who);
  const tokens = await tokensOf(content.tokens, metadata.tokenShape, who);
  const L = product(metadata.tokenShape);
  const count = tokens.length / L;
  if (count < 1) throw new ShapeError(`${who}: expected at least one example, got none`);
  checkIds(tokens, metadata.codebookSize, who);
  const labels = await labelsOf(content.labels, count, who);
  const config: StoredConfig = { format: TOKEN_DATASET_FORMAT, version: VERSION, ...metadata, count, labels: labels !== undefined };
  const tensors = {
    tokens: { dtype: 'int32' as const, shape: [count, L], data: tokens },
    ...(labels ? { labels: { dtype: 'int32' as const, shape: [count], data: labels } } : {}),
  };
  return saveModel(target, { config, tensors });
}

function checkConfig(config: unknown, where: string): StoredConfig {
  const c = (config ?? {}) as Partial<StoredConfig>;
  if (c.format !== TOKEN_DATASET_FORMAT) {
    throw new ConfigError(`${where} is not a token dataset: expected "format": "${TOKEN_DATASET_FORMAT}" in its config, got ${config === undefined ? 'no config' : JSON.stringify(c.format)}`);
  }
  const problems: string[] = [];
  if (c.version !== VERSION) problems.push(`version ${JSON.stringify(c.version)} is not one this reader knows (${VERSION})`);
  try {
    checkMetadata(c, 'config');
  } catch (error) {
    problems.push((error as Error).message.replace(/^config: metadata: /, ''));
  }
  if (!Number.isInteger(c.count) || (c.count as number) < 1) problems.push(`count must be a positive integer, got ${JSON.stringify(c.count)}`);
  if (typeof c.labels !== 'boolean') problems.push(`labels must be true or false, got ${JSON.stringify(c.labels)}`);
  if (problems.length) throw new ConfigError(`${where}: ${problems.join('; ')}`);
  return c as StoredConfig;
}

/** Loads a token dataset written by writeTokenDataset from any ModelSource, whole, into memory. */
export async function loadTokenDataset(source: ModelSource, options: OpenModelOptions = {}): Promise<TokenDataset> {
  const who = 'loadTokenDataset';
  const opened = await openModel(source, options);
  try {
    const config = checkConfig(opened.config, opened.configWhere ?? opened.files.name);
    const L = product(config.tokenShape);
    const expected: Record<string, number[]> = { tokens: [config.count, L], ...(config.labels ? { labels: [config.count] } : {}) };
    const problems = { missing: [] as string[], unexpected: [] as string[], mismatched: [] as { name: string; expected: number[]; got: number[] }[] };
    for (const name of Object.keys(expected)) if (!opened.weights.entries.some((e) => e.name === name)) problems.missing.push(name);
    for (const e of opened.weights.entries) {
      if (!(e.name in expected)) problems.unexpected.push(e.name);
      else if (formatShape(e.shape) !== formatShape(expected[e.name])) problems.mismatched.push({ name: e.name, expected: expected[e.name], got: e.shape });
    }
    if (problems.missing.length || problems.unexpected.length || problems.mismatched.length) throw new StateDictError(problems, `the token dataset ${opened.weights.where}`);
    const read: Record<string, Int32Array> = {};
    await opened.weights.forEach((entry, tensor) => {
      if (tensor.dtype !== 'int32') throw new ValueError(`${who}: ${opened.weights.where}: ${entry.name} must hold integers, got ${entry.dtype}`);
      // Copied: the reader may reuse its buffer after the callback.
      read[entry.name] = tensor.data.slice();
    });
    checkIds(read.tokens, config.codebookSize, `${who}: ${opened.weights.where}`);
    const metadata: TokenDatasetMetadata = { tokenizer: config.tokenizer, codebookSize: config.codebookSize, tokenShape: config.tokenShape };
    const tokens = read.tokens;
    const labels = read.labels;
    if (labels) for (let i = 0; i < labels.length; i++) assertLabel(labels[i], who, `example ${i} of ${opened.weights.where}`);
    opened.ready('token dataset');
    return {
      metadata,
      tokens,
      labels,
      length: config.count,
      async get(index) {
        assertIndex(index, config.count, who);
        const example: TokenExample = { tokens: tokens.slice(index * L, (index + 1) * L) };
        if (labels) example.label = labels[index];
        return example;
      },
    };
  } finally {
    await opened.close();
  }
}
