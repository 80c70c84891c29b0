/** `vtok bench`: a short timing of the zoo's digits models on the chosen backend (encode, decode, sample). */
import * as tf from '@tensorflow/tfjs-core';
import { numberOption, type Command } from '../command';
import { ExitCode } from '../exit-codes';
import { loadGeneratorArgument, loadTokenizerArgument } from '../models';
import { loadOptions, modelCommandHelp, modelCommandOptions, startBackend } from './model-options';

export const benchCommand: Command = {
  name: 'bench',
  summary: "time encode, decode and sample of the zoo's digits models on this machine's backend",
  usage: [
    'usage: vtok bench [--batch 16] [--repeat 3] [--backend auto] [--json]',
    '',
    'Each operation runs once to warm up, then --repeat times; the median is reported (ms per batch and images/s).',
    "Sampling uses digits-maskgit's recommended settings.",
  ].join('\n'),
  options: {
    ...modelCommandOptions,
    batch: { type: 'string' },
    repeat: { type: 'string' },
  },
  optionHelp: {
    ...modelCommandHelp,
    batch: 'images per call (default 16)',
    repeat: 'timed runs of each operation after one warm-up (default 3)',
  },
  async run(parsed, context) {
    const { io, output } = context;
    const batch = numberOption(parsed, 'batch', 16, { integer: true, min: 1, max: 1024 });
    const repeat = numberOption(parsed, 'repeat', 3, { integer: true, min: 1, max: 100 });
    const backend = await startBackend(parsed, context);
    const load = { cwd: io.cwd, ...loadOptions(context) };
    const { model: tokenizer } = await loadTokenizerArgument('digits-vqgan', load);
    const { model: generator, card } = await loadGeneratorArgument('digits-maskgit', load).catch((error: unknown) => {
      tokenizer.dispose();
      throw error;
    });
    const [height, width, channels] = tokenizer.inputShape;
    const images = tf.randomUniform([batch, height, width, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
    try {
      const bar = output.progress('bench', 3 * (repeat + 1));
      let done = 0;
      const time = async (run: () => Promise<tf.Tensor>): Promise<number> => {
        const ms: number[] = [];
        for (let r = 0; r <= repeat; r++) {
          const t0 = performance.now();
          const result = await run();
          await result.data();
          const elapsed = performance.now() - t0;
          result.dispose();
          if (r > 0) ms.push(elapsed); // the first run warms up (kernel compilation, weight upload)
          bar.update(++done);
        }
        return median(ms);
      };
      const tokens = await tokenizer.encode(images);
      const classes = Array.from({ length: batch }, (_, i) => i % generator.numClasses);
      const timings = {
        encode: await time(() => tokenizer.encode(images)),
        decode: await time(() => tokenizer.decode(tokens)),
        sample: await time(() => generator.sample({ classes, seed: 1, ...(card?.sampling ?? {}) })),
      };
      tokens.dispose();
      bar.finish();
      const rows = Object.entries(timings).map(([operation, ms]) => ({ operation, msPerBatch: round(ms), imagesPerSecond: round((batch * 1000) / ms) }));
      output.line(`batch ${batch}, median of ${repeat} after one warm-up:`);
      for (const r of rows) output.line(`  ${r.operation.padEnd(7)} ${r.msPerBatch.toFixed(1).padStart(9)} ms   ${r.imagesPerSecond.toFixed(1).padStart(8)} images/s`);
      output.result({ backend, batch, repeat, sampling: card?.sampling, timings: rows });
    } finally {
      images.dispose();
      tokenizer.dispose();
      generator.dispose();
    }
    return ExitCode.Success;
  },
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const round = (x: number) => Number(x.toFixed(2));
