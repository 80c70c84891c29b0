/**
 * The training loop every recipe runs on: one or more phases (a model; a GAN's generator then its
 * discriminator), each with its parameters, loss, AdamW, schedule, clipping and EMA; gradient
 * accumulation; seeded randomness handed to the losses; JSON-lines logs, progress events and a terminal
 * progress bar; AbortSignal; checkpoints that resume bit-identically (same backend).
 *
 * Order inside one step, as the official 1d-tokenizer loop: every active phase computes its loss and
 * gradients on the same batch (a later phase can read what an earlier one kept, e.g. the reconstruction,
 * through `ctx.kept`), then every phase clips, steps its optimiser and updates its EMA.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AbortError,
  CheckpointError,
  ConfigError,
  Module,
  SeededRandom,
  StateDictError,
  TrainingError,
  ValueError,
  assertPositiveInt,
  isNode,
  nodeModule,
  type ProgressCallback,
  type StateDict,
  type TrainProgressEvent,
} from '@vtok/core';
import { AdamW, type AdamWOptions } from './adamw';
import { EMA, type EMAOptions } from './ema';
import { GradientAccumulator, clipGradNorm, type GradientRecord } from './gradients';
import { trainableNamed, type NamedVariables } from './params';
import type { LRSchedule } from './schedules';
import { latestCheckpoint, readCheckpoint, removeInterruptedCheckpoints, writeCheckpoint, type CheckpointContent } from './checkpoint';
import { ProgressBar } from './progress-bar';

/** What a loss function gets besides the batch. */
export interface TrainContext {
  /** The optimiser step being computed, 0-based. */
  readonly step: number;
  /** The micro-batch within the step (0 without accumulation). */
  readonly micro: number;
  /** The run's seeded generator (masking, class dropout, flips): checkpointed, so a resumed run draws the same. */
  readonly random: SeededRandom;
  /** Keeps a tensor for the later phases of this micro-batch (freed by the trainer afterwards). */
  keep(name: string, tensor: tf.Tensor): void;
  /** A tensor an earlier phase kept. */
  kept(name: string): tf.Tensor;
}

/** A scalar loss, or the loss and more scalars to log (`psnr`, `commitment`, …). */
export type LossResult = tf.Scalar | { loss: tf.Scalar; logs?: Record<string, tf.Tensor | number> };

export interface TrainPhase<B> {
  /** Names the phase in logs and checkpoints (`model`, `generator`, `discriminator`). */
  name: string;
  /** The module this phase trains; its whole state is checkpointed. */
  module: Module;
  /** The parameters to update; default: the module's trainable parameters. */
  parameters?: NamedVariables;
  /** The loss of one (micro-)batch; called inside `tf.variableGrads`, so intermediate tensors are freed. */
  loss(batch: B, ctx: TrainContext): LossResult;
  /** AdamW options (lr, betas, weightDecay, noWeightDecay); default AdamW's. */
  optimizer?: AdamWOptions;
  /** The learning rate per step of this phase (counted from its `startStep`); default the optimiser's lr. */
  schedule?: LRSchedule;
  /** Global-norm clipping of this phase's gradients (the official 1.0); default none. */
  clipGradNorm?: number;
  /** Keep an EMA of the module's weights (true: the official decay 0.999). */
  ema?: boolean | EMAOptions;
  /** The first step at which this phase trains (the official `discriminator_start`); default 0. */
  startStep?: number;
}

/** Something else a run must checkpoint (a LeCam regulariser's running means): plain JSON in, plain JSON out. */
export interface Stateful {
  exportState(): unknown | Promise<unknown>;
  importState(state: never): void | Promise<void>;
}

/** A batch the trainer consumes: the data plus where to continue after it (plain JSON, saved in checkpoints). */
export type PositionedBatch = { position: unknown };

/** Batches from a position (undefined: the beginning), as the datasets' `batches` yield them. */
export type TrainData<B extends PositionedBatch> = (from: unknown) => AsyncIterable<B> | Iterable<B>;

export interface TrainerOptions<B> {
  phases: TrainPhase<B>[];
  /** Seeds `ctx.random`; default 0. */
  seed?: number;
  /** Micro-batches per optimiser step (gradients averaged); default 1. */
  accumulate?: number;
  /** More state to checkpoint, by name. */
  state?: Record<string, Stateful>;
}

