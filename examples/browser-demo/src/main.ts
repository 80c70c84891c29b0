/**
 * The page: picks a backend, loads the digits models with progress, then tokenizes what is drawn or
 * uploaded and generates digits of a chosen class, showing every unmasking step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LoadProgressEvent } from '@vtok/core';
import type { MaskGITStepEvent } from '@vtok/maskgit';
import { type BrowserImage, psnr } from '@vtok/trainers';
import { parseBackendChoice, selectBackend } from './backend';
import { drawingPad } from './drawing';
import { gridColumns, imageBatch, showImage, tokenGrid } from './images';
import { type DigitModels, loadDigitModels } from './models';

const element = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
};

const ui = {
  backendChoice: element<HTMLSelectElement>('backend-choice'),
  backend: element('backend'),
  backendNotes: element('backend-notes'),
  progress: element<HTMLProgressElement>('load-progress'),
  status: element('status'),
  pad: element<HTMLCanvasElement>('pad'),
  clear: element<HTMLButtonElement>('clear'),
  upload: element<HTMLInputElement>('upload'),
  input: element<HTMLCanvasElement>('input'),
  tokens: element('tokens'),
  reconstruction: element<HTMLCanvasElement>('reconstruction'),
  encodeInfo: element('encode-info'),
  classPicker: element<HTMLSelectElement>('class'),
  steps: element<HTMLInputElement>('steps'),
  generate: element<HTMLButtonElement>('generate'),
  generated: element<HTMLCanvasElement>('generated'),
  generateInfo: element('generate-info'),
  generatedTokens: element('generated-tokens'),
  tensors: element('tensors'),
};

type State = 'loading' | 'ready' | 'busy' | 'error';

function setStatus(state: State, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

function showTensorCount(): void {
  const count = tf.memory().numTensors;
  ui.tensors.dataset.tensors = String(count);
  ui.tensors.textContent = `tensors in memory: ${count}`;
}

function showLoadProgress(event: LoadProgressEvent): void {
  if (event.status === 'ready') {
    ui.progress.value = 100;
    setStatus('loading', `loaded ${event.name} (${event.model})`);
    return;
  }
  if (event.status === 'progress' && event.progress !== undefined) ui.progress.value = event.progress;
  if (event.status === 'initiate') ui.progress.value = 0;
  setStatus('loading', `${event.name}: ${event.file} (${event.status}${event.status === 'progress' && event.progress !== undefined ? ` ${event.progress.toFixed(0)} %` : ''})`);
}

// One job at a time: encoding and generating share the backend and the canvases.
let queue: Promise<void> = Promise.resolve();
function run(what: string, job: () => Promise<void>): void {
  queue = queue
    .then(async () => {
      setStatus('busy', what);
      await job();
      setStatus('ready', 'ready');
    })
    .catch((error: unknown) => setStatus('error', errorText(error)))
    .finally(showTensorCount);
}

async function tokenize({ tokenizer }: DigitModels, item: BrowserImage): Promise<void> {
  const held: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (held.push(t), t);
  try {
    const images = keep(await imageBatch(item, tokenizer.inputShape[0]));
    const tokens = keep(await tokenizer.encode(images));
    const reconstruction = keep(await tokenizer.decode(tokens));
    const [db] = await keep(psnr(reconstruction, images)).data();
    const ids = await tokens.data();
    await showImage(images, ui.input);
    await showImage(reconstruction, ui.reconstruction);
    ui.tokens.textContent = tokenGrid(ids, gridColumns(tokenizer.tokens.shape));
    ui.tokens.dataset.count = String(ids.length);
    const bits = Math.ceil(Math.log2(tokenizer.tokens.vocabSize));
    ui.encodeInfo.textContent =
      `${ids.length} tokens of ${tokenizer.tokens.vocabSize} codes, ${bits} bits each: ${Math.ceil((ids.length * bits) / 8)} bytes for an image of ` +
      `${images.size} values; reconstruction PSNR ${db.toFixed(2)} dB.`;
  } finally {
    tf.dispose(held);
  }
}

async function decodeInto({ tokenizer }: DigitModels, ids: Int32Array, canvas: HTMLCanvasElement): Promise<void> {
  const tokens = tf.tensor(ids, [1, ...tokenizer.tokens.shape], 'int32');
  try {
    const image = await tokenizer.decode(tokens);
    try {
      await showImage(image, canvas);
    } finally {
      image.dispose();
    }
  } finally {
    tokens.dispose();
  }
}

async function generate(models: DigitModels, digit: number, steps: number): Promise<void> {
  const { generator } = models;
  const columns = gridColumns(generator.tokens.shape);
  const { maskId } = generator.vocabulary;
  ui.generated.dataset.done = 'false';
  // Each step decodes the step's current guess (its predictions where tokens are still masked), in order.
  let shown: Promise<void> = Promise.resolve();
  let onCanvas: Int32Array | undefined;
  const showStep = async (event: MaskGITStepEvent) => {
    await decodeInto(models, event.sampled, ui.generated);
    onCanvas = event.sampled;
    const kept = event.tokens.filter((id) => id !== maskId).length;
    ui.generatedTokens.textContent = tokenGrid(event.tokens, columns, maskId);
    ui.generated.dataset.step = String(event.step);
    ui.generateInfo.textContent = `step ${event.step} of ${event.of}: ${kept} of ${event.tokens.length} tokens kept`;
  };
  const started = performance.now();
  const tokens = await generator.sample({
    classes: [digit],
    steps,
    onProgress: (event) => {
      const step = { ...event, tokens: event.tokens.slice(), sampled: event.sampled.slice() };
      shown = shown.then(() => showStep(step));
    },
  });
  try {
    await shown;
    const ids = (await tokens.data()) as Int32Array;
    // The last step re-masks nothing, so its guess is the result and is on the canvas already.
    if (!onCanvas || ids.some((id, i) => id !== onCanvas?.[i])) await decodeInto(models, ids, ui.generated);
    ui.generatedTokens.textContent = tokenGrid(ids, columns, maskId);
  } finally {
    tokens.dispose();
  }
  ui.generated.dataset.done = 'true';
  const { guidanceScale, randomizeTemperature } = generator.config.sampling;
  ui.generateInfo.textContent =
    `a ${digit} in ${steps} steps, ${((performance.now() - started) / 1000).toFixed(1)} s ` +
    `(guidance ${guidanceScale}, temperature ${randomizeTemperature}: the model card's settings)`;
}

async function start(): Promise<void> {
  const choice = parseBackendChoice(new URLSearchParams(location.search).get('backend'));
  ui.backendChoice.value = choice;
  ui.backendChoice.addEventListener('change', () => {
    location.search = `?backend=${ui.backendChoice.value}`;
  });
  setStatus('loading', 'selecting a backend…');
  const info = await selectBackend(choice);
  ui.backend.dataset.backend = info.name;
  ui.backend.textContent = `running on ${info.name}: ${info.device}`;
  ui.backendNotes.replaceChildren(
    ...info.reasonsOthersFailed.map(({ name, reason }) => Object.assign(document.createElement('li'), { textContent: `not ${name}: ${reason}` })),
  );

  const models = await loadDigitModels(showLoadProgress);
  for (let c = 0; c < models.generator.numClasses; c++) ui.classPicker.append(new Option(String(c), String(c)));
  ui.steps.value = String(models.generator.config.sampling.steps);

  const pad = drawingPad(ui.pad, () => run('tokenizing the drawing…', () => tokenize(models, pad.digit())));
  ui.clear.addEventListener('click', () => pad.clear());
  ui.upload.addEventListener('change', () => {
    const file = ui.upload.files?.[0];
    if (file) run(`tokenizing ${file.name}…`, () => tokenize(models, file));
  });
  ui.generate.addEventListener('click', () => {
    const steps = Number(ui.steps.value);
    if (!Number.isInteger(steps) || steps < 1) {
      setStatus('error', `steps must be a whole number of at least 1, got "${ui.steps.value}"`);
      return;
    }
    run(`generating a ${ui.classPicker.value}…`, () => generate(models, Number(ui.classPicker.value), steps));
  });
  ui.generate.disabled = false;
  setStatus('ready', 'ready: draw a digit, upload one, or generate one');
  showTensorCount();
}

start().catch((error: unknown) => setStatus('error', errorText(error)));
