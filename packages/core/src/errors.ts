/**
 * Typed errors. Every error vtok throws on purpose is a VtokError with a stable `code`, so callers
 * can branch on it, and a message that says what was expected and what came.
 */
import { formatShape } from './format';

export type VtokErrorCode =
  | 'SHAPE'
  | 'DTYPE'
  | 'VALUE'
  | 'STATE_DICT'
  | 'SAFETENSORS'
  | 'TORCH_CHECKPOINT'
  | 'PICKLE_SECURITY'
  | 'UNKNOWN_PLUGIN'
  | 'BACKEND_UNAVAILABLE'
  | 'TOKEN_SPACE_MISMATCH'
  | 'ABORTED'
  | 'CONFIG'
  | 'FILE_NOT_FOUND'
  | 'DOWNLOAD'
  | 'SAVE'
  | 'CHECKPOINT'
  | 'TRAINING';

export class VtokError extends Error {
  readonly code: VtokErrorCode;
  constructor(code: VtokErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A tensor had the wrong rank or size. */
export class ShapeError extends VtokError {
  constructor(message: string) {
    super('SHAPE', message);
  }
}

/** A tensor had the wrong dtype (e.g. int32 where float32 is needed). */
export class DTypeError extends VtokError {
  constructor(message: string) {
    super('DTYPE', message);
  }
}

/** Values out of the allowed range: NaN/Inf, token ids >= vocabulary size, negative steps... */
export class ValueError extends VtokError {
  constructor(message: string) {
    super('VALUE', message);
  }
}

/** A config that cannot be used as given. */
export class ConfigError extends VtokError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

export interface StateDictProblems {
  missing: string[];
  unexpected: string[];
  mismatched: { name: string; expected: number[]; got: number[] }[];
}

/** Loading a state dict found missing, unexpected or mis-shaped tensors; all of them are listed. */
export class StateDictError extends VtokError {
  readonly problems: StateDictProblems;
  constructor(problems: StateDictProblems, context = 'state dict') {
    super('STATE_DICT', StateDictError.describe(problems, context));
    this.problems = problems;
  }
  private static describe(p: StateDictProblems, context: string): string {
    const lines = [`${context} does not match the model:`];
    const list = (title: string, names: string[]) => {
      if (names.length) lines.push(`  ${title} (${names.length}): ${names.join(', ')}`);
    };
    list('missing', p.missing);
    list('unexpected', p.unexpected);
    if (p.mismatched.length) {
      lines.push(`  mis-shaped (${p.mismatched.length}):`);
      for (const m of p.mismatched) lines.push(`    ${m.name}: expected ${formatShape(m.expected)}, got ${formatShape(m.got)}`);
    }
    return lines.join('\n');
  }
}

/** A safetensors file is malformed; nothing past the buffer was read. */
export class SafetensorsError extends VtokError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SAFETENSORS', message, options);
  }
}

/** A PyTorch checkpoint (`torch.save` file) is malformed or uses something this reader does not support. */
export class TorchCheckpointError extends VtokError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TORCH_CHECKPOINT', message, options);
  }
}

/**
 * A pickle asked for a Python global outside the allow-list of tensor-rebuild functions. The reader never
 * executes anything; it stopped at that request. `globalModule` and `globalName` are what the pickle asked for.
 */
export class PickleSecurityError extends VtokError {
  readonly globalModule: string;
  readonly globalName: string;
  constructor(module: string, name: string, where: string) {
    super(
      'PICKLE_SECURITY',
      `refused to read ${where}: its pickle asks for the Python global ${module}.${name}, which is not on the ` +
        'allow-list of tensor-rebuild functions (torch._utils._rebuild_tensor_v2, torch.*Storage, collections.OrderedDict, ' +
        'plain containers). Nothing in the file was executed. If the file comes from a source you trust and only the ' +
        "parts outside the weights use such objects, pass { unknownGlobals: 'opaque' } to read them as inert placeholders.",
    );
    this.globalModule = module;
    this.globalName = name;
  }
}

/** A registry was asked for a name it does not hold. */
export class UnknownPluginError extends VtokError {
  readonly kind: string;
  readonly requested: string;
  readonly known: string[];
  constructor(kind: string, requested: string, known: string[]) {
    super(
      'UNKNOWN_PLUGIN',
      `unknown ${kind} "${requested}"; registered ${kind}s: ${known.length ? known.map((k) => `"${k}"`).join(', ') : '(none)'}`,
    );
    this.kind = kind;
    this.requested = requested;
    this.known = known;
  }
}

/** A backend cannot run here; `install` holds the command that would fix it, when there is one. */
export class BackendUnavailableError extends VtokError {
  readonly backend: string;
  readonly install?: string;
  constructor(backend: string, reason: string, install?: string, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', `backend "${backend}" is not available: ${reason}${install ? `\n  install it with: ${install}` : ''}`, options);
    this.backend = backend;
    this.install = install;
  }
}

/** A tokenizer and a generator (or two token tensors) disagree on the token space. */
export class TokenSpaceMismatchError extends VtokError {
  constructor(message: string) {
    super('TOKEN_SPACE_MISMATCH', message);
  }
}

/** An operation was stopped through its AbortSignal. */
export class AbortError extends VtokError {
  constructor(message = 'the operation was aborted') {
    super('ABORTED', message);
  }
}

/**
 * A file a model needs is not where it was looked for: a folder or map without it, a 404, or (offline,
 * `allowRemote: false`) a remote file that is not in the cache. `file` is the file's name, `where` the
 * path or URL that was tried, `cachePath` where the cache was looked in, when it was.
 */
export class FileNotFoundError extends VtokError {
  readonly file: string;
  readonly where: string;
  readonly cachePath?: string;
  constructor(file: string, where: string, detail?: string, cachePath?: string) {
    super('FILE_NOT_FOUND', `${file} was not found at ${where}${detail ? ` (${detail})` : ''}`);
    this.file = file;
    this.where = where;
    this.cachePath = cachePath;
  }
}

/**
 * A remote file could not be fetched whole: the server was unreachable, answered with an error
 * status, or sent a body that does not match what it announced (truncated, wrong Content-Length,
 * checksum). `url` is the address that was fetched; nothing of it is left in the cache.
 */
export class DownloadError extends VtokError {
  readonly url: string;
  readonly status?: number;
  constructor(url: string, reason: string, options?: { cause?: unknown; status?: number }) {
    super('DOWNLOAD', `downloading ${url} failed: ${reason}`, options);
    this.url = url;
    this.status = options?.status;
  }
}

/** A model could not be saved; the target was left as it was before the save began. */
export class SaveError extends VtokError {
  readonly target: string;
  constructor(target: string, reason: string, options?: { cause?: unknown }) {
    super('SAVE', `saving to ${target} failed: ${reason}`, options);
    this.target = target;
  }
}

/** A training checkpoint is incomplete, corrupt, or does not fit the run that tries to resume from it. */
export class CheckpointError extends VtokError {
  readonly path: string;
  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super('CHECKPOINT', `the checkpoint ${path} cannot be used: ${reason}`, options);
    this.path = path;
  }
}

/** A training run cannot go on (a loss that is NaN or infinite, a phase without gradients). */
export class TrainingError extends VtokError {
  readonly step: number;
  constructor(step: number, reason: string) {
    super('TRAINING', `training stopped at step ${step}: ${reason}`);
    this.step = step;
  }
}
