/** Every vtok command, in the order `vtok --help` lists them. Add yours with one import and one entry. */
import type { Command } from '../command';
import { backendsCommand } from './backends';
import { benchCommand } from './bench';
import { decodeCommand } from './decode';
import { demoCommand } from './demo';
import { encodeCommand } from './encode';
import { generateCommand } from './generate';
import { infoCommand } from './info';
import { mergeCommand } from './merge';
import { reconstructCommand } from './reconstruct';
import { trainCommand } from './train';

export const commands: Command[] = [reconstructCommand, encodeCommand, decodeCommand, mergeCommand, generateCommand, trainCommand, infoCommand, backendsCommand, benchCommand, demoCommand];
