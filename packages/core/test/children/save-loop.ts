// Child process of io-save.test.ts: saves model generations 1, 2, 3, … into one folder, forever, until
// it is killed. Generation g is a config { generation: g } and tensors filled with g, so a reader can
// tell a whole generation from a mix. Prints "saved g" after each save returns.
import '@tensorflow/tfjs-backend-cpu';
import { saveModel } from '../../src';

const [folder, elementsText, startText] = process.argv.slice(2);
const elements = Number(elementsText);
for (let generation = Number(startText); ; generation++) {
  const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Float32Array }> = {};
  for (const name of ['a', 'b', 'c']) tensors[name] = { dtype: 'float32', shape: [elements], data: new Float32Array(elements).fill(generation) };
  await saveModel(folder, { config: { generation }, tensors });
  process.stdout.write(`saved ${generation}\n`);
}
