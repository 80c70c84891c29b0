/**
 * taming-transformers' PatchGAN `NLayerDiscriminator` (taming/modules/discriminator/model.py, after
 * pix2pix), which Open-MAGVIT2's ImageNet configs use, channels-last, with the official state-dict names
 * `main.<i>.*`:
 *
 *   main.0               Conv 4×4 stride 2 pad 1, in → ndf (bias), LeakyReLU(0.2)
 *   n = 1 … nLayers−1    Conv 4×4 stride 2 pad 1 (no bias) → ndf·min(2^n, 8), norm, LeakyReLU(0.2)
 *   then                 Conv 4×4 stride 1 pad 1 (no bias) → ndf·min(2^nLayers, 8), norm, LeakyReLU(0.2)
 *   last                 Conv 4×4 stride 1 pad 1 → 1 (bias)
 *
 * The official norm is BatchNorm2d; @vtok/core has no BatchNorm, so the norm here is core's GroupNorm
 * (`numGroups`, default 32) over the same `weight`/`bias` names. An official checkpoint's weights load
 * (`patchGanKeyOf` skips BatchNorm's running statistics), but the network then normalises per sample,
 * not by batch statistics, so its logits are not PyTorch's. `init: 'official'` is taming's `weights_init`
 * (conv weights N(0, 0.02), norm weights N(1, 0.02), norm biases 0).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, Conv2d, GroupNorm, MountedModule, SeededRandom, ShapeError, assertPositiveInt, formatShape, normalInit } from '@vtok/core';
import { assertFloatTensor } from './check';

export interface PatchGANDiscriminatorConfig {
  /** Image channels (`input_nc`). Default 3. */
  inChannels?: number;
  /** Channels of the first conv (`ndf`). Default 64. */
  ndf?: number;
  /** Stride-2 convs (`n_layers`). Default 3. */
  nLayers?: number;
  /** Groups of the GroupNorm standing in for BatchNorm2d. Default 32. */
  numGroups?: number;
  /** 'official' (default): taming's weights_init; 'none': PyTorch's default init of the layers. */
  init?: 'official' | 'none';
  /** Seed of the initial weights; random when absent. */
  seed?: number;
}

type Resolved = Required<Omit<PatchGANDiscriminatorConfig, 'seed' | 'init'>>;

const WHO = 'PatchGANDiscriminator';

/** Official names that have no counterpart here (BatchNorm's running statistics): skip them when loading. */
export function patchGanKeyOf(fileName: string): string | null {
  return /\.(running_mean|running_var|num_batches_tracked)$/.test(fileName) ? null : fileName;
}

export class PatchGANDiscriminator extends MountedModule {
  readonly config: Readonly<Resolved>;
  /** The layers in execution order; a norm layer follows each conv but the first and the last. */
  private readonly layers: { conv: Conv2d; norm?: GroupNorm }[] = [];

  constructor(config: PatchGANDiscriminatorConfig = {}) {
    super();
    const c: Resolved = {
      inChannels: config.inChannels ?? 3,
      ndf: config.ndf ?? 64,
      nLayers: config.nLayers ?? 3,
      numGroups: config.numGroups ?? 32,
    };
    for (const key of ['inChannels', 'ndf', 'nLayers', 'numGroups'] as const) assertPositiveInt(c[key], WHO, key, ConfigError);
    const init = config.init ?? 'official';
    if (init !== 'official' && init !== 'none') throw new ConfigError(`${WHO}: init must be 'official' or 'none', got '${String(init)}'`);
    const widths = Array.from({ length: c.nLayers }, (_, n) => c.ndf * Math.min(2 ** (n + 1), 8));
    const bad = widths.find((w) => w % c.numGroups !== 0);
    if (bad !== undefined) throw new ConfigError(`${WHO}: every normalised width (${widths.join(', ')}) must be a multiple of numGroups (${c.numGroups}); ${bad} is not`);
    this.config = Object.freeze(c);
    const rng = new SeededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));

    let index = 0;
    const add = (cin: number, cout: number, stride: number, norm: boolean, bias: boolean) => {
      const conv = this.mount(`main.${index}`, new Conv2d(cin, cout, 4, { stride, padding: 1, bias, rng }));
      const layer = { conv, norm: norm ? this.mount(`main.${index + 1}`, new GroupNorm(c.numGroups, cout)) : undefined };
      this.layers.push(layer);
      // conv [+ norm] + LeakyReLU, as the official Sequential counts them.
      index += norm ? 3 : 2;
    };
    add(c.inChannels, c.ndf, 2, false, true);
    let channels = c.ndf;
    for (let n = 1; n <= c.nLayers; n++) {
      const out = c.ndf * Math.min(2 ** n, 8);
      add(channels, out, n < c.nLayers ? 2 : 1, true, false);
      channels = out;
    }
    add(channels, 1, 1, false, true);
    if (init === 'official') this.officialInit(rng);
  }

  /** taming's weights_init: conv weights N(0, 0.02); norm weights N(1, 0.02), biases 0. */
  private officialInit(rng: SeededRandom): void {
    for (const { conv, norm } of this.layers) {
      assignFresh(conv.weight, normalInit(rng, [...conv.weight.shape], 0, 0.02));
      if (norm?.weight) assignFresh(norm.weight, normalInit(rng, [...norm.weight.shape], 1, 0.02));
    }
  }

  /** Images x [B, H, W, inChannels] float32 → patch logits [B, h, w, 1]. */
  forward(x: tf.Tensor): tf.Tensor4D {
    assertFloatTensor(x, `${WHO}.forward`, 'x');
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels || x.shape[0] < 1) {
      throw new ShapeError(`${WHO}.forward: expected x [B, H, W, ${this.config.inChannels}] with B >= 1, got ${formatShape(x.shape)}`);
    }
    const last = this.layers.length - 1;
    return tf.tidy(() => {
      let h: tf.Tensor = x;
      this.layers.forEach(({ conv, norm }, i) => {
        h = conv.forward(h);
        if (norm) h = norm.forward(h);
        if (i < last) h = tf.leakyRelu(h, 0.2);
      });
      return h as tf.Tensor4D;
    });
  }
}

function assignFresh(target: tf.Variable, value: tf.Tensor): void {
  target.assign(value);
  value.dispose();
}
