/** Every vtok command, in the order `vtok --help` lists them. Add yours with one import and one entry. */
import type { Command } from '../command';
import { backendsCommand } from './backends';

export const commands: Command[] = [backendsCommand];
