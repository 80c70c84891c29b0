/** A new TiTok with random weights, from a preset name, an official config tree or a TiTokConfig. */
import { parseOfficialConfig, type OfficialConfig, type TiTokConfig } from './config';
import { titokPreset, type TiTokPresetName } from './presets';
import { TiTok, type TiTokOptions } from './titok';

const isResolved = (c: TiTokConfig | OfficialConfig): c is TiTokConfig => typeof (c as TiTokConfig).imageSize === 'number';

/**
 * `createTiTok('titok-l-32', { seed: 0 })`: the architecture at its real size with random weights
 * (initialised as the official code does), e.g. for benchmarks or training from scratch.
 */
export function createTiTok(spec: TiTokPresetName | (string & {}) | TiTokConfig | OfficialConfig, options: Omit<TiTokOptions, 'officialConfig'> = {}): TiTok {
  if (typeof spec === 'string') {
    const official = titokPreset(spec).config;
    return new TiTok(parseOfficialConfig(official), { ...options, officialConfig: official });
  }
  if (isResolved(spec)) return new TiTok(spec, options);
  return new TiTok(parseOfficialConfig(spec), { ...options, officialConfig: spec });
}
