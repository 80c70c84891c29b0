import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module';

/**
 * A Module whose parts can be added at dotted state-dict paths (`attention.self.query`): the modules on
 * the way are created as empty containers and shared by everything added below them, also below a part
 * that is itself a MountedModule. This is how one layer carries the parameter names of different official
 * checkpoints (HF BERT keeps a block's attention projections under `attention.self.*`, its output
 * projection and first LayerNorm under `attention.output.*`).
 */
export class MountedModule extends Module {
  /** Children that paths may pass through: containers made here and MountedModules added by name. */
  private readonly passable = new Map<string, MountedModule>();

  /** Adds `child` at `path` (relative to this module) and returns it. */
  protected mount<M extends Module>(path: string, child: M): M {
    const dot = path.indexOf('.');
    if (dot < 0) {
      this.addModule(path, child);
      if (child instanceof MountedModule) this.passable.set(path, child);
      return child;
    }
    return this.container(path.slice(0, dot)).mount(path.slice(dot + 1), child);
  }

  /** Adds a trainable parameter at `path` (relative to this module); the tensor is owned from now on. */
  protected mountParameter(path: string, initial: tf.Tensor): tf.Variable {
    const dot = path.lastIndexOf('.');
    if (dot < 0) return this.addParameter(path, initial);
    let owner: MountedModule = this;
    for (const name of path.slice(0, dot).split('.')) owner = owner.container(name);
    return owner.addParameter(path.slice(dot + 1), initial);
  }

  private container(name: string): MountedModule {
    let next = this.passable.get(name);
    if (!next) {
      next = this.addModule(name, new MountedModule());
      this.passable.set(name, next);
    }
    return next;
  }
}
