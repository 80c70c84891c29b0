/** Progress events, one typed union for every long-running call (sampling, loading, training). */
export interface StepProgressEvent {
  type: 'step';
  /** 1-based index of the step just finished. */
  step: number;
  of: number;
  label?: string;
}

/**
 * Loading a model, in the shape transformers.js users know (`status`): for each file `initiate`, then
 * `download` and `progress` (bytes so far, and in total when the server said) while it comes over the
 * network, then `done`; `ready` once the model is built. Files from a folder, a map or the cache get
 * `initiate` and `done` only.
 */
export type LoadProgressEvent =
  | { type: 'load'; status: 'initiate'; name: string; file: string }
  | { type: 'load'; status: 'download'; name: string; file: string }
  | {
      type: 'load';
      status: 'progress';
      name: string;
      file: string;
      /** Bytes received so far. */
      loaded: number;
      /** Bytes in all, when the server said (Content-Length); otherwise undefined. */
      total: number | undefined;
      /** 0..100 when `total` is known. */
      progress: number | undefined;
    }
  | { type: 'load'; status: 'done'; name: string; file: string }
  | { type: 'load'; status: 'ready'; name: string; model: string };

/**
 * Training (`@vtok/trainers`): `start` (with the step it starts from: 0, or the resumed checkpoint's),
 * `step` after each optimiser step with its scalar logs (loss, learning rate, …), `checkpoint` once a
 * checkpoint is on disk, `done` at the end (also after an abort, with `aborted`).
 */
export type TrainProgressEvent =
  | { type: 'train'; status: 'start'; step: number; of: number; resumedFrom?: string }
  | { type: 'train'; status: 'step'; step: number; of: number; logs: Record<string, number>; elapsedMs: number }
  | { type: 'train'; status: 'checkpoint'; step: number; of: number; path: string }
  | { type: 'train'; status: 'done'; step: number; of: number; aborted: boolean; elapsedMs: number };

export type ProgressEvent = StepProgressEvent | LoadProgressEvent | TrainProgressEvent;

export type ProgressCallback<E extends ProgressEvent = ProgressEvent> = (event: E) => void;
