/** The exit codes of every vtok command; scripts and schedulers (a Kubernetes Job's retry policy) branch on them. */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** Something failed that is not the user's input: a bug, a backend crash, out of memory. */
  Failure: 1,
  /** The command line itself is wrong: unknown command or option, a bad option value. */
  Usage: 2,
  /** An input cannot be used: a missing or unreadable file, not an image, a wrong image size, a corrupt token file, an unknown model. */
  Input: 3,
  /** An output cannot be written: the path is not writable. */
  Output: 4,
  /** Stopped by Ctrl-C (SIGINT), as shells report it (128 + 2). */
  Interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
