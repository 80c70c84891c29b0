// Gradients of tfjs-core's own kernels, needed to train any layer (see ./gradients.ts).
import './gradients';
/**
 * A small module system in the spirit of torch.nn.Module: parameters and child modules have names,
 * and the dotted path of a parameter (`blocks.3.attn.in_proj_weight`) is its state-dict key, so a
 * state dict round-trips to PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, type StateDictProblems } from './errors';

export type StateDict = Record<string, tf.Tensor>;

export interface LoadStateDictOptions {
  /** When true (default), missing and unexpected keys are errors; mis-shaped tensors always are. */
  strict?: boolean;
  /** Names the source in error messages, e.g. a file name. */
  source?: string;
}

let variableCounter = 0;

export class Module {
  private readonly parameters = new Map<string, tf.Variable>();
  /** Non-trainable tensors that belong in the state dict (running statistics, fixed tables). */
  private readonly buffers = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();

  /** Adds a trainable parameter. The tensor is owned by the module from now on. */
  protected addParameter(name: string, initial: tf.Tensor, trainable = true): tf.Variable {
    this.assertFreeName(name);
    const variable = tf.variable(initial, trainable, `vtok_${name}_${variableCounter++}`);
    initial.dispose();
    this.parameters.set(name, variable);
    return variable;
  }

  /** Adds a state-dict entry that the optimiser never updates. */
  protected addBuffer(name: string, initial: tf.Tensor): tf.Variable {
    this.assertFreeName(name);
    const variable = tf.variable(initial, false, `vtok_${name}_${variableCounter++}`);
    initial.dispose();
    this.buffers.set(name, variable);
    return variable;
  }

  protected addModule<M extends Module>(name: string, child: M): M {
    this.assertFreeName(name);
    this.children.set(name, child);
    return child;
  }

  private assertFreeName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`invalid module entry name "${name}"`);
    if (this.parameters.has(name) || this.buffers.has(name) || this.children.has(name)) {
      throw new Error(`module entry "${name}" is already registered`);
    }
  }

  /** Every parameter with its dotted name, depth first in registration order. */
  *namedParameters(prefix = ''): Generator<[string, tf.Variable]> {
    for (const [name, v] of this.parameters) yield [prefix + name, v];
    for (const [name, child] of this.children) yield* child.namedParameters(`${prefix}${name}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, tf.Variable]> {
    for (const [name, v] of this.buffers) yield [prefix + name, v];
    for (const [name, child] of this.children) yield* child.namedBuffers(`${prefix}${name}.`);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [name, child] of this.children) yield* child.namedModules(`${prefix}${name}.`);
  }

  /** Trainable parameters only. */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters()].filter(([, v]) => v.trainable).map(([, v]) => v);
  }

  /** Sets the trainable flag of every parameter in this module and its children. */
  setTrainable(trainable: boolean): this {
    for (const [, v] of this.namedParameters()) v.trainable = trainable;
    return this;
  }

  parameterCount(): number {
    let n = 0;
    for (const [, v] of this.namedParameters()) n += v.size;
    return n;
  }

  /**
   * The module's state as name → tensor. The tensors are the live variables (no copy):
   * do not dispose them; clone them if they must outlive the module.
   */
  stateDict(): StateDict {
    const dict: StateDict = {};
    for (const [name, v] of this.namedParameters()) dict[name] = v;
    for (const [name, v] of this.namedBuffers()) dict[name] = v;
    return dict;
  }

  /**
   * Copies values from `dict` into the module. Every problem (missing, unexpected, mis-shaped) is
   * collected first and reported in one StateDictError; on error nothing is assigned. The caller
   * keeps ownership of `dict`.
   */
  loadStateDict(dict: StateDict, options: LoadStateDictOptions = {}): StateDictProblems {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const problems: StateDictProblems = { missing: [], unexpected: [], mismatched: [] };
    for (const [name, target] of Object.entries(own)) {
      const source = dict[name];
      if (!source) problems.missing.push(name);
      else if (!sameShape(source.shape, target.shape)) {
        problems.mismatched.push({ name, expected: [...target.shape], got: [...source.shape] });
      }
    }
    for (const name of Object.keys(dict)) if (!(name in own)) problems.unexpected.push(name);
    const fatal = problems.mismatched.length > 0 || (strict && (problems.missing.length > 0 || problems.unexpected.length > 0));
    if (fatal) throw new StateDictError(problems, options.source ?? 'state dict');
    for (const [name, target] of Object.entries(own)) {
      const source = dict[name];
      if (!source) continue;
      const value = source.dtype === target.dtype ? source : tf.cast(source, target.dtype);
      (target as tf.Variable).assign(value);
      if (value !== source) value.dispose();
    }
    return problems;
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const v of this.parameters.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    for (const child of this.children.values()) child.dispose();
    this.parameters.clear();
    this.buffers.clear();
    this.children.clear();
  }
}

/** An ordered list of modules whose state-dict names are their indices (`blocks.0.…`), as nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];
  constructor(items: M[] = []) {
    super();
    for (const item of items) this.push(item);
  }
  push(item: M): void {
    this.addModule(String(this.items.length), item);
    this.items.push(item);
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    return this.items[i];
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
