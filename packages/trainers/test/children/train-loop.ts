// Child process of checkpoint-kill.test.ts: runs the tiny two-phase run (with a large padding parameter,
// so each checkpoint takes a while to write) with a checkpoint after every step, resuming from the newest
// checkpoint in the folder. Prints "step <n>" as the write of
// checkpoint n begins, "checkpoint <n>" once it is on disk, "finished" at the end.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { regressionData, tinyRun } from '../tiny-run';

const [dir, stepsText, paddingText] = process.argv.slice(2);
await tf.setBackend('cpu');
const run = tinyRun({ extraParams: Number(paddingText) });
await run.trainer.fit(regressionData, {
  steps: Number(stepsText),
  progressBar: false,
  resume: true,
  checkpoint: { dir, every: 1, keep: 2 },
  onProgress: (e) => {
    // A step event comes right before that step's checkpoint is written.
    if (e.status === 'step' || e.status === 'checkpoint') process.stdout.write(`${e.status} ${e.step}\n`);
  },
});
process.stdout.write('finished\n');
