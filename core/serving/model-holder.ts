// The model being served, swapped without a restart: it follows registry.json's `production`, the durable record
// model-lifecycle writes on every promotion and rollback (before its update returns). A new production model is
// loaded and sha256-verified (core/scoring/model-loader.ts) beside the old one, then one reference assignment
// switches them: a micro-batch reads the reference once, so every request is scored wholly by one model. A model
// that fails to load leaves the old one serving; the failure is logged, counted and shown on /v1/model.
import { readFile } from 'node:fs/promises';
import { registrySchema } from '../../lib/contracts.js';
import { modelBank } from '../../lib/layout.js';
import { loadScoringModel, type ScoringModel } from '../scoring/model-loader.js';

export interface ServedModel extends ScoringModel {
  modelId: string;
  loadedAt: string;
}

export interface LoadFailure {
  modelId: string;
  message: string;
  at: string;
}

export interface ModelEvents {
  onSwap?: (from: string | null, to: ServedModel) => void;
  onLoadFailure?: (failure: LoadFailure) => void;
}

/** How long a model that failed to load is left alone when registry.json does not change. */
export const FAILED_LOAD_RETRY_MS = 30_000;

export class ModelHolder {
  #current: ServedModel | null = null;
  #lastFailure: LoadFailure | null = null;
  #lastRegistryText: string | null = null;
  #failedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #checking: Promise<void> | null = null;

  constructor(
    private readonly modelBankDir: string,
    private readonly events: ModelEvents = {},
  ) {}

  get current(): ServedModel | null {
    return this.#current;
  }

  get lastFailure(): LoadFailure | null {
    return this.#lastFailure;
  }

  /** Reads registry.json and swaps to its production model when it differs from the served one. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = null;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    const path = modelBank.registry(this.modelBankDir);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing registered yet
      throw error;
    }
    const changed = text !== this.#lastRegistryText;
    if (!changed && this.#lastFailure && Date.now() - this.#failedAt < FAILED_LOAD_RETRY_MS) return;
    this.#lastRegistryText = text;
    let production: string | null;
    try {
      production = registrySchema.parse(JSON.parse(text)).production;
    } catch {
      return; // a registry caught mid-write by a non-atomic writer: the next poll reads it whole
    }
    if (!production || production === this.#current?.modelId) return;
    try {
      const loaded = await loadScoringModel(this.modelBankDir, production);
      const previous = this.#current?.modelId ?? null;
      this.#current = { ...loaded, modelId: production, loadedAt: new Date().toISOString() };
      this.#lastFailure = null;
      this.events.onSwap?.(previous, this.#current);
    } catch (error) {
      this.#failedAt = Date.now();
      this.#lastFailure = { modelId: production, message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
      this.events.onLoadFailure?.(this.#lastFailure);
    }
  }

  /** Polls registry.json every `intervalMs` until stop(). */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    const tick = () => {
      this.check()
        .catch(onError)
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    this.#timer = setTimeout(tick, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#checking?.catch(() => undefined);
  }
}
