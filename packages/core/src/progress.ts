/** Progress events, one typed union for every long-running call (sampling, loading, training). */
export interface StepProgressEvent {
  type: 'step';
  /** 1-based index of the step just finished. */
  step: number;
  of: number;
  label?: string;
}

export interface LoadProgressEvent {
  type: 'load';
  loaded: number;
  total?: number;
  file?: string;
}

export type ProgressEvent = StepProgressEvent | LoadProgressEvent;

export type ProgressCallback<E extends ProgressEvent = ProgressEvent> = (event: E) => void;
