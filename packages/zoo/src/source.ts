/**
 * Where a zoo model's files are: the `models/<name>/` folder shipped in this package, found from this
 * module's URL. This file must stay directly in src/ (bundled into dist/): `../models/` is right from both.
 */
import { isNode, type ModelSource } from '@vtok/core';
import { pretrainedCard } from './catalog';

/**
 * A file: URL as a path. Written out rather than node:url's fileURLToPath because this function is
 * synchronous and a static node: import would break browser bundles (core imports Node built-ins lazily).
 */
function filePath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  const windowsDrive = /^\/[A-Za-z]:\//.test(path);
  if (url.host) return `\\\\${url.host}${path.replace(/\//g, '\\')}`;
  return windowsDrive ? path.slice(1).replace(/\//g, '\\') : path;
}

/**
 * The source that core's loaders read a zoo model from: in Node the folder path inside the installed
 * package, elsewhere (browsers, bundlers) the URL of that folder next to this module.
 */
export function pretrainedSource(name: string): ModelSource {
  // @vite-ignore: Vite would turn a templated `new URL` into a lookup among the files it matches, and a
  // folder matches none (the URL became `…/undefined`); bundlers must leave this URL as it is.
  const folder = new URL(/* @vite-ignore */ `../models/${pretrainedCard(name).name}/`, import.meta.url);
  return isNode() && folder.protocol === 'file:' ? filePath(folder) : folder;
}
