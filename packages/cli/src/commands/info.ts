/** `vtok info <model | checkpoint folder>`: what a model is, its size and token space, and its zoo card's figures. */
import * as tf from '@tensorflow/tfjs-core';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listCheckpoints, readCheckpoint } from '@vtok/trainers';
import type { Command, CommandContext } from '../command';
import { UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import { loadModelArgument, tokenBudget, type LoadedModel } from '../models';
import { resolvePath } from '../paths';
import { activateBackend } from '../backend';
import { loadOptions, modelCommandHelp, modelCommandOptions } from './model-options';

export const infoCommand: Command = {
  name: 'info',
  summary: 'describe a model (zoo name, folder, URL, hf: id) or a training checkpoint folder',
  usage: [
    'usage: vtok info <model | checkpoint folder>',
    '',
    'A model: its architecture, parameter count, config, token space (tokens, bits per token, bytes per image)',
    "and, for a zoo model, its card's figures and how it was trained. A checkpoint folder written by",
    "@vtok/trainers (trainer.json + state.safetensors, or a folder of step-<n> checkpoints): its step, tensors and state.",
  ].join('\n'),
  allowPositionals: true,
  options: { ...modelCommandOptions },
  optionHelp: { ...modelCommandHelp },
  async run(parsed, context) {
    if (parsed.positionals.length !== 1) throw new UsageError(`give one model or checkpoint folder, got ${parsed.positionals.length} (see: vtok info --help)`);
    const [argument] = parsed.positionals;
    const checkpoint = await checkpointFolder(resolvePath(context.io, argument));
    if (checkpoint) return describeCheckpoint(checkpoint.folder, checkpoint.steps, context);
    // The weights are only read, not run; the backend holds them (and tfjs's pure-JS cpu one would print a banner).
    await activateBackend(parsed, context.io);
    const loaded = await loadModelArgument(argument, { cwd: context.io.cwd, ...loadOptions(context) });
    try {
      describeModel(argument, loaded, context);
    } finally {
      loaded.model.dispose();
    }
    return ExitCode.Success;
  },
};

/** The checkpoint a local folder holds (itself, or its newest step-<n>), or undefined when it holds none. */
async function checkpointFolder(path: string): Promise<{ folder: string; steps?: number[] } | undefined> {
  if (!(await stat(path).catch(() => undefined))?.isDirectory()) return undefined;
  if (await stat(join(path, 'trainer.json')).catch(() => undefined)) return { folder: path };
  const all = await listCheckpoints(path);
  return all.length ? { folder: all[all.length - 1].path, steps: all.map((c) => c.step) } : undefined;
}

async function describeCheckpoint(folder: string, steps: number[] | undefined, { output }: CommandContext): Promise<number> {
  const content = await readCheckpoint(folder);
  try {
    const tensors = Object.entries(content.tensors);
    const values = tensors.reduce((n, [, t]) => n + t.size, 0);
    output.line(`${folder}: training checkpoint at step ${content.step}`);
    if (steps) output.line(`  checkpoints in the folder: steps ${steps.join(', ')} (the newest described)`);
    output.line(`  ${tensors.length} tensors, ${values.toLocaleString('en-US')} values`);
    output.line(`  state: ${Object.keys(content.state).join(', ') || '(none)'}`);
    output.result({
      kind: 'checkpoint',
      folder,
      step: content.step,
      steps,
      tensors: Object.fromEntries(tensors.map(([name, t]) => [name, { shape: t.shape, dtype: t.dtype }])),
      values,
      stateKeys: Object.keys(content.state),
    });
  } finally {
    tf.dispose(Object.values(content.tensors));
  }
  return ExitCode.Success;
}

function describeModel(argument: string, loaded: LoadedModel, { output }: CommandContext): void {
  const { model, card } = loaded;
  const parameters = model.parameterCount?.();
  const budget = tokenBudget(model.tokens);
  const config = (model as { config?: unknown }).config;
  const inputShape = loaded.kind === 'tokenizer' ? [...loaded.model.inputShape] : undefined;
  const numClasses = loaded.kind === 'generator' ? loaded.model.numClasses : undefined;

  output.line(`${argument}: ${loaded.architecture} ${loaded.kind}${card ? ' (vtok zoo)' : ''}, from ${loaded.source}`);
  if (card) output.line(`  ${card.summary}`);
  if (parameters !== undefined) output.line(`  parameters: ${parameters.toLocaleString('en-US')}`);
  if (inputShape) output.line(`  input: [${inputShape.join(', ')}] float32 images in [0, 1]`);
  if (numClasses !== undefined) output.line(`  classes: ${numClasses}`);
  output.line(`  tokens: [${model.tokens.shape.join(', ')}] from ${model.tokens.vocabSize} codes = ${budget.tokensPerImage} tokens × ${budget.bitsPerToken} bits = ${budget.bytesPerImage} bytes per image`);
  if (config !== undefined) output.line(`  config: ${JSON.stringify(config)}`);
  if (card) {
    const metrics = Object.entries(card.metrics).map(([k, v]) => `${k} ${v}`);
    if (metrics.length) output.line(`  card metrics: ${metrics.join(', ')}`);
    if (card.sampling) output.line(`  recommended sampling: ${card.sampling.steps} steps, guidance ${card.sampling.guidanceScale}, temperature ${card.sampling.randomizeTemperature}`);
    if (card.tokenizer) output.line(`  decode its tokens with: ${card.tokenizer}`);
    const t = card.training;
    output.line(`  trained: ${t.steps} steps of batch ${t.batchSize} in ${t.wallSeconds} s on ${t.data}`);
    output.line(`  by: ${t.command}`);
  }
  output.result({
    kind: loaded.kind,
    model: argument,
    architecture: loaded.architecture,
    source: loaded.source,
    parameters,
    inputShape,
    numClasses,
    tokens: { vocabSize: model.tokens.vocabSize, shape: [...model.tokens.shape] },
    ...budget,
    config,
    card,
  });
}
