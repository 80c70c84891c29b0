/**
 * Hub ids, `hf:owner/name[@revision]`, and the URL of a file in a hub repository:
 * `{endpoint}/{owner}/{name}/resolve/{revision}/{file}` — the layout of the Hugging Face hub, and of
 * any mirror or local server that copies it. The endpoint comes from the options, else
 * `VTOK_HUB_ENDPOINT`, else https://huggingface.co.
 */
import { ConfigError } from '../errors';
import { envVar } from './env';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubId {
  owner: string;
  name: string;
  revision: string;
}

const HUB_ID = /^hf:(?:\/\/)?([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([^/\s]+))?\/?$/;

export const isHubId = (source: string): boolean => source.startsWith('hf:');

/** Parses `hf:owner/name` or `hf:owner/name@revision` (revision defaults to `main`). */
export function parseHubId(id: string, revision?: string): HubId {
  const m = HUB_ID.exec(id);
  if (!m) throw new ConfigError(`"${id}" is not a hub id; expected hf:owner/name or hf:owner/name@revision`);
  return { owner: m[1], name: m[2], revision: revision ?? m[3] ?? 'main' };
}

export function hubEndpoint(option?: string): string {
  return (option ?? envVar('VTOK_HUB_ENDPOINT') ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
}

/** The URL prefix of a hub repository's files at a revision (ends with `/`). */
export function hubPrefix(id: HubId, endpoint?: string): string {
  const rev = encodeURIComponent(id.revision);
  return `${hubEndpoint(endpoint)}/${id.owner}/${id.name}/resolve/${rev}/`;
}
