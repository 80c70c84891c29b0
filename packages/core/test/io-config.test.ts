// config.json's OmegaConf references, resolved in one place for every package.
import { ConfigError, resolveConfigReferences, resolveReference } from '../src';
import { describe, expect, it } from 'vitest';

describe('resolveConfigReferences / resolveReference', () => {
  const tree = { a: { b: 7, s: 'n=${a.b}!', list: ['${a.b}', { x: '${a.b}' }] }, c: '${a}', bad: '${nope.x}', loop: '${loop}', env: '${oc.env:HOME}' };

  it('a whole-value reference keeps the type; references inside strings become text; lists and objects too', () => {
    expect(resolveReference(tree, 'a.s')).toBe('n=7!');
    expect(resolveReference(tree, 'c')).toEqual({ b: 7, s: 'n=7!', list: [7, { x: 7 }] });
    expect(resolveReference(tree, 'missing.key')).toBeUndefined();
    const r = resolveConfigReferences({ a: { b: 32, c: 'x' }, d: '${a.b}', e: 'n=${a.b}/${a.c}', f: ['${d}'] });
    expect(r).toEqual({ a: { b: 32, c: 'x' }, d: 32, e: 'n=32/x', f: [32] });
    // As the official TiTok config.json ships it.
    const hub = { model: { vq_model: { num_latent_tokens: 32 }, generator: { image_seq_len: '${model.vq_model.num_latent_tokens}' } } };
    expect(resolveConfigReferences(hub).model.generator.image_seq_len).toBe(32);
  });

  it('reports a missing key, a cycle and a resolver as ConfigErrors', () => {
    expect(() => resolveReference(tree, 'bad')).toThrow(/nope\.x.*does not exist/);
    expect(() => resolveReference(tree, 'loop')).toThrow(/cycle/);
    expect(() => resolveConfigReferences({ a: '${b}', b: '${a}' })).toThrow(/cycle/);
    expect(() => resolveReference(tree, 'env')).toThrow(/resolver/);
    expect(() => resolveConfigReferences(tree)).toThrow(ConfigError);
  });
});
