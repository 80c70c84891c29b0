/** Every vtok command, in the order `vtok --help` lists them. Add yours with one import and one entry. */
import type { Command } from '../command';
import { backendsCommand } from './backends';
import { decodeCommand } from './decode';
import { encodeCommand } from './encode';
import { mergeCommand } from './merge';

export const commands: Command[] = [encodeCommand, decodeCommand, mergeCommand, backendsCommand];
