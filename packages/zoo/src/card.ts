/** What the zoo says about each of its models: the content of `models/<name>/card.json`. */
export interface PretrainedCard {
  name: string;
  kind: 'tokenizer' | 'generator';
  /** The model package's architecture, which picks the loader: `maskgit-vqgan` or `titok` (@vtok/titok), `maskgit` (@vtok/maskgit). */
  architecture: 'maskgit-vqgan' | 'titok' | 'maskgit';
  /** For a tokenizer trained against another (TiTok's two stages): the zoo tokenizer it learned from. */
  teacher?: string;
  summary: string;
  /** For a generator: the zoo tokenizer whose tokens it generates (decode its samples with that one). */
  tokenizer?: string;
  /** For a tokenizer: the image shape it encodes, [H, W, C] (float32 in [0, 1]). */
  inputShape?: number[];
  /** The token space: codebook size and the shape of one image's tokens (without batch). */
  tokens: { vocabSize: number; shape: number[] };
  /** ceil(log2(vocabSize)): the bits one token takes when packed. */
  bitsPerToken: number;
  /** One image's tokens packed: (tokens per image × bitsPerToken) / 8. */
  bytesPerImage: number;
  parameters: number;
  /** Measured figures of the recorded training run (the model card names the data each comes from). */
  metrics: { heldOutPsnr?: number; classifierAccuracy?: number; [metric: string]: number | undefined };
  /** For a generator: the recommended sampling settings (also the defaults in its config.json). */
  sampling?: { steps: number; guidanceScale: number; randomizeTemperature: number };
  /** How the weights were made: the command, the data, the steps, the wall time and the machine. */
  training: { command: string; data: string; steps: number; batchSize: number; wallSeconds: number; machine: string };
}
