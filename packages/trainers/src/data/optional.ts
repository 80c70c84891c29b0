/**
 * Optional peer dependencies (sharp, mnist), imported only when a dataset needs them and through a
 * non-literal specifier, so bundlers neither resolve nor bundle them and the package works without them.
 */
import { ConfigError } from '@vtok/core';

/** An optional package a call needs is not installed; `install` is the command that fixes it. */
export class MissingPackageError extends ConfigError {
  readonly packageName: string;
  readonly install: string;
  constructor(packageName: string, neededBy: string) {
    const install = `npm install ${packageName}`;
    super(`${neededBy} needs the package "${packageName}", which is not installed (it is an optional peer dependency of @vtok/trainers)\n  install it with: ${install}`);
    this.packageName = packageName;
    this.install = install;
  }
}

const isNotFound = (error: unknown, specifier: string): boolean => {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return String(message).includes(specifier);
  // Browsers: "Failed to resolve module specifier ..."; bundled runtimes word it their own way.
  return /failed to resolve|cannot find|could not resolve/i.test(String(message)) && String(message).includes(specifier);
};

/**
 * The module `specifier` (its default export when it has one, as CommonJS packages do), or a
 * MissingPackageError naming the install command. Other failures (a package present but broken, such as
 * sharp without its binary for this platform) keep their own error, which says more.
 */
export async function importOptional<T>(specifier: string, neededBy: string): Promise<T> {
  let module: { default?: unknown };
  try {
    module = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
  } catch (error) {
    if (isNotFound(error, specifier)) throw new MissingPackageError(specifier, neededBy);
    throw error;
  }
  return (module.default ?? module) as T;
}

