/**
 * Which backend the demo runs on. The page address chooses (`?backend=auto|webgpu|wasm`, default auto);
 * the result names the backend that runs and why the others were not taken.
 */
import { type BackendInfo, useBackend, ValueError } from '@vtok/core';
import { wasm } from '@vtok/backend-wasm';
import { webgpu } from '@vtok/backend-webgpu';
// Vite copies tfjs-wasm's binaries into the build and gives their URLs; tfjs picks the one the browser can run.
import plainBinary from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdBinary from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedBinary from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export const BACKEND_CHOICES = ['auto', 'webgpu', 'wasm'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export function parseBackendChoice(value: string | null): BackendChoice {
  if (value === null || value === '') return 'auto';
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ValueError(`unknown backend "${value}" in the page address (?backend=): expected one of ${BACKEND_CHOICES.join(', ')}`);
}

const wasmBackend = () =>
  wasm({
    wasmPaths: {
      'tfjs-backend-wasm.wasm': plainBinary,
      'tfjs-backend-wasm-simd.wasm': simdBinary,
      'tfjs-backend-wasm-threaded-simd.wasm': threadedBinary,
    },
  });

export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (choice === 'wasm') return useBackend(wasmBackend());
  // In a list, useBackend tries a software-only WebGPU adapter (SwiftShader) after wasm, which is faster.
  if (choice === 'auto') return useBackend([webgpu(), wasmBackend()]);
  // Asked for by name, WebGPU runs even in software; wasm only when WebGPU is not there at all.
  const gpu = webgpu();
  const availability = await gpu.isAvailable();
  if (availability.ok) return useBackend(gpu);
  const info = await useBackend(wasmBackend());
  return { ...info, reasonsOthersFailed: [{ name: 'webgpu', reason: availability.reason }, ...info.reasonsOthersFailed] };
}
