/**
 * The quickstart: the zoo's two digits models, loaded by name, doing the three things vtok is for:
 * images → tokens (and how small they are), tokens → images (and how close), and class → new image.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { bytesPerEntry, imageGrid, writePng } from '@vtok/cli';
import { composePipeline } from '@vtok/core';
import { mnistDigits, psnr } from '@vtok/trainers';
import { loadPretrained, pretrainedCard } from '@vtok/zoo';

export interface QuickstartOptions {
  /** MNIST test digits to encode and decode (default 8). */
  digits?: number;
  /** Folder for the PNGs. */
  out: string;
  /** Seed of the generated digits (default 0). */
  seed?: number;
  /** Called with each line to show. */
  log?: (line: string) => void;
}

export interface QuickstartResult {
  /** Token ids of the first digit (64 of them: the 8×8 grid row by row). */
  firstTokens: number[];
  tokensPerImage: number;
  bytesPerImage: number;
  /** Mean PSNR of the decoded digits against the originals, dB. */
  psnr: number;
  /** The zoo card's held-out PSNR, for comparison. */
  cardPsnr: number;
  /** The PNG files written. */
  files: { reconstructions: string; generated: string };
}

/** The first `n` MNIST test digits, 32×32 RGB in [0, 1]: [n, 32, 32, 3]. */
async function testDigits(n: number): Promise<tf.Tensor4D> {
  const digits = await mnistDigits({ split: 'test', size: 32, channels: 3, limit: n });
  const examples = await Promise.all(Array.from({ length: digits.length }, (_, i) => digits.get(i)));
  const flat = new Float32Array(examples.length * 32 * 32 * 3);
  examples.forEach((e, i) => flat.set(e.image, i * 32 * 32 * 3));
  return tf.tensor4d(flat, [examples.length, 32, 32, 3]);
}

export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const log = options.log ?? console.log;
  const tokenizer = await loadPretrained('digits-vqgan');
  const generator = await loadPretrained('digits-maskgit');
  const card = pretrainedCard('digits-vqgan');
  const kept: tf.Tensor[] = [];
  try {
    // 1. Digits → tokens: each 32×32 image becomes 64 integers below 256, i.e. 64 bytes.
    const images = await testDigits(options.digits ?? 8);
    kept.push(images);
    const tokens = await tokenizer.encode(images);
    kept.push(tokens);
    const ids = (await tokens.array()) as number[][];
    const tokensPerImage = ids[0].length;
    const bytesPerImage = bytesPerEntry(tokenizer.tokens.shape, tokenizer.tokens.vocabSize);
    log(`encoded ${ids.length} digits: ${tokensPerImage} tokens of ${tokenizer.tokens.vocabSize} codes each = ${bytesPerImage} bytes per image (raw RGB pixels: ${32 * 32 * 3} bytes)`);
    log(`tokens of the first digit (8×8 grid):`);
    for (let row = 0; row < 8; row++) log(`  ${ids[0].slice(row * 8, row * 8 + 8).map((t) => String(t).padStart(3)).join(' ')}`);

    // 2. Tokens → digits, and how close they come back.
    const decoded = await tokenizer.decode(tokens);
    kept.push(decoded);
    const meanPsnr = tf.tidy(() => tf.mean(psnr(decoded, images)));
    const heldOut = (await meanPsnr.data())[0];
    meanPsnr.dispose();
    log(`decoded: PSNR ${heldOut.toFixed(2)} dB against the originals (the card says ${card.metrics.heldOutPsnr} dB on 500 test digits)`);

    // 3. Class → new digit: the generator samples tokens (its config's recommended settings), the tokenizer draws them.
    const classes = Array.from({ length: generator.numClasses }, (_, i) => i);
    const generated = await composePipeline({ tokenizer, generator }).generate({ classes, seed: options.seed ?? 0 });
    kept.push(generated);
    log(`generated one digit per class 0–9 (${JSON.stringify(pretrainedCard('digits-maskgit').sampling)})`);

    // PNGs: originals above their reconstructions, and the generated row.
    const files = { reconstructions: join(options.out, 'reconstructions.png'), generated: join(options.out, 'generated.png') };
    const pairs = tf.concat([images, decoded]) as tf.Tensor4D;
    const pairsGrid = imageGrid(pairs, images.shape[0], 2);
    const generatedGrid = imageGrid(generated as tf.Tensor4D, classes.length, 2);
    pairs.dispose();
    kept.push(pairsGrid, generatedGrid);
    await writePng(files.reconstructions, pairsGrid);
    await writePng(files.generated, generatedGrid);
    log(`wrote ${files.reconstructions} (originals above, decoded below) and ${files.generated} (0 to 9)`);
    return { firstTokens: ids[0], tokensPerImage, bytesPerImage, psnr: heldOut, cardPsnr: card.metrics.heldOutPsnr!, files };
  } finally {
    tf.dispose(kept);
    tokenizer.dispose();
    generator.dispose();
  }
}
