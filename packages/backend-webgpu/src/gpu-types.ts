/**
 * The few WebGPU shapes this package touches, written out so that its type declarations do not
 * require `@webgpu/types` from users. Real `GPU` / `GPUAdapter` objects satisfy them.
 */
export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

export interface GpuAdapterLike {
  readonly features: { has(name: string): boolean; forEach?(cb: (value: string) => void): void } & Iterable<string>;
  readonly limits: Record<string, number | undefined> | object;
  readonly info?: GpuAdapterInfoLike;
  /** Older browsers (Chrome < 127) */
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
  requestDevice(descriptor?: {
    requiredFeatures?: Iterable<string>;
    requiredLimits?: Record<string, number>;
    label?: string;
  }): Promise<unknown>;
}

export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power'; forceFallbackAdapter?: boolean }): Promise<GpuAdapterLike | null>;
}