export interface CheckpointOptions {
  /** The run's checkpoint folder (Node). */
  dir: string;
  /** Write one every this many steps; default 0 (only at the end and on abort). */
  every?: number;
  /** Keep the newest this many; default 3. */
  keep?: number;
}

export interface LogRecord {
  step: number;
  /** Seconds since `fit` started (this process). */
  elapsed: number;
  [name: string]: number;
}

export interface FitOptions {
  /** Stop once this many optimiser steps are done in all (resumed steps count). */
  steps: number;
  /** Log (JSON lines, `onLog`, progress `logs`) every this many steps; default 10. The last step is always logged. */
  logEvery?: number;
  /** A file the log records are appended to as JSON lines (Node). */
  logFile?: string;
  onLog?: (record: LogRecord) => void;
  onProgress?: ProgressCallback<TrainProgressEvent>;
  /** Draw a progress bar on stderr; default: when stderr is a terminal. */
  progressBar?: boolean;
  signal?: AbortSignal;
  checkpoint?: CheckpointOptions;
  /** Continue from a checkpoint: `true` the newest in `checkpoint.dir` (none there: start fresh), or a checkpoint folder. */
  resume?: boolean | string;
}

export interface FitResult {
  /** Optimiser steps done in all. */
  step: number;
  /** The last log record. */
  logs: LogRecord | undefined;
  /** The newest checkpoint written, if any. */
  checkpoint: string | undefined;
  /** Where the run resumed from, if it did. */
  resumedFrom: string | undefined;
  /** True when the data ended before `steps`. */
  dataEnded: boolean;
  elapsedMs: number;
}

interface PhaseState<B> {
  spec: TrainPhase<B>;
  params: [string, tf.Variable][];
  optimizer: AdamW;
  ema: EMA | undefined;
  accumulator: GradientAccumulator;
  startStep: number;
}

const WHO = 'Trainer';

export class Trainer<B extends PositionedBatch> {
  /** Optimiser steps taken. */
  step = 0;
  random: SeededRandom;
  /** Where the data continues (the position after the last batch consumed). */
  position: unknown = undefined;
  readonly accumulate: number;
  private readonly phases: PhaseState<B>[];
  private readonly extra: Record<string, Stateful>;

  constructor(options: TrainerOptions<B>) {
    if (!options || !Array.isArray(options.phases) || options.phases.length === 0) throw new ConfigError(`${WHO}: expected { phases: [at least one phase] }, got ${JSON.stringify(options && Object.keys(options))}`);
    this.accumulate = options.accumulate ?? 1;
    assertPositiveInt(this.accumulate, WHO, 'accumulate', ConfigError);
    this.random = new SeededRandom(options.seed ?? 0);
    this.extra = { ...(options.state ?? {}) };
    const names = new Set<string>();
    const modules = new Set<Module>();
    this.phases = options.phases.map((spec, i) => {
      if (!spec || typeof spec.name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(spec.name)) throw new ConfigError(`${WHO}: phase ${i} needs a name of letters, digits, _ or -, got ${JSON.stringify(spec?.name)}`);
      if (names.has(spec.name)) throw new ConfigError(`${WHO}: two phases are named "${spec.name}"`);
      names.add(spec.name);
      if (!(spec.module instanceof Module)) throw new ConfigError(`${WHO}: phase "${spec.name}" needs a module (a Module), got ${typeof spec.module}`);
      if (modules.has(spec.module)) throw new ConfigError(`${WHO}: phase "${spec.name}" trains a module another phase trains already`);
      modules.add(spec.module);
      if (typeof spec.loss !== 'function') throw new ConfigError(`${WHO}: phase "${spec.name}" needs a loss function`);
      const params = trainableNamed(spec.parameters ?? spec.module, `${WHO} phase "${spec.name}"`);
      if (params.length === 0) throw new ConfigError(`${WHO}: phase "${spec.name}" has no trainable parameters`);
      const startStep = spec.startStep ?? 0;
      if (!Number.isInteger(startStep) || startStep < 0) throw new ConfigError(`${WHO}: phase "${spec.name}": startStep must be a non-negative integer, got ${startStep}`);
      const ema = spec.ema ? new EMA(spec.module, spec.ema === true ? {} : spec.ema) : undefined;
      return { spec, params, optimizer: new AdamW(params, spec.optimizer), ema, accumulator: new GradientAccumulator(), startStep };
    });
  }

