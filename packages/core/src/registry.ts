/**
 * Typed plugin registries. A registry maps a name to a factory; the config type of each name comes
 * from an interface that packages (and users) extend by declaration merging:
 *
 *   declare module '@vtok/core' { interface QuantizerConfigs { mine: { dim: number } } }
 *   registerQuantizer('mine', (config) => new MyQuantizer(config));
 *   createQuantizer({ type: 'mine', dim: 8 });   // type-checked against { dim: number }
 */
import type { Quantizer } from './contracts';
import { UnknownPluginError } from './errors';

/** `{ type: K } & Config` for every registered name K. */
export type TypedConfig<Configs, K extends keyof Configs = keyof Configs> = K extends keyof Configs
  ? { type: K } & Configs[K]
  : never;

export interface RegisterOptions {
  /** Replace an existing registration instead of throwing. */
  replace?: boolean;
}

export class Registry<Configs extends object, Product> {
  private readonly factories = new Map<string, (config: never) => Product>();
  /** `kind` names the registry in error messages ('quantizer', 'masking schedule', ...). */
  constructor(readonly kind: string) {}

  register<K extends keyof Configs & string>(
    type: K,
    factory: (config: Configs[K]) => Product,
    options: RegisterOptions = {},
  ): void {
    if (this.factories.has(type) && !options.replace) {
      throw new Error(`${this.kind} "${type}" is already registered (pass { replace: true } to replace it)`);
    }
    this.factories.set(type, factory as (config: never) => Product);
  }

  unregister(type: string): boolean {
    return this.factories.delete(type);
  }

  has(type: string): boolean {
    return this.factories.has(type);
  }

  names(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Builds the product for `config.type`; an unknown type throws UnknownPluginError listing the known ones. */
  create<K extends keyof Configs & string>(config: { type: K } & Configs[K]): Product {
    const factory = this.factories.get(config.type) as ((config: Configs[K]) => Product) | undefined;
    if (!factory) throw new UnknownPluginError(this.kind, String(config.type), this.names());
    const { type: _type, ...rest } = config;
    return factory(rest as unknown as Configs[K]);
  }
}

/**
 * Config types of the registered quantizers, keyed by name. Empty here: `@vtok/quantizers` adds
 * `vq`, `lfq` and `fsq`, and users add their own.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface QuantizerConfigs {}

export type QuantizerConfig = TypedConfig<QuantizerConfigs>;

export const quantizerRegistry = new Registry<QuantizerConfigs, Quantizer>('quantizer');

export function registerQuantizer<K extends keyof QuantizerConfigs & string>(
  type: K,
  factory: (config: QuantizerConfigs[K]) => Quantizer,
  options?: RegisterOptions,
): void {
  quantizerRegistry.register(type, factory, options);
}

export function createQuantizer<K extends keyof QuantizerConfigs & string>(config: { type: K } & QuantizerConfigs[K]): Quantizer {
  return quantizerRegistry.create(config);
}