  /** The EMA of a phase's module, if that phase keeps one (`copyTo()` puts the averaged weights in the module). */
  emaOf(phase: string): EMA | undefined {
    return this.phaseNamed(phase).ema;
  }

  /** The optimiser of a phase. */
  optimizerOf(phase: string): AdamW {
    return this.phaseNamed(phase).optimizer;
  }

  private phaseNamed(name: string): PhaseState<B> {
    const p = this.phases.find((ph) => ph.spec.name === name);
    if (!p) throw new ValueError(`${WHO}: no phase is named "${name}" (phases: ${this.phases.map((ph) => ph.spec.name).join(', ')})`);
    return p;
  }

  /** Runs optimiser steps until `options.steps`, the end of the data, or an abort. */
  async fit(data: TrainData<B>, options: FitOptions): Promise<FitResult> {
    if (typeof data !== 'function') throw new ConfigError(`${WHO}.fit: data must be a function (position) => batches, got ${typeof data}`);
    assertPositiveInt(options?.steps, `${WHO}.fit`, 'steps', ConfigError);
    const logEvery = options.logEvery ?? 10;
    assertPositiveInt(logEvery, `${WHO}.fit`, 'logEvery', ConfigError);
    const started = Date.now();
    const ckpt = options.checkpoint;
    if (ckpt) {
      if (!isNode()) throw new ConfigError(`${WHO}.fit: checkpoints are written to folders, which needs Node`);
      if (typeof ckpt.dir !== 'string' || !ckpt.dir) throw new ConfigError(`${WHO}.fit: checkpoint.dir must be a folder path, got ${JSON.stringify(ckpt.dir)}`);
    }
    let resumedFrom: string | undefined;
    if (options.resume) {
      if (options.resume === true) {
        if (!ckpt) throw new ConfigError(`${WHO}.fit: resume: true needs checkpoint.dir to look in`);
        await removeInterruptedCheckpoints(ckpt.dir);
        const latest = await latestCheckpoint(ckpt.dir);
        if (latest) {
          await this.restore(latest.content, latest.path);
          resumedFrom = latest.path;
        }
      } else {
        const content = await readCheckpoint(options.resume);
        await this.restore(content, options.resume);
        resumedFrom = options.resume;
      }
    } else if (ckpt) {
      await removeInterruptedCheckpoints(ckpt.dir);
    }

    const emit = (e: TrainProgressEvent) => options.onProgress?.(e);
    const bar = (options.progressBar ?? defaultProgressBar()) ? new ProgressBar(options.steps) : undefined;
    const writeLog = options.logFile ? await logWriter(options.logFile) : undefined;
    emit({ type: 'train', status: 'start', step: this.step, of: options.steps, ...(resumedFrom ? { resumedFrom } : {}) });

    let lastLogs: LogRecord | undefined;
    let lastCheckpoint: string | undefined;
    let dataEnded = false;
    let aborted = false;
    const save = async () => {
      if (!ckpt) return;
      lastCheckpoint = await this.saveCheckpoint(ckpt.dir, { keep: ckpt.keep ?? 3 });
      emit({ type: 'train', status: 'checkpoint', step: this.step, of: options.steps, path: lastCheckpoint });
    };

    const iterable = data(this.position);
    const iterator = (Symbol.asyncIterator in Object(iterable) ? (iterable as AsyncIterable<B>)[Symbol.asyncIterator]() : (iterable as Iterable<B>)[Symbol.iterator]()) as AsyncIterator<B> | Iterator<B>;
    try {
      while (this.step < options.steps) {
        if (options.signal?.aborted) {
          aborted = true;
          break;
        }
        const logs = await this.trainStep(iterator);
        if (!logs) {
          dataEnded = true;
          break;
        }
        const isLast = this.step >= options.steps;
        if (this.step % logEvery === 0 || isLast) {
          const values = await readLogs(logs, this.step);
          lastLogs = { step: this.step, elapsed: (Date.now() - started) / 1000, ...values };
          options.onLog?.(lastLogs);
          await writeLog?.(lastLogs);
          emit({ type: 'train', status: 'step', step: this.step, of: options.steps, logs: values, elapsedMs: Date.now() - started });
          bar?.update(this.step, values);
        } else {
          tf.dispose(Object.values(logs).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
          emit({ type: 'train', status: 'step', step: this.step, of: options.steps, logs: {}, elapsedMs: Date.now() - started });
          bar?.update(this.step);
        }
        if (ckpt?.every && this.step % ckpt.every === 0 && !isLast) await save();
      }
      await save();
    } finally {
      await (iterator as AsyncIterator<B>).return?.();
      bar?.finish();
    }
    const elapsedMs = Date.now() - started;
    emit({ type: 'train', status: 'done', step: this.step, of: options.steps, aborted, elapsedMs });
    if (aborted) throw new AbortError(`training was aborted after step ${this.step}${lastCheckpoint ? `; resume from ${lastCheckpoint}` : ''}`);
    return { step: this.step, logs: lastLogs, checkpoint: lastCheckpoint, resumedFrom, dataEnded, elapsedMs };
  }

  /**
   * One optimiser step (with its micro-batches) from `iterator`. Returns the step's logs as scalars the
   * caller owns, or undefined when the data ended before the step could be completed (nothing applied).
   */
  private async trainStep(iterator: AsyncIterator<B> | Iterator<B>): Promise<Record<string, tf.Tensor | number> | undefined> {
    const step = this.step;
    const active = this.phases.filter((p) => step >= p.startStep);
    const logs: Record<string, tf.Tensor | number> = {};
    const multi = this.phases.length > 1;
    const label = (phase: PhaseState<B>, key: string) => (multi ? `${phase.spec.name}.${key}` : key);
    const sums = new Map<string, tf.Tensor>();
    let position: unknown;
    try {
      for (let micro = 0; micro < this.accumulate; micro++) {
        const next = await iterator.next();
        if (next.done) return undefined;
        const batch = next.value;
        position = batch?.position;
        const kept = new Map<string, tf.Tensor>();
        const ctx: TrainContext = {
          step,
          micro,
          random: this.random,
          keep: (name, t) => {
            if (kept.has(name)) throw new ValueError(`${WHO}: "${name}" is kept twice in one micro-batch`);
            kept.set(name, tf.keep(t));
          },
          kept: (name) => {
            const t = kept.get(name);
            if (!t) throw new ValueError(`${WHO}: nothing is kept under "${name}" (kept: ${[...kept.keys()].join(', ') || 'nothing'}); an earlier phase must ctx.keep it`);
            return t;
          },
        };
        try {
          for (const phase of active) {
            const extraLogs: Record<string, tf.Tensor | number> = {};
            const { value, grads } = gradientsOf(phase.spec.name, step, () => {
              const out = phase.spec.loss(batch, ctx);
              const loss = out instanceof tf.Tensor ? out : out?.loss;
              if (!(loss instanceof tf.Tensor) || loss.rank !== 0) throw new ValueError(`${WHO}: the loss of phase "${phase.spec.name}" must be a scalar tensor (or { loss, logs }), got ${loss instanceof tf.Tensor ? `shape [${loss.shape}]` : typeof loss}`);
              if (!(out instanceof tf.Tensor)) for (const [k, v] of Object.entries(out.logs ?? {})) extraLogs[k] = v instanceof tf.Tensor ? tf.keep(tf.clone(v)) : v;
              return loss as tf.Scalar;
            }, phase.params.map(([, v]) => v));
            if (this.accumulate === 1) {
              this.apply(phase, grads, logs, label);
            } else {
              phase.accumulator.add(grads);
              tf.dispose(Object.values(grads));
            }
            addLog(sums, label(phase, 'loss'), value);
            for (const [k, v] of Object.entries(extraLogs)) {
              if (v instanceof tf.Tensor) addLog(sums, label(phase, k), v);
              else logs[label(phase, k)] = v;
            }
          }
        } finally {
          tf.dispose([...kept.values()]);
          tf.dispose(batch as unknown as tf.TensorContainer);
        }
      }
      if (this.accumulate > 1) {
        for (const phase of active) {
          const mean = phase.accumulator.mean();
          phase.accumulator.reset();
          this.apply(phase, mean, logs, label);
        }
      }
      for (const [k, s] of sums) logs[k] = this.accumulate === 1 ? s : tf.tidy(() => tf.div(s, this.accumulate));
      if (this.accumulate > 1) tf.dispose([...sums.values()]);
      sums.clear();
      this.position = position;
      this.step += 1;
      return logs;
    } finally {
      tf.dispose([...sums.values()]);
      for (const p of active) p.accumulator.reset();
    }
  }

  /** Clip, step the optimiser at the scheduled lr, update the EMA; frees `grads`. */
  private apply(phase: PhaseState<B>, grads: GradientRecord, logs: Record<string, tf.Tensor | number>, label: (p: PhaseState<B>, k: string) => string): void {
    let used = grads;
    try {
      if (phase.spec.clipGradNorm !== undefined) {
        const clipped = clipGradNorm(grads, phase.spec.clipGradNorm);
        logs[label(phase, 'grad_norm')] = clipped.totalNorm;
        used = clipped.grads;
      }
      const phaseStep = this.step - phase.startStep;
      const lr = phase.spec.schedule ? phase.spec.schedule(phaseStep) : phase.optimizer.lr;
      phase.optimizer.step(used, { lr });
      logs[label(phase, 'lr')] = lr;
      phase.ema?.update();
    } finally {
      tf.dispose(Object.values(grads));
      if (used !== grads) tf.dispose(Object.values(used));
    }
  }

  /** The whole run state as a checkpoint's content (tensors are new copies the caller owns). */
  async checkpointContent(): Promise<CheckpointContent> {
    const tensors: Record<string, tf.Tensor> = {};
    const phases: Record<string, unknown> = {};
    for (const p of this.phases) {
      const name = p.spec.name;
      for (const [k, v] of Object.entries(p.spec.module.stateDict())) tensors[`module.${name}.${k}`] = tf.clone(v);
      for (const [k, v] of Object.entries(p.optimizer.exportState())) tensors[`optimizer.${name}.${k}`] = v;
      if (p.ema) for (const [k, v] of Object.entries(p.ema.exportState())) tensors[`ema.${name}.${k}`] = v;
      phases[name] = { ema: Boolean(p.ema), startStep: p.startStep };
    }
    const extra: Record<string, unknown> = {};
    try {
      for (const [k, s] of Object.entries(this.extra)) extra[k] = await s.exportState();
    } catch (error) {
      tf.dispose(Object.values(tensors));
      throw error;
    }
    return {
      step: this.step,
      tensors,
      state: { position: this.position ?? null, random: this.random.state(), accumulate: this.accumulate, phases, extra },
    };
  }

  /** Writes a checkpoint of the current state into `dir` (atomic); returns its folder. */
  async saveCheckpoint(dir: string, options: { keep?: number } = {}): Promise<string> {
    const content = await this.checkpointContent();
    try {
      return await writeCheckpoint(dir, content, options);
    } finally {
      tf.dispose(Object.values(content.tensors));
    }
  }

  /** Continues from a checkpoint's content (checks everything before changing anything); frees its tensors. */
  async restore(content: CheckpointContent, where = 'checkpoint'): Promise<void> {
    try {
      const state = content.state as { position?: unknown; random?: number[]; phases?: Record<string, { ema?: boolean }>; extra?: Record<string, unknown> };
      const saved = Object.keys(state.phases ?? {}).sort();
      const ours = this.phases.map((p) => p.spec.name).sort();
      if (saved.join(',') !== ours.join(',')) throw new CheckpointError(where, `it holds the phases [${saved.join(', ')}], this run has [${ours.join(', ')}]`);
      const extraSaved = Object.keys(state.extra ?? {}).sort();
      const extraOurs = Object.keys(this.extra).sort();
      if (extraSaved.join(',') !== extraOurs.join(',')) throw new CheckpointError(where, `it holds the state [${extraSaved.join(', ')}], this run has [${extraOurs.join(', ')}]`);
      let random: SeededRandom;
      try {
        random = SeededRandom.fromState(state.random ?? []);
      } catch (e) {
        throw new CheckpointError(where, (e as Error).message, { cause: e });
      }
      const groups = new Map<string, StateDict>();
      for (const [key, t] of Object.entries(content.tensors)) {
        const m = /^(module|optimizer|ema)\.([A-Za-z0-9_-]+)\.(.+)$/.exec(key);
        if (!m) throw new CheckpointError(where, `it holds the unexpected tensor "${key}"`);
        const g = `${m[1]}.${m[2]}`;
        if (!groups.has(g)) groups.set(g, {});
        groups.get(g)![m[3]] = t;
      }
      // Module weights first: a mismatch there (another model, another config) is the likeliest problem.
      for (const p of this.phases) {
        const name = p.spec.name;
        if (Boolean(state.phases?.[name]?.ema) !== Boolean(p.ema)) throw new CheckpointError(where, `phase "${name}" ${p.ema ? 'keeps' : 'keeps no'} EMA in this run, the checkpoint ${p.ema ? 'has none' : 'has one'}`);
        const own = p.spec.module.stateDict();
        const dict = groups.get(`module.${name}`) ?? {};
        const missing = Object.keys(own).filter((k) => !dict[k]);
        const unexpected = Object.keys(dict).filter((k) => !own[k]);
        const mismatched = Object.keys(own)
          .filter((k) => dict[k] && dict[k].shape.join(',') !== own[k].shape.join(','))
          .map((k) => ({ name: k, expected: [...own[k].shape], got: [...dict[k].shape] }));
        if (missing.length || unexpected.length || mismatched.length) {
          throw new CheckpointError(where, `phase "${name}": its weights do not fit this model`, { cause: new StateDictError({ missing, unexpected, mismatched }, `checkpoint module.${name}`) });
        }
      }
      for (const p of this.phases) {
        const name = p.spec.name;
        try {
          p.spec.module.loadStateDict(groups.get(`module.${name}`) ?? {});
          await p.optimizer.importState(groups.get(`optimizer.${name}`) ?? {});
          if (p.ema) await p.ema.importState(groups.get(`ema.${name}`) ?? {});
        } catch (e) {
          throw new CheckpointError(where, `phase "${name}": ${(e as Error).message}`, { cause: e });
        }
      }
      for (const [k, s] of Object.entries(this.extra)) await s.importState(state.extra![k] as never);
      this.random = random;
      this.position = state.position ?? undefined;
      this.step = content.step;
    } finally {
      tf.dispose(Object.values(content.tensors));
    }
  }

  /** Frees the optimisers' moments, the EMAs and accumulators (the modules stay). */
  dispose(): void {
    for (const p of this.phases) {
      p.optimizer.dispose();
      p.ema?.dispose();
      p.accumulator.dispose();
    }
  }
}

function addLog(sums: Map<string, tf.Tensor>, key: string, value: tf.Tensor): void {
  const prev = sums.get(key);
  sums.set(key, prev ? tf.add(prev, value) : value);
  if (prev) {
    prev.dispose();
    value.dispose();
  }
}

/** Reads the step's log scalars (one sync), frees them, and refuses a loss that is not finite. */
async function readLogs(logs: Record<string, tf.Tensor | number>, step: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const entries = Object.entries(logs);
  try {
    for (const [k, v] of entries) out[k] = v instanceof tf.Tensor ? (await v.data())[0] : v;
  } finally {
    tf.dispose(entries.map(([, v]) => v).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
  }
  for (const [k, v] of Object.entries(out)) {
    if (/(^|\.)loss$/.test(k) && !Number.isFinite(v)) throw new TrainingError(step, `the ${k} is ${v}; lower the learning rate, clip gradients (clipGradNorm) or check the data`);
  }
  return out;
}

function defaultProgressBar(): boolean {
  const stderr = (globalThis as { process?: { stderr?: { isTTY?: boolean } } }).process?.stderr;
  return Boolean(stderr?.isTTY);
}

async function logWriter(file: string): Promise<(record: LogRecord) => Promise<void>> {
  if (!isNode()) throw new ConfigError(`${WHO}.fit: logFile needs Node; use onLog in a browser`);
  const fs = await nodeModule<typeof import('node:fs/promises')>('node:fs/promises');
  const path = await nodeModule<typeof import('node:path')>('node:path');
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  return (record) => fs.appendFile(file, `${JSON.stringify(record)}\n`);
}

/** tf.variableGrads, with its "no connection" failure said as what it means for a phase. */
function gradientsOf(phase: string, step: number, f: () => tf.Scalar, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  try {
    return tf.variableGrads(f, vars);
  } catch (error) {
    if (/Cannot find a connection between any variable/.test((error as Error)?.message ?? '')) {
      throw new TrainingError(step, `the loss of phase "${phase}" does not depend on any of its ${vars.length} trainable parameters (is the model's forward pass inside the loss function?)`);
    }
    throw error;
  }
}
